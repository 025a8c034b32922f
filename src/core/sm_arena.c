/*
 * sm_arena.c - per-request bump allocator (see sm_arena.h).
 *
 * Chunks form a singly linked list. Allocation walks forward from the
 * current chunk, so after a reset the same chunks are refilled in order;
 * a request larger than chunk_size gets a dedicated chunk inserted after
 * the current one.
 */
#include "core/sm_arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "core/sm_util.h"

struct sm_arena_chunk_s {
    sm_arena_chunk_t *next;
    size_t size;                 /* payload bytes */
    size_t used;
    _Alignas(8) unsigned char data[];
};

#define SM_ARENA_DEFAULT_CHUNK (16 * 1024)

void
sm_arena_init(sm_arena_t *a, size_t chunk_size)
{
    memset(a, 0, sizeof(*a));
    a->chunk_size = chunk_size ? chunk_size : SM_ARENA_DEFAULT_CHUNK;
}

void
sm_arena_free(sm_arena_t *a)
{
    sm_arena_chunk_t *c = a->head;
    while (c) {
        sm_arena_chunk_t *next = c->next;
        free(c);
        c = next;
    }
    a->head = a->cur = NULL;
    a->total = 0;
}

void
sm_arena_reset(sm_arena_t *a)
{
    size_t keep = 4 * a->chunk_size, held = 0;
    sm_arena_chunk_t **pp = &a->head;
    while (*pp) {
        sm_arena_chunk_t *c = *pp;
        /* Keep the first chunks up to the retention limit (the head is
         * always kept), drop the rest. */
        if (c != a->head && held + c->size > keep) {
            *pp = c->next;
            a->total -= c->size;
            free(c);
            continue;
        }
        held += c->size;
        c->used = 0;
        pp = &c->next;
    }
    a->cur = a->head;
}

static sm_arena_chunk_t *
chunk_new(size_t size)
{
    if (size > SIZE_MAX - sizeof(sm_arena_chunk_t)) abort();
    sm_arena_chunk_t *c = sm_malloc(sizeof(*c) + size);
    c->next = NULL;
    c->size = size;
    c->used = 0;
    return c;
}

void *
sm_arena_alloc(sm_arena_t *a, size_t n)
{
    if (n > SIZE_MAX - 8) abort();
    n = (n + 7) & ~(size_t)7;
    if (!a->cur) {
        /* First use, or after sm_arena_free(). */
        if (!a->head) {
            a->head = chunk_new(SM_MAX(n, a->chunk_size));
            a->total = a->head->size;
        }
        a->cur = a->head;
    }
    for (sm_arena_chunk_t *c = a->cur; c; c = c->next) {
        if (c->size - c->used >= n) {
            void *p = c->data + c->used;
            c->used += n;
            a->cur = c;
            return p;
        }
        /* Skip past chunks too small for this request but leave them in
         * place: later (smaller) requests after a reset still reuse them. */
        if (!c->next) break;
    }
    /* Append a new chunk at the end of the list. */
    sm_arena_chunk_t *tail = a->cur;
    while (tail->next) tail = tail->next;
    sm_arena_chunk_t *c = chunk_new(SM_MAX(n, a->chunk_size));
    tail->next = c;
    a->total += c->size;
    c->used = n;
    a->cur = c;
    return c->data;
}

void *
sm_arena_calloc(sm_arena_t *a, size_t nmemb, size_t size)
{
    if (size && nmemb > SIZE_MAX / size) abort();
    void *p = sm_arena_alloc(a, nmemb * size);
    memset(p, 0, nmemb * size);
    return p;
}
