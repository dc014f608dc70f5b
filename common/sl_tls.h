/*
 * sl_tls: the suite's TLS settings and their files.
 *
 * TLS is gRPC core's own (grpc_ssl_*): this module reads the settings,
 * checks the files once at start-up (so a service with a missing,
 * unreadable or mismatched file refuses to start, naming the variable and
 * the file) and, for a server, hands gRPC a certificate-config fetcher that
 * re-reads the files when they change -- cert-manager rotating a Secret --
 * so new connections get the new certificate with no restart and no call
 * dropped (connections already open keep the one they shook hands with).
 *
 * Environment (all optional; unset means plaintext):
 *   SHELFLINE_TLS_CERT_FILE, SHELFLINE_TLS_KEY_FILE  the server's PEM
 *       certificate (chain) and private key: TLS on the gRPC and HTTP ports
 *   SHELFLINE_TLS_CLIENT_CA_FILE  PEM CA bundle: clients must present a
 *       certificate it signed (mTLS)
 *   SHELFLINE_TLS_CA_FILE  PEM CA bundle that peer calls verify their
 *       server against (turns TLS on for peer calls)
 *   SHELFLINE_TLS_CLIENT_CERT_FILE, SHELFLINE_TLS_CLIENT_KEY_FILE  the
 *       certificate peer calls present under mTLS
 */
#ifndef SL_TLS_H
#define SL_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include "sl_status.h"

typedef struct sl_tls_config {
    const char *cert_file;        /* NULL: the gRPC and HTTP ports are plaintext */
    const char *key_file;         /* set exactly when cert_file is */
    const char *client_ca_file;   /* NULL: no client certificates asked for */
    const char *ca_file;          /* NULL: peer calls are plaintext */
    const char *client_cert_file; /* NULL: peer calls present no certificate */
    const char *client_key_file;  /* set exactly when client_cert_file is */
} sl_tls_config;

/* Reads the six variables into cfg (strings point into the environment)
 * and checks the files (sl_tls_check_files).  INVALID_ARGUMENT naming the
 * first bad variable and its file, e.g.
 *   invalid SHELFLINE_TLS_KEY_FILE "/tls/tls.key": could not read it: No
 *   such file or directory */
sl_status sl_tls_config_load(sl_tls_config *cfg, sl_err *err);

/* The checks of sl_tls_config_load on a filled cfg: a certificate comes
 * with its key and the key is the certificate's, a client certificate
 * needs a CA to verify the server with, and every named file is readable
 * PEM of its kind.  INVALID_ARGUMENT naming the variable and the file. */
sl_status sl_tls_check_files(const sl_tls_config *cfg, sl_err *err);

/* Reads a whole PEM file (at most 1 MiB) into *out, NUL-terminated and
 * malloc'd (the caller frees it).  var names the setting in the message:
 * INVALID_ARGUMENT "invalid VAR "path": could not read it: reason". */
sl_status sl_tls_read_file(const char *var, const char *path, char **out, sl_err *err);

/* A server's certificate files, re-read when they change.  Opaque; made
 * by sl_tls_server_create, owned by the caller until handed to
 * sl_server_options (the server then frees it with itself). */
typedef struct sl_tls_server sl_tls_server;

/* Checks and loads cert_file/key_file (and client_ca_file, NULL for no
 * client certificates).  INVALID_ARGUMENT as sl_tls_config_load says;
 * RESOURCE_EXHAUSTED when out of memory. */
sl_status sl_tls_server_create(const char *cert_file, const char *key_file,
                               const char *client_ca_file, sl_tls_server **out, sl_err *err);
void sl_tls_server_destroy(sl_tls_server *t);

/* How many times the files were re-read with a new certificate since
 * creation (for tests and the log). */
unsigned sl_tls_server_reloads(sl_tls_server *t);

/* Looks at the files, re-reading them when they changed (as gRPC does
 * before each handshake), and returns the version served now:
 * sl_tls_server_reloads.  For the HTTP port, which follows the same files
 * (sl_http_options.tls).  Thread-safe. */
unsigned sl_tls_server_refresh(sl_tls_server *t);

/* The PEM certificate and key a server serves now (copies, malloc'd; the
 * caller frees both), for the HTTP port.  INVALID_ARGUMENT / RESOURCE_EXHAUSTED
 * as sl_tls_server_create. */
sl_status sl_tls_server_pem(sl_tls_server *t, char **cert_pem, char **key_pem, sl_err *err);

#endif
