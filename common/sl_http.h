/*
 * sl_http: each service's one HTTP/1.1 face (SHELFLINE_HTTP_LISTEN), on
 * libmicrohttpd.  Whoever needs a path registers a route before the
 * server starts: /metrics (sl_metrics), and the JSON API and console that
 * will share the port.
 *
 *   sl_http *h;
 *   sl_http_create("127.0.0.1:8051", NULL, &h, &err);
 *   sl_http_route(h, "GET", "/metrics", false, metrics_handler, NULL, &err);
 *   sl_http_start(h, &err);
 *   ...
 *   sl_http_destroy(h);
 *
 * Requests run on libmicrohttpd's own threads (a small pool), never on the
 * gRPC workers.  A handler gets the whole request body (bounded by
 * max_body_bytes: larger bodies get 413 before the handler runs) and fills
 * in a response.  A path with no route answers 404; a route's path with
 * another method answers 405 with Allow.
 *
 * A response may also be a stream (sl_http_stream_open): the handler
 * returns at once and another thread writes the body as it comes, sent
 * chunked; meanwhile the connection waits off libmicrohttpd's threads
 * (suspended), so a long stream holds no thread of the pool.
 */
#ifndef SL_HTTP_H
#define SL_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "sl_status.h"
#include "sl_tls.h"

typedef struct sl_http sl_http;
typedef struct sl_http_stream sl_http_stream;

typedef struct sl_http_request {
    const char *method; /* "GET", "POST", ... */
    const char *path;   /* without the query string */
    const char *body;   /* NULL when empty; not NUL-terminated */
    size_t body_len;
    void *conn; /* libmicrohttpd's connection, for sl_http_header */
} sl_http_request;

typedef struct sl_http_response {
    int status;               /* 200 when left 0 */
    const char *content_type; /* a static string; "text/plain; charset=utf-8" when NULL */
    char *body;               /* malloc'd; sl_http frees it */
    size_t body_len;
    /* Set by sl_http_stream_open: the body is that stream's, not body. */
    sl_http_stream *stream;
} sl_http_response;

typedef void (*sl_http_handler)(void *ctx, const sl_http_request *req, sl_http_response *resp);

typedef struct sl_http_options {
    int threads;           /* 0: 2 */
    size_t max_body_bytes; /* 0: 4 MiB + 64 KiB, as gRPC messages */
    /* HTTPS (libmicrohttpd over GnuTLS) with the certificate and key of
     * this server's TLS files (the gRPC port's: sl_tls_server), followed
     * before every handshake: a rotated certificate is served from the
     * next connection on, without a restart, while open connections keep
     * theirs.  Not owned: it must outlive the sl_http.  NULL: plain HTTP. */
    sl_tls_server *tls;
    /* Browser pages of these origins ("http://127.0.0.1:8054", comma
     * separated, copied; NULL: none) may call this port: their requests
     * get Access-Control-Allow-Origin, and their preflights (OPTIONS with
     * Access-Control-Request-Method) 204 allowing POST and the headers
     * the Connect face reads.  Other origins get no CORS header, so the
     * browser keeps their pages out. */
    const char *cors_origins;
} sl_http_options;

/* A server for listen ("host:port", "[v6]:port"; port 0 picks one), not
 * yet listening.  INVALID_ARGUMENT names a bad address. */
sl_status sl_http_create(const char *listen, const sl_http_options *opts, sl_http **out,
                         sl_err *err);

/* Adds a route: method NULL matches any; with prefix, path matches every
 * path that starts with it.  Before sl_http_start. */
sl_status sl_http_route(sl_http *h, const char *method, const char *path, bool prefix,
                        sl_http_handler fn, void *ctx, sl_err *err);

/* Binds and serves.  UNAVAILABLE when the address cannot be bound. */
sl_status sl_http_start(sl_http *h, sl_err *err);

/* The bound port (after sl_http_start). */
int sl_http_port(const sl_http *h);

/* A request header's value, or NULL. */
const char *sl_http_header(const sl_http_request *req, const char *name);

/* The client's address as gRPC names peers ("ipv4:127.0.0.1:40412",
 * "ipv6:[::1]:40412"), into buf[cap]; "unknown" when it cannot be told.
 * Returns buf. */
const char *sl_http_peer(const sl_http_request *req, char *buf, size_t cap);

/* Sets resp to a text body (copied) with status. */
void sl_http_text(sl_http_response *resp, int status, const char *content_type, const char *text);

/* Serves the files under dir (copied) for GET paths under prefix: prefix
 * itself is dir/index.html; a path is served only when every segment is
 * made of letters, digits, '.', '_' and '-' and none starts with '.'
 * (nothing above dir, no hidden file), and only a regular file that is
 * no symbolic link, with the content type of its extension (html, js,
 * css, map, json, svg, png, ico, txt; others are refused).  Anything else
 * answers 404.  Files are read at each request, so a rebuilt dir is
 * served at once.  Before sl_http_start. */
sl_status sl_http_static(sl_http *h, const char *prefix, const char *dir, sl_err *err);

/* In a handler: makes resp's body a stream, written later by another
 * thread (sl_http_stream_write) and ended by it (sl_http_stream_end);
 * resp's status and content type go out with the headers.  Waiting for
 * the writer does not count as idle (the connection timeout, 30 s).  The
 * caller owns the writer's reference, which
 * sl_http_stream_end gives back.  NULL when out of memory (resp is then
 * left as it was). */
sl_http_stream *sl_http_stream_open(const sl_http_request *req, sl_http_response *resp);

/* Appends len bytes (copied) to the body.  Blocks while more than a
 * quarter MiB written is not yet sent (the client reads slowly), until it
 * is, or the client is gone.  False when the client is gone (or the
 * server stopping): nothing more will be sent. */
bool sl_http_stream_write(sl_http_stream *st, const void *data, size_t len);

/* True once the client has gone (closed its connection) or the server is
 * stopping: the writer should end the stream.  Looks at the socket when
 * nothing is being sent, since libmicrohttpd does not notice a
 * disconnect then. */
bool sl_http_stream_gone(sl_http_stream *st);

/* Ends the body after what was written, and gives back the writer's
 * reference: st is not used after. */
void sl_http_stream_end(sl_http_stream *st);

/* Stops serving (waits for running handlers) and frees.  Open streams are
 * cut off (their writers see them gone; each writer still ends its own). */
void sl_http_destroy(sl_http *h);

#endif
