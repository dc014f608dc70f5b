/*
 * sd_ticket_store: tickets, their events, and the two order lookups
 * OpenTicket makes (see sd_store.h).  The statements are in sd_store.c's
 * table.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sd_store.h"
#include "sl_server.h"
#include "sl_db_row.h"

#include "sl_arena.h"

struct sd_ticket_rows {
    PGresult *res;
};

/* Parses "PAUSE:123,RESUME:456" into events (arena memory); false on
 * anything else. */
static bool parse_events(sl_arena *a, const char *s, sd_sla_event **out, size_t *n)
{
    size_t cap = 1;
    for (const char *p = s; *p; p++)
        cap += *p == ',';
    sd_sla_event *ev = sl_arena_alloc(a, cap * sizeof *ev);
    *out = ev;
    *n = 0;
    if (ev == NULL)
        return false;
    for (const char *p = s; *p != '\0' && *n < cap;) {
        const char *colon = strchr(p, ':');
        if (colon == NULL)
            return false;
        ev[*n].kind = strncmp(p, "PAUSE", 5) == 0 ? SD_SLA_PAUSE : SD_SLA_RESUME;
        char *end;
        ev[*n].at_ms = strtoll(colon + 1, &end, 10);
        (*n)++;
        p = *end == ',' ? end + 1 : end;
    }
    return true;
}

/* The space-separated mentions as a string array (arena memory). */
static bool split_mentions(sl_arena *a, const char *mentions, Shelfline__V1__Ticket *t)
{
    if (mentions[0] == '\0')
        return true;
    size_t k = 1;
    for (const char *p = mentions; *p; p++)
        k += *p == ' ';
    t->mentions = sl_arena_zalloc(a, (k + 1) * sizeof *t->mentions);
    char *copy = sl_arena_strdup(a, mentions);
    if (t->mentions == NULL || copy == NULL)
        return false;
    for (char *p = copy; p != NULL && *p;) {
        t->mentions[t->n_mentions++] = p;
        p = strchr(p, ' ');
        if (p != NULL)
            *p++ = '\0';
    }
    return true;
}

static Shelfline__V1__TicketStatus status_of(const char *status)
{
    return strcmp(status, "OPEN") == 0 ? SHELFLINE__V1__TICKET_STATUS__TICKET_OPEN
           : strcmp(status, "WAITING") == 0
               ? SHELFLINE__V1__TICKET_STATUS__TICKET_WAITING_ON_CUSTOMER
               : SHELFLINE__V1__TICKET_STATUS__TICKET_RESOLVED;
}

static sl_status ticket_from(const PGresult *res, int i, sl_arena *a, sd_ticket_rec *out,
                             sl_err *err)
{
    sl_db_reader rd;
    sl_db_reader_init(&rd, res, a);
    Shelfline__V1__Ticket *t = sl_arena_alloc(a, sizeof *t);
    if (t == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    shelfline__v1__ticket__init(t);
    t->ticket_id = (char *)sl_db_text(&rd, i, "ticket_id");
    t->customer_id = (char *)sl_db_text(&rd, i, "customer_id");
    t->order_id = (char *)sl_db_text(&rd, i, "order_id");
    t->channel = (Shelfline__V1__TicketChannel)sl_db_int64(&rd, i, "channel");
    t->subject = (char *)sl_db_text(&rd, i, "subject");
    t->body = (char *)sl_db_text(&rd, i, "body");
    t->language = (char *)sl_db_text(&rd, i, "language");
    t->category = (char *)sl_db_text(&rd, i, "category");
    t->category_confidence = sl_db_double(&rd, i, "confidence");
    t->priority = (char *)sl_db_text(&rd, i, "priority");
    t->tier = (char *)sl_db_text(&rd, i, "tier");
    t->status = status_of(sl_db_text(&rd, i, "status"));
    t->opened_at_ms = sl_db_int64(&rd, i, "opened_at_ms");
    t->suggested_answer = (char *)sl_db_text(&rd, i, "suggested");
    out->msg = t;
    out->fingerprint = sl_db_text(&rd, i, "fingerprint");
    out->first_response_ms = sl_db_int64_or(&rd, i, "first_response_ms", 0);
    out->resolved_ms = sl_db_int64_or(&rd, i, "resolved_ms", 0);
    t->sla_policy_version = sl_db_int64(&rd, i, "sla_version");
    const char *mentions = sl_db_text(&rd, i, "mentions");
    const char *events = sl_db_text(&rd, i, "sla_events");
    sl_status st = sl_db_reader_status(&rd, err);
    if (st != SL_OK)
        return st;
    if (!split_mentions(a, mentions, t))
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    if (!parse_events(a, events, &out->events, &out->n_events))
        return out->events == NULL
                   ? sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory")
                   : sl_err_set(err, SL_INTERNAL, "ticket \"%s\": malformed events \"%.80s\"",
                                t->ticket_id, events);
    return SL_OK;
}

/* ---- reads ---- */

typedef struct read_ctx {
    const char *stmt;
    int n;
    const char *const *p;
    PGresult *res; /* out */
} read_ctx;

static sl_status read_tx(sl_db_conn *conn, void *vctx, sl_err *err)
{
    read_ctx *c = vctx;
    PQclear(c->res); /* an earlier attempt's */
    c->res = NULL;
    return sl_db_exec(conn, c->stmt, c->n, c->p, NULL, NULL, &c->res, err);
}

/* Runs one read-only statement in its own transaction; *res is the
 * caller's. */
static sl_status read_one(sl_db *db, int64_t deadline_ms, const char *stmt, int n,
                          const char *const *p, PGresult **res, sl_err *err)
{
    read_ctx c = {stmt, n, p, NULL};
    sl_db_tx_options o = sd_store_tx_options(deadline_ms, true);
    sl_status st = sl_db_tx(db, &o, read_tx, &c, err);
    if (st != SL_OK) {
        PQclear(c.res);
        return st;
    }
    *res = c.res;
    return SL_OK;
}

sl_status sd_store_ticket_read(sl_db *db, int64_t deadline_ms, const char *ticket_id, sl_arena *a,
                               sd_ticket_rec *out, sl_err *err)
{
    const char *p[1] = {ticket_id};
    PGresult *res;
    sl_status st = read_one(db, deadline_ms, "sd_ticket_get", 1, p, &res, err);
    if (st != SL_OK)
        return st;
    if (PQntuples(res) == 0)
        st = sl_err_reason(err, SL_NOT_FOUND, "TICKET_NOT_FOUND", "ticket_id \"%s\" not found",
                           ticket_id);
    else
        st = ticket_from(res, 0, a, out, err);
    PQclear(res);
    return st;
}

sl_status sd_store_ticket_messages(sl_db *db, int64_t deadline_ms, const char *ticket_id,
                                   sl_arena *a, Shelfline__V1__TicketMessage ***out, size_t *n,
                                   sl_err *err)
{
    const char *p[1] = {ticket_id};
    PGresult *res;
    sl_status st = read_one(db, deadline_ms, "sd_ticket_messages", 1, p, &res, err);
    if (st != SL_OK)
        return st;
    sl_db_reader rd;
    sl_db_reader_init(&rd, res, a);
    int k = sl_db_reader_rows(&rd);
    Shelfline__V1__TicketMessage **m = sl_arena_zalloc(a, ((size_t)k + 1) * sizeof *m);
    for (int i = 0; m != NULL && i < k; i++) {
        if ((m[i] = sl_arena_alloc(a, sizeof *m[i])) == NULL) {
            m = NULL;
            break;
        }
        shelfline__v1__ticket_message__init(m[i]);
        m[i]->author = strcmp(sl_db_text(&rd, i, "kind"), "CUSTOMER") == 0
                           ? SHELFLINE__V1__TICKET_MESSAGE__AUTHOR__CUSTOMER
                           : SHELFLINE__V1__TICKET_MESSAGE__AUTHOR__AGENT;
        m[i]->at_ms = sl_db_int64(&rd, i, "at_ms");
        m[i]->body = (char *)sl_db_text(&rd, i, "body");
    }
    st = m == NULL ? sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory")
                   : sl_db_reader_status(&rd, err);
    PQclear(res);
    if (st == SL_OK) {
        *out = m;
        *n = (size_t)k;
    }
    return st;
}

static sl_status rows_of(PGresult *res, sd_ticket_rows **out, sl_err *err)
{
    sd_ticket_rows *r = sl_malloc(sizeof *r);
    if (r == NULL) {
        PQclear(res);
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    }
    r->res = res;
    *out = r;
    return SL_OK;
}

/* "{a,b,c,d}": a bigint[] parameter of SD_PRIORITY_COUNT values. */
static const char *int64_array(char *buf, size_t cap, const int64_t *v)
{
    size_t k = 0;
    for (int i = 0; i < SD_PRIORITY_COUNT && k < cap; i++)
        k += (size_t)snprintf(buf + k, cap - k, "%c%" PRId64, i == 0 ? '{' : ',', v[i]);
    if (k < cap)
        snprintf(buf + k, cap - k, "}");
    return buf;
}

sl_status sd_store_tickets_list(sl_db *db, int64_t deadline_ms, const sd_ticket_query *q,
                                sd_ticket_rows **out, sl_err *err)
{
    char after[SL_DB_INT64_TEXT], limit[SL_DB_INT64_TEXT];
    char fr[SD_PRIORITY_COUNT * SL_DB_INT64_TEXT + 4], rs[SD_PRIORITY_COUNT * SL_DB_INT64_TEXT + 4];
    const char *p[10] = {q->status,
                         q->category,
                         q->priority,
                         q->customer,
                         sl_db_param_int64(after, q->after_ms),
                         q->after_id,
                         q->breaching ? "true" : "false",
                         int64_array(fr, sizeof fr, q->fr_cutoff_ms),
                         int64_array(rs, sizeof rs, q->rs_cutoff_ms),
                         sl_db_param_int64(limit, q->limit)};
    PGresult *res;
    sl_status st = read_one(db, deadline_ms, "sd_ticket_list", 10, p, &res, err);
    return st != SL_OK ? st : rows_of(res, out, err);
}

sl_status sd_store_tickets_period(sl_db *db, int64_t deadline_ms, int64_t from_ms, int64_t to_ms,
                                  sd_ticket_rows **out, sl_err *err)
{
    char b[2][SL_DB_INT64_TEXT];
    const char *p[2] = {sl_db_param_int64(b[0], from_ms), sl_db_param_int64(b[1], to_ms)};
    PGresult *res;
    sl_status st = read_one(db, deadline_ms, "sd_ticket_period", 2, p, &res, err);
    return st != SL_OK ? st : rows_of(res, out, err);
}

int sd_ticket_rows_count(const sd_ticket_rows *rows)
{
    return PQntuples(rows->res);
}

sl_status sd_ticket_rows_get(const sd_ticket_rows *rows, int i, sl_arena *a, sd_ticket_rec *out,
                             sl_err *err)
{
    return ticket_from(rows->res, i, a, out, err);
}

void sd_ticket_rows_free(sd_ticket_rows *rows)
{
    if (rows == NULL)
        return;
    PQclear(rows->res);
    free(rows);
}

sl_status sd_store_order_exists(sl_db *db, int64_t deadline_ms, const char *order_id, bool *found,
                                sl_err *err)
{
    const char *p[1] = {order_id};
    PGresult *res;
    sl_status st = read_one(db, deadline_ms, "sd_order_exists", 1, p, &res, err);
    if (st != SL_OK)
        return st;
    *found = PQntuples(res) == 1;
    PQclear(res);
    return SL_OK;
}

/* The region of the first row of res into buf ("" when there is none). */
static sl_status region_from(PGresult *res, char *buf, size_t cap, sl_err *err)
{
    buf[0] = '\0';
    if (PQntuples(res) == 0)
        return SL_OK;
    sl_db_reader rd;
    sl_db_reader_init(&rd, res, NULL);
    snprintf(buf, cap, "%s", sl_db_text(&rd, 0, "region"));
    return sl_db_reader_status(&rd, err);
}

sl_status sd_store_customer_region(sl_db *db, int64_t deadline_ms, const char *customer_id,
                                   char *buf, size_t cap, sl_err *err)
{
    const char *p[1] = {customer_id};
    PGresult *res;
    buf[0] = '\0';
    sl_status st = read_one(db, deadline_ms, "sd_customer_region", 1, p, &res, err);
    if (st != SL_OK)
        return st;
    st = region_from(res, buf, cap, err);
    PQclear(res);
    return st;
}

/* ---- writes (inside the caller's transaction) ---- */

sl_status sd_store_ticket_insert(sl_db_conn *conn, const sd_new_ticket *t, bool *inserted,
                                 char region[SD_REGION_MAX], sl_err *err)
{
    char b[3][32];
    sl_audit who = sl_call_audit_current(); /* who opens it */
    snprintf(b[0], sizeof b[0], "%d", t->channel);
    snprintf(b[1], sizeof b[1], "%.4f", t->confidence);
    const char *p[18] = {t->ticket_id,
                         t->fingerprint,
                         t->customer_id,
                         t->order_id,
                         b[0],
                         t->subject,
                         t->body,
                         t->language,
                         t->category,
                         b[1],
                         t->priority,
                         t->tier,
                         sl_db_param_int64(b[2], t->opened_at_ms),
                         t->suggested,
                         t->mentions,
                         who.actor,
                         who.request_id,
                         who.trace_id};
    PGresult *res = NULL;
    sl_status st = sl_db_exec(conn, "sd_ticket_insert", 18, p, NULL, NULL, &res, err);
    *inserted = st == SL_OK && PQntuples(res) == 1;
    PQclear(res);
    if (region != NULL)
        region[0] = '\0';
    if (st != SL_OK || !*inserted || region == NULL)
        return st;
    const char *q[1] = {t->customer_id};
    if ((st = sl_db_exec(conn, "sd_customer_region", 1, q, NULL, NULL, &res, err)) != SL_OK)
        return st;
    st = region_from(res, region, SD_REGION_MAX, err);
    PQclear(res);
    return st;
}

sl_status sd_store_ticket_lock(sl_db_conn *conn, const char *ticket_id, char status[16],
                               bool *responded, sl_err *err)
{
    const char *p[1] = {ticket_id};
    PGresult *res = NULL;
    sl_status st = sl_db_exec(conn, "sd_ticket_lock", 1, p, NULL, NULL, &res, err);
    if (st != SL_OK)
        return st;
    if (PQntuples(res) == 0) {
        st = sl_err_reason(err, SL_NOT_FOUND, "TICKET_NOT_FOUND", "ticket_id \"%s\" not found",
                           ticket_id);
    } else {
        sl_db_reader rd;
        sl_db_reader_init(&rd, res, NULL);
        snprintf(status, 16, "%s", sl_db_text(&rd, 0, "status"));
        *responded = sl_db_bool(&rd, 0, "responded");
        st = sl_db_reader_status(&rd, err);
    }
    PQclear(res);
    return st;
}

sl_status sd_store_ticket_event(sl_db_conn *conn, const char *ticket_id, const char *kind,
                                int64_t at_ms, const char *body, sl_err *err)
{
    char b[SL_DB_INT64_TEXT];
    sl_audit who = sl_call_audit_current();
    const char *p[7] = {ticket_id,      kind,        sl_db_param_int64(b, at_ms), body, who.actor,
                        who.request_id, who.trace_id};
    return sl_db_exec(conn, "sd_ticket_event", 7, p, NULL, NULL, NULL, err);
}

sl_status sd_store_ticket_set(sl_db_conn *conn, const char *ticket_id, const char *status,
                              bool first_response, int64_t at_ms, sl_err *err)
{
    char b[SL_DB_INT64_TEXT];
    const char *p[4] = {ticket_id, status, sl_db_param_bool(first_response),
                        sl_db_param_int64(b, at_ms)};
    return sl_db_exec(conn, "sd_ticket_set", 4, p, NULL, NULL, NULL, err);
}

sl_status sd_store_ticket_resolve(sl_db_conn *conn, const char *ticket_id, int64_t at_ms,
                                  const char *resolution, sl_err *err)
{
    char b[SL_DB_INT64_TEXT];
    sl_audit who = sl_call_audit_current();
    const char *p[6] = {ticket_id,      sl_db_param_int64(b, at_ms),
                        resolution,     who.actor,
                        who.request_id, who.trace_id};
    return sl_db_exec(conn, "sd_ticket_resolve", 6, p, NULL, NULL, NULL, err);
}
