/*
 * sd_slapol: SLA policy versions -- validation and the per-process book
 * (see sd_slapol.h).
 */
#include "sd_slapol.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sd_store.h"
#include "sl_valid.h"

/* ---- validation ---- */

static int date_cmp(const void *x, const void *y)
{
    sd_date a = *(const sd_date *)x, b = *(const sd_date *)y;
    return a < b ? -1 : a > b;
}

/* The targets of in, checked and put in priority order into t[]. */
static sl_status valid_targets(const Shelfline__V1__SlaPolicy *in,
                               const Shelfline__V1__SlaTarget *t[SD_PRIORITY_COUNT], sl_err *err)
{
    for (int p = 0; p < SD_PRIORITY_COUNT; p++)
        t[p] = NULL;
    for (size_t i = 0; i < in->n_targets; i++) {
        const Shelfline__V1__SlaTarget *x = in->targets[i];
        char f[64];
        sd_priority p;
        snprintf(f, sizeof f, "policy.targets[%zu].priority", i);
        if (x == NULL || sd_priority_parse(x->priority, &p, NULL) != SL_OK)
            return sl_err_field(err, f, "%s \"%.8s\" must be P1, P2, P3 or P4", f,
                                x != NULL && x->priority != NULL ? x->priority : "");
        if (t[p] != NULL)
            return sl_err_field(err, f, "%s repeats %s", f, sd_priority_name(p));
        snprintf(f, sizeof f, "policy.targets[%zu].first_response_minutes", i);
        if (x->first_response_minutes < 1 || x->first_response_minutes > SD_SLAPOL_MAX_MINUTES)
            return sl_err_field(err, f, "%s must be 1..%d (got %d)", f, SD_SLAPOL_MAX_MINUTES,
                                (int)x->first_response_minutes);
        snprintf(f, sizeof f, "policy.targets[%zu].resolution_minutes", i);
        if (x->resolution_minutes < x->first_response_minutes ||
            x->resolution_minutes > SD_SLAPOL_MAX_MINUTES)
            return sl_err_field(err, f, "%s must be first_response_minutes (%d)..%d (got %d)", f,
                                (int)x->first_response_minutes, SD_SLAPOL_MAX_MINUTES,
                                (int)x->resolution_minutes);
        t[p] = x;
    }
    for (int p = 0; p < SD_PRIORITY_COUNT; p++)
        if (t[p] == NULL)
            return sl_err_field(err, "policy.targets",
                                "policy.targets has no target for %s (one for each of P1..P4)",
                                sd_priority_name((sd_priority)p));
    return SL_OK;
}

/* The canonical message: holidays (dates[0..n), sorted and unique) as
 * text, targets in priority order. */
static Shelfline__V1__SlaPolicy *canonical(sl_arena *a, const Shelfline__V1__SlaPolicy *in,
                                           const sd_date *dates, size_t n,
                                           const Shelfline__V1__SlaTarget *t[SD_PRIORITY_COUNT])
{
    Shelfline__V1__SlaPolicy *c = sl_arena_alloc(a, sizeof *c);
    Shelfline__V1__SlaTarget *ts = sl_arena_alloc(a, SD_PRIORITY_COUNT * sizeof *ts);
    Shelfline__V1__SlaTarget **tp = sl_arena_alloc(a, SD_PRIORITY_COUNT * sizeof *tp);
    char **hol = sl_arena_alloc(a, (n + 1) * sizeof *hol);
    char *text = sl_arena_alloc(a, n * SD_DATE_STR + 1);
    if (c == NULL || ts == NULL || tp == NULL || hol == NULL || text == NULL)
        return NULL;
    shelfline__v1__sla_policy__init(c);
    c->time_zone = in->time_zone;
    c->business_hours = in->business_hours;
    for (size_t i = 0; i < n; i++) {
        hol[i] = text + i * SD_DATE_STR;
        sd_date_format(dates[i], hol[i]);
    }
    c->holidays = hol;
    c->n_holidays = n;
    for (int p = 0; p < SD_PRIORITY_COUNT; p++) {
        shelfline__v1__sla_target__init(&ts[p]);
        ts[p].priority = (char *)sd_priority_name((sd_priority)p);
        ts[p].first_response_minutes = t[p]->first_response_minutes;
        ts[p].resolution_minutes = t[p]->resolution_minutes;
        tp[p] = &ts[p];
    }
    c->targets = tp;
    c->n_targets = SD_PRIORITY_COUNT;
    return c;
}

/*
 * 1. the policy and its time zone;
 * 2. business hours (the suite's grammar, sd_sla_hours_parse), with at
 *    least one open minute in the week;
 * 3. holidays: at most SD_SLAPOL_MAX_HOLIDAYS real dates;
 * 4. targets: one per priority;
 * 5. the canonical message and, when asked, the built policy.
 */
sl_status sd_slapol_validate(sd_tzdb *tz, const Shelfline__V1__SlaPolicy *in, sl_arena *a,
                             Shelfline__V1__SlaPolicy **canon, sd_sla_policy **built, sl_err *err)
{
    if (in == NULL)
        return sl_err_field(err, "policy", "policy is required");
    const sd_tz *zone;
    if (in->time_zone == NULL || in->time_zone[0] == '\0' || strlen(in->time_zone) > 64 ||
        sd_tzdb_get(tz, in->time_zone, &zone, NULL) != SL_OK)
        return sl_err_field(err, "policy.time_zone",
                            "policy.time_zone \"%.64s\" is not a known IANA time zone",
                            in->time_zone != NULL ? in->time_zone : "");
    sd_sla_config cfg;
    sd_sla_config_defaults(&cfg);
    cfg.zone = zone;
    sl_err e;
    if (in->business_hours == NULL || strlen(in->business_hours) > 500 ||
        sd_sla_hours_parse(in->business_hours, cfg.week, &e) != SL_OK)
        return sl_err_field(err, "policy.business_hours", "policy.business_hours: %s",
                            in->business_hours == NULL         ? "is required"
                            : strlen(in->business_hours) > 500 ? "longer than 500 bytes"
                                                               : e.msg);
    bool open = false;
    for (int d = 0; d < 7; d++)
        open |= cfg.week[d].n > 0;
    if (!open)
        return sl_err_field(err, "policy.business_hours",
                            "policy.business_hours \"%.64s\" has no open hour in the week",
                            in->business_hours);
    if (in->n_holidays > SD_SLAPOL_MAX_HOLIDAYS)
        return sl_err_field(err, "policy.holidays", "policy.holidays has %zu dates (at most %d)",
                            in->n_holidays, SD_SLAPOL_MAX_HOLIDAYS);
    sd_date *dates = sl_arena_alloc(a, (in->n_holidays + 1) * sizeof *dates);
    if (dates == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; i < in->n_holidays; i++) {
        char f[48];
        snprintf(f, sizeof f, "policy.holidays[%zu]", i);
        sl_status st = sl_valid_date(f, in->holidays[i], err);
        if (st == SL_OK && sd_date_parse(in->holidays[i], &dates[i], err) != SL_OK)
            st = sl_err_field(err, f, "%s is outside years 0001..9999", f);
        if (st != SL_OK)
            return st;
    }
    size_t n = in->n_holidays;
    qsort(dates, n, sizeof *dates, date_cmp);
    sd_dates_normalize(dates, &n);
    const Shelfline__V1__SlaTarget *t[SD_PRIORITY_COUNT];
    sl_status st = valid_targets(in, t, err);
    if (st != SL_OK)
        return st;
    if ((*canon = canonical(a, in, dates, n, t)) == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    if (built == NULL)
        return SL_OK;
    cfg.holidays = dates;
    cfg.n_holidays = n;
    for (int p = 0; p < SD_PRIORITY_COUNT; p++)
        cfg.targets[p] = (sd_sla_targets){t[p]->first_response_minutes, t[p]->resolution_minutes};
    return sd_sla_policy_new(&cfg, built, err);
}

/* ---- the book ---- */

typedef struct entry {
    sd_sla_policy *policy;
    uint8_t *packed; /* the canonical message */
    size_t len;
    int64_t created_ms;
} entry;

/* Versions are dense from 0: entries[v] is version v. */
struct sd_slabook {
    sd_tzdb *tz;
    pthread_mutex_t mu; /* guards n, cap, e; loads run under it */
    size_t n, cap;
    entry *e;
};

void sd_slabook_free(sd_slabook *b)
{
    if (b == NULL)
        return;
    for (size_t i = 0; i < b->n; i++) {
        sd_sla_policy_free(b->e[i].policy);
        free(b->e[i].packed);
    }
    free(b->e);
    pthread_mutex_destroy(&b->mu);
    free(b);
}

/* Appends version b->n from its canonical packed bytes.  Caller holds mu
 * (or owns b alone). */
static sl_status add(sd_slabook *b, const uint8_t *packed, size_t len, int64_t created_ms,
                     sl_err *err)
{
    sl_arena *a = sl_arena_create(4096);
    if (a == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    sl_status st = SL_OK;
    Shelfline__V1__SlaPolicy *m =
        shelfline__v1__sla_policy__unpack(sl_arena_pb_allocator(a), len, packed);
    Shelfline__V1__SlaPolicy *canon;
    sd_sla_policy *built = NULL;
    uint8_t *copy = NULL;
    if (m == NULL) {
        st = sl_err_set(err, SL_INTERNAL, "SLA policy version %zu: could not unpack it", b->n);
        goto done;
    }
    sl_err e;
    if (sd_slapol_validate(b->tz, m, a, &canon, &built, &e) != SL_OK) {
        st = sl_err_set(err, e.status == SL_RESOURCE_EXHAUSTED ? e.status : SL_INTERNAL,
                        "SLA policy version %zu no longer validates: %s", b->n, e.msg);
        goto done;
    }
    if (b->n == b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 4;
        entry *g = sl_realloc(b->e, nc * sizeof *g);
        if (g == NULL) {
            st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
            goto done;
        }
        b->e = g;
        b->cap = nc;
    }
    if (len > 0 && (copy = sl_malloc(len)) == NULL) {
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        goto done;
    }
    if (len > 0)
        memcpy(copy, packed, len);
    b->e[b->n++] = (entry){built, copy, len, created_ms};
    built = NULL;
done:
    sd_sla_policy_free(built);
    sl_arena_destroy(a);
    return st;
}

sl_status sd_slabook_new(sd_tzdb *tz, const Shelfline__V1__SlaPolicy *default_policy,
                         sd_slabook **out, sl_err *err)
{
    sd_slabook *b = sl_calloc(1, sizeof *b);
    sl_arena *a = sl_arena_create(4096);
    sl_status st = SL_OK;
    if (b == NULL || a == NULL) {
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        goto fail;
    }
    b->tz = tz;
    pthread_mutex_init(&b->mu, NULL);
    Shelfline__V1__SlaPolicy *canon;
    if ((st = sd_slapol_validate(tz, default_policy, a, &canon, NULL, err)) != SL_OK)
        goto fail;
    size_t len = protobuf_c_message_get_packed_size(&canon->base);
    uint8_t *buf = sl_arena_alloc(a, len + 1);
    if (buf == NULL) {
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        goto fail;
    }
    protobuf_c_message_pack(&canon->base, buf);
    if ((st = add(b, buf, len, 0, err)) != SL_OK)
        goto fail;
    sl_arena_destroy(a);
    *out = b;
    return SL_OK;
fail:
    sl_arena_destroy(a);
    sd_slabook_free(b);
    return st;
}

/* Caller holds mu. */
static sl_status sync_locked(sd_slabook *b, sl_db *db, int64_t deadline_ms, sl_err *err)
{
    sl_arena *a = sl_arena_create(16 * 1024);
    if (a == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    sd_sla_row *rows;
    size_t n;
    sl_status st = sd_store_sla_since(db, deadline_ms, (int64_t)b->n - 1, a, &rows, &n, err);
    for (size_t i = 0; i < n && st == SL_OK; i++) {
        if (rows[i].version != (int64_t)b->n) {
            st = sl_err_set(err, SL_INTERNAL, "SLA policy version %lld missing (found %lld)",
                            (long long)b->n, (long long)rows[i].version);
            break;
        }
        st = add(b, rows[i].policy, rows[i].len, rows[i].created_ms, err);
    }
    sl_arena_destroy(a);
    return st;
}

sl_status sd_slabook_sync(sd_slabook *b, sl_db *db, int64_t deadline_ms, sl_err *err)
{
    pthread_mutex_lock(&b->mu);
    sl_status st = sync_locked(b, db, deadline_ms, err);
    pthread_mutex_unlock(&b->mu);
    return st;
}

sl_status sd_slabook_policy(sd_slabook *b, sl_db *db, int64_t deadline_ms, int64_t version,
                            const sd_sla_policy **out, sl_err *err)
{
    sl_status st = SL_OK;
    pthread_mutex_lock(&b->mu);
    if (version >= 0 && (size_t)version >= b->n)
        st = sync_locked(b, db, deadline_ms, err);
    if (st == SL_OK && (version < 0 || (size_t)version >= b->n))
        st = sl_err_set(err, SL_NOT_FOUND, "version: unknown SLA policy version %lld",
                        (long long)version);
    if (st == SL_OK)
        *out = b->e[version].policy;
    pthread_mutex_unlock(&b->mu);
    return st;
}

sl_status sd_slabook_message(sd_slabook *b, int64_t version, sl_arena *a,
                             Shelfline__V1__SlaPolicy **out, sl_err *err)
{
    sl_status st = SL_OK;
    pthread_mutex_lock(&b->mu);
    int64_t v = version == 0 ? (int64_t)b->n - 1 : version;
    if (v < 0 || (size_t)v >= b->n) {
        st = sl_err_set(err, SL_NOT_FOUND, "version: unknown SLA policy version %lld",
                        (long long)version);
    } else {
        const entry *x = &b->e[v];
        *out = shelfline__v1__sla_policy__unpack(sl_arena_pb_allocator(a), x->len, x->packed);
        if (*out == NULL)
            st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        else {
            (*out)->version = v;
            (*out)->created_at_ms = x->created_ms;
        }
    }
    pthread_mutex_unlock(&b->mu);
    return st;
}

int64_t sd_slabook_min_target_ms(sd_slabook *b, sd_priority prio, sd_sla_kind kind)
{
    pthread_mutex_lock(&b->mu);
    int64_t min = INT64_MAX;
    for (size_t i = 0; i < b->n; i++) {
        int64_t t = sd_sla_target_ms(b->e[i].policy, prio, kind);
        if (t < min)
            min = t;
    }
    pthread_mutex_unlock(&b->mu);
    return min;
}

sl_status sd_slapol_store(sl_db *db, int64_t deadline_ms, const Shelfline__V1__SlaPolicy *policy,
                          sl_arena *a, Shelfline__V1__SlaPolicy **out, sl_err *err)
{
    size_t len = protobuf_c_message_get_packed_size(&policy->base);
    uint8_t *buf = sl_arena_alloc(a, len + 1);
    if (buf == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    protobuf_c_message_pack(&policy->base, buf);
    sd_sla_row row;
    sl_status st = sd_store_sla_set(db, deadline_ms, buf, len, a, &row, err);
    if (st != SL_OK)
        return st;
    *out = shelfline__v1__sla_policy__unpack(sl_arena_pb_allocator(a), row.len, row.policy);
    if (*out == NULL)
        return sl_err_set(err, SL_INTERNAL, "SLA policy version %lld: could not unpack it",
                          (long long)row.version);
    (*out)->version = row.version;
    (*out)->created_at_ms = row.created_ms;
    return SL_OK;
}
