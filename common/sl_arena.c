/*
 * sl_arena: a bump allocator over a list of blocks.  The first block is kept
 * across resets, so a worker's steady state allocates nothing from malloc.
 */
#include "sl_arena.h"

#include <assert.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct block {
    struct block *next;
    size_t size;
    size_t used;
    /* payload follows, aligned */
    _Alignas(16) unsigned char data[];
} block;

struct sl_arena {
    block *head; /* the block allocations come from */
    block *first;
    size_t used_total;
    ProtobufCAllocator pb;
};

/* The calling thread's failed allocations, and their count when the call
 * it serves began (ULONG_MAX: no call). */
static _Thread_local unsigned long oom_count;
static _Thread_local unsigned long oom_call_base = ULONG_MAX;

unsigned long sl_arena_oom_count(void)
{
    return oom_count;
}

void sl_arena_oom_call_begin(void)
{
    oom_call_base = oom_count;
}

void sl_arena_oom_call_end(void)
{
    oom_call_base = ULONG_MAX;
}

unsigned long sl_arena_oom_base(void)
{
    return oom_call_base != ULONG_MAX ? oom_call_base : oom_count;
}

/* Counts p when it is a failure; returns it. */
static void *counted(void *p)
{
    if (p == NULL)
        oom_count++;
    return p;
}

/* The same for libc's allocators, which may answer NULL for 0 bytes. */
static void *counted_n(void *p, size_t n)
{
    return n == 0 ? p : counted(p);
}

/* The failure switch (sl_arena.h): the calling thread's countdown to the
 * allocation that fails, 0 when disarmed. */
#ifdef SL_FAULT_INJECTION
static _Thread_local unsigned long fail_countdown;
static _Thread_local bool fail_hit;

void sl_arena_fail_at(unsigned long n)
{
    fail_countdown = n;
    fail_hit = false;
}

bool sl_arena_fail_end(void)
{
    bool hit = fail_hit;
    fail_countdown = 0;
    fail_hit = false;
    return hit;
}

/* True when this allocation is the one to fail. */
static bool fail_now(void)
{
    if (fail_countdown == 0 || --fail_countdown != 0)
        return false;
    fail_hit = true;
    return true;
}
#else
static bool fail_now(void)
{
    return false;
}
#endif

void *sl_malloc(size_t n)
{
    return counted_n(fail_now() ? NULL : malloc(n), n);
}

void *sl_calloc(size_t count, size_t size)
{
    return counted_n(fail_now() ? NULL : calloc(count, size), count * size);
}

void *sl_realloc(void *p, size_t n)
{
    return counted_n(fail_now() ? NULL : realloc(p, n), n);
}

char *sl_strdup(const char *s)
{
    return counted(fail_now() ? NULL : strdup(s));
}

static block *block_new(size_t size)
{
    block *b = malloc(sizeof(block) + size);
    if (b == NULL)
        return NULL;
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

static void *pb_alloc(void *ctx, size_t n)
{
    return sl_arena_alloc(ctx, n);
}

static void pb_free(void *ctx, void *p)
{
    (void)ctx;
    (void)p;
}

sl_arena *sl_arena_create(size_t block_size)
{
    if (block_size == 0)
        block_size = 8192;
    sl_arena *a = fail_now() ? NULL : malloc(sizeof *a);
    if (a == NULL)
        return counted(NULL);
    a->first = block_new(block_size);
    if (a->first == NULL) {
        free(a);
        return counted(NULL);
    }
    a->head = a->first;
    a->used_total = 0;
    a->pb.alloc = pb_alloc;
    a->pb.free = pb_free;
    a->pb.allocator_data = a;
    return a;
}

static void free_after_first(sl_arena *a)
{
    /* Blocks are pushed at the head, so the first block is the list's tail. */
    block *b = a->head;
    while (b != a->first) {
        assert(b != NULL && "an arena's first block is its list's tail");
        block *next = b->next;
        free(b);
        b = next;
    }
    a->head = a->first;
    assert(a->first->next == NULL);
}

void sl_arena_destroy(sl_arena *a)
{
    if (a == NULL)
        return;
    free_after_first(a);
    free(a->first);
    free(a);
}

void *sl_arena_alloc(sl_arena *a, size_t n)
{
    if (fail_now())
        return counted(NULL);
    size_t need = (n + 15) & ~(size_t)15;
    if (need < n)
        return counted(NULL);
    block *b = a->head;
    if (b->size - b->used < need) {
        size_t size = a->first->size;
        while (size < need) {
            if (size > SIZE_MAX / 2)
                return counted(NULL);
            size *= 2;
        }
        block *nb = block_new(size);
        if (nb == NULL)
            return counted(NULL);
        nb->next = a->head;
        a->head = nb;
        b = nb;
    }
    void *p = b->data + b->used;
    assert(((uintptr_t)p & 15) == 0 && b->used + need <= b->size);
    b->used += need;
    a->used_total += need;
    return p;
}

void *sl_arena_zalloc(sl_arena *a, size_t n)
{
    void *p = sl_arena_alloc(a, n);
    if (p != NULL)
        memset(p, 0, n);
    return p;
}

char *sl_arena_strdup(sl_arena *a, const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = sl_arena_alloc(a, n);
    if (p != NULL)
        memcpy(p, s, n);
    return p;
}

void sl_arena_reset(sl_arena *a)
{
    free_after_first(a);
    a->first->used = 0;
    a->used_total = 0;
}

ProtobufCAllocator *sl_arena_pb_allocator(sl_arena *a)
{
    return &a->pb;
}

size_t sl_arena_used(const sl_arena *a)
{
    return a->used_total;
}
