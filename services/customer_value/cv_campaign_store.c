/*
 * cv_campaign_store: the statements of campaigns and their recipients
 * (migration 0003; see cv_store.h).  Recipients are read in byte order of
 * the customer id (COLLATE "C"), the order page tokens compare in.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cv_store.h"
#include "sl_db_row.h"

#define MS(col) "coalesce((extract(epoch FROM " col ") * 1000)::bigint, 0)"

const sl_db_stmt cv_campaign_statements[] = {
    {"cv_campaign_get",
     "SELECT c.campaign_id, c.kind, c.region, c.promotion_id, c.state, c.starts_at_ms, "
     "c.ends_at_ms, "
     "c.audience_size, c.request, " MS("c.created_at") " AS created_ms, " MS(
         "c.sent_at") " AS sent_ms, "
                      "(SELECT count(*) FROM campaign_recipient r WHERE r.campaign_id = "
                      "c.campaign_id AND r.state = 'SENT') AS sent, "
                      "(SELECT count(*) FROM campaign_recipient r WHERE r.campaign_id = "
                      "c.campaign_id AND r.state = 'SKIPPED') AS skipped "
                      "FROM campaign c WHERE c.campaign_id = $1",
     1},
    {"cv_campaign_insert",
     "INSERT INTO campaign (campaign_id, kind, region, starts_at_ms, ends_at_ms, audience_size, "
     "request, promotion_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
     "ON CONFLICT (campaign_id) DO NOTHING RETURNING 1",
     8},
    {"cv_recipient_insert",
     "INSERT INTO campaign_recipient (campaign_id, customer_id, region, recipient) "
     "VALUES ($1, $2, $3, $4)",
     4},
    {"cv_recipients",
     "SELECT customer_id, region, recipient, state, sent_picks FROM campaign_recipient "
     "WHERE campaign_id = $1 AND customer_id COLLATE \"C\" > $2 "
     "AND (NOT $3::boolean OR state = 'PENDING') "
     "ORDER BY customer_id COLLATE \"C\" LIMIT $4",
     4},
    {"cv_recipient_mark",
     "UPDATE campaign_recipient SET state = $3, sent_picks = $4, sent_at = now() "
     "WHERE campaign_id = $1 AND customer_id = $2 AND state = 'PENDING' RETURNING 1",
     4},
    {"cv_recipients_skip_pending",
     "WITH s AS (UPDATE campaign_recipient SET state = 'SKIPPED', sent_at = now() "
     "WHERE campaign_id = $1 AND state = 'PENDING' RETURNING 1) SELECT count(*) AS n FROM s",
     1},
    {"cv_campaign_finish",
     "UPDATE campaign SET state = 'SENT', sent_at = now() WHERE campaign_id = $1 "
     "AND state = 'BUILT' AND NOT EXISTS (SELECT 1 FROM campaign_recipient "
     "WHERE campaign_id = $1 AND state = 'PENDING')",
     1},
    {NULL, NULL, 0},
};

static sl_status oom(sl_err *err)
{
    return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
}

sl_status cv_store_campaign_get(sl_db_conn *c, sl_arena *a, const char *campaign_id,
                                cv_campaign_row **out, sl_err *err)
{
    const char *v[1] = {campaign_id};
    PGresult *r = NULL;
    *out = NULL;
    sl_status st = sl_db_exec(c, "cv_campaign_get", 1, v, NULL, NULL, &r, err);
    if (st != SL_OK || PQntuples(r) != 1)
        goto done;
    cv_campaign_row *o = sl_arena_zalloc(a, sizeof *o);
    if (o == NULL) {
        st = oom(err);
        goto done;
    }
    sl_db_reader rd;
    sl_db_reader_init(&rd, r, a);
    o->campaign_id = sl_db_text(&rd, 0, "campaign_id");
    o->kind = sl_db_text(&rd, 0, "kind");
    o->region = sl_db_text(&rd, 0, "region");
    o->promotion_id = sl_db_text(&rd, 0, "promotion_id");
    o->state = sl_db_text(&rd, 0, "state");
    o->starts_at_ms = sl_db_int64(&rd, 0, "starts_at_ms");
    o->ends_at_ms = sl_db_int64(&rd, 0, "ends_at_ms");
    o->audience_size = (int32_t)sl_db_int64(&rd, 0, "audience_size");
    o->created_ms = sl_db_int64(&rd, 0, "created_ms");
    o->sent_ms = sl_db_int64(&rd, 0, "sent_ms");
    o->sent = (int32_t)sl_db_int64(&rd, 0, "sent");
    o->skipped = (int32_t)sl_db_int64(&rd, 0, "skipped");
    o->request = sl_db_bytes(&rd, 0, "request", &o->request_len);
    if ((st = sl_db_reader_status(&rd, err)) == SL_OK)
        *out = o;
done:
    PQclear(r);
    return st;
}

sl_status cv_store_campaign_insert(sl_db_conn *c, const cv_campaign_row *row, bool *inserted,
                                   sl_err *err)
{
    char s[24], e[24], n[24];
    snprintf(s, sizeof s, "%" PRId64, row->starts_at_ms);
    snprintf(e, sizeof e, "%" PRId64, row->ends_at_ms);
    snprintf(n, sizeof n, "%" PRId32, row->audience_size);
    const char *v[8] = {row->campaign_id,           row->kind,        row->region, s, e, n,
                        (const char *)row->request, row->promotion_id};
    int len[8] = {0, 0, 0, 0, 0, 0, (int)row->request_len, 0};
    int fmt[8] = {0, 0, 0, 0, 0, 0, 1, 0};
    PGresult *r = NULL;
    sl_status st = sl_db_exec(c, "cv_campaign_insert", 8, v, len, fmt, &r, err);
    *inserted = st == SL_OK && PQntuples(r) == 1;
    PQclear(r);
    return st;
}

sl_status cv_store_recipient_insert(sl_db_conn *c, const char *campaign_id,
                                    const cv_recipient_row *row, sl_err *err)
{
    const char *v[4] = {campaign_id, row->customer_id, row->region, (const char *)row->recipient};
    int len[4] = {0, 0, 0, (int)row->recipient_len};
    int fmt[4] = {0, 0, 0, 1};
    return sl_db_exec(c, "cv_recipient_insert", 4, v, len, fmt, NULL, err);
}

sl_status cv_store_recipients(sl_db_conn *c, sl_arena *a, const char *campaign_id,
                              const char *after, bool pending_only, int limit,
                              cv_recipient_row **out, size_t *n, sl_err *err)
{
    char l[24];
    snprintf(l, sizeof l, "%d", limit);
    const char *v[4] = {campaign_id, after, pending_only ? "true" : "false", l};
    PGresult *r = NULL;
    *out = NULL;
    *n = 0;
    sl_status st = sl_db_exec(c, "cv_recipients", 4, v, NULL, NULL, &r, err);
    if (st != SL_OK)
        goto done;
    int rows = PQntuples(r);
    cv_recipient_row *o = sl_arena_zalloc(a, (size_t)(rows > 0 ? rows : 1) * sizeof *o);
    if (o == NULL) {
        st = oom(err);
        goto done;
    }
    sl_db_reader rd;
    sl_db_reader_init(&rd, r, a);
    for (int i = 0; i < rows; i++) {
        o[i].customer_id = sl_db_text(&rd, i, "customer_id");
        o[i].region = sl_db_text(&rd, i, "region");
        o[i].state = sl_db_text(&rd, i, "state");
        o[i].sent_picks = (int32_t)sl_db_int64(&rd, i, "sent_picks");
        o[i].recipient = sl_db_bytes(&rd, i, "recipient", &o[i].recipient_len);
    }
    if ((st = sl_db_reader_status(&rd, err)) == SL_OK) {
        *out = o;
        *n = (size_t)rows;
    }
done:
    PQclear(r);
    return st;
}

sl_status cv_store_recipient_mark(sl_db_conn *c, const char *campaign_id, const char *customer_id,
                                  const char *state, int32_t sent_picks, bool *marked, sl_err *err)
{
    char p[24];
    snprintf(p, sizeof p, "%" PRId32, sent_picks);
    const char *v[4] = {campaign_id, customer_id, state, p};
    PGresult *r = NULL;
    sl_status st = sl_db_exec(c, "cv_recipient_mark", 4, v, NULL, NULL, &r, err);
    *marked = st == SL_OK && PQntuples(r) == 1;
    PQclear(r);
    return st;
}

sl_status cv_store_campaign_finish(sl_db_conn *c, const char *campaign_id, sl_err *err)
{
    const char *v[1] = {campaign_id};
    return sl_db_exec(c, "cv_campaign_finish", 1, v, NULL, NULL, NULL, err);
}

sl_status cv_store_recipients_skip_pending(sl_db_conn *c, const char *campaign_id, int32_t *n,
                                           sl_err *err)
{
    const char *v[1] = {campaign_id};
    PGresult *r = NULL;
    *n = 0;
    sl_status st = sl_db_exec(c, "cv_recipients_skip_pending", 1, v, NULL, NULL, &r, err);
    if (st == SL_OK) {
        sl_db_reader rd;
        sl_db_reader_init(&rd, r, NULL);
        *n = (int32_t)sl_db_int64(&rd, 0, "n");
        st = sl_db_reader_status(&rd, err);
    }
    PQclear(r);
    return st;
}
