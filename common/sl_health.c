/*
 * sl_health: service statuses with a version counter that watchers wait on.
 */
#include "sl_health.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sl_arena.h"

typedef struct entry {
    char *name;
    sl_health_status status;
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
    }
    if (e->status != st) {
        e->status = st;
        bump(h);
    }
    pthread_mutex_unlock(&h->mu);
}

void sl_health_set_degraded(sl_health *h, bool degraded)
{
    pthread_mutex_lock(&h->mu);
    if (h->degraded != degraded) {
        h->degraded = degraded;
        bump(h);
    }
    pthread_mutex_unlock(&h->mu);
}

void sl_health_set_shutdown(sl_health *h)
{
    pthread_mutex_lock(&h->mu);
    if (!h->shutdown) {
        h->shutdown = true;
        bump(h);
    }
    pthread_mutex_unlock(&h->mu);
}

sl_health_status sl_health_get(sl_health *h, const char *service, uint64_t *version)
{
    pthread_mutex_lock(&h->mu);
    entry *e = find(h, service);
    sl_health_status st;
    if (e == NULL)
        st = SL_HEALTH_SERVICE_UNKNOWN;
    else if (h->shutdown || (h->degraded && strcmp(service, SL_HEALTH_LIVENESS) != 0))
        st = SL_HEALTH_NOT_SERVING;
    else
        st = e->status;
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
