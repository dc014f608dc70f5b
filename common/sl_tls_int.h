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

/* Channel credentials verifying the server (and its host name) against the
 * CA bundle in ca_path, presenting the certificate in cert_path with the key
 * in key_path when cert_path is not NULL.  gRPC core's file watcher re-reads
 * the three files every SL_TLS_CLIENT_REFRESH_S seconds: a rotated client
 * certificate or CA is used by the next handshake, without a restart (a
 * pair caught half written is skipped until it matches). */
#define SL_TLS_CLIENT_REFRESH_S 5
grpc_channel_credentials *sl__tls_channel_credentials(const char *ca_path, const char *cert_path,
                                                      const char *key_path);

/* The verified identity of call's client certificate: its first SAN URI,
 * else its first SAN DNS name (arena memory); NULL when the connection is
 * not mTLS or the certificate has neither. */
char *sl__tls_peer_identity(grpc_call *call, sl_arena *arena);

#endif
