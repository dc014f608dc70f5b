/*
 * sl_arena: per-call memory released as a whole.
 *
 * A call's request, reply and everything a handler allocates while serving
 * it come from one arena; the dispatcher resets it when the call ends, so
 * handlers never free and cannot leak.  Memory is 16-byte aligned.
 */
#ifndef SL_ARENA_H
#define SL_ARENA_H

#include <stdbool.h>
#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

typedef struct sl_arena sl_arena;

/* Creates an arena whose first block holds block_size bytes (0: 8 KiB).
 * Returns NULL when out of memory.  The caller owns it (sl_arena_destroy). */
sl_arena *sl_arena_create(size_t block_size);

void sl_arena_destroy(sl_arena *a);

/* Returns n bytes owned by the arena, or NULL when out of memory. */
void *sl_arena_alloc(sl_arena *a, size_t n);

/* Like sl_arena_alloc, zero-filled. */
void *sl_arena_zalloc(sl_arena *a, size_t n);

/* Copies s (NULL gives NULL) into the arena. */
char *sl_arena_strdup(sl_arena *a, const char *s);

/* Releases everything allocated since creation; keeps the first block for
 * reuse and frees the others. */
void sl_arena_reset(sl_arena *a);

/* A protobuf-c allocator drawing from the arena (its free is a no-op).  The
 * returned pointer lives inside the arena. */
ProtobufCAllocator *sl_arena_pb_allocator(sl_arena *a);

/* Bytes currently handed out (for tests and metrics). */
size_t sl_arena_used(const sl_arena *a);

/*
 * Out of memory, per thread (SQLite's mallocFailed): every allocation that
 * fails on a thread -- from an arena, sl_arena_create or the sl_malloc
 * family -- is counted, so code far from the failed call can tell that one
 * happened: a transaction then rolls back instead of committing what was
 * built without it (sl_db_tx), and the dispatcher answers
 * RESOURCE_EXHAUSTED whatever the handler made of a NULL (a query whose
 * parameter could not be built finds nothing, which is no NOT_FOUND).
 */

/* Failed allocations on the calling thread so far. */
unsigned long sl_arena_oom_count(void);

/* The dispatcher brackets each call it serves on a thread with these. */
void sl_arena_oom_call_begin(void);
void sl_arena_oom_call_end(void);

/* The count to compare with: sl_arena_oom_count() when the call being
 * served on this thread began, else the current count. */
unsigned long sl_arena_oom_base(void);

/*
 * Test builds' allocation-failure switch (SQLite's and curl's fault
 * injection).  Compiled in when SL_FAULT_INJECTION is defined (CMake option
 * SHELFLINE_FAULT_INJECTION: on in builds with tests except Release, off in
 * the image's build); without it the two functions below do not exist.
 *
 * The switch is per thread: sl_arena_fail_at(n) makes the n-th allocation
 * this thread asks for from then on fail (n >= 1; 0 disarms), once, as if
 * malloc had returned NULL.  Counted are every sl_arena_create,
 * sl_arena_alloc (zalloc, strdup and protobuf-c's allocations through the
 * arena) and every sl_malloc family call below.  The dispatcher arms it for
 * one call that asks for it (metadata x-shelfline-fail-alloc: n, see
 * sl_server.h); docs/TESTING.md describes the torture run built on it.
 */
#ifdef SL_FAULT_INJECTION
void sl_arena_fail_at(unsigned long n);

/* Disarms the calling thread's switch; true when it failed an allocation
 * since sl_arena_fail_at. */
bool sl_arena_fail_end(void);
#endif

/* malloc, calloc, realloc and strdup for memory that cannot live in an
 * arena (it outlives a call, or grows by realloc), counted by the failure
 * switch in test builds and by sl_arena_oom_count; otherwise the libc
 * functions.  The
 * caller frees with free(). */
void *sl_malloc(size_t n);
void *sl_calloc(size_t count, size_t size);
void *sl_realloc(void *p, size_t n);
char *sl_strdup(const char *s);

#endif
