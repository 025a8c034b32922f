/*
 * sm_producer_state.c - per-partition idempotent-producer state (see
 * sm_producer_state.h): an open-addressing hash map from producer id to
 * entry, and Kafka 2.8's sequence/epoch rules.
 *
 * The map uses linear probing with backward-shift deletion (no tombstones),
 * entries stored inline, and grows at 50 % load, so a lookup on the append
 * path is one hash and usually one probe, with no allocation.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include "core/sm_util.h"
#include "repl/sm_producer_state.h"

struct sm_pstate_s {
    sm_pentry_t *slots;
    uint8_t *used;
    size_t cap;                      /* power of two, or 0 */
    size_t n;
};

int32_t
sm_pstate_seq_add(int32_t seq, int32_t delta)
{
    if (seq > INT32_MAX - delta) return delta - (INT32_MAX - seq) - 1;
    return seq + delta;
}

int32_t
sm_pstate_seq_sub(int32_t seq, int32_t delta)
{
    if (seq - delta < 0) return INT32_MAX - (delta - seq) + 1;
    return seq - delta;
}

int
sm_pstate_in_sequence(int32_t last_seq, int32_t next_seq)
{
    return (int64_t)next_seq == (int64_t)last_seq + 1 || (next_seq == 0 && last_seq == INT32_MAX);
}

static size_t
hash_pid(int64_t pid, size_t cap)
{
    uint64_t h = (uint64_t)pid * 0x9E3779B97F4A7C15ULL;
    h ^= h >> 29;
    return (size_t)h & (cap - 1);
}

sm_pstate_t *
sm_pstate_new(void)
{
    return sm_calloc(1, sizeof(sm_pstate_t));
}

void
sm_pstate_free(sm_pstate_t *ps)
{
    if (!ps) return;
    free(ps->slots);
    free(ps->used);
    free(ps);
}

void
sm_pstate_clear(sm_pstate_t *ps)
{
    if (ps->cap) memset(ps->used, 0, ps->cap);
    ps->n = 0;
}

size_t sm_pstate_count(const sm_pstate_t *ps) { return ps->n; }

static ssize_t
find_slot(const sm_pstate_t *ps, int64_t pid)
{
    if (ps->cap == 0) return -1;
    for (size_t i = hash_pid(pid, ps->cap);; i = (i + 1) & (ps->cap - 1)) {
        if (!ps->used[i]) return -1;
        if (ps->slots[i].producer_id == pid) return (ssize_t)i;
    }
}

const sm_pentry_t *
sm_pstate_get(const sm_pstate_t *ps, int64_t pid)
{
    ssize_t i = find_slot(ps, pid);
    return i < 0 ? NULL : &ps->slots[i];
}

static void grow(sm_pstate_t *ps);

/* Slot for pid, inserted (zeroed, epoch -1) if absent. */
static sm_pentry_t *
get_or_insert(sm_pstate_t *ps, int64_t pid)
{
    ssize_t f = find_slot(ps, pid);
    if (f >= 0) return &ps->slots[f];
    if ((ps->n + 1) * 2 > ps->cap) grow(ps);
    size_t i = hash_pid(pid, ps->cap);
    while (ps->used[i]) i = (i + 1) & (ps->cap - 1);
    ps->used[i] = 1;
    ps->n++;
    sm_pentry_t *e = &ps->slots[i];
    memset(e, 0, sizeof(*e));
    e->producer_id = pid;
    e->epoch = -1;
    e->coordinator_epoch = -1;
    e->txn_first_offset = -1;
    return e;
}

static void
grow(sm_pstate_t *ps)
{
    size_t ocap = ps->cap;
    sm_pentry_t *oslots = ps->slots;
    uint8_t *oused = ps->used;
    ps->cap = ocap ? ocap * 2 : 16;
    ps->slots = sm_malloc(ps->cap * sizeof(*ps->slots));
    ps->used = sm_calloc(ps->cap, 1);
    ps->n = 0;
    for (size_t i = 0; i < ocap; i++)
        if (oused[i]) *get_or_insert(ps, oslots[i].producer_id) = oslots[i];
    free(oslots);
    free(oused);
}

/* Backward-shift deletion keeps every probe chain unbroken. */
static void
remove_slot(sm_pstate_t *ps, size_t i)
{
    size_t mask = ps->cap - 1;
    ps->used[i] = 0;
    ps->n--;
    for (size_t j = (i + 1) & mask; ps->used[j]; j = (j + 1) & mask) {
        size_t home = hash_pid(ps->slots[j].producer_id, ps->cap);
        /* Move j into the hole i if its home does not lie in (i, j]. */
        int between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!between) {
            ps->slots[i] = ps->slots[j];
            ps->used[i] = 1;
            ps->used[j] = 0;
            i = j;
        }
    }
}

sm_err_t
sm_pstate_check(const sm_pstate_t *ps, int64_t pid, int16_t epoch, int32_t first_seq, int32_t last_seq,
                sm_pbatch_t *dup)
{
    const sm_pentry_t *e = sm_pstate_get(ps, pid);
    if (!e || e->epoch < 0) return SM_ERR_NONE;          /* unknown: any sequence (KIP-360) */
    if (epoch == e->epoch) {
        for (int k = 0; k < e->nbatches; k++) {
            const sm_pbatch_t *b = &e->batches[k];
            if (b->last_seq == last_seq && sm_pbatch_first_seq(b) == first_seq) {
                if (dup) *dup = *b;
                return SM_ERR_DUPLICATE_SEQUENCE_NUMBER;
            }
        }
    }
    if (epoch < e->epoch) return SM_ERR_INVALID_PRODUCER_EPOCH;
    if (epoch != e->epoch) return first_seq == 0 ? SM_ERR_NONE : SM_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
    int32_t cur = e->nbatches ? e->batches[e->nbatches - 1].last_seq : -1;
    return sm_pstate_in_sequence(cur, first_seq) ? SM_ERR_NONE : SM_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
}

void
sm_pstate_update(sm_pstate_t *ps, int64_t pid, int16_t epoch, const sm_pbatch_t *b)
{
    if (pid < 0) return;
    sm_pentry_t *e = get_or_insert(ps, pid);
    if (epoch < e->epoch) return;
    if (epoch != e->epoch) {
        e->epoch = epoch;
        e->nbatches = 0;
    }
    if (e->nbatches == SM_PSTATE_BATCHES) {
        memmove(e->batches, e->batches + 1, (SM_PSTATE_BATCHES - 1) * sizeof(*e->batches));
        e->nbatches--;
    }
    e->batches[e->nbatches++] = *b;
}

void
sm_pstate_put(sm_pstate_t *ps, const sm_pentry_t *src)
{
    sm_pentry_t *e = get_or_insert(ps, src->producer_id);
    *e = *src;
    if (e->nbatches < 0) e->nbatches = 0;
    if (e->nbatches > SM_PSTATE_BATCHES) e->nbatches = SM_PSTATE_BATCHES;
}

static int
cmp_entry(const void *a, const void *b)
{
    int64_t x = (*(const sm_pentry_t *const *)a)->producer_id, y = (*(const sm_pentry_t *const *)b)->producer_id;
    return x < y ? -1 : x > y;
}

void
sm_pstate_foreach(const sm_pstate_t *ps, void (*fn)(void *arg, const sm_pentry_t *e), void *arg)
{
    if (ps->n == 0) return;
    const sm_pentry_t **v = sm_malloc(ps->n * sizeof(*v));
    size_t k = 0;
    for (size_t i = 0; i < ps->cap; i++)
        if (ps->used[i]) v[k++] = &ps->slots[i];
    qsort(v, k, sizeof(*v), cmp_entry);
    for (size_t i = 0; i < k; i++) fn(arg, v[i]);
    free(v);
}

int
sm_pstate_expire(sm_pstate_t *ps, int64_t now_ms, int64_t max_age_ms)
{
    int removed = 0;
    for (size_t i = 0; i < ps->cap;) {
        if (ps->used[i]) {
            const sm_pentry_t *e = &ps->slots[i];
            int64_t ts = e->nbatches ? e->batches[e->nbatches - 1].timestamp : -1;
            if (now_ms - ts > max_age_ms) {
                remove_slot(ps, i);
                removed++;
                continue;            /* slot i may now hold a shifted entry */
            }
        }
        i++;
    }
    return removed;
}
