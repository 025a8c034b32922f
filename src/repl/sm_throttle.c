/*
 * sm_throttle.c - replication throttle token buckets and the registry of
 * throttled partitions (see sm_throttle.h).
 *
 * The registry keeps, per topic, only the partitions whose list entries
 * name this broker (sorted, for a binary search), so a lookup on the fetch
 * path is a hash probe and a search under a read lock. Topics arrive
 * through sm_throttle_set_topic() (config notifications, or the owner's
 * loader after a miss or when an entry is older than refresh_ms).
 */
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "core/sm_util.h"
#include "repl/sm_throttle.h"

/* Rates above this are "unlimited" (Kafka's default is Long.MaxValue);
 * it also keeps rate * 1000 far from overflowing. */
#define MAX_RATE 1000000000000LL

/* ---- token bucket ---- */

static int64_t
norm_rate(int64_t rate)
{
    return rate <= 0 || rate > MAX_RATE ? 0 : rate;
}

static void
refill(sm_tbucket_t *b, int64_t now_ms)
{
    if (now_ms <= b->last_ms) return;   /* the clock is monotonic; a stale caller adds nothing */
    int64_t cap = b->rate * 1000, dt = now_ms - b->last_ms;
    b->last_ms = now_ms;
    if (b->rate == 0) return;
    /* Compare before multiplying: a long idle gap would overflow. */
    int64_t need = cap - b->milli;
    if (dt > need / b->rate) b->milli = cap;
    else b->milli += b->rate * dt;
}

void
sm_tbucket_init(sm_tbucket_t *b, int64_t rate, int64_t now_ms)
{
    b->rate = norm_rate(rate);
    b->milli = b->rate * 1000;
    b->last_ms = now_ms;
}

void
sm_tbucket_set_rate(sm_tbucket_t *b, int64_t rate, int64_t now_ms)
{
    rate = norm_rate(rate);
    if (rate == b->rate) return;
    if (b->rate == 0) {
        sm_tbucket_init(b, rate, now_ms);
        return;
    }
    refill(b, now_ms);
    b->rate = rate;
    if (rate == 0) b->milli = 0;
    else if (b->milli > rate * 1000) b->milli = rate * 1000;
}

int
sm_tbucket_exhausted(sm_tbucket_t *b, int64_t now_ms)
{
    if (b->rate == 0) return 0;
    refill(b, now_ms);
    return b->milli <= 0;
}

void
sm_tbucket_consume(sm_tbucket_t *b, int64_t bytes, int64_t now_ms)
{
    if (b->rate == 0 || bytes <= 0) return;
    refill(b, now_ms);
    if (bytes > INT64_MAX / 2000) bytes = INT64_MAX / 2000;
    b->milli -= bytes * 1000;
    if (b->milli < INT64_MIN / 4) b->milli = INT64_MIN / 4;
}

int64_t
sm_tbucket_wait_ms(sm_tbucket_t *b, int64_t now_ms)
{
    if (b->rate == 0) return 0;
    refill(b, now_ms);
    if (b->milli > 0) return 0;
    /* Smallest dt with milli + rate * dt > 0. */
    return (-b->milli) / b->rate + 1;
}

/* ---- list parsing ---- */

/* One list item s[0..n): 1 for "*", 2 for "p:b" (decimal, spaces around
 * either number allowed) with *p and *b set, 0 for anything else. */
static int
parse_item(const char *s, size_t n, int64_t *p, int64_t *b)
{
    char buf[48];
    while (n > 0 && isspace((unsigned char)*s)) { s++; n--; }
    while (n > 0 && isspace((unsigned char)s[n - 1])) n--;
    if (n == 1 && *s == '*') return 1;
    if (n == 0 || n >= sizeof(buf)) return 0;
    memcpy(buf, s, n);
    buf[n] = 0;
    char *colon = strchr(buf, ':');
    if (!colon) return 0;
    *colon = 0;
    char *ps = buf, *bs = colon + 1, *q;
    for (q = colon - 1; q >= buf && isspace((unsigned char)*q); q--) *q = 0;
    while (isspace((unsigned char)*bs)) bs++;
    return sm_parse_i64(ps, p) == 0 && sm_parse_i64(bs, b) == 0 ? 2 : 0;
}

/* Call fn for each item of a comma list; stops when fn returns non-zero. */
static int
each_item(const char *list, int (*fn)(void *arg, int kind, int64_t p, int64_t b), void *arg)
{
    for (const char *s = list; s && *s;) {
        const char *end = strchr(s, ',');
        if (!end) end = s + strlen(s);
        int64_t p = 0, b = 0;
        int kind = parse_item(s, (size_t)(end - s), &p, &b);
        if (kind && fn(arg, kind, p, b)) return 1;
        s = *end ? end + 1 : end;
    }
    return 0;
}

typedef struct { int32_t partition, broker; } match_arg_t;

static int
match_item(void *arg, int kind, int64_t p, int64_t b)
{
    match_arg_t *m = arg;
    return kind == 1 || (p == m->partition && b == m->broker);
}

int
sm_throttle_list_match(const char *list, int32_t partition, int32_t broker)
{
    match_arg_t m = { partition, broker };
    return each_item(list, match_item, &m);
}

/* ---- registry ---- */

#define BUCKETS 256

typedef struct {
    int all;                         /* "*" */
    int32_t n, *parts;               /* sorted partitions naming this broker */
} plist_t;

typedef struct tentry_s {
    char *topic;
    size_t len;
    plist_t side[2];
    int64_t loaded_ms;               /* 0: placeholder, never loaded */
    int pending;                     /* a load was requested (atomic) */
    struct tentry_s *next;
} tentry_t;

struct sm_throttle_s {
    int32_t broker_id;
    int64_t (*clock)(void);
    sm_throttle_load_fn load;
    void *load_arg;
    int64_t refresh_ms;
    pthread_rwlock_t lock;           /* guards the table */
    tentry_t *table[BUCKETS];
    pthread_mutex_t qlock;           /* guards the buckets */
    sm_tbucket_t bucket[2];
    sm_throttle_rates_fn rates_fn;
    void *rates_arg;
};

static uint32_t
hash_topic(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) { h ^= (uint8_t)s[i]; h *= 16777619u; }
    return h % BUCKETS;
}

sm_throttle_t *
sm_throttle_new(int32_t broker_id, int64_t (*clock)(void), sm_throttle_load_fn load, void *load_arg,
                int64_t refresh_ms)
{
    sm_throttle_t *t = sm_calloc(1, sizeof(*t));
    t->broker_id = broker_id;
    t->clock = clock ? clock : sm_mono_ms;
    t->load = load;
    t->load_arg = load_arg;
    t->refresh_ms = refresh_ms;
    pthread_rwlock_init(&t->lock, NULL);
    pthread_mutex_init(&t->qlock, NULL);
    int64_t now = t->clock();
    sm_tbucket_init(&t->bucket[0], 0, now);
    sm_tbucket_init(&t->bucket[1], 0, now);
    return t;
}

static void
entry_free(tentry_t *e)
{
    free(e->side[0].parts);
    free(e->side[1].parts);
    free(e->topic);
    free(e);
}

void
sm_throttle_free(sm_throttle_t *t)
{
    if (!t) return;
    for (int i = 0; i < BUCKETS; i++)
        for (tentry_t *e = t->table[i], *next; e; e = next) {
            next = e->next;
            entry_free(e);
        }
    pthread_rwlock_destroy(&t->lock);
    pthread_mutex_destroy(&t->qlock);
    free(t);
}

void
sm_throttle_set_rates_fn(sm_throttle_t *t, sm_throttle_rates_fn fn, void *arg)
{
    pthread_mutex_lock(&t->qlock);
    t->rates_fn = fn;
    t->rates_arg = arg;
    pthread_mutex_unlock(&t->qlock);
}

/* Caller holds qlock: follow the rate source, if any. */
static void
sync_rates_locked(sm_throttle_t *t, int64_t now)
{
    if (!t->rates_fn) return;
    int64_t l = 0, f = 0;
    t->rates_fn(t->rates_arg, &l, &f);
    sm_tbucket_set_rate(&t->bucket[SM_THROTTLE_LEADER], l, now);
    sm_tbucket_set_rate(&t->bucket[SM_THROTTLE_FOLLOWER], f, now);
}

void
sm_throttle_set_rates(sm_throttle_t *t, int64_t leader_rate, int64_t follower_rate)
{
    if (!t) return;
    int64_t now = t->clock();
    pthread_mutex_lock(&t->qlock);
    sm_tbucket_set_rate(&t->bucket[SM_THROTTLE_LEADER], leader_rate, now);
    sm_tbucket_set_rate(&t->bucket[SM_THROTTLE_FOLLOWER], follower_rate, now);
    pthread_mutex_unlock(&t->qlock);
}

int64_t
sm_throttle_rate(sm_throttle_t *t, sm_throttle_side_t side)
{
    if (!t) return 0;
    pthread_mutex_lock(&t->qlock);
    sync_rates_locked(t, t->clock());
    int64_t r = t->bucket[side].rate;
    pthread_mutex_unlock(&t->qlock);
    return r;
}

static int
cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return x < y ? -1 : x > y;
}

typedef struct { plist_t *pl; int cap; int32_t broker; } collect_arg_t;

static int
collect_item(void *arg, int kind, int64_t p, int64_t b)
{
    collect_arg_t *c = arg;
    plist_t *pl = c->pl;
    if (kind == 1) {
        pl->all = 1;
        return 0;
    }
    if (b != c->broker || p < 0 || p > INT32_MAX) return 0;
    if (pl->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 8;
        pl->parts = sm_realloc(pl->parts, (size_t)c->cap * sizeof(int32_t));
    }
    pl->parts[pl->n++] = (int32_t)p;
    return 0;
}

/* Parse list into the partitions naming broker. */
static void
plist_parse(plist_t *pl, const char *list, int32_t broker)
{
    memset(pl, 0, sizeof(*pl));
    collect_arg_t c = { pl, 0, broker };
    each_item(list, collect_item, &c);
    if (pl->n > 1) qsort(pl->parts, (size_t)pl->n, sizeof(int32_t), cmp_i32);
}

static tentry_t *
find_locked(sm_throttle_t *t, const char *topic, size_t len)
{
    for (tentry_t *e = t->table[hash_topic(topic, len)]; e; e = e->next)
        if (e->len == len && !memcmp(e->topic, topic, len)) return e;
    return NULL;
}

void
sm_throttle_set_topic(sm_throttle_t *t, const char *topic, const char *leader_list, const char *follower_list)
{
    if (!t) return;
    plist_t pl[2];
    plist_parse(&pl[0], leader_list, t->broker_id);
    plist_parse(&pl[1], follower_list, t->broker_id);
    size_t len = strlen(topic);
    pthread_rwlock_wrlock(&t->lock);
    tentry_t *e = find_locked(t, topic, len);
    if (!e) {
        e = sm_calloc(1, sizeof(*e));
        e->topic = sm_strdup(topic);
        e->len = len;
        uint32_t h = hash_topic(topic, len);
        e->next = t->table[h];
        t->table[h] = e;
    }
    free(e->side[0].parts);
    free(e->side[1].parts);
    e->side[0] = pl[0];
    e->side[1] = pl[1];
    e->loaded_ms = t->clock();
    if (e->loaded_ms == 0) e->loaded_ms = 1;
    __atomic_store_n(&e->pending, 0, __ATOMIC_RELAXED);
    pthread_rwlock_unlock(&t->lock);
}

void
sm_throttle_forget_topic(sm_throttle_t *t, const char *topic)
{
    if (!t) return;
    size_t len = strlen(topic);
    pthread_rwlock_wrlock(&t->lock);
    for (tentry_t **pp = &t->table[hash_topic(topic, len)]; *pp; pp = &(*pp)->next) {
        tentry_t *e = *pp;
        if (e->len != len || memcmp(e->topic, topic, len)) continue;
        *pp = e->next;
        entry_free(e);
        break;
    }
    pthread_rwlock_unlock(&t->lock);
}

static int
plist_has(const plist_t *pl, int32_t partition)
{
    if (pl->all) return 1;
    int lo = 0, hi = pl->n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (pl->parts[mid] == partition) return 1;
        if (pl->parts[mid] < partition) lo = mid + 1;
        else hi = mid - 1;
    }
    return 0;
}

int
sm_throttle_is_throttled(sm_throttle_t *t, sm_throttle_side_t side, const char *topic, size_t topic_len,
                         int32_t partition)
{
    if (!t || topic_len == 0 || topic_len > 255) return 0;
    int hit = 0, want_load = 0;
    pthread_rwlock_rdlock(&t->lock);
    tentry_t *e = find_locked(t, topic, topic_len);
    if (e) {
        hit = plist_has(&e->side[side], partition);
        if (t->load && t->refresh_ms > 0 && e->loaded_ms > 0 && t->clock() - e->loaded_ms > t->refresh_ms)
            want_load = __atomic_exchange_n(&e->pending, 1, __ATOMIC_RELAXED) == 0;
    }
    pthread_rwlock_unlock(&t->lock);
    if (!e && t->load) {
        /* First sight of the topic: a placeholder (nothing throttled) so
         * the load is requested once, not on every fetch. */
        pthread_rwlock_wrlock(&t->lock);
        if (!find_locked(t, topic, topic_len)) {
            tentry_t *n = sm_calloc(1, sizeof(*n));
            n->topic = sm_strndup(topic, topic_len);
            n->len = topic_len;
            n->pending = 1;
            uint32_t h = hash_topic(topic, topic_len);
            n->next = t->table[h];
            t->table[h] = n;
            want_load = 1;
        }
        pthread_rwlock_unlock(&t->lock);
    }
    if (want_load) {
        char name[256];
        memcpy(name, topic, topic_len);
        name[topic_len] = 0;
        t->load(t->load_arg, name);
    }
    return hit && sm_throttle_rate(t, side) > 0;
}

int
sm_throttle_exceeded(sm_throttle_t *t, sm_throttle_side_t side)
{
    if (!t) return 0;
    int64_t now = t->clock();
    pthread_mutex_lock(&t->qlock);
    sync_rates_locked(t, now);
    int x = sm_tbucket_exhausted(&t->bucket[side], now);
    pthread_mutex_unlock(&t->qlock);
    return x;
}

void
sm_throttle_record(sm_throttle_t *t, sm_throttle_side_t side, int64_t bytes)
{
    if (!t || bytes <= 0) return;
    int64_t now = t->clock();
    pthread_mutex_lock(&t->qlock);
    sync_rates_locked(t, now);
    sm_tbucket_consume(&t->bucket[side], bytes, now);
    pthread_mutex_unlock(&t->qlock);
}

int64_t
sm_throttle_wait_ms(sm_throttle_t *t, sm_throttle_side_t side)
{
    if (!t) return 0;
    int64_t now = t->clock();
    pthread_mutex_lock(&t->qlock);
    sync_rates_locked(t, now);
    int64_t w = sm_tbucket_wait_ms(&t->bucket[side], now);
    pthread_mutex_unlock(&t->qlock);
    return w;
}
