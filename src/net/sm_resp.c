/*
 * sm_resp.c - response objects: an ordered list of memory chunks and file
 * regions that sm_net.c sends with writev/sendfile (see sm_net.h).
 *
 * Owns the per-thread free list of responses. A response is allocated for
 * every request, so network threads recycle them (with the first chunk's
 * buffer) instead of going back to malloc each time.
 */
#include <stdlib.h>
#include <string.h>
#include "core/sm_util.h"
#include "net/sm_net.h"
#include "net/sm_net_int.h"

#define RESP_CACHE_MAX  64            /* responses kept per network thread */
#define RESP_KEEP_BYTES (64 * 1024)   /* larger first-chunk buffers are freed */

typedef struct {
    sm_resp_t *items[RESP_CACHE_MAX];
    int n;
} resp_cache_t;

/* NULL on threads that are not network threads: they malloc/free plainly,
 * so a response built on a ZooKeeper or admin thread needs no set-up. */
static __thread resp_cache_t *tls_cache;

void
sm_resp_thread_cache_enable(void)
{
    if (!tls_cache)
        tls_cache = sm_calloc(1, sizeof(*tls_cache));
}

static void
resp_destroy(sm_resp_t *r)
{
    for (int i = 0; i < r->ninit; i++)
        sm_wbuf_free(&r->chunks[i].mem);
    for (int i = 0; i < r->nchunks; i++)
        sm_file_unref(r->chunks[i].file);
    free(r->chunks);
    free(r);
}

void
sm_resp_thread_cache_drain(void)
{
    resp_cache_t *c = tls_cache;
    if (!c)
        return;
    while (c->n > 0)
        resp_destroy(c->items[--c->n]);
    free(c);
    tls_cache = NULL;
}

/*
 * sm_resp_new - an empty response. Caller owns it until it passes it to
 * sm_conn_respond() or frees it with sm_resp_free(). Any thread.
 */
sm_resp_t *
sm_resp_new(void)
{
    resp_cache_t *c = tls_cache;
    if (c && c->n > 0)
        return c->items[--c->n];

    sm_resp_t *r = sm_calloc(1, sizeof(*r));
    r->cap = 4;
    r->chunks = sm_calloc((size_t)r->cap, sizeof(*r->chunks));
    sm_wbuf_init(&r->chunks[0].mem, 0);
    r->ninit = 1;
    r->cur = -1;
    return r;
}

static sm_chunk_t *
resp_push(sm_resp_t *r)
{
    if (r->nchunks == r->cap) {
        r->cap *= 2;
        r->chunks = sm_realloc(r->chunks, (size_t)r->cap * sizeof(*r->chunks));
    }
    sm_chunk_t *ch = &r->chunks[r->nchunks];
    if (r->nchunks >= r->ninit) {
        sm_wbuf_init(&ch->mem, 0);
        r->ninit = r->nchunks + 1;
    }
    ch->file = NULL;
    ch->pos = ch->len = 0;
    ch->mem.len = 0;
    r->nchunks++;
    return ch;
}

/*
 * sm_resp_wbuf - the writer for the memory chunk at the tail, creating one
 * if the response is empty or ends with a file region. The pointer is valid
 * until the next sm_resp_add_file()/sm_resp_wbuf() call on r. Any thread.
 */
sm_wbuf_t *
sm_resp_wbuf(sm_resp_t *r)
{
    if (r->nchunks == 0 || r->chunks[r->nchunks - 1].file != NULL)
        return &resp_push(r)->mem;
    return &r->chunks[r->nchunks - 1].mem;
}

/*
 * sm_resp_add_file - append the region [pos, pos+len) of f; takes its own
 * reference on f (dropped when the response is freed or sent). Bytes are
 * read at send time, so the caller must know they are stable (segments are
 * append-only). Negative pos/len are treated as an empty region.
 */
void
sm_resp_add_file(sm_resp_t *r, sm_file_t *f, int64_t pos, int64_t len)
{
    if (len <= 0 || pos < 0)
        return;
    sm_chunk_t *ch = resp_push(r);
    ch->file = sm_file_ref(f);
    ch->pos = pos;
    ch->len = len;
}

/* sm_resp_len - total bytes of r, without the size prefix. */
size_t
sm_resp_len(const sm_resp_t *r)
{
    size_t n = 0;
    for (int i = 0; i < r->nchunks; i++)
        n += r->chunks[i].file ? (size_t)r->chunks[i].len : r->chunks[i].mem.len;
    return n;
}

/*
 * sm_resp_free - release r and its file references. NULL is allowed. Any
 * thread; on a network thread the object goes back to that thread's cache.
 */
void
sm_resp_free(sm_resp_t *r)
{
    if (!r)
        return;
    resp_cache_t *c = tls_cache;
    if (!c || c->n == RESP_CACHE_MAX) {
        resp_destroy(r);
        return;
    }
    for (int i = 0; i < r->nchunks; i++) {
        sm_file_unref(r->chunks[i].file);
        r->chunks[i].file = NULL;
    }
    /* Keep only slot 0's buffer: most responses are one memory chunk. */
    for (int i = 1; i < r->ninit; i++)
        sm_wbuf_free(&r->chunks[i].mem);
    r->ninit = 1;
    if (r->chunks[0].mem.cap > RESP_KEEP_BYTES)
        sm_wbuf_free(&r->chunks[0].mem);
    r->chunks[0].mem.len = 0;
    r->nchunks = 0;
    r->next = NULL;
    r->cur = -1;
    r->off = 0;
    c->items[c->n++] = r;
}
