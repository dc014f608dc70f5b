/*
 * sl_arena: per-call memory released as a whole.
 *
 * A call's request, reply and everything a handler allocates while serving
 * it come from one arena; the dispatcher resets it when the call ends, so
 * handlers never free and cannot leak.  Memory is 16-byte aligned.
 */
#ifndef SL_ARENA_H
#define SL_ARENA_H

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

#endif
