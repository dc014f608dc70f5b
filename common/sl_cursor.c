/*
 * sl_cursor: the consumer_cursor table (see sl_cursor.h).
 */
#include "sl_cursor.h"
#include "sl_db_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const sl_db_stmt sl__cursor_stmts[] = {
    {"sl__cursor_get", "SELECT last_id FROM consumer_cursor WHERE subscription = $1", 1},
    /* The WHERE makes the cursor monotonic: a stale consumer cannot move it
     * back, and a row count of 0 tells it someone else got there first. */
    {"sl__cursor_set",
     "INSERT INTO consumer_cursor AS c (subscription, last_id) VALUES ($1, $2::int8) "
     "ON CONFLICT (subscription) DO UPDATE SET last_id = excluded.last_id, updated_at = now() "
     "WHERE c.last_id < excluded.last_id",
     2},
    {NULL, NULL, 0},
};

sl_status sl_cursor_get(sl_db_conn *conn, const char *subscription, int64_t *last_id, sl_err *err)
{
    PGresult *res = NULL;
    *last_id = 0;
    if (subscription == NULL || subscription[0] == '\0')
        return sl_err_set(err, SL_INVALID_ARGUMENT, "subscription name must not be empty");
    const char *v[1] = {subscription};
    sl_status st = sl_db_exec(conn, "sl__cursor_get", 1, v, NULL, NULL, &res, err);
    if (st != SL_OK)
        return st;
    if (PQntuples(res) == 1)
        *last_id = strtoll(PQgetvalue(res, 0, PQfnumber(res, "last_id")), NULL, 10);
    PQclear(res);
    return SL_OK;
}

sl_status sl_cursor_set(sl_db_conn *conn, const char *subscription, int64_t last_id, bool *advanced,
                        sl_err *err)
{
    PGresult *res = NULL;
    char id[24];
    if (advanced != NULL)
        *advanced = false;
    if (subscription == NULL || subscription[0] == '\0')
        return sl_err_set(err, SL_INVALID_ARGUMENT, "subscription name must not be empty");
    if (last_id < 0)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "invalid event id %" PRId64 " for subscription \"%s\": must not be "
                          "negative",
                          last_id, subscription);
    snprintf(id, sizeof id, "%" PRId64, last_id);
    const char *v[2] = {subscription, id};
    sl_status st = sl_db_exec(conn, "sl__cursor_set", 2, v, NULL, NULL, &res, err);
    if (st != SL_OK)
        return st;
    if (advanced != NULL)
        *advanced = strcmp(PQcmdTuples(res), "1") == 0;
    PQclear(res);
    return SL_OK;
}
