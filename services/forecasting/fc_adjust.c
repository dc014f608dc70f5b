/*
 * fc_adjust: planner overrides and accuracy (see fc_adjust.h).
 */
#include "fc_adjust.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fc_valid.h"

#define ACC_MAX_PAIRS 1000
#define ACC_MAX_ROWS 200000
#define SCALE_DAYS 365 /* history before the window behind a series' MASE scale */

/* ---- setting and removing ---- */

typedef struct adjust_ctx {
    const char *sku, *region;
    int32_t today;
    const char *kind; /* NULL: remove */
    double value;
    const char *reason, *author;
    sl_arena *a;
    fc_adjusted *x;
} adjust_ctx;

/* Stores the period's forecast, as it stands after the change, as issued
 * today.  Without history (NOT_FOUND) a set issues the planner's figures
 * against a statistical zero and a removal issues nothing. */
static sl_status issue_period(sl_db_conn *conn, adjust_ctx *c, sl_err *err)
{
    fc_adjusted *x = c->x;
    size_t n = (size_t)(x->to - x->from + 1);
    sl_err e2;
    sl_status st =
        fc_demand_run(conn, c->sku, c->region, x->to - c->today + 1, NULL, c->a, &x->d, &e2);
    if (st == SL_NOT_FOUND && c->kind == NULL)
        return SL_OK; /* no history: nothing was issued but the planner's figures */
    if (st == SL_NOT_FOUND) {
        /* A product without history (a launch): the planner's figure is
         * the forecast; the model's is zero. */
        double *zero = sl_arena_zalloc(c->a, n * sizeof *zero);
        double *fin = sl_arena_alloc(c->a, n * sizeof *fin);
        uint8_t *ovr = sl_arena_alloc(c->a, n);
        if (zero == NULL || fin == NULL || ovr == NULL)
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        for (size_t i = 0; i < n; i++) {
            fin[i] = strcmp(c->kind, "uplift") == 0 ? 0.0 : c->value;
            ovr[i] = 1;
        }
        return fc_store_issue(conn, c->sku, c->region, c->today, x->from, n, zero, fin, ovr, c->a,
                              err);
    }
    if (st != SL_OK)
        return sl_err_set(err, st, "%s", e2.msg);
    x->have_forecast = true;
    return fc_store_issue(conn, c->sku, c->region, c->today, x->from, n, x->d.statistical + x->off,
                          x->d.issued + x->off, x->d.overridden + x->off, c->a, err);
}

/* One transaction: the overrides set (kind) or removed (kind NULL), then
 * the period's forecast stored as issued. */
static sl_status adjust_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    adjust_ctx *c = p;
    fc_adjusted *x = c->x;
    fc_demand_free(&x->d);
    x->changed = 0;
    x->have_forecast = false;
    sl_status st = SL_OK;
    if (c->kind == NULL)
        st = fc_store_override_remove(conn, c->sku, c->region, x->from, x->to, &x->changed, err);
    for (int32_t day = x->from; c->kind != NULL && st == SL_OK && day <= x->to; day++) {
        bool ch = false;
        st = fc_store_override_set(conn, c->sku, c->region, day, c->kind, c->value, c->reason,
                                   c->author, &ch, err);
        x->changed += ch;
    }
    return st == SL_OK ? issue_period(conn, c, err) : st;
}

static sl_status adjust_run(sl_db *db, int64_t deadline_ms, adjust_ctx *c, int32_t from, int32_t to,
                            fc_adjusted *x, sl_err *err)
{
    memset(x, 0, sizeof *x);
    x->from = from;
    x->to = to;
    x->off = (size_t)(from - c->today);
    c->x = x;
    sl_db_tx_options o = {.deadline_ms = deadline_ms};
    sl_status st = sl_db_tx(db, &o, adjust_tx, c, err);
    if (st != SL_OK)
        fc_adjust_free(x);
    return st;
}

sl_status fc_adjust_set(sl_db *db, int64_t deadline_ms, const char *sku, const char *region,
                        int32_t from, int32_t to, const char *kind, double value,
                        const char *reason, const char *author, sl_arena *a, fc_adjusted *x,
                        sl_err *err)
{
    adjust_ctx c = {sku, region, fc_day_today(), kind, value, reason, author, a, NULL};
    return adjust_run(db, deadline_ms, &c, from, to, x, err);
}

sl_status fc_adjust_remove(sl_db *db, int64_t deadline_ms, const char *sku, const char *region,
                           int32_t from, int32_t to, sl_arena *a, fc_adjusted *x, sl_err *err)
{
    adjust_ctx c = {sku, region, fc_day_today(), NULL, 0, NULL, NULL, a, NULL};
    return adjust_run(db, deadline_ms, &c, from, to, x, err);
}

void fc_adjust_day(const fc_adjusted *x, size_t i, double if_none, double *statistical,
                   double *issued)
{
    *statistical = x->have_forecast ? x->d.statistical[x->off + i] : 0;
    *issued = x->have_forecast ? x->d.issued[x->off + i] : if_none;
}

void fc_adjust_free(fc_adjusted *x)
{
    fc_demand_free(&x->d);
}

/* ---- listing ---- */

typedef struct list_ctx {
    const char *sku, *region;
    int32_t from, to;
    sl_arena *a;
    fc_override_entry *rows;
    size_t n;
} list_ctx;

static sl_status list_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    list_ctx *c = p;
    return fc_store_override_entries(conn, c->sku, c->region, c->from, c->to,
                                     FC_ADJUST_LIST_MAX_ROWS + 1, c->a, &c->rows, &c->n, err);
}

/* Whether row b continues the run that row a ends: the next day of the
 * same pair, set by the same request (adjustment, reason, author, time). */
static bool same_run(const fc_override_entry *a, const fc_override_entry *b)
{
    return b->day == a->day + 1 && strcmp(a->sku, b->sku) == 0 &&
           strcmp(a->region, b->region) == 0 && a->uplift == b->uplift && a->value == b->value &&
           a->set_at_ms == b->set_at_ms && strcmp(a->reason, b->reason) == 0 &&
           strcmp(a->author, b->author) == 0;
}

sl_status fc_adjust_list(sl_db *db, int64_t deadline_ms, const char *sku, const char *region,
                         int32_t from, int32_t to, sl_arena *a, fc_adjust_run **runs, size_t *n,
                         bool *truncated, sl_err *err)
{
    list_ctx c = {sku, region, from, to, a, NULL, 0};
    sl_db_tx_options o = {.read_only = true, .deadline_ms = deadline_ms};
    sl_status st = sl_db_tx(db, &o, list_tx, &c, err);
    if (st != SL_OK)
        return st;
    *truncated = c.n > FC_ADJUST_LIST_MAX_ROWS;
    size_t rows = *truncated ? FC_ADJUST_LIST_MAX_ROWS : c.n;
    fc_adjust_run *r = sl_arena_alloc(a, (rows > 0 ? rows : 1) * sizeof *r);
    if (r == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < rows;) {
        size_t j = i;
        while (j + 1 < rows && same_run(&c.rows[j], &c.rows[j + 1]))
            j++;
        if (k == FC_ADJUST_LIST_MAX_RUNS) {
            *truncated = true;
            break;
        }
        r[k++] = (fc_adjust_run){&c.rows[i], &c.rows[j]};
        i = j + 1;
    }
    *runs = r;
    *n = k;
    return SL_OK;
}

/* ---- accuracy ---- */

typedef struct accuracy_ctx {
    const char *sku, *region;
    int32_t from, to;
    sl_arena *a;
    fc_acc_day *days;
    size_t n_days, pairs;
} accuracy_ctx;

/* The scale of a pair's MASE from its last SCALE_DAYS days before the
 * window (stock-out days are not demand: left out). */
static sl_status pair_scale(sl_db_conn *conn, const char *sku, const char *region, int32_t before,
                            sl_arena *a, double *scale, sl_err *err)
{
    fc_history h;
    sl_status st = fc_store_history(conn, sku, region, before, a, &h, err);
    if (st != SL_OK)
        return st;
    size_t first = h.n > SCALE_DAYS ? h.n - SCALE_DAYS : 0;
    for (size_t i = first; i < h.n; i++)
        if (h.stockout[i])
            h.units[i] = NAN;
    *scale = fc_accuracy_scale(h.units + first, h.n - first, 7);
    return SL_OK;
}

static sl_status accuracy_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    accuracy_ctx *c = p;
    fc_scored_row *rows;
    size_t n;
    sl_status st = fc_store_scored(conn, c->sku, c->region, c->from, c->to, ACC_MAX_ROWS, c->a,
                                   &rows, &n, err);
    if (st != SL_OK)
        return st;
    c->days = sl_arena_alloc(c->a, (n > 0 ? n : 1) * sizeof *c->days);
    if (c->days == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    c->n_days = 0;
    c->pairs = 0;
    /* When the row cap cut the answer, the last pair may be partial: it is
     * left out rather than scored on some of its days. */
    size_t end = n;
    if (n == ACC_MAX_ROWS)
        while (end > 0 && rows[end - 1].sku == rows[n - 1].sku &&
               rows[end - 1].region == rows[n - 1].region)
            end--;
    double scale = NAN;
    for (size_t i = 0; i < end; i++) {
        bool first =
            i == 0 || rows[i].sku != rows[i - 1].sku || rows[i].region != rows[i - 1].region;
        if (first) {
            if (c->pairs == ACC_MAX_PAIRS)
                break;
            c->pairs++;
            if ((st = pair_scale(conn, rows[i].sku, rows[i].region, c->from, c->a, &scale, err)) !=
                SL_OK)
                return st;
        }
        fc_acc_day *d = &c->days[c->n_days++];
        d->actual = rows[i].actual;
        d->statistical = rows[i].statistical;
        d->final = rows[i].final;
        d->overridden = rows[i].overridden;
        d->scale = scale;
    }
    return SL_OK;
}

sl_status fc_adjust_accuracy(sl_db *db, int64_t deadline_ms, const char *sku, const char *region,
                             int window, sl_arena *a, size_t *pairs, fc_acc_report *rep,
                             sl_err *err)
{
    int32_t today = fc_day_today();
    accuracy_ctx c = {sku, region, today - window, today, a, NULL, 0, 0};
    sl_db_tx_options o = {
        .isolation = SL_DB_REPEATABLE_READ, .read_only = true, .deadline_ms = deadline_ms};
    sl_status st = sl_db_tx(db, &o, accuracy_tx, &c, err);
    if (st != SL_OK)
        return st;
    fc_accuracy_score(c.days, c.n_days, rep);
    *pairs = c.pairs;
    return SL_OK;
}
