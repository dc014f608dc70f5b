/*
 * sl_health: service statuses with a version counter that watchers wait on.
 */
#include "sl_health.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sl_arena.h"
#include "sl_metrics.h"

typedef struct entry {
    char *name;
    sl_health_status status;
    /* What Check answers (status, degraded and shutdown applied), as last
     * counted in shelfline_health_changes_total. */
    sl_health_status effective;
    sl_metric_child *m_serving, *m_changes;
} entry;

struct sl_health {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    entry *entries;
    size_t n, cap;
    bool degraded;
    bool shutdown;
    uint64_t version;
};

/* ---- metrics: shelfline_health_serving{service} (1 SERVING, else 0) and
 * shelfline_health_changes_total{service}: transitions of what Check
 * answers, so flapping shows. ---- */

static sl_health_status effective(const sl_health *h, const entry *e)
{
    if (h->shutdown || (h->degraded && strcmp(e->name, SL_HEALTH_LIVENESS) != 0))
        return SL_HEALTH_NOT_SERVING;
    return e->status;
}

/* Under h->mu, after any change. */
static void count_changes(sl_health *h)
{
    for (size_t i = 0; i < h->n; i++) {
        entry *e = &h->entries[i];
        sl_health_status now = effective(h, e);
        if (now != e->effective) {
            if (e->effective != SL_HEALTH_UNKNOWN)
                sl_metric_add(e->m_changes, 1);
            e->effective = now;
        }
        sl_metric_set(e->m_serving, now == SL_HEALTH_SERVING ? 1 : 0);
    }
}

static void entry_metrics(entry *e)
{
    static const char *const l[] = {"service", NULL};
    const char *v[] = {e->name};
    e->m_serving = sl_metric_with(
        sl_metric_gauge("shelfline_health_serving",
                        "1 while grpc.health.v1 Check answers SERVING for the service name "
                        "(\"\" readiness, \"liveness\"), else 0.",
                        l),
        v);
    e->m_changes =
        sl_metric_with(sl_metric_counter("shelfline_health_changes_total",
                                         "Changes of what Check answers for the service name.", l),
                       v);
}

sl_health *sl_health_create(void)
{
    sl_health *h = sl_calloc(1, sizeof *h);
    if (h == NULL)
        return NULL;
    pthread_mutex_init(&h->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&h->cv, &ca);
    pthread_condattr_destroy(&ca);
    sl_health_set(h, "", SL_HEALTH_NOT_SERVING);
    return h;
}

void sl_health_destroy(sl_health *h)
{
    if (h == NULL)
        return;
    for (size_t i = 0; i < h->n; i++)
        free(h->entries[i].name);
    free(h->entries);
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

static entry *find(sl_health *h, const char *name)
{
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->entries[i].name, name) == 0)
            return &h->entries[i];
    return NULL;
}

static void bump(sl_health *h)
{
    h->version++;
    pthread_cond_broadcast(&h->cv);
}

void sl_health_set(sl_health *h, const char *service, sl_health_status st)
{
    pthread_mutex_lock(&h->mu);
    entry *e = find(h, service);
    if (e == NULL) {
        /* On out of memory the name stays unregistered (reported as
         * SERVICE_UNKNOWN): better than a crash. */
        if (h->n == h->cap) {
            size_t cap = h->cap ? h->cap * 2 : 8;
            entry *ne = sl_realloc(h->entries, cap * sizeof *ne);
            if (ne == NULL) {
                pthread_mutex_unlock(&h->mu);
                return;
            }
            h->entries = ne;
            h->cap = cap;
        }
        char *name = sl_strdup(service);
        if (name == NULL) {
            pthread_mutex_unlock(&h->mu);
            return;
        }
        e = &h->entries[h->n++];
        e->name = name;
        e->status = SL_HEALTH_UNKNOWN;
        e->effective = SL_HEALTH_UNKNOWN;
        entry_metrics(e);
    }
    if (e->status != st) {
        e->status = st;
        bump(h);
        count_changes(h);
    }
    pthread_mutex_unlock(&h->mu);
}

void sl_health_set_degraded(sl_health *h, bool degraded)
{
    pthread_mutex_lock(&h->mu);
    if (h->degraded != degraded) {
        h->degraded = degraded;
        bump(h);
        count_changes(h);
    }
    pthread_mutex_unlock(&h->mu);
}

void sl_health_set_shutdown(sl_health *h)
{
    pthread_mutex_lock(&h->mu);
    if (!h->shutdown) {
        h->shutdown = true;
        bump(h);
        count_changes(h);
    }
    pthread_mutex_unlock(&h->mu);
}

sl_health_status sl_health_get(sl_health *h, const char *service, uint64_t *version)
{
    pthread_mutex_lock(&h->mu);
    entry *e = find(h, service);
    sl_health_status st = e == NULL ? SL_HEALTH_SERVICE_UNKNOWN : effective(h, e);
    if (version != NULL)
        *version = h->version;
    pthread_mutex_unlock(&h->mu);
    return st;
}

bool sl_health_wait(sl_health *h, uint64_t seen, int64_t timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&h->mu);
    while (h->version == seen) {
        if (pthread_cond_timedwait(&h->cv, &h->mu, &until) != 0)
            break;
    }
    bool changed = h->version != seen;
    pthread_mutex_unlock(&h->mu);
    return changed;
}
