/*
 * inv_batch: queues and threads that combine concurrent requests (see
 * inv_batch.h).
 */
#include "inv_batch.h"

#include <assert.h>
#include <stdlib.h>

#include "sl_arena.h"
#include "sl_db.h"
#include "sl_trace.h"

typedef struct queue {
    inv_batch_job *head, *tail;
    pthread_cond_t work;
} queue;

typedef struct thread_arg {
    inv_batcher *b;
    size_t index;
} thread_arg;

struct inv_batcher {
    inv_batch_fn run;
    void *ctx;
    size_t batch_max;
    pthread_mutex_t mu; /* the queues, stop and every job's done */
    queue *queues;
    size_t nqueues;
    bool stop;
    pthread_t *threads;
    size_t nthreads;
    thread_arg *args;
};

static void *batcher_main(void *arg)
{
    thread_arg *ta = arg;
    inv_batcher *b = ta->b;
    queue *q = &b->queues[ta->index];
    inv_batch_job **jobs = sl_calloc(b->batch_max, sizeof *jobs);
    sl_arena *arena = sl_arena_create(256 * 1024);
    pthread_mutex_lock(&b->mu);
    for (;;) {
        while (q->head == NULL && !b->stop)
            pthread_cond_wait(&q->work, &b->mu);
        if (q->head == NULL)
            break;
        assert(q->tail != NULL && q->tail->next == NULL);
        size_t n = 0;
        while (q->head != NULL && n < b->batch_max) {
            assert(!q->head->done);
            jobs[n++] = q->head;
            q->head = q->head->next;
        }
        if (q->head == NULL)
            q->tail = NULL;
        assert(n >= 1 && n <= b->batch_max);
        pthread_mutex_unlock(&b->mu);
        /* Out of memory for the thread's own state: the jobs are not run
         * and their callers answer as for a stopping service. */
        bool ran = jobs != NULL && arena != NULL;
        if (ran) {
            const sl_trace *prev = sl_trace_swap(jobs[0]->trace);
            b->run(b->ctx, jobs, n, arena);
            sl_trace_swap(prev);
            sl_arena_reset(arena);
        }
        pthread_mutex_lock(&b->mu);
        for (size_t i = 0; i < n; i++) {
            jobs[i]->ran = ran;
            jobs[i]->done = true;
            pthread_cond_signal(&jobs[i]->cv);
        }
    }
    pthread_mutex_unlock(&b->mu);
    sl_arena_destroy(arena);
    free(jobs);
    return NULL;
}

static void free_batcher(inv_batcher *b)
{
    for (size_t i = 0; b->queues != NULL && i < b->nqueues; i++)
        pthread_cond_destroy(&b->queues[i].work);
    free(b->queues);
    free(b->threads);
    free(b->args);
    pthread_mutex_destroy(&b->mu);
    free(b);
}

sl_status inv_batcher_start(size_t threads, size_t batch_max, inv_batch_fn run, void *ctx,
                            inv_batcher **out, sl_err *err)
{
    *out = NULL;
    inv_batcher *b = sl_calloc(1, sizeof *b);
    if (b == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    pthread_mutex_init(&b->mu, NULL);
    b->run = run;
    b->ctx = ctx;
    b->batch_max = batch_max > 0 ? batch_max : 1;
    size_t n = threads > 0 ? threads : 1;
    b->queues = sl_calloc(n, sizeof *b->queues);
    b->threads = sl_calloc(n, sizeof *b->threads);
    b->args = sl_calloc(n, sizeof *b->args);
    if (b->queues == NULL || b->threads == NULL || b->args == NULL) {
        free(b->queues);
        b->queues = NULL;
        free_batcher(b);
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    }
    b->nqueues = n;
    for (size_t i = 0; i < n; i++)
        pthread_cond_init(&b->queues[i].work, NULL);
    for (size_t i = 0; i < n; i++) {
        b->args[i] = (thread_arg){b, i};
        if (pthread_create(&b->threads[i], NULL, batcher_main, &b->args[i]) != 0) {
            inv_batcher_stop(b);
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "could not start a batcher thread");
        }
        b->nthreads++;
    }
    *out = b;
    return SL_OK;
}

void inv_batcher_stop(inv_batcher *b)
{
    if (b == NULL)
        return;
    pthread_mutex_lock(&b->mu);
    b->stop = true;
    for (size_t i = 0; i < b->nqueues; i++)
        pthread_cond_broadcast(&b->queues[i].work);
    pthread_mutex_unlock(&b->mu);
    for (size_t i = 0; i < b->nthreads; i++)
        pthread_join(b->threads[i], NULL);
    /* A thread that failed to start left its queue behind: release its
     * waiters unrun. */
    pthread_mutex_lock(&b->mu);
    for (size_t i = 0; i < b->nqueues; i++) {
        for (inv_batch_job *j = b->queues[i].head; j != NULL; j = j->next) {
            j->ran = false;
            j->done = true;
            pthread_cond_signal(&j->cv);
        }
        b->queues[i].head = b->queues[i].tail = NULL;
    }
    pthread_mutex_unlock(&b->mu);
    free_batcher(b);
}

bool inv_batcher_run(inv_batcher *b, inv_batch_job *job)
{
    job->done = false;
    job->ran = false;
    job->next = NULL;
    job->trace = sl_trace_current();
    pthread_cond_init(&job->cv, NULL);
    queue *q = &b->queues[job->key % b->nqueues];
    pthread_mutex_lock(&b->mu);
    if (b->stop) {
        job->done = true;
    } else {
        /* A queue is empty at both ends or at neither. */
        assert((q->head == NULL) == (q->tail == NULL));
        if (q->tail != NULL)
            q->tail->next = job;
        else
            q->head = job;
        q->tail = job;
        pthread_cond_signal(&q->work);
    }
    while (!job->done)
        pthread_cond_wait(&job->cv, &b->mu);
    pthread_mutex_unlock(&b->mu);
    pthread_cond_destroy(&job->cv);
    return job->ran;
}

size_t inv_batch_live(inv_batch_job **jobs, size_t n, void (*late)(inv_batch_job *job),
                      int64_t *deadline_ms)
{
    size_t k = 0;
    int64_t now = sl_db_now_ms(), deadline = 0;
    for (size_t i = 0; i < n; i++) {
        inv_batch_job *j = jobs[i];
        if (j->deadline_ms != INT64_MAX && j->deadline_ms != 0 && j->deadline_ms <= now) {
            late(j);
            continue;
        }
        if (j->deadline_ms == INT64_MAX || j->deadline_ms == 0)
            deadline = INT64_MAX;
        else if (deadline != INT64_MAX && j->deadline_ms > deadline)
            deadline = j->deadline_ms;
        jobs[k++] = j;
    }
    *deadline_ms = deadline == INT64_MAX ? 0 : deadline;
    return k;
}

uint64_t inv_batch_key(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}
