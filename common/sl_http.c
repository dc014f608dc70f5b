/*
 * sl_http: see sl_http.h.
 *
 * libmicrohttpd calls the access handler several times per request: first
 * with the headers (a per-request state is made then), then once per
 * chunk of body, then once more with no data -- only that last call runs
 * the route's handler and queues the response.  A body over the limit is
 * answered 413 at once, without reading the rest into memory.
 *
 * Streams.  A streamed body is a queue of bytes between its writer (a
 * thread of the route's) and libmicrohttpd's content reader.  When the
 * queue is empty the reader suspends the connection, so no pool thread
 * spins or waits on it; the writer resumes it with the next bytes.  A
 * suspended connection is invisible to libmicrohttpd (no timeout, no
 * disconnect noticed), so sl_http_stream_gone looks at its socket itself
 * -- safe then, because libmicrohttpd does not touch a suspended
 * connection and only the stream's lock resumes it.  Two references keep
 * a stream: the writer's (sl_http_stream_end) and the response's
 * (libmicrohttpd's free callback, once the response is done with).
 */
#include "sl_http.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

#include "sl_arena.h"
#include "sl_log.h"

#define MAX_ROUTES 32
#define MAX_CHAIN 8
#define MAX_STATIC 4
#define MAX_STATIC_FILE (16u * 1024 * 1024)
#define DEFAULT_MAX_BODY (4u * 1024 * 1024 + 64 * 1024)
/* Bytes a stream's writer may have queued before it waits. */
#define STREAM_HIGH_WATER (256u * 1024)
#define STREAM_BLOCK 16384
/* How long sl_http_destroy lets open streams finish (their writers end
 * them with the shutdown's status) before cutting them off. */
#define STREAM_STOP_GRACE_MS 2000

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
    char *cors;             /* ",a,b," of sl_http_options.cors_origins; NULL: none */
    /* sl_http_static's folders: prefix and dir, malloc'd. */
    struct static_dir {
        char *prefix, *dir;
    } statics[MAX_STATIC];
    size_t nstatics;
    /* Open streams, for sl_http_destroy: each until libmicrohttpd lets go
     * of its response. */
    pthread_mutex_t smu;
    pthread_cond_t scv;
    sl_http_stream *streams;
};

struct sl_http_stream {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* the writer waits for room */
    sl_http *h;        /* NULL once unlinked */
    struct MHD_Connection *conn;
    int fd;
    char *buf; /* bytes [off, len) not yet given to libmicrohttpd */
    size_t off, len, cap;
    bool ended;     /* by the writer */
    bool gone;      /* the client, or the server */
    bool suspended; /* by the reader, for want of bytes */
    int refs;
    sl_http_stream *prev, *next;
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
    pthread_mutex_init(&h->smu, NULL);
    pthread_cond_init(&h->scv, NULL);
    pthread_mutex_init(&h->cert_mu, NULL);
    sl_status st = parse_listen(h, listen != NULL ? listen : "", err);
    if (st != SL_OK) {
        sl_http_destroy(h);
        return st;
    }
    h->threads = opts != NULL && opts->threads > 0 ? opts->threads : 2;
    h->max_body =
        opts != NULL && opts->max_body_bytes > 0 ? opts->max_body_bytes : DEFAULT_MAX_BODY;
    if (opts != NULL && opts->cors_origins != NULL && opts->cors_origins[0] != '\0') {
        size_t n = strlen(opts->cors_origins);
        h->cors = sl_malloc(n + 3);
        if (h->cors == NULL) {
            sl_http_destroy(h);
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        }
        snprintf(h->cors, n + 3, ",%s,", opts->cors_origins);
    }
    h->tls = opts != NULL ? opts->tls : NULL;
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

/* -------------------------------------------------------------- files -- */

static const struct {
    const char *ext, *type;
} content_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".map", "application/json"},
    {".json", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".txt", "text/plain; charset=utf-8"},
};

/* A path below a static folder that may be served: segments of [A-Za-z0-9._-], none
 * empty or starting with '.', and a known extension (its type into *type). */
static bool safe_relative(const char *rel, const char **type)
{
    size_t n = strlen(rel);
    if (n == 0 || n > 200)
        return false;
    for (const char *seg = rel; *seg != '\0';) {
        size_t len = strcspn(seg, "/");
        if (len == 0 || seg[0] == '.')
            return false;
        for (size_t i = 0; i < len; i++) {
            char c = seg[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-'))
                return false;
        }
        seg += len;
        if (*seg == '/')
            seg++;
        else
            break;
    }
    if (rel[n - 1] == '/')
        return false;
    const char *dot = strrchr(rel, '.');
    for (size_t i = 0; dot != NULL && i < sizeof content_types / sizeof content_types[0]; i++)
        if (strcmp(dot, content_types[i].ext) == 0) {
            *type = content_types[i].type;
            return true;
        }
    return false;
}

/* Reads dir/rel into resp: a regular file (no symbolic link) of at most
 * MAX_STATIC_FILE bytes; false when there is none such. */
static bool read_file(const char *dir, const char *rel, sl_http_response *resp)
{
    char path[1024];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, rel) >= sizeof path)
        return false;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return false;
    struct stat sb;
    bool ok = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size <= MAX_STATIC_FILE;
    char *body = ok ? sl_malloc((size_t)sb.st_size + 1) : NULL;
    size_t got = 0;
    ok = body != NULL;
    while (ok && got < (size_t)sb.st_size) {
        ssize_t r = read(fd, body + got, (size_t)sb.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            ok = false;
        else
            got += (size_t)r;
    }
    close(fd);
    if (!ok) {
        free(body);
        return false;
    }
    free(resp->body);
    resp->body = body;
    resp->body_len = got;
    return true;
}

static void static_handler(void *ctx, const sl_http_request *req, sl_http_response *resp)
{
    const struct static_dir *sd = ctx;
    const char *rel = req->path + strlen(sd->prefix);
    if (*rel == '\0')
        rel = "index.html";
    const char *type = NULL;
    if (!safe_relative(rel, &type) || !read_file(sd->dir, rel, resp)) {
        sl_http_text(resp, 404, NULL, "not found\n");
        return;
    }
    resp->status = 200;
    resp->content_type = type;
}

sl_status sl_http_static(sl_http *h, const char *prefix, const char *dir, sl_err *err)
{
    if (h->nstatics == MAX_STATIC)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "more than %d static folders", MAX_STATIC);
    if (prefix == NULL || prefix[0] != '/' || prefix[strlen(prefix) - 1] != '/' || dir == NULL ||
        dir[0] == '\0')
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "a static folder needs a prefix from / ending in / and a folder");
    struct static_dir *sd = &h->statics[h->nstatics];
    sd->prefix = sl_strdup(prefix);
    sd->dir = sl_strdup(dir);
    if (sd->prefix == NULL || sd->dir == NULL) {
        free(sd->prefix);
        free(sd->dir);
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    }
    sl_status st = sl_http_route(h, "GET", prefix, true, static_handler, sd, err);
    if (st != SL_OK) {
        free(sd->prefix);
        free(sd->dir);
        return st;
    }
    h->nstatics++;
    return SL_OK;
}

/* --------------------------------------------------------------- CORS -- */

/* The request's Origin when it is one of the allowed ones, else NULL. */
static const char *cors_origin(const sl_http *h, struct MHD_Connection *conn)
{
    if (h->cors == NULL)
        return NULL;
    const char *o = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
    if (o == NULL || o[0] == '\0' || strchr(o, ',') != NULL)
        return NULL;
    for (const char *p = h->cors; (p = strstr(p, o)) != NULL; p++)
        if (p[-1] == ',' && p[strlen(o)] == ',')
            return o;
    return NULL;
}

static void cors_headers(const sl_http *h, struct MHD_Connection *conn, struct MHD_Response *resp)
{
    const char *o = cors_origin(h, conn);
    if (o == NULL)
        return;
    MHD_add_response_header(resp, "Access-Control-Allow-Origin", o);
    MHD_add_response_header(resp, "Vary", "Origin");
}

/* A preflight from an allowed origin: 204 with what the Connect face
 * takes; NULL when it is none (then routed as any request). */
static enum MHD_Result preflight(sl_http *h, struct MHD_Connection *conn)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(0, (char *)"", MHD_RESPMEM_PERSISTENT);
    if (resp == NULL)
        return MHD_NO;
    cors_headers(h, conn, resp);
    MHD_add_response_header(resp, "Access-Control-Allow-Methods", "POST, GET");
    MHD_add_response_header(resp, "Access-Control-Allow-Headers",
                            "Content-Type, Authorization, Connect-Protocol-Version, "
                            "Connect-Timeout-Ms, X-Request-Id, traceparent, tracestate");
    MHD_add_response_header(resp, "Access-Control-Max-Age", "600");
    enum MHD_Result rc = MHD_queue_response(conn, 204, resp);
    MHD_destroy_response(resp);
    return rc;
}

/* ------------------------------------------------------------ streams -- */

static void stream_unref(sl_http_stream *st)
{
    pthread_mutex_lock(&st->mu);
    bool last = --st->refs == 0;
    pthread_mutex_unlock(&st->mu);
    if (!last)
        return;
    pthread_cond_destroy(&st->cv);
    pthread_mutex_destroy(&st->mu);
    free(st->buf);
    free(st);
}

/* Marks st gone (under its lock) and hands a suspended connection back to
 * libmicrohttpd, whose reader then ends the body in error. */
static void stream_cut_locked(sl_http_stream *st)
{
    st->gone = true;
    if (st->suspended && st->conn != NULL) {
        st->suspended = false;
        MHD_resume_connection(st->conn);
    }
    pthread_cond_broadcast(&st->cv);
}

sl_http_stream *sl_http_stream_open(const sl_http_request *req, sl_http_response *resp)
{
    sl_http_stream *st = sl_calloc(1, sizeof *st);
    if (st == NULL)
        return NULL;
    pthread_mutex_init(&st->mu, NULL);
    pthread_cond_init(&st->cv, NULL);
    st->conn = req->conn;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(st->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    st->fd = ci != NULL ? ci->connect_fd : -1;
    /* The writer's and the response's (taken back in respond() if no
     * response is made). */
    st->refs = 2;
    resp->stream = st;
    return st;
}

bool sl_http_stream_write(sl_http_stream *st, const void *data, size_t len)
{
    pthread_mutex_lock(&st->mu);
    while (!st->gone && st->len - st->off > STREAM_HIGH_WATER)
        pthread_cond_wait(&st->cv, &st->mu);
    bool ok = !st->gone;
    if (ok && st->off > 0) {
        memmove(st->buf, st->buf + st->off, st->len - st->off);
        st->len -= st->off;
        st->off = 0;
    }
    if (ok && st->len + len > st->cap) {
        size_t cap = st->cap > 0 ? st->cap : 4096;
        while (cap < st->len + len)
            cap *= 2;
        char *b = sl_realloc(st->buf, cap);
        if (b == NULL) {
            ok = false;
            stream_cut_locked(st);
        } else {
            st->buf = b;
            st->cap = cap;
        }
    }
    if (ok) {
        memcpy(st->buf + st->len, data, len);
        st->len += len;
        if (st->suspended) {
            st->suspended = false;
            MHD_resume_connection(st->conn);
        }
    }
    pthread_mutex_unlock(&st->mu);
    return ok;
}

bool sl_http_stream_gone(sl_http_stream *st)
{
    pthread_mutex_lock(&st->mu);
    if (!st->gone && st->suspended && st->fd >= 0) {
        /* A client that closed its side: end of file (or an error) on a
         * socket it sends nothing more on while its response streams. */
        struct pollfd p = {.fd = st->fd, .events = POLLIN | POLLRDHUP};
        if (poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0)
            stream_cut_locked(st);
    }
    bool gone = st->gone;
    pthread_mutex_unlock(&st->mu);
    return gone;
}

void sl_http_stream_end(sl_http_stream *st)
{
    pthread_mutex_lock(&st->mu);
    st->ended = true;
    if (st->suspended && !st->gone) {
        st->suspended = false;
        MHD_resume_connection(st->conn);
    }
    pthread_mutex_unlock(&st->mu);
    stream_unref(st);
}

/* libmicrohttpd's content reader: the queued bytes, the end, or -- for
 * want of bytes -- a suspended connection until the writer resumes it. */
static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
    (void)pos;
    sl_http_stream *st = cls;
    ssize_t n;
    pthread_mutex_lock(&st->mu);
    if (st->gone) {
        n = MHD_CONTENT_READER_END_WITH_ERROR;
    } else if (st->off < st->len) {
        size_t k = st->len - st->off < max ? st->len - st->off : max;
        memcpy(out, st->buf + st->off, k);
        st->off += k;
        if (st->off == st->len)
            st->off = st->len = 0;
        pthread_cond_broadcast(&st->cv);
        n = (ssize_t)k;
    } else if (st->ended) {
        n = MHD_CONTENT_READER_END_OF_STREAM;
    } else {
        st->suspended = true;
        MHD_suspend_connection(st->conn);
        n = 0;
    }
    pthread_mutex_unlock(&st->mu);
    return n;
}

/* libmicrohttpd is done with the response (sent, or the connection
 * closed): the stream is gone for its writer, and off the server's list. */
static void stream_release(void *cls)
{
    sl_http_stream *st = cls;
    pthread_mutex_lock(&st->mu);
    st->gone = true;
    st->suspended = false;
    st->conn = NULL;
    st->fd = -1;
    sl_http *h = st->h;
    st->h = NULL;
    pthread_cond_broadcast(&st->cv);
    pthread_mutex_unlock(&st->mu);
    if (h != NULL) {
        pthread_mutex_lock(&h->smu);
        if (st->prev != NULL)
            st->prev->next = st->next;
        else
            h->streams = st->next;
        if (st->next != NULL)
            st->next->prev = st->prev;
        pthread_cond_broadcast(&h->scv);
        pthread_mutex_unlock(&h->smu);
    }
    stream_unref(st);
}

/* The response of a streamed body: chunked, on the server's list until
 * released.  The connection's idle timeout stays: it does not run while
 * the connection is suspended, and restarts when bytes go out. */
static enum MHD_Result respond_stream(sl_http *h, struct MHD_Connection *conn, sl_http_response *r)
{
    sl_http_stream *st = r->stream;
    free(r->body);
    r->body = NULL;
    struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK,
                                                                  stream_read, st, stream_release);
    if (resp == NULL) {
        pthread_mutex_lock(&st->mu);
        st->gone = true;
        pthread_cond_broadcast(&st->cv);
        pthread_mutex_unlock(&st->mu);
        stream_unref(st);
        return MHD_NO;
    }
    pthread_mutex_lock(&h->smu);
    st->h = h;
    st->next = h->streams;
    if (h->streams != NULL)
        h->streams->prev = st;
    h->streams = st;
    pthread_mutex_unlock(&h->smu);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            r->content_type != NULL ? r->content_type : text_plain);
    cors_headers(h, conn, resp);
    enum MHD_Result rc =
        MHD_queue_response(conn, (unsigned)(r->status > 0 ? r->status : 200), resp);
    MHD_destroy_response(resp);
    return rc;
}

/* Lets open streams end (their writers see the shutdown) for up to
 * STREAM_STOP_GRACE_MS, then cuts off the rest: a suspended connection
 * must be resumed before libmicrohttpd stops. */
static void streams_stop(sl_http *h)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += STREAM_STOP_GRACE_MS / 1000;
    pthread_mutex_lock(&h->smu);
    while (h->streams != NULL && pthread_cond_timedwait(&h->scv, &h->smu, &until) != ETIMEDOUT)
        ;
    for (sl_http_stream *st = h->streams; st != NULL; st = st->next) {
        pthread_mutex_lock(&st->mu);
        stream_cut_locked(st);
        pthread_mutex_unlock(&st->mu);
    }
    pthread_mutex_unlock(&h->smu);
}

/* ----------------------------------------------------------- requests -- */

static enum MHD_Result respond(sl_http *h, struct MHD_Connection *conn, sl_http_response *r,
                               const char *allow)
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
    cors_headers(h, conn, resp);
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
        return respond(h, conn, &resp, NULL);
    }
    if (strcmp(method, "OPTIONS") == 0 &&
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Access-Control-Request-Method") !=
            NULL &&
        cors_origin(h, conn) != NULL)
        return preflight(h, conn);
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
            return respond(h, conn, &resp, allow);
        }
        sl_http_text(&resp, 404, NULL, "not found\n");
        return respond(h, conn, &resp, NULL);
    }
    sl_http_request req = {
        .method = method, .path = url, .body = p->body, .body_len = p->len, .conn = conn};
    hit->fn(hit->ctx, &req, &resp);
    if (resp.stream != NULL)
        return respond_stream(h, conn, &resp);
    return respond(h, conn, &resp, NULL);
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
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
                     MHD_ALLOW_SUSPEND_RESUME;
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
    if (h->d != NULL) {
        streams_stop(h);
        MHD_stop_daemon(h->d);
    }
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
    for (size_t i = 0; i < h->nstatics; i++) {
        free(h->statics[i].prefix);
        free(h->statics[i].dir);
    }
    free(h->cors);
    pthread_cond_destroy(&h->scv);
    pthread_mutex_destroy(&h->smu);
    free(h);
}
