/*
 * sl_tls_int.h: what sl_server and sl_client need of sl_tls in gRPC's
 * types.  Only common/ includes it.
 */
#ifndef SL_TLS_INT_H
#define SL_TLS_INT_H

#include <grpc/grpc.h>
#include <grpc/grpc_security.h>

#include "sl_arena.h"
#include "sl_tls.h"

/* Server credentials whose certificate config is t's fetcher (t must
 * outlive the server).  The caller releases them once the port is added. */
grpc_server_credentials *sl__tls_server_credentials(sl_tls_server *t);

/* Channel credentials verifying the server against ca_pem, presenting
 * cert_pem/key_pem when cert_pem is not NULL.  gRPC copies the strings. */
grpc_channel_credentials *sl__tls_channel_credentials(const char *ca_pem, const char *cert_pem,
                                                      const char *key_pem);

/* The verified identity of call's client certificate: its first SAN URI,
 * else its first SAN DNS name (arena memory); NULL when the connection is
 * not mTLS or the certificate has neither. */
char *sl__tls_peer_identity(grpc_call *call, sl_arena *arena);

#endif
