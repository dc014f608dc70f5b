/*
 * sl_http: see sl_http.h.
 *
 * libmicrohttpd calls the access handler several times per request: first
 * with the headers (a per-request state is made then), then once per
 * chunk of body, then once more with no data -- only that last call runs
 * the route's handler and queues the response.  A body over the limit is
 * answered 413 at once, without reading the rest into memory.
 */
#include "sl_http.h"

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sl_arena.h"
#include "sl_log.h"

#define MAX_ROUTES 32
#define MAX_CHAIN 8
#define DEFAULT_MAX_BODY (4u * 1024 * 1024 + 64 * 1024)

typedef struct route {
    char *method; /* NULL: any */
    char *path;
    bool prefix;
    sl_http_handler fn;
    void *ctx;
} route;

struct sl_http {
    struct sockaddr_storage addr;
    char listen[300];
    int threads;
    size_t max_body;
    route routes[MAX_ROUTES];
    size_t nroutes;
    struct MHD_Daemon *d;
    int port;
    sl_tls_server *tls; /* NULL: plain HTTP */
    pthread_mutex_t cert_mu;
    struct http_cert *cert; /* the newest; older ones behind it */
};

/* A certificate as GnuTLS serves it.  Every version is kept until the
 * server is destroyed: GnuTLS does not copy what the certificate callback
 * returns, and a session that took an older one may still be using it (a
 * rotation a month costs a few kilobytes). */
typedef struct http_cert {
    struct http_cert *prev;
    unsigned version;
    gnutls_pcert_st pcert[MAX_CHAIN];
    unsigned n;
    gnutls_privkey_t key;
} http_cert;

/* One request's state across the access handler's calls. */
typedef struct pending {
    char *body;
    size_t len, cap;
    bool too_large;
} pending;

static const char text_plain[] = "text/plain; charset=utf-8";

static sl_status parse_listen(sl_http *h, const char *listen, sl_err *err)
{
    char host[256];
    const char *colon = strrchr(listen, ':');
    if (colon == NULL || colon == listen || colon[1] == '\0' || strlen(listen) >= sizeof h->listen)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "invalid HTTP listen address \"%s\": expected host:port", listen);
    const char *hs = listen, *he = colon;
    if (*hs == '[' && he[-1] == ']') {
        hs++;
        he--;
    }
    if ((size_t)(he - hs) >= sizeof host || he <= hs)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "invalid HTTP listen address \"%s\": expected host:port", listen);
    memcpy(host, hs, (size_t)(he - hs));
    host[he - hs] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end != '\0' || port < 0 || port > 65535)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "invalid HTTP listen address \"%s\": port must be 0-65535", listen);
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV},
                    *res = NULL;
    int rc = getaddrinfo(host, colon + 1, &hints, &res);
    if (rc != 0 || res == NULL)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "invalid HTTP listen address \"%s\": %s",
                          listen, gai_strerror(rc));
    memcpy(&h->addr, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    snprintf(h->listen, sizeof h->listen, "%s", listen);
    return SL_OK;
}

sl_status sl_http_create(const char *listen, const sl_http_options *opts, sl_http **out,
                         sl_err *err)
{
    *out = NULL;
    sl_http *h = sl_calloc(1, sizeof *h);
    if (h == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    sl_status st = parse_listen(h, listen != NULL ? listen : "", err);
    if (st != SL_OK) {
        free(h);
        return st;
    }
    h->threads = opts != NULL && opts->threads > 0 ? opts->threads : 2;
    h->max_body =
        opts != NULL && opts->max_body_bytes > 0 ? opts->max_body_bytes : DEFAULT_MAX_BODY;
    h->tls = opts != NULL ? opts->tls : NULL;
    pthread_mutex_init(&h->cert_mu, NULL);
    *out = h;
    return SL_OK;
}

sl_status sl_http_route(sl_http *h, const char *method, const char *path, bool prefix,
                        sl_http_handler fn, void *ctx, sl_err *err)
{
    if (h->d != NULL)
        return sl_err_set(err, SL_FAILED_PRECONDITION, "HTTP routes are added before the start");
    if (h->nroutes == MAX_ROUTES)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "more than %d HTTP routes", MAX_ROUTES);
    if (path == NULL || path[0] != '/' || fn == NULL)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "an HTTP route needs a path from / and a handler");
    route *r = &h->routes[h->nroutes];
    r->path = sl_strdup(path);
    r->method = method != NULL ? sl_strdup(method) : NULL;
    if (r->path == NULL || (method != NULL && r->method == NULL)) {
        free(r->path);
        free(r->method);
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    }
    r->prefix = prefix;
    r->fn = fn;
    r->ctx = ctx;
    h->nroutes++;
    return SL_OK;
}

void sl_http_text(sl_http_response *resp, int status, const char *content_type, const char *text)
{
    free(resp->body);
    resp->status = status;
    resp->content_type = content_type;
    resp->body = sl_strdup(text);
    resp->body_len = resp->body != NULL ? strlen(text) : 0;
}

const char *sl_http_header(const sl_http_request *req, const char *name)
{
    return MHD_lookup_connection_value((struct MHD_Connection *)req->conn, MHD_HEADER_KIND, name);
}

const char *sl_http_peer(const sl_http_request *req, char *buf, size_t cap)
{
    snprintf(buf, cap, "unknown");
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
        (struct MHD_Connection *)req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci == NULL || ci->client_addr == NULL)
        return buf;
    const struct sockaddr *sa = ci->client_addr;
    char host[NI_MAXHOST], port[NI_MAXSERV];
    socklen_t len =
        sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    if (getnameinfo(sa, len, host, sizeof host, port, sizeof port,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        return buf;
    if (sa->sa_family == AF_INET6)
        snprintf(buf, cap, "ipv6:[%s]:%s", host, port);
    else
        snprintf(buf, cap, "ipv4:%s:%s", host, port);
    return buf;
}

static enum MHD_Result respond(struct MHD_Connection *conn, sl_http_response *r, const char *allow)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        r->body_len, r->body != NULL ? r->body : (char *)"",
        r->body != NULL ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (resp == NULL) {
        free(r->body);
        return MHD_NO;
    }
    r->body = NULL;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            r->content_type != NULL ? r->content_type : text_plain);
    if (allow != NULL)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
    enum MHD_Result rc =
        MHD_queue_response(conn, (unsigned)(r->status > 0 ? r->status : 200), resp);
    MHD_destroy_response(resp);
    return rc;
}

static bool path_matches(const route *r, const char *url)
{
    size_t n = strlen(r->path);
    return r->prefix ? strncmp(url, r->path, n) == 0 : strcmp(url, r->path) == 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **state)
{
    (void)version;
    sl_http *h = cls;
    pending *p = *state;
    if (p == NULL) {
        p = sl_calloc(1, sizeof *p);
        if (p == NULL)
            return MHD_NO;
        *state = p;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (p->too_large || p->len + n > h->max_body) {
            p->too_large = true;
            free(p->body);
            p->body = NULL;
            p->len = p->cap = 0;
            return MHD_YES;
        }
        if (p->len + n > p->cap) {
            size_t cap = p->cap > 0 ? p->cap : 4096;
            while (cap < p->len + n)
                cap *= 2;
            char *b = sl_realloc(p->body, cap);
            if (b == NULL)
                return MHD_NO;
            p->body = b;
            p->cap = cap;
        }
        memcpy(p->body + p->len, upload_data, n);
        p->len += n;
        return MHD_YES;
    }

    sl_http_response resp = {0};
    if (p->too_large) {
        char msg[96];
        snprintf(msg, sizeof msg, "request body over %zu bytes\n", h->max_body);
        sl_http_text(&resp, 413, NULL, msg);
        return respond(conn, &resp, NULL);
    }
    const route *hit = NULL;
    char allow[128] = "";
    for (size_t i = 0; i < h->nroutes && hit == NULL; i++) {
        const route *r = &h->routes[i];
        if (!path_matches(r, url))
            continue;
        if (r->method == NULL || strcmp(r->method, method) == 0)
            hit = r;
        else if (strlen(allow) + strlen(r->method) + 3 < sizeof allow)
            snprintf(allow + strlen(allow), sizeof allow - strlen(allow), "%s%s",
                     allow[0] != '\0' ? ", " : "", r->method);
    }
    if (hit == NULL) {
        if (allow[0] != '\0') {
            sl_http_text(&resp, 405, NULL, "method not allowed\n");
            return respond(conn, &resp, allow);
        }
        sl_http_text(&resp, 404, NULL, "not found\n");
        return respond(conn, &resp, NULL);
    }
    sl_http_request req = {
        .method = method, .path = url, .body = p->body, .body_len = p->len, .conn = conn};
    hit->fn(hit->ctx, &req, &resp);
    return respond(conn, &resp, NULL);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **state,
                         enum MHD_RequestTerminationCode why)
{
    (void)cls;
    (void)conn;
    (void)why;
    pending *p = *state;
    if (p != NULL) {
        free(p->body);
        free(p);
        *state = NULL;
    }
}

static void on_mhd_error(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[256];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && msg[n - 1] == '\n')
        msg[--n] = '\0';
    SL_LOG(SL_LOG_WARN, "http", NULL, "%s", msg);
}

static void cert_free(http_cert *c)
{
    for (unsigned i = 0; i < c->n; i++)
        gnutls_pcert_deinit(&c->pcert[i]);
    if (c->key != NULL)
        gnutls_privkey_deinit(c->key);
    free(c);
}

/* The certificate of version v from the TLS files' PEM, for GnuTLS. */
static sl_status cert_make(sl_http *h, unsigned v, http_cert **out, sl_err *err)
{
    char *cert_pem = NULL, *key_pem = NULL;
    sl_status st = sl_tls_server_pem(h->tls, &cert_pem, &key_pem, err);
    if (st != SL_OK)
        return st;
    http_cert *c = sl_calloc(1, sizeof *c);
    if (c == NULL) {
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    } else {
        c->version = v;
        gnutls_datum_t cd = {(unsigned char *)cert_pem, (unsigned)strlen(cert_pem)};
        gnutls_datum_t kd = {(unsigned char *)key_pem, (unsigned)strlen(key_pem)};
        unsigned n = MAX_CHAIN;
        int rc = gnutls_pcert_list_import_x509_raw(c->pcert, &n, &cd, GNUTLS_X509_FMT_PEM, 0);
        if (rc >= 0) {
            c->n = n;
            rc = gnutls_privkey_init(&c->key);
        }
        if (rc >= 0)
            rc = gnutls_privkey_import_x509_raw(c->key, &kd, GNUTLS_X509_FMT_PEM, NULL, 0);
        if (rc < 0) {
            st = sl_err_set(err, SL_INVALID_ARGUMENT,
                            "the TLS certificate cannot serve HTTPS (GnuTLS: %s; at most %d "
                            "certificates in the chain)",
                            gnutls_strerror(rc), MAX_CHAIN);
            cert_free(c);
            c = NULL;
        }
    }
    free(cert_pem);
    free(key_pem);
    *out = c;
    return st;
}

/* The certificate to serve now, following the files. */
static http_cert *cert_current(sl_http *h)
{
    unsigned v = sl_tls_server_refresh(h->tls);
    pthread_mutex_lock(&h->cert_mu);
    if (h->cert == NULL || h->cert->version != v) {
        http_cert *c = NULL;
        sl_err err;
        if (cert_make(h, v, &c, &err) == SL_OK) {
            c->prev = h->cert;
            h->cert = c;
        } else {
            /* sl_tls checked the files as gRPC takes them: keep serving the
             * previous certificate. */
            SL_LOG(SL_LOG_WARN, "http", NULL, "%s", err.msg);
        }
    }
    http_cert *c = h->cert;
    pthread_mutex_unlock(&h->cert_mu);
    return c;
}

/* libmicrohttpd hands each connection's GnuTLS session the connection,
 * and the connection carries its server (on_connection). */
static int on_certificate(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int nreqs,
                          const gnutls_pk_algorithm_t *algos, int nalgos, gnutls_pcert_st **pcert,
                          unsigned *pcert_len, gnutls_privkey_t *key)
{
    (void)req_ca_dn;
    (void)nreqs;
    (void)algos;
    (void)nalgos;
    struct MHD_Connection *conn = gnutls_session_get_ptr(session);
    const union MHD_ConnectionInfo *ci =
        conn != NULL ? MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT) : NULL;
    sl_http *h = ci != NULL ? ci->socket_context : NULL;
    http_cert *c = h != NULL ? cert_current(h) : NULL;
    if (c == NULL)
        return -1;
    *pcert = c->pcert;
    *pcert_len = c->n;
    *key = c->key;
    return 0;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    (void)conn;
    if (code == MHD_CONNECTION_NOTIFY_STARTED)
        *socket_context = cls;
}

sl_status sl_http_start(sl_http *h, sl_err *err)
{
    /* The logger first, so that every message of the start goes to it. */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
    if (h->tls != NULL) {
        flags |= MHD_USE_TLS;
        /* The first certificate now: a file GnuTLS cannot take fails the
         * start, not the first handshake. */
        http_cert *c = NULL;
        sl_status st = cert_make(h, sl_tls_server_refresh(h->tls), &c, err);
        if (st != SL_OK)
            return st;
        h->cert = c;
    }
    /* Without TLS the certificate options are left out: the list ends at
     * MHD_OPTION_END before them. */
    h->d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error, h,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&h->addr, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)h->threads, MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, h, h->tls != NULL ? MHD_OPTION_NOTIFY_CONNECTION : MHD_OPTION_END,
        on_connection, h, MHD_OPTION_HTTPS_CERT_CALLBACK, on_certificate, MHD_OPTION_END);
    if (h->d == NULL)
        return sl_err_set(err, SL_UNAVAILABLE, "could not serve HTTP%s on %s (address in use?)",
                          h->tls != NULL ? "S" : "", h->listen);
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = di != NULL ? di->port : 0;
    return SL_OK;
}

int sl_http_port(const sl_http *h)
{
    return h->port;
}

void sl_http_destroy(sl_http *h)
{
    if (h == NULL)
        return;
    if (h->d != NULL)
        MHD_stop_daemon(h->d);
    for (size_t i = 0; i < h->nroutes; i++) {
        free(h->routes[i].path);
        free(h->routes[i].method);
    }
    while (h->cert != NULL) {
        http_cert *prev = h->cert->prev;
        cert_free(h->cert);
        h->cert = prev;
    }
    pthread_mutex_destroy(&h->cert_mu);
    free(h);
}
