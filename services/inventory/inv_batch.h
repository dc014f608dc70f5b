/*
 * inv_batch: combining concurrent requests of one process into batches.
 *
 * A handler queues a job and blocks; a batcher thread takes every job
 * queued so far (up to batch_max) and hands them to run() together, which
 * answers each one (usually from one database transaction for all of
 * them).  While a batch runs the next one queues up, so batches grow with
 * the load and a transaction's fixed cost -- round trips, BEGIN/COMMIT,
 * the WAL flush -- is shared by all its requests.
 *
 * With several threads each has its own queue and a job goes to the queue
 * of its key (key % threads): jobs that would contend on the same lock
 * (one hot SKU) meet in one batch instead of queueing for the lock in
 * several.
 *
 * Jobs embed inv_batch_job as their first member; run() casts them back.
 */
#ifndef INV_BATCH_H
#define INV_BATCH_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_arena.h"
#include "sl_status.h"

typedef struct inv_batch_job {
    uint64_t key;        /* in: picks the queue */
    int64_t deadline_ms; /* in: the caller's (sl_call_deadline_ms) */
    /* Private to the batcher.  trace: the caller's context (sl_trace),
     * valid while it waits; a batch runs in its first job's, so its logs
     * and the events it writes join that request's trace. */
    const struct sl_trace *trace;
    bool done, ran;
    pthread_cond_t cv;
    struct inv_batch_job *next;
} inv_batch_job;

/* Answers jobs[0..n) (all of them).  arena is the thread's scratch memory,
 * reset after each batch: answers live in memory of the jobs' own. */
typedef void (*inv_batch_fn)(void *ctx, inv_batch_job **jobs, size_t n, sl_arena *arena);

typedef struct inv_batcher inv_batcher;

/* Starts threads (>= 1) batching up to batch_max (>= 1) jobs for run(ctx,
 * ...).  The caller owns *out (inv_batcher_stop).  RESOURCE_EXHAUSTED when
 * memory or a thread is missing. */
sl_status inv_batcher_start(size_t threads, size_t batch_max, inv_batch_fn run, void *ctx,
                            inv_batcher **out, sl_err *err);

/* Stops and joins the threads (after the batches running finish) and frees
 * the batcher; jobs still queued are not run (inv_batcher_run returns
 * false for them).  NULL is a no-op. */
void inv_batcher_stop(inv_batcher *b);

/* Queues job and blocks until its batch ran.  False when the batcher is
 * stopping and the job was not run (the caller answers UNAVAILABLE). */
bool inv_batcher_run(inv_batcher *b, inv_batch_job *job);

/* For run(): calls late(job) for each job whose deadline passed while it
 * was queued (it is not worth a lock) and moves the others to the front
 * of jobs; returns how many remain, and in *deadline_ms the deadline that
 * bounds a transaction for all of them (0: none). */
size_t inv_batch_live(inv_batch_job **jobs, size_t n, void (*late)(inv_batch_job *job),
                      int64_t *deadline_ms);

/* FNV-1a of a string, for keys. */
uint64_t inv_batch_key(const char *s);

#endif
