/*
 * sm_arena.h - a bump allocator for memory that lives exactly as long as one
 * request (decoded arrays of a Kafka request or response).
 *
 * Allocation carves 8-byte-aligned pieces out of chunks; nothing is freed
 * individually. sm_arena_reset() makes all chunks reusable without returning
 * them to malloc, so a connection that keeps one arena does no heap traffic
 * per request once warmed up. Chunks above a retention limit are released on
 * reset so one huge request does not pin memory forever.
 *
 * An arena is not thread-safe; each connection/worker owns its own.
 */
#ifndef SM_ARENA_H
#define SM_ARENA_H

#include <stddef.h>

typedef struct sm_arena_chunk_s sm_arena_chunk_t;

typedef struct {
    sm_arena_chunk_t *head;   /* first chunk (kept across resets) */
    sm_arena_chunk_t *cur;    /* chunk currently being carved */
    size_t chunk_size;        /* default payload size of a new chunk */
    size_t total;             /* payload bytes held in all chunks */
} sm_arena_t;

/* Initialise an empty arena; chunk_size 0 selects 16 KiB. No allocation
 * happens until the first sm_arena_alloc(). */
void sm_arena_init(sm_arena_t *a, size_t chunk_size);
/* Release every chunk. The arena may be re-used after sm_arena_init(). */
void sm_arena_free(sm_arena_t *a);
/* Forget all allocations (pointers handed out become invalid) and keep the
 * chunks for reuse, except that memory beyond 4 x chunk_size is released. */
void sm_arena_reset(sm_arena_t *a);
/* n bytes, 8-byte aligned, uninitialised. Never returns NULL (aborts on
 * out-of-memory like sm_malloc); n == 0 returns a valid unique-ish pointer. */
void *sm_arena_alloc(sm_arena_t *a, size_t n);
/* nmemb * size zeroed bytes; aborts on multiplication overflow. */
void *sm_arena_calloc(sm_arena_t *a, size_t nmemb, size_t size);

#endif
