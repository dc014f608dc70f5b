/*
 * sl_service: what every Shelfline service process does around its
 * handlers, so that each service's main.c is a few lines.
 *
 *   configuration from the environment (validated, first bad value named)
 *   -> logging -> PostgreSQL pool -> migrations under an advisory lock
 *   (waiting for the database to come up, bounded) -> the service's init
 *   hook (statements, method tables, consumers) -> gRPC server with health
 *   and server reflection (sl_reflection, from the suite's embedded
 *   descriptor set)
 *   -> database health probe -> wait for SIGTERM/SIGINT -> drain -> the
 *   service's fini hook -> exit 0.
 *
 * Environment (all optional; defaults in brackets):
 *   SHELFLINE_DATABASE_URL   libpq connection string [postgresql:///shelfline]
 *   SHELFLINE_LISTEN         host:port [the service's default port]
 *   the peers' targets       named by the service's spec (sl_peer_spec)
 *   SHELFLINE_WORKERS        gRPC worker threads [2 x CPUs, at least 4]
 *   SHELFLINE_DB_POOL        PostgreSQL connections [workers + 4]
 *   SHELFLINE_SLOTS_PER_METHOD  requests kept armed per method per worker [2]
 *   SHELFLINE_MAX_MESSAGE_BYTES       [4 MiB + 64 KiB]
 *   SHELFLINE_MAX_CONNECTION_AGE      e.g. 5m [none]
 *   SHELFLINE_MAX_CONNECTION_AGE_GRACE e.g. 30s [none]
 *   SHELFLINE_DRAIN_DELAY    after SIGTERM, how long readiness says NOT_SERVING
 *                            while calls are still answered, so health-
 *                            checking clients move away before the GOAWAY [1s]
 *   SHELFLINE_DRAIN_GRACE    in-flight calls' time after the drain delay [20s]
 *   SHELFLINE_DB_STARTUP_TIMEOUT  how long to wait for PostgreSQL [60s]
 *   SHELFLINE_HEALTH_INTERVAL     database probe period [2s]
 *   SHELFLINE_JWT_PUBLIC_KEY_FILE  PEM public key (RSA or EC P-256): calls
 *                            need "authorization: Bearer <jwt>" signed by its
 *                            private key (RS256/ES256, aud "shelfline"), and
 *                            the token's roles claim must hold one of the
 *                            method row's roles (server reflection: any
 *                            role; health: no token at all)
 *   SHELFLINE_AUTH           "none": serve without authentication (every
 *                            caller holds every role), with a warning at
 *                            every start.  Without it, a service with no
 *                            JWT key refuses to start (fail closed).
 *   SHELFLINE_PEER_TOKEN_FILE  the token this service presents to its peers
 *                            (issued to it with role "service"), re-read
 *                            when the file changes
 *   SHELFLINE_MAX_STREAMS    concurrent streaming calls (WatchEvents...) [1024]
 *   SHELFLINE_MAX_HEALTH_WATCHES  concurrent health Watch streams, a budget
 *                            of their own [256]
 *   SHELFLINE_MAX_CONCURRENT_STREAMS  calls open at once on one HTTP/2
 *                            connection [256]
 *   SHELFLINE_MAX_HEADER_BYTES  a call's request headers; larger fails that
 *                            call alone, RESOURCE_EXHAUSTED [8192]
 *   SHELFLINE_MAX_CALL_TIME  longest unary call, whatever (or without) its
 *                            deadline [30s]
 *   SHELFLINE_TLS_*          TLS and mTLS certificate files (see sl_tls.h)
 *   SHELFLINE_LOG_LEVEL      debug, info, warn, error [info]
 *   SHELFLINE_HTTP_LISTEN    the HTTP face (sl_http: /metrics, and what the
 *                            service adds), host:port or "off" [the
 *                            service's default HTTP port]
 */
#ifndef SL_SERVICE_H
#define SL_SERVICE_H

#include <stdint.h>

#include "sl_client.h"
#include "sl_log.h"
#include "sl_db.h"
#include "sl_events.h"
#include "sl_http.h"
#include "sl_migrate.h"
#include "sl_server.h"
#include "sl_status.h"
#include "sl_tls.h"

/* A service another one calls, as the caller's spec names it: the
 * environment variable holding its gRPC target and the target when the
 * variable is unset.  The library knows no service: each service lists
 * its own peers. */
typedef struct sl_peer_spec {
    const char *env;            /* "SHELFLINE_INVENTORY_ADDR" */
    const char *default_target; /* "127.0.0.1:50051" */
} sl_peer_spec;
#define SL_SERVICE_MAX_PEERS 8

typedef struct sl_service_config {
    const char *database_url;
    const char *listen;
    int64_t workers;
    int64_t db_pool;
    int64_t slots_per_method;
    int64_t max_message_bytes;
    int64_t max_connection_age_ms;
    int64_t max_connection_age_grace_ms;
    int64_t drain_delay_ms;
    int64_t drain_grace_ms;
    int64_t db_startup_timeout_ms;
    int64_t health_interval_ms;
    int64_t max_call_ms; /* longest unary call, whatever its deadline */
    int64_t max_streams;
    int64_t max_health_watches;
    int64_t max_concurrent_streams;
    int64_t max_header_bytes;
    sl_tls_config tls;
    bool auth_none;                  /* SHELFLINE_AUTH=none: no authentication */
    const char *jwt_public_key_file; /* NULL: no JWT */
    const char *peer_token_file;     /* NULL: peer calls carry no token */
    sl_log_level log_level;
    sl_access_log access_log; /* SHELFLINE_ACCESS_LOG */
    const char *http_listen;  /* NULL: no HTTP face ("off") */
} sl_service_config;

/* Reads the environment into cfg (strings point into the environment).
 * default_listen is the service's own port.  INVALID_ARGUMENT naming the
 * first bad variable. */
sl_status sl_service_config_load(sl_service_config *cfg, const char *default_listen, sl_err *err);

/* Reads the targets of n peers (at most SL_SERVICE_MAX_PEERS) into
 * target[] (pointing into the environment or peers).  INVALID_ARGUMENT
 * naming the first bad variable. */
sl_status sl_service_peers_load(const sl_peer_spec *peers, size_t n, const char **target,
                                sl_err *err);

typedef struct sl_service sl_service;

typedef struct sl_service_spec {
    const char *name;   /* "inventory": logs and the usage line */
    const char *schema; /* its PostgreSQL schema */
    const sl_migration *migrations;
    /* The pool plans its statements once per connection (see
     * sl_db_options.generic_plans). */
    bool generic_plans;
    const char *default_listen;      /* "127.0.0.1:50051" */
    const char *default_http_listen; /* "127.0.0.1:8051"; NULL: off */
    /* The services this one calls (at most SL_SERVICE_MAX_PEERS), by
     * index in sl_service_peer. */
    const sl_peer_spec *peers;
    size_t n_peers;
    /* The topics this service publishes (NULL-name terminated); its
     * event feed (sl_service_events) is started before init. */
    const sl_event_topic *topics;
    /* The service's gRPC method table, one row per RPC of descriptor
     * except WatchEvents, which sl_service adds itself (served from the
     * service's event feed).  Added to the server after init, with init's
     * *app as the handlers' sl_call_ctx. */
    const ProtobufCServiceDescriptor *descriptor;
    const sl_method *methods;
    size_t n_methods;
    /* Called once the database is migrated and before the server starts:
     * registers statements, starts consumers and background threads; *app
     * is the service's context, handed to the handlers (sl_call_ctx) and
     * back to fini.  A failure ends the process with exit code 1 (init
     * frees what it made). */
    sl_status (*init)(sl_service *svc, void **app, sl_err *err);
    /* Called after the server drained; frees app. */
    void (*fini)(sl_service *svc, void *app);
} sl_service_spec;

/* The whole life of a service process; returns the exit code (0 after a
 * clean drain, 1 on a start-up failure, 2 on bad configuration). */
int sl_service_main(const sl_service_spec *spec, int argc, char **argv);

/* The service's whole method table: its spec's rows and the WatchEvents
 * row sl_service adds (handler sl_service_watch_events, ctx events),
 * checked against the spec's descriptor (sl_server_check_table).  The
 * caller owns *out (free).  INVALID_ARGUMENT naming the first method
 * without exactly one row, or a row that is no method of the proto. */
sl_status sl_service_method_table(const sl_service_spec *spec, sl_events *events,
                                  sl_service_def *out, sl_err *err);

/* The WatchEvents handler sl_service adds to every service: the row's ctx
 * is the service's sl_events. */
sl_status sl_service_watch_events(sl_call *call, const ProtobufCMessage *req, sl_err *err);

/* Adds a gRPC service (see sl_server_add_service); init only. */
sl_status sl_service_add(sl_service *svc, const sl_service_def *def, sl_err *err);

const sl_service_config *sl_service_cfg(const sl_service *svc);
/* The service's HTTP face, to add routes during init (sl_http_route);
 * NULL when SHELFLINE_HTTP_LISTEN is off.  It serves /metrics already. */
sl_http *sl_service_http(sl_service *svc);
sl_db *sl_service_db(sl_service *svc);
sl_server *sl_service_server(sl_service *svc);
sl_events *sl_service_events(sl_service *svc);

/* The shared channel to the spec's peers[peer] (created on first use,
 * owned by svc); NULL when out of memory or peer is not in the spec. */
sl_channel *sl_service_peer(sl_service *svc, size_t peer);

/* The transaction options of a handler's work: bounded by the call's
 * deadline; a read-only transaction reads one REPEATABLE READ snapshot, a
 * writing one runs READ COMMITTED (its conditional updates and locks
 * decide).  The suite's one default; a handler changes fields it needs
 * otherwise. */
sl_db_tx_options sl_service_tx_options(const sl_call *call, bool read_only);

/* Whether cfg authenticates its callers: OK with a JWT key, or with
 * SHELFLINE_AUTH=none said in so many words; else FAILED_PRECONDITION
 * saying what to set (a service fails closed). */
sl_status sl_service_auth_check(const sl_service_config *cfg, sl_err *err);

#endif
