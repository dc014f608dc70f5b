/*
 * sl_service: configuration, start-up, health probing and drain shared by
 * the four service processes.
 */
#include "sl_service.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "grpc/health/v1/health.pb-c.h"
#include "sl_config.h"
#include "sl_connect.h"
#include "sl_log.h"
#include "sl_metrics.h"
#include "sl_reflection.h"

#define DEFAULT_MAX_MSG (4 * 1024 * 1024 + 64 * 1024)

struct sl_service {
    const sl_service_spec *spec;
    sl_service_config cfg;
    sl_db *db;
    sl_server *server;
    sl_events *events;
    sl_http *http; /* NULL when off */
    sl_reflection *reflection;
    sl_tls_server *tls;        /* NULL: plaintext */
    sl_jwt_verifier *jwt;      /* NULL under SHELFLINE_AUTH=none */
    sl_token_file *peer_token; /* NULL: peer calls carry no token */
    sl_mtls_roles *mtls_roles; /* NULL: no roles from client certificates */
    sl_service_def def;        /* the spec's rows and WatchEvents (methods malloc'd) */
    pthread_mutex_t peers_mu;
    const char *peer_target[SL_SERVICE_MAX_PEERS];
    sl_channel *peers[SL_SERVICE_MAX_PEERS];
    pthread_t prober;
    bool prober_started;
    atomic_bool stopping;
};

/* SHELFLINE_DATABASE_URL, or SHELFLINE_DATABASE_URL_FILE: a file holding
 * it (a mounted Secret, so the password is in no environment), read once
 * at start; one trailing newline is dropped. */
static sl_status database_url_load(sl_service_config *cfg, sl_err *err)
{
    const char *file;
    sl_config_string("SHELFLINE_DATABASE_URL_FILE", NULL, &file, err);
    if (file == NULL)
        return sl_config_string("SHELFLINE_DATABASE_URL", "postgresql:///shelfline",
                                &cfg->database_url, err);
    if (getenv("SHELFLINE_DATABASE_URL") != NULL)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "SHELFLINE_DATABASE_URL and SHELFLINE_DATABASE_URL_FILE both set: "
                          "choose one");
    FILE *f = fopen(file, "r");
    if (f == NULL)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "SHELFLINE_DATABASE_URL_FILE: cannot read %s",
                          file);
    size_t cap = sizeof cfg->database_url_buf;
    size_t n = fread(cfg->database_url_buf, 1, cap, f);
    bool bad = ferror(f) != 0;
    fclose(f);
    if (bad || n == cap)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "SHELFLINE_DATABASE_URL_FILE: %s is unreadable or over %zu bytes", file,
                          cap - 1);
    cfg->database_url_buf[n] = '\0';
    if (n > 0 && cfg->database_url_buf[n - 1] == '\n')
        cfg->database_url_buf[--n] = '\0';
    if (n > 0 && cfg->database_url_buf[n - 1] == '\r')
        cfg->database_url_buf[--n] = '\0';
    if (n == 0 || memchr(cfg->database_url_buf, '\n', n) != NULL)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "SHELFLINE_DATABASE_URL_FILE: %s must hold one connection string on one "
                          "line",
                          file);
    cfg->database_url = cfg->database_url_buf;
    return SL_OK;
}

sl_status sl_service_config_load(sl_service_config *cfg, const char *default_listen, sl_err *err)
{
    memset(cfg, 0, sizeof *cfg);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int64_t def_workers = ncpu > 0 ? 2 * ncpu : 4;
    if (def_workers < 4)
        def_workers = 4;
    sl_status st;
    if ((st = database_url_load(cfg, err)) != SL_OK ||
        (st = sl_config_hostport("SHELFLINE_LISTEN", default_listen, &cfg->listen, err)) != SL_OK)
        return st;
    const char *migrate;
    sl_config_string("SHELFLINE_MIGRATE", "auto", &migrate, err);
    if (strcmp(migrate, "verify") == 0)
        cfg->migrate_verify = true;
    else if (strcmp(migrate, "auto") != 0)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "invalid SHELFLINE_MIGRATE \"%s\": expected auto or verify", migrate);
    if ((st = sl_config_int("SHELFLINE_WORKERS", def_workers, 1, 256, &cfg->workers, err)) !=
            SL_OK ||
        (st = sl_config_int("SHELFLINE_DB_POOL", cfg->workers + 4, 1, 256, &cfg->db_pool, err)) !=
            SL_OK ||
        /* Few armed requests per worker: gRPC core gives a connection's
         * calls to the queue holding armed requests first, so with many
         * slots one worker would serve a single busy channel (a peer
         * service) alone while handlers block on the database. */
        (st = sl_config_int("SHELFLINE_SLOTS_PER_METHOD", 2, 1, 1024, &cfg->slots_per_method,
                            err)) != SL_OK ||
        (st = sl_config_int("SHELFLINE_MAX_MESSAGE_BYTES", DEFAULT_MAX_MSG, 1024, 256 * 1024 * 1024,
                            &cfg->max_message_bytes, err)) != SL_OK ||
        (st = sl_config_duration_ms("SHELFLINE_MAX_CONNECTION_AGE", 0, 0, INT32_MAX,
                                    &cfg->max_connection_age_ms, err)) != SL_OK ||
        (st = sl_config_duration_ms("SHELFLINE_MAX_CONNECTION_AGE_GRACE", 0, 0, INT32_MAX,
                                    &cfg->max_connection_age_grace_ms, err)) != SL_OK ||
        (st = sl_config_duration_ms("SHELFLINE_DRAIN_GRACE", 20000, 0, 3600 * 1000,
                                    &cfg->drain_grace_ms, err)) != SL_OK ||
        (st = sl_config_duration_ms("SHELFLINE_DRAIN_DELAY", 1000, 0, 600 * 1000,
                                    &cfg->drain_delay_ms, err)) != SL_OK ||
        (st = sl_config_duration_ms("SHELFLINE_DB_STARTUP_TIMEOUT", 60000, 0, 3600 * 1000,
                                    &cfg->db_startup_timeout_ms, err)) != SL_OK ||
        (st = sl_config_duration_ms("SHELFLINE_HEALTH_INTERVAL", 2000, 100, 600 * 1000,
                                    &cfg->health_interval_ms, err)) != SL_OK ||
        (st = sl_config_duration_ms("SHELFLINE_MAX_CALL_TIME", 30000, 100, 3600 * 1000,
                                    &cfg->max_call_ms, err)) != SL_OK ||
        (st = sl_config_int("SHELFLINE_MAX_STREAMS", 1024, 1, 1000000, &cfg->max_streams, err)) !=
            SL_OK ||
        (st = sl_config_int("SHELFLINE_MAX_HEALTH_WATCHES", 256, 1, 1000000,
                            &cfg->max_health_watches, err)) != SL_OK ||
        (st = sl_config_int("SHELFLINE_MAX_CONCURRENT_STREAMS", 256, 1, INT32_MAX,
                            &cfg->max_concurrent_streams, err)) != SL_OK ||
        (st = sl_config_int("SHELFLINE_MAX_HEADER_BYTES", 8192, 1024, 1024 * 1024,
                            &cfg->max_header_bytes, err)) != SL_OK ||
        (st = sl_tls_config_load(&cfg->tls, err)) != SL_OK ||
        (st = sl_config_string("SHELFLINE_JWT_PUBLIC_KEY_FILE", NULL, &cfg->jwt_public_key_file,
                               err)) != SL_OK ||
        (st = sl_config_string("SHELFLINE_PEER_TOKEN_FILE", NULL, &cfg->peer_token_file, err)) !=
            SL_OK ||
        (st = sl_config_string("SHELFLINE_MTLS_ROLES_FILE", NULL, &cfg->mtls_roles_file, err)) !=
            SL_OK)
        return st;
    /* The shared token is gone: a deployment still setting it would
     * otherwise run believing it is protected. */
    if (getenv("SHELFLINE_AUTH_TOKEN") != NULL)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "SHELFLINE_AUTH_TOKEN is no longer supported: callers present signed "
                          "tokens (SHELFLINE_JWT_PUBLIC_KEY_FILE, see CHANGELOG.md)");
    const char *auth;
    sl_config_string("SHELFLINE_AUTH", "", &auth, err);
    if (strcmp(auth, "none") == 0)
        cfg->auth_none = true;
    else if (auth[0] != '\0')
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "invalid SHELFLINE_AUTH \"%s\": expected none (or unset)", auth);
    if (cfg->auth_none && cfg->jwt_public_key_file != NULL)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "SHELFLINE_AUTH=none and SHELFLINE_JWT_PUBLIC_KEY_FILE both set: "
                          "choose one");
    if (cfg->auth_none && cfg->mtls_roles_file != NULL)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "SHELFLINE_AUTH=none and SHELFLINE_MTLS_ROLES_FILE both set: choose one");
    /* Roles from certificates only when certificates are required and
     * verified. */
    if (cfg->mtls_roles_file != NULL && cfg->tls.client_ca_file == NULL)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "SHELFLINE_MTLS_ROLES_FILE needs SHELFLINE_TLS_CLIENT_CA_FILE (mTLS: "
                          "client certificates required and verified)");
    const char *level;
    sl_config_string("SHELFLINE_LOG_LEVEL", "info", &level, err);
    if (sl_log_level_parse(level, &cfg->log_level) != 0)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "invalid SHELFLINE_LOG_LEVEL \"%s\": expected debug, info, warn or error",
                          level);
    const char *access;
    sl_config_string("SHELFLINE_ACCESS_LOG", "all", &access, err);
    if (strcmp(access, "all") == 0)
        cfg->access_log = SL_ACCESS_LOG_ALL;
    else if (strcmp(access, "errors") == 0)
        cfg->access_log = SL_ACCESS_LOG_ERRORS;
    else if (strcmp(access, "off") == 0)
        cfg->access_log = SL_ACCESS_LOG_OFF;
    else
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "invalid SHELFLINE_ACCESS_LOG \"%s\": expected all, errors or off",
                          access);
    return SL_OK;
}

sl_db_tx_options sl_service_tx_options(const sl_call *call, bool read_only)
{
    int64_t d = sl_call_deadline_ms(call);
    sl_db_tx_options o = {
        .isolation = read_only ? SL_DB_REPEATABLE_READ : SL_DB_READ_COMMITTED,
        .read_only = read_only,
        .deadline_ms = d == INT64_MAX ? 0 : d,
    };
    return o;
}

sl_status sl_service_peers_load(const sl_peer_spec *peers, size_t n, const char **target,
                                sl_err *err)
{
    if (n > SL_SERVICE_MAX_PEERS)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "%zu peers: at most %d", n,
                          SL_SERVICE_MAX_PEERS);
    for (size_t i = 0; i < n; i++) {
        sl_status st = sl_config_target(peers[i].env, peers[i].default_target, &target[i], err);
        if (st != SL_OK)
            return st;
    }
    return SL_OK;
}

sl_status sl_service_auth_check(const sl_service_config *cfg, sl_err *err)
{
    if (cfg->auth_none || cfg->jwt_public_key_file != NULL || cfg->mtls_roles_file != NULL)
        return SL_OK;
    return sl_err_set(err, SL_FAILED_PRECONDITION,
                      "no authentication configured: set SHELFLINE_JWT_PUBLIC_KEY_FILE or "
                      "SHELFLINE_MTLS_ROLES_FILE, or SHELFLINE_AUTH=none to serve every caller "
                      "unauthenticated");
}

/* The caller's identity: from its bearer JWT when it presents one; else,
 * under mTLS with SHELFLINE_MTLS_ROLES_FILE, from its certificate's
 * identity; under SHELFLINE_AUTH=none "anonymous" with every role.  The
 * dispatcher then checks the method's roles (check_roles). */
static sl_status auth_interceptor(sl_call *call, void *ctx, sl_err *err)
{
    sl_service *svc = ctx;
    sl_identity id;
    const char *authorization = sl_call_metadata(call, "authorization", NULL);
    if (svc->cfg.auth_none) {
        id = (sl_identity){.subject = "anonymous", .roles = SL_ROLES_ANY};
    } else if (authorization == NULL && svc->mtls_roles != NULL) {
        const char *peer = sl_call_peer_identity(call);
        if (peer == NULL)
            return sl_err_set(err, SL_UNAUTHENTICATED,
                              "no bearer token and no client certificate identity (SAN URI or "
                              "DNS name)");
        if (!sl_mtls_roles_lookup(svc->mtls_roles, peer, &id))
            return sl_err_set(err, SL_UNAUTHENTICATED,
                              "client certificate identity \"%s\" is not in "
                              "SHELFLINE_MTLS_ROLES_FILE, and no bearer token was presented",
                              peer);
    } else if (svc->jwt == NULL) {
        return sl_err_set(err, SL_UNAUTHENTICATED,
                          "bearer tokens are not accepted here (no SHELFLINE_JWT_PUBLIC_KEY_FILE): "
                          "authenticate with a client certificate");
    } else {
        sl_status st = sl_auth_bearer(svc->jwt, authorization, (int64_t)time(NULL), &id, err);
        if (st != SL_OK)
            return st;
    }
    sl_call_set_identity(call, &id);
    return SL_OK;
}

sl_status sl_service_watch_events(sl_call *call, const ProtobufCMessage *req, sl_err *err)
{
    return sl_events_watch(sl_call_ctx(call), call, req, err);
}

sl_status sl_service_method_table(const sl_service_spec *spec, sl_events *events,
                                  sl_service_def *out, sl_err *err)
{
    memset(out, 0, sizeof *out);
    sl_method *rows = sl_calloc(spec->n_methods + 1, sizeof *rows);
    if (rows == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    if (spec->n_methods > 0)
        memcpy(rows, spec->methods, spec->n_methods * sizeof *rows);
    rows[spec->n_methods] = (sl_method){
        .name = "WatchEvents",
        .kind = SL_RPC_SERVER_STREAMING,
        .stream = sl_service_watch_events,
        .flags = SL_METHOD_READ_ONLY | SL_METHOD_IDEMPOTENT,
        .ctx = events,
        .roles = SL_ROLE_SERVICE,
    };
    *out = (sl_service_def){
        .descriptor = spec->descriptor,
        .methods = rows,
        .n_methods = spec->n_methods + 1,
    };
    sl_status st = sl_server_check_table(out, err);
    /* Fail closed: a row naming no role could be called by nobody, which
     * is a table forgetting its column, not a product decision. */
    for (size_t i = 0; st == SL_OK && i < out->n_methods; i++)
        if (rows[i].roles == 0 || (rows[i].roles & ~SL_ROLES_ANY) != 0)
            st =
                sl_err_set(err, SL_INVALID_ARGUMENT, "%s: no valid roles in its row", rows[i].name);
    if (st != SL_OK) {
        free(rows);
        memset(out, 0, sizeof *out);
    }
    return st;
}

sl_status sl_service_add(sl_service *svc, const sl_service_def *def, sl_err *err)
{
    return sl_server_add_service(svc->server, def, err);
}

const sl_service_config *sl_service_cfg(const sl_service *svc)
{
    return &svc->cfg;
}

sl_http *sl_service_http(sl_service *svc)
{
    return svc->http;
}

sl_db *sl_service_db(sl_service *svc)
{
    return svc->db;
}

sl_server *sl_service_server(sl_service *svc)
{
    return svc->server;
}

sl_events *sl_service_events(sl_service *svc)
{
    return svc->events;
}

sl_channel *sl_service_peer(sl_service *svc, size_t peer)
{
    if (peer >= svc->spec->n_peers)
        return NULL;
    pthread_mutex_lock(&svc->peers_mu);
    if (svc->peers[peer] == NULL) {
        /* Calls between services carry the token issued to this one. */
        sl_channel_options o = {.max_recv_bytes = svc->cfg.max_message_bytes,
                                .max_send_bytes = svc->cfg.max_message_bytes,
                                .token_file = svc->peer_token,
                                .tls_ca_file = svc->cfg.tls.ca_file,
                                .tls_cert_file = svc->cfg.tls.client_cert_file,
                                .tls_key_file = svc->cfg.tls.client_key_file};
        if (sl_channel_create(svc->peer_target[peer], &o, &svc->peers[peer], NULL) != SL_OK)
            svc->peers[peer] = NULL;
    }
    sl_channel *ch = svc->peers[peer];
    pthread_mutex_unlock(&svc->peers_mu);
    return ch;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Reports NOT_SERVING while the database does not answer: after two
 * probes in a row failed (like a kubelet's failureThreshold), SERVING again
 * at the first that answers.  One slow probe on a machine busy to its last
 * core is not a database gone: with one strike, replicas flapped out of the
 * round-robin at the peak day's surge and their clients' calls queued on
 * the rest. */
#define PROBE_FAILURES_TO_DEGRADE 2

static void *probe_main(void *arg)
{
    sl_service *svc = arg;
    bool degraded = false;
    int failures = 0;
    while (!atomic_load(&svc->stopping)) {
        sl_err err;
        sl_status st = sl_db_ping(svc->db, (int)svc->cfg.health_interval_ms, &err);
        /* A pool busy with real work is not a sick database. */
        bool failed = st != SL_OK && st != SL_RESOURCE_EXHAUSTED;
        failures = failed ? failures + 1 : 0;
        bool down = failures >= PROBE_FAILURES_TO_DEGRADE;
        if (down != degraded) {
            degraded = down;
            sl_health_set_degraded(sl_server_health(svc->server), down);
            if (down)
                SL_LOG(SL_LOG_WARN, "health", NULL, "database unreachable, NOT_SERVING: %s",
                       err.msg);
            else
                SL_LOG(SL_LOG_INFO, "health", NULL, "database reachable again, SERVING");
        }
        for (int64_t slept = 0; slept < svc->cfg.health_interval_ms && !atomic_load(&svc->stopping);
             slept += 50)
            sleep_ms(50);
    }
    return NULL;
}

/* Migrates, retrying while the database is not up yet (a pod often starts
 * before its database is reachable). */
static sl_status migrate_when_up(sl_db *db, const sl_service_spec *spec,
                                 const sl_service_config *cfg, const sl_migrate_options *o,
                                 int *applied, sl_err *err)
{
    int64_t start = sl_db_now_ms();
    int64_t wait = 200;
    for (;;) {
        sl_status st = sl_migrate_run(db, spec->migrations, o, applied, err);
        if (st == SL_PERMISSION_DENIED)
            sl_err_wrap(err,
                        "the role lacks the right to migrate; run `shelfline-%s migrate` as "
                        "the schema's owner first (docs/OPERATIONS.md, \"Database roles\")",
                        spec->name);
        if (st != SL_UNAVAILABLE)
            return st;
        if (sl_db_now_ms() - start >= cfg->db_startup_timeout_ms)
            return st;
        SL_LOG(SL_LOG_WARN, "startup", NULL, "database not reachable yet, retrying: %s", err->msg);
        sleep_ms(wait);
        if (wait < 2000)
            wait *= 2;
    }
}

static void usage(const sl_service_spec *spec, FILE *out)
{
    fprintf(out,
            "usage: shelfline-%s [--probe [NAME]]\n"
            "       shelfline-%s migrate [--grant ROLE]\n"
            "Serves shelfline.v1 over gRPC; configured by environment variables\n"
            "(SHELFLINE_DATABASE_URL, SHELFLINE_LISTEN [%s], ...; see docs/OPERATIONS.md).\n"
            "--probe [NAME]: exit 0 when the service running here reports NAME\n"
            "(\"\" the server, \"liveness\") SERVING, over its own TLS settings.\n"
            "migrate: bring schema \"%s\" up to date as the role of SHELFLINE_DATABASE_URL\n"
            "(its owner) and exit; --grant ROLE gives the service's runtime role DML on it.\n",
            spec->name, spec->name, spec->default_listen, spec->schema);
}

/* shelfline-<service> migrate [--grant ROLE]: the migrations alone, run as
 * the schema's owner (a Kubernetes init container or job, or by hand),
 * so that the service itself can run as a role without DDL.  Exit 0
 * when the schema is up to date (and the grant made), 1 when it could not
 * be, 2 on bad configuration. */
static int migrate_command(const sl_service_spec *spec, const char *grant_role)
{
    sl_service_config cfg;
    sl_err err;
    if (sl_service_config_load(&cfg, spec->default_listen, &err) != SL_OK) {
        fprintf(stderr, "shelfline-%s: %s\n", spec->name, err.msg);
        return 2;
    }
    sl_log_init(spec->name, cfg.log_level);
    sl_db_options dbo = {.conninfo = cfg.database_url,
                         .schema = spec->schema,
                         .pool_size = 1,
                         .application_name = spec->name};
    sl_db *db = NULL;
    if (sl_db_open(&dbo, &db, &err) != SL_OK) {
        fprintf(stderr, "shelfline-%s: invalid SHELFLINE_DATABASE_URL: %s\n", spec->name, err.msg);
        return 2;
    }
    sl_migrate_options mo = {.grant_role = grant_role};
    int applied = 0;
    sl_status st = migrate_when_up(db, spec, &cfg, &mo, &applied, &err);
    sl_db_close(db);
    if (st != SL_OK) {
        fprintf(stderr, "shelfline-%s: migrate: %s\n", spec->name, err.msg);
        return 1;
    }
    printf("schema \"%s\": %d migration%s applied, up to date%s%s\n", spec->schema, applied,
           applied == 1 ? "" : "s", grant_role != NULL ? "; DML granted to " : "",
           grant_role != NULL ? grant_role : "");
    return 0;
}

/* GET /metrics: the whole registry (sl_metrics), Prometheus text 0.0.4. */
static void metrics_route(void *ctx, const sl_http_request *req, sl_http_response *resp)
{
    (void)ctx;
    (void)req;
    size_t len;
    char *text = sl_metrics_render(&len);
    if (text == NULL) {
        sl_http_text(resp, 500, NULL, "out of memory rendering the metrics\n");
        return;
    }
    resp->status = 200;
    resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
    resp->body = text;
    resp->body_len = len;
}

/* The port of a host:port listen address ("0.0.0.0:50051", "[::]:50051"). */
static const char *listen_port(const char *listen)
{
    const char *colon = strrchr(listen, ':');
    return colon != NULL ? colon + 1 : listen;
}

/* shelfline-<service> --probe [NAME]: asks the running service in this pod
 * (127.0.0.1, the port of SHELFLINE_LISTEN) for the health of NAME ("",
 * the server; "liveness") with the service's own TLS settings, since the
 * kubelet's native gRPC probe speaks no TLS.  Exit 0 when SERVING, 1
 * otherwise, 2 on bad configuration. */
static int probe_command(const sl_service_spec *spec, const char *name)
{
    sl_service_config cfg;
    sl_err err;
    if (sl_service_config_load(&cfg, spec->default_listen, &err) != SL_OK) {
        fprintf(stderr, "shelfline-%s: %s\n", spec->name, err.msg);
        return 2;
    }
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%s", listen_port(cfg.listen));
    sl_channel_options o = {.no_health_check = true};
    /* The service's own certificate verifies against the CA its peers
     * trust; under mTLS it is presented as the probe's. */
    if (cfg.tls.cert_file != NULL) {
        o.tls_ca_file = cfg.tls.ca_file != NULL ? cfg.tls.ca_file : cfg.tls.client_ca_file;
        o.tls_cert_file = cfg.tls.client_cert_file;
        o.tls_key_file = cfg.tls.client_key_file;
        if (o.tls_ca_file == NULL) {
            fprintf(stderr, "shelfline-%s: --probe over TLS needs SHELFLINE_TLS_CA_FILE\n",
                    spec->name);
            return 2;
        }
    }
    sl_channel *ch;
    if (sl_channel_create(target, &o, &ch, &err) != SL_OK) {
        fprintf(stderr, "shelfline-%s: %s\n", spec->name, err.msg);
        return 2;
    }
    sl_arena *a = sl_arena_create(0);
    Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    req.service = (char *)name;
    Grpc__Health__V1__HealthCheckResponse *resp = NULL;
    sl_call_options co = {.timeout_ms = 2000};
    sl_status st = a == NULL ? sl_err_set(&err, SL_RESOURCE_EXHAUSTED, "out of memory")
                             : sl_client_unary(ch, "/grpc.health.v1.Health/Check", &req.base,
                                               &grpc__health__v1__health_check_response__descriptor,
                                               a, (ProtobufCMessage **)&resp, &co, &err);
    int rc = 1;
    if (st != SL_OK)
        fprintf(stderr, "shelfline-%s: health of \"%s\": %s\n", spec->name, name, err.msg);
    else if (resp->status == GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING)
        rc = 0;
    else
        fprintf(stderr, "shelfline-%s: health of \"%s\": not SERVING\n", spec->name, name);
    sl_arena_destroy(a);
    sl_channel_destroy(ch);
    return rc;
}

int sl_service_main(const sl_service_spec *spec, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(spec, stdout);
            return 0;
        }
        if (strcmp(argv[i], "--probe") == 0 && argc - i <= 2)
            return probe_command(spec, i + 1 < argc ? argv[i + 1] : "");
        if (i == 1 && strcmp(argv[i], "migrate") == 0 &&
            (argc == 2 || (argc == 4 && strcmp(argv[2], "--grant") == 0 && argv[3][0] != '\0')))
            return migrate_command(spec, argc == 4 ? argv[3] : NULL);
        fprintf(stderr, "shelfline-%s: unknown argument \"%s\"\n", spec->name, argv[i]);
        usage(spec, stderr);
        return 2;
    }
    sl_service svc;
    memset(&svc, 0, sizeof svc);
    svc.spec = spec;
    pthread_mutex_init(&svc.peers_mu, NULL);
    atomic_init(&svc.stopping, false);
    sl_err err;
    sl_err_clear(&err);
    if (sl_service_config_load(&svc.cfg, spec->default_listen, &err) != SL_OK ||
        sl_service_peers_load(spec->peers, spec->n_peers, svc.peer_target, &err) != SL_OK) {
        fprintf(stderr, "shelfline-%s: %s\n", spec->name, err.msg);
        return 2;
    }
    /* The HTTP face's address is checked now, with the rest of the
     * configuration; it listens once init has added its routes. */
    if (svc.cfg.tls.cert_file != NULL &&
        sl_tls_server_create(svc.cfg.tls.cert_file, svc.cfg.tls.key_file,
                             svc.cfg.tls.client_ca_file, &svc.tls, &err) != SL_OK) {
        fprintf(stderr, "shelfline-%s: %s\n", spec->name, err.msg);
        return 2;
    }
    const char *http_listen = NULL;
    sl_config_string("SHELFLINE_HTTP_LISTEN",
                     spec->default_http_listen != NULL ? spec->default_http_listen : "off",
                     &http_listen, &err);
    if (strcmp(http_listen, "off") != 0) {
        /* The HTTP port serves the gRPC port's certificate, and follows
         * its files. */
        sl_http_options ho = {.max_body_bytes = (size_t)svc.cfg.max_message_bytes, .tls = svc.tls};
        /* Browser pages of other origins allowed to call this port (the
         * service-desk console calling inventory and forecasting). */
        sl_config_string("SHELFLINE_HTTP_CORS_ORIGINS", "", &ho.cors_origins, &err);
        if (sl_http_create(http_listen, &ho, &svc.http, &err) != SL_OK) {
            fprintf(stderr, "shelfline-%s: SHELFLINE_HTTP_LISTEN: %s\n", spec->name, err.msg);
            sl_tls_server_destroy(svc.tls);
            return 2;
        }
        svc.cfg.http_listen = http_listen;
    }
    /* Last of the configuration: who may call.  Fail closed. */
    const char *auth_var = NULL;
    if (sl_service_auth_check(&svc.cfg, &err) != SL_OK)
        auth_var = "";
    else if (svc.cfg.jwt_public_key_file != NULL &&
             sl_jwt_verifier_create(svc.cfg.jwt_public_key_file, &svc.jwt, &err) != SL_OK)
        auth_var = "SHELFLINE_JWT_PUBLIC_KEY_FILE: ";
    else if (svc.cfg.peer_token_file != NULL &&
             sl_token_file_open(svc.cfg.peer_token_file, &svc.peer_token, &err) != SL_OK)
        auth_var = "SHELFLINE_PEER_TOKEN_FILE: ";
    else if (svc.cfg.mtls_roles_file != NULL &&
             sl_mtls_roles_open(svc.cfg.mtls_roles_file, &svc.mtls_roles, &err) != SL_OK)
        auth_var = "SHELFLINE_MTLS_ROLES_FILE: ";
    if (auth_var != NULL) {
        fprintf(stderr, "shelfline-%s: %s%s\n", spec->name, auth_var, err.msg);
        sl_jwt_verifier_destroy(svc.jwt);
        sl_token_file_destroy(svc.peer_token);
        sl_http_destroy(svc.http);
        return 2;
    }
    sl_log_init(spec->name, svc.cfg.log_level);
    if (svc.cfg.auth_none)
        SL_LOG(SL_LOG_WARN, "auth", NULL,
               "SHELFLINE_AUTH=none: serving every caller unauthenticated, with every role");
    else if (spec->n_peers > 0 && svc.peer_token == NULL && svc.cfg.tls.client_cert_file == NULL)
        SL_LOG(SL_LOG_WARN, "auth", NULL,
               "SHELFLINE_PEER_TOKEN_FILE unset: calls to peers carry no token and peers that "
               "authenticate will refuse them");
    /* Before any thread exists, so every thread inherits the mask and the
     * main thread alone takes the signal. */
    sl_server_block_signals();

    int rc = 1;
    void *app = NULL;
    bool app_ready = false;
    sl_db_options dbo = {.conninfo = svc.cfg.database_url,
                         .schema = spec->schema,
                         .pool_size = (int)svc.cfg.db_pool,
                         .application_name = spec->name,
                         .generic_plans = spec->generic_plans};
    sl_status st = sl_db_open(&dbo, &svc.db, &err);
    if (st != SL_OK) {
        SL_LOG(SL_LOG_ERROR, "startup", NULL, "invalid SHELFLINE_DATABASE_URL: %s", err.msg);
        rc = 2;
        goto out;
    }
    sl_migrate_options mo = {.verify_only = svc.cfg.migrate_verify};
    st = migrate_when_up(svc.db, spec, &svc.cfg, &mo, NULL, &err);
    if (st != SL_OK) {
        SL_LOG(SL_LOG_ERROR, "startup", NULL, "could not migrate schema \"%s\": %s", spec->schema,
               err.msg);
        goto out;
    }
    sl_server_options so = {
        .listen = svc.cfg.listen,
        .workers = (int)svc.cfg.workers,
        .slots_per_method = (int)svc.cfg.slots_per_method,
        .max_recv_bytes = svc.cfg.max_message_bytes,
        .max_send_bytes = svc.cfg.max_message_bytes,
        .max_connection_age_ms = svc.cfg.max_connection_age_ms,
        .max_connection_age_grace_ms = svc.cfg.max_connection_age_grace_ms,
        .max_call_ms = svc.cfg.max_call_ms,
        .max_streams = svc.cfg.max_streams,
        .max_health_watches = svc.cfg.max_health_watches,
        .max_concurrent_streams = svc.cfg.max_concurrent_streams,
        .max_header_bytes = svc.cfg.max_header_bytes,
        .tls = svc.tls,
        .access_log = svc.cfg.access_log,
        .interceptor = auth_interceptor,
        .interceptor_ctx = &svc,
        .check_roles = true,
    };
    st = sl_server_create(&so, &svc.server, &err);
    if (st != SL_OK) {
        SL_LOG(SL_LOG_ERROR, "startup", NULL, "could not create the server: %s", err.msg);
        goto out;
    }
    st = sl_events_create(svc.db, spec->topics, &svc.events, &err);
    if (st != SL_OK) {
        SL_LOG(SL_LOG_ERROR, "startup", NULL, "could not start the event feed: %s", err.msg);
        goto out;
    }
    sl_metrics_process(spec->name, SHELFLINE_VERSION, SHELFLINE_COMMIT);
    if (svc.http != NULL && (st = sl_http_route(svc.http, "GET", "/metrics", false, metrics_route,
                                                NULL, &err)) != SL_OK) {
        SL_LOG(SL_LOG_ERROR, "startup", NULL, "could not route /metrics: %s", err.msg);
        goto out;
    }
    st = spec->init(&svc, &app, &err);
    if (st != SL_OK) {
        SL_LOG(SL_LOG_ERROR, "startup", NULL, "could not initialise: %s", err.msg);
        goto out;
    }
    app_ready = true;
    st = sl_service_method_table(spec, svc.events, &svc.def, &err);
    svc.def.ctx = app;
    if (st == SL_OK)
        st = sl_service_add(&svc, &svc.def, &err);
    if (st != SL_OK) {
        SL_LOG(SL_LOG_ERROR, "startup", NULL, "could not add the service: %s", err.msg);
        goto out;
    }
    /* Server reflection, last, so it sees every service init added. */
    size_t set_len;
    const void *set = sl_reflection_suite_set(&set_len);
    st = sl_reflection_create(set, set_len, &svc.reflection, &err);
    if (st == SL_OK)
        st = sl_reflection_add(svc.server, svc.reflection, &err);
    if (st != SL_OK) {
        SL_LOG(SL_LOG_ERROR, "startup", NULL, "could not add server reflection: %s", err.msg);
        goto out;
    }
    /* The Connect face: every unary RPC of every service added above. */
    if (svc.http != NULL && (st = sl_connect_route(svc.http, svc.server, &err)) != SL_OK) {
        SL_LOG(SL_LOG_ERROR, "startup", NULL, "could not route the Connect face: %s", err.msg);
        goto out;
    }
    if (svc.http != NULL) {
        st = sl_http_start(svc.http, &err);
        if (st != SL_OK) {
            SL_LOG(SL_LOG_ERROR, "startup", NULL, "SHELFLINE_HTTP_LISTEN: %s", err.msg);
            goto out;
        }
        SL_LOG(SL_LOG_INFO, "http", NULL,
               "HTTP%s on %s (port %d): /metrics, Connect at POST /<service>/<method>",
               svc.tls != NULL ? "S" : "", svc.cfg.http_listen, sl_http_port(svc.http));
    }
    st = sl_server_start(svc.server, &err);
    if (st != SL_OK) {
        SL_LOG(SL_LOG_ERROR, "startup", NULL, "could not start the server: %s", err.msg);
        goto out;
    }
    if (pthread_create(&svc.prober, NULL, probe_main, &svc) == 0)
        svc.prober_started = true;

    int sig = sl_server_wait_signal();
    rc = 0;
    /* Readiness goes NOT_SERVING first and calls are still served for the
     * drain delay, so clients that watch health move to other replicas
     * before the GOAWAY; a second signal ends the delay early. */
    sl_server_drain_begin(svc.server);
    if (svc.cfg.drain_delay_ms > 0) {
        SL_LOG(SL_LOG_INFO, "shutdown", NULL,
               "signal %d: NOT_SERVING, still answering calls for %" PRId64 " ms", sig,
               svc.cfg.drain_delay_ms);
        sig = sl_server_wait_signal_for(svc.cfg.drain_delay_ms);
        if (sig != 0)
            SL_LOG(SL_LOG_INFO, "shutdown", NULL, "signal %d: drain delay cut short", sig);
    }
    SL_LOG(SL_LOG_INFO, "shutdown", NULL, "draining");
out:
    atomic_store(&svc.stopping, true);
    if (svc.server != NULL)
        sl_server_shutdown(svc.server, svc.cfg.drain_grace_ms);
    if (svc.prober_started)
        pthread_join(svc.prober, NULL);
    if (app_ready && spec->fini != NULL)
        spec->fini(&svc, app);
    /* After fini: routes a service added may use its app until then. */
    sl_http_destroy(svc.http);
    sl_server_destroy(svc.server);
    sl_reflection_destroy(svc.reflection);
    sl_events_destroy(svc.events);
    for (size_t i = 0; i < SL_SERVICE_MAX_PEERS; i++)
        sl_channel_destroy(svc.peers[i]);
    sl_db_close(svc.db);
    sl_tls_server_destroy(svc.tls);
    free((sl_method *)svc.def.methods);
    sl_token_file_destroy(svc.peer_token);
    sl_mtls_roles_destroy(svc.mtls_roles);
    sl_jwt_verifier_destroy(svc.jwt);
    pthread_mutex_destroy(&svc.peers_mu);
    return rc;
}
