/*
 * sm_fetcher.c - replica fetcher threads (see sm_fetcher.h): per source
 * broker, one thread, one blocking socket, one Fetch (or
 * OffsetForLeaderEpoch) request in flight at a time.
 *
 * A fetcher's lock guards its partition table and is held while a
 * response is applied to the logs (like Kafka's partitionMapLock), never
 * during network I/O. So sm_fetcher_remove() waits for an append in
 * progress but not for a long poll. Each table entry has a generation that
 * changes whenever it is (re)added: a response for an older generation is
 * dropped, which keeps a stale in-flight answer from touching a partition
 * whose leader or epoch changed meanwhile.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "core/sm_arena.h"
#include "core/sm_buf.h"
#include "core/sm_log.h"
#include "core/sm_util.h"
#include "proto/sm_proto.h"
#include "proto/sm_proto_interbroker.h"
#include "proto/sm_records.h"
#include "repl/sm_fetcher.h"

#define LOGGER "samsa.server.ReplicaFetcherThread"
#define FETCH_VERSION 11
#define OFLE_VERSION 3
/* Largest response we accept: the response limit plus one oversized
 * first batch (KIP-74) and framing. */
#define MAX_RESPONSE(cfg) ((size_t)(cfg)->fetch_response_max_bytes + (64u << 20))

enum { ST_TRUNCATE, ST_FETCH };

typedef struct {
    sm_partition_t *p;               /* holds a reference */
    int32_t leader_epoch;
    int state;
    int64_t fetch_offset;
    int64_t delay_until;             /* mono ms */
    uint64_t gen;
    uint64_t sent_gen;               /* generation the in-flight request saw; 0 = not in it */
    int throttled;                   /* in the in-flight Fetch under the follower throttle */
} fpart_t;

typedef struct fetcher_s {
    sm_fetcher_mgr_t *fm;
    int32_t source;
    pthread_t th;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    fpart_t *parts;
    int n, cap;
    int stop;
    int fd;                          /* closed only by the thread, under lock */
    int32_t corr;
    sm_wbuf_t out;
    uint8_t *in;
    size_t incap;
    sm_arena_t arena;
    char prefix[96];
    int failing;                     /* connection failures since the last success */
    struct fetcher_s *next;
} fetcher_t;

struct sm_fetcher_mgr_s {
    sm_replica_mgr_t *rm;
    sm_fetcher_config_t cfg;
    pthread_mutex_t lock;            /* guards list; taken before a fetcher's lock */
    fetcher_t *list;
    uint64_t gen;
};

void
sm_fetcher_config_defaults(sm_fetcher_config_t *c)
{
    memset(c, 0, sizeof(*c));
    c->broker_id = -1;
    c->fetch_max_bytes = 1048576;
    c->fetch_response_max_bytes = 10485760;
    c->fetch_wait_max_ms = 500;
    c->fetch_min_bytes = 1;
    c->fetch_backoff_ms = 1000;
    c->socket_timeout_ms = 30000;
}

/* ---- socket helpers (fetcher thread only) ---- */

/* Connect with a timeout, giving up early once *stop is set. */
static int
connect_to(const char *host, int port, int timeout_ms, const int *stop)
{
    struct addrinfo hints = { 0 }, *res = NULL;
    char ports[16];
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(ports, sizeof(ports), "%d", port);
    if (getaddrinfo(host[0] ? host : "127.0.0.1", ports, &hints, &res) != 0) return -1;
    int fd = -1;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        if (fd < 0) continue;
        int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (rc < 0 && errno == EINPROGRESS) {
            struct pollfd pfd = { fd, POLLOUT, 0 };
            int err = 0, left = timeout_ms, ready = 0;
            socklen_t elen = sizeof(err);
            while (left > 0 && !ready && !__atomic_load_n(stop, __ATOMIC_RELAXED)) {
                ready = poll(&pfd, 1, SM_MIN(left, 200));
                if (ready < 0 && errno != EINTR) break;
                if (ready < 0) ready = 0;
                left -= 200;
            }
            rc = ready == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == 0 && !err ? 0 : -1;
        }
        if (rc < 0) { close(fd); fd = -1; }
    }
    freeaddrinfo(res);
    if (fd < 0) return -1;
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    return fd;
}

static int
send_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

static int
recv_all(int fd, uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t r = recv(fd, p, len, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        p += r;
        len -= (size_t)r;
    }
    return 0;
}

/* Send f->out (one framed request) and read the matching response; on
 * success *body is positioned after the response header. */
static int
exchange(fetcher_t *f, int16_t api, int16_t ver, sm_reader_t *body)
{
    uint8_t sz[4];
    if (send_all(f->fd, f->out.data, f->out.len) < 0 || recv_all(f->fd, sz, 4) < 0) return -1;
    uint32_t n = sm_be32(sz);
    if (n < 4 || n > MAX_RESPONSE(&f->fm->cfg)) return -1;
    if (n > f->incap) {
        free(f->in);
        f->incap = SM_MAX((size_t)n, (size_t)65536);
        f->in = sm_malloc(f->incap);
    }
    if (recv_all(f->fd, f->in, n) < 0) return -1;
    int32_t corr;
    sm_reader_init(body, f->in, n);
    if (sm_proto_decode_ResponseHeader(body, api, ver, &corr) < 0 || corr != f->corr) return -1;
    return 0;
}

/* Start a request in f->out; returns the frame mark for sm_proto_frame_end. */
static size_t
begin_request(fetcher_t *f, int16_t api, int16_t ver)
{
    char client[48];
    snprintf(client, sizeof(client), "broker-%d-fetcher-0", f->fm->cfg.broker_id);
    sm_req_hdr_t h = { 0 };
    h.api_key = api;
    h.api_version = ver;
    h.correlation_id = ++f->corr;
    h.client_id = SM_BYTES_STR(client);
    sm_wbuf_reset(&f->out);
    return sm_proto_request_begin(&f->out, &h);
}

/* Caller holds f->lock. */
static void
close_conn_locked(fetcher_t *f)
{
    if (f->fd >= 0) {
        close(f->fd);
        f->fd = -1;
    }
}

/* ---- partition table (caller holds f->lock) ---- */

static fpart_t *
find_part(fetcher_t *f, const char *topic, size_t tlen, int32_t partition)
{
    for (int i = 0; i < f->n; i++) {
        sm_partition_t *p = f->parts[i].p;
        if (p->partition == partition && strlen(p->topic) == tlen && !memcmp(p->topic, topic, tlen)) return &f->parts[i];
    }
    return NULL;
}

static int
remove_part(fetcher_t *f, sm_partition_t *p)
{
    for (int i = 0; i < f->n; i++)
        if (f->parts[i].p == p) {
            sm_partition_unref(p);
            f->parts[i] = f->parts[--f->n];
            return 1;
        }
    return 0;
}

static void
delay_part(fetcher_t *f, fpart_t *e)
{
    e->delay_until = sm_mono_ms() + f->fm->cfg.fetch_backoff_ms;
}

/* ---- truncation (KIP-101 / KIP-279) ---- */

static void
truncate_done(fetcher_t *f, fpart_t *e, int64_t target, const char *why)
{
    sm_plog_t *log = e->p->log;
    int64_t leo = sm_plog_log_end_offset(log);
    if (target < leo) {
        sm_log_info(LOGGER, "%s Truncating partition %s-%d to offset %lld (%s)", f->prefix, e->p->topic,
                    e->p->partition, (long long)target, why);
        sm_plog_truncate_to(log, target < 0 ? 0 : target);
    }
    e->state = ST_FETCH;
    e->fetch_offset = sm_plog_log_end_offset(log);
    e->delay_until = 0;
}

/* Apply one OffsetForLeaderEpoch answer (Kafka's getOffsetTruncationState). */
static void
apply_epoch_answer(fetcher_t *f, fpart_t *e, const sm_ofle_resp_part_t *r)
{
    sm_plog_t *log = e->p->log;
    int64_t leo = sm_plog_log_end_offset(log);
    if (r->error_code != SM_ERR_NONE) {
        sm_log_info(LOGGER, "%s Retrying leaderEpoch request for partition %s-%d as the leader reported an error: %s",
                    f->prefix, e->p->topic, e->p->partition, sm_err_name(r->error_code));
        delay_part(f, e);
        return;
    }
    if (r->end_offset < 0) {
        truncate_done(f, e, sm_plog_high_watermark(log), "leader has no end offset for our epoch: high watermark");
        return;
    }
    if (r->leader_epoch < 0) {
        truncate_done(f, e, SM_MIN(r->end_offset, leo), "leader end offset");
        return;
    }
    int32_t e2;
    int64_t o2;
    sm_plog_epoch_end_offset(log, r->leader_epoch, &e2, &o2);
    if (e2 == r->leader_epoch) {
        truncate_done(f, e, SM_MIN(SM_MIN(o2 < 0 ? leo : o2, r->end_offset), leo), "leader epoch end offset");
    } else if (o2 < 0) {
        truncate_done(f, e, sm_plog_high_watermark(log), "no common epoch: high watermark");
    } else {
        /* The leader's epoch is unknown here: cut back to where our own
         * earlier epoch ended and ask again with the epoch left. */
        int64_t target = SM_MIN(o2, leo);
        if (target >= leo) {
            truncate_done(f, e, leo, "no divergence");
            return;
        }
        sm_log_info(LOGGER, "%s Truncating partition %s-%d to offset %lld (leader epoch %d unknown locally); asking again",
                    f->prefix, e->p->topic, e->p->partition, (long long)target, r->leader_epoch);
        sm_plog_truncate_to(log, target);
    }
}

/* Build and run one OffsetForLeaderEpoch round. Called and returns with
 * f->lock held; drops it during I/O. Returns -1 on a connection error. */
static int
truncation_round(fetcher_t *f, int64_t now)
{
    int n = 0;
    for (int i = 0; i < f->n; i++) {
        fpart_t *e = &f->parts[i];
        e->sent_gen = 0;
        if (e->state != ST_TRUNCATE || e->delay_until > now) continue;
        if (sm_plog_latest_epoch(e->p->log) < 0) {
            /* No epoch history (old-format or empty log): pre-KIP-101 rule. */
            truncate_done(f, e, sm_plog_high_watermark(e->p->log), "no leader epoch history: high watermark");
            continue;
        }
        n++;
    }
    if (n == 0) return 0;
    sm_arena_reset(&f->arena);
    sm_offsetforleaderepoch_req_t req = { 0 };
    req.replica_id = f->fm->cfg.broker_id;
    req.topics = sm_arena_calloc(&f->arena, (size_t)n, sizeof(*req.topics));
    for (int i = 0; i < f->n; i++) {
        fpart_t *e = &f->parts[i];
        if (e->state != ST_TRUNCATE || e->delay_until > now) continue;
        sm_ofle_req_topic_t *t = &req.topics[req.n_topics++];
        t->topic = SM_BYTES_STR(e->p->topic);
        t->n_partitions = 1;
        t->partitions = sm_arena_calloc(&f->arena, 1, sizeof(*t->partitions));
        t->partitions[0].partition = e->p->partition;
        t->partitions[0].current_leader_epoch = e->leader_epoch;
        t->partitions[0].leader_epoch = sm_plog_latest_epoch(e->p->log);
        e->sent_gen = e->gen;
    }
    size_t at = begin_request(f, SM_API_OFFSETFORLEADEREPOCH, OFLE_VERSION);
    sm_proto_encode_OffsetForLeaderEpochRequest(&f->out, OFLE_VERSION, &req);
    sm_proto_frame_end(&f->out, at, 0);

    pthread_mutex_unlock(&f->lock);
    sm_reader_t r;
    sm_offsetforleaderepoch_resp_t resp;
    sm_arena_reset(&f->arena);
    int rc = exchange(f, SM_API_OFFSETFORLEADEREPOCH, OFLE_VERSION, &r);
    if (rc == 0 && sm_proto_decode_OffsetForLeaderEpochResponse(&r, OFLE_VERSION, &f->arena, &resp) < 0) rc = -1;
    pthread_mutex_lock(&f->lock);
    if (rc < 0) return -1;
    for (int32_t t = 0; t < resp.n_topics; t++)
        for (int32_t i = 0; i < resp.topics[t].n_partitions; i++) {
            const sm_ofle_resp_part_t *rp = &resp.topics[t].partitions[i];
            fpart_t *e = find_part(f, (const char *)resp.topics[t].topic.ptr, (size_t)resp.topics[t].topic.len,
                                   rp->partition);
            if (!e || e->sent_gen != e->gen || e->state != ST_TRUNCATE) continue;
            e->sent_gen = 0;
            apply_epoch_answer(f, e, rp);
        }
    return 0;
}

/* ---- fetching ---- */

/* Whether this broker is in p's ISR as last told by the controller. */
static int
self_in_isr(fetcher_t *f, sm_partition_t *p)
{
    int in = 0;
    pthread_mutex_lock(&p->lock);
    for (int32_t i = 0; i < p->nisr && !in; i++) in = p->isr[i] == f->fm->cfg.broker_id;
    pthread_mutex_unlock(&p->lock);
    return in;
}

/* Follower throttle (Kafka's shouldFollowerThrottle): sets e->throttled
 * for a throttled out-of-sync partition, and returns 1 (after pushing
 * e->delay_until to when the budget is back) if it sits this round out. */
static int
follower_throttle(fetcher_t *f, fpart_t *e, int64_t now)
{
    sm_throttle_t *t = f->fm->cfg.throttle;
    e->throttled = 0;
    if (!t || !sm_throttle_is_throttled(t, SM_THROTTLE_FOLLOWER, e->p->topic, strlen(e->p->topic), e->p->partition) ||
        self_in_isr(f, e->p))
        return 0;
    if (sm_throttle_exceeded(t, SM_THROTTLE_FOLLOWER)) {
        /* Re-check at least every second: the rate may be lifted. */
        e->delay_until = now + SM_MAX(SM_MIN(sm_throttle_wait_ms(t, SM_THROTTLE_FOLLOWER), (int64_t)1000), (int64_t)1);
        return 1;
    }
    e->throttled = 1;
    return 0;
}

/* Append the whole, CRC-valid batches of one partition's records. */
static void
apply_records(fetcher_t *f, fpart_t *e, const sm_fetch_resp_part_t *rp)
{
    uint8_t *buf = sm_bytes_mut(rp->records);
    size_t len = rp->records.len > 0 ? (size_t)rp->records.len : 0, pos = 0, start = 0;
    int corrupt = 0;
    sm_batch_hdr_t h;
    while (len - pos >= SM_BATCH_HEADER_SIZE) {
        if (sm_batch_header_decode(buf + pos, len - pos, &h) < 0 || h.batch_length < 0) { corrupt = 1; break; }
        if (sm_batch_size(&h) > len - pos) break;           /* partial trailing batch */
        if (sm_batch_check_crc(buf + pos, sm_batch_size(&h), &h) != SM_ERR_NONE) { corrupt = 1; break; }
        if (sm_batch_last_offset(&h) < e->fetch_offset) start = pos + sm_batch_size(&h);
        pos += sm_batch_size(&h);
    }
    if (corrupt)
        sm_log_warn(LOGGER, "%s Found invalid batch in the fetch response for %s-%d at offset %lld; appending what precedes it",
                    f->prefix, e->p->topic, e->p->partition, (long long)e->fetch_offset);
    size_t n = pos > start ? pos - start : 0;
    sm_err_t err = sm_replica_append_follower(f->fm->rm, e->p, n ? buf + start : NULL, n, rp->high_watermark,
                                              rp->log_start_offset);
    if (e->throttled) sm_throttle_record(f->fm->cfg.throttle, SM_THROTTLE_FOLLOWER, (int64_t)n);
    if (err == SM_ERR_NONE) {
        e->fetch_offset = sm_plog_log_end_offset(e->p->log);
        if (corrupt) delay_part(f, e);
    } else {
        sm_log_error(LOGGER, "%s Error appending fetched data of %s-%d at offset %lld: %s", f->prefix, e->p->topic,
                     e->p->partition, (long long)e->fetch_offset, sm_err_name(err));
        if (err == SM_ERR_CORRUPT_MESSAGE) e->state = ST_TRUNCATE;   /* offsets do not continue our log */
        delay_part(f, e);
    }
}

static void
apply_fetch_error(fetcher_t *f, fpart_t *e, const sm_fetch_resp_part_t *rp)
{
    sm_plog_t *log = e->p->log;
    if (rp->error_code == SM_ERR_OFFSET_OUT_OF_RANGE) {
        int64_t leo = sm_plog_log_end_offset(log);
        if (rp->log_start_offset >= 0 && leo < rp->log_start_offset) {
            /* Our whole log is below the leader's: start over at its log start. */
            sm_log_info(LOGGER, "%s Current offset %lld for partition %s-%d is out of range; resetting to the leader's log start offset %lld",
                        f->prefix, (long long)leo, e->p->topic, e->p->partition, (long long)rp->log_start_offset);
            if (sm_plog_truncate_fully_and_start_at(log, rp->log_start_offset) != SM_ERR_NONE) {
                delay_part(f, e);
                return;
            }
            e->fetch_offset = sm_plog_log_end_offset(log);
            return;
        }
        /* We are ahead of the leader (an unclean election, or our epoch
         * view is stale): find the divergence again. */
        e->state = ST_TRUNCATE;
        delay_part(f, e);
        return;
    }
    sm_log_info(LOGGER, "%s Error for partition %s-%d at offset %lld: %s", f->prefix, e->p->topic, e->p->partition,
                (long long)e->fetch_offset, sm_err_name(rp->error_code));
    if (rp->error_code == SM_ERR_UNKNOWN_LEADER_EPOCH || rp->error_code == SM_ERR_FENCED_LEADER_EPOCH)
        e->state = ST_TRUNCATE;
    delay_part(f, e);
}

/* Build and run one Fetch. Called and returns with f->lock held. */
static int
fetch_round(fetcher_t *f, int64_t now)
{
    const sm_fetcher_config_t *cfg = &f->fm->cfg;
    int n = 0;
    for (int i = 0; i < f->n; i++) {
        f->parts[i].sent_gen = 0;
        if (f->parts[i].state == ST_FETCH && f->parts[i].delay_until <= now && !follower_throttle(f, &f->parts[i], now))
            n++;
    }
    if (n == 0) return 0;
    sm_arena_reset(&f->arena);
    sm_fetch_req_t req = { 0 };
    req.replica_id = cfg->broker_id;
    req.max_wait_ms = cfg->fetch_wait_max_ms;
    req.min_bytes = cfg->fetch_min_bytes;
    req.max_bytes = cfg->fetch_response_max_bytes;
    req.isolation_level = 0;
    req.session_id = 0;
    req.session_epoch = -1;          /* sessionless: full fetch every time */
    req.rack_id = SM_BYTES_STR("");
    req.topics = sm_arena_calloc(&f->arena, (size_t)n, sizeof(*req.topics));
    for (int i = 0; i < f->n; i++) {
        fpart_t *e = &f->parts[i];
        if (e->state != ST_FETCH || e->delay_until > now) continue;
        sm_fetch_req_topic_t *t = &req.topics[req.n_topics++];
        t->topic = SM_BYTES_STR(e->p->topic);
        t->n_partitions = 1;
        t->partitions = sm_arena_calloc(&f->arena, 1, sizeof(*t->partitions));
        t->partitions[0].partition = e->p->partition;
        t->partitions[0].current_leader_epoch = e->leader_epoch;
        t->partitions[0].fetch_offset = e->fetch_offset;
        t->partitions[0].log_start_offset = sm_plog_log_start_offset(e->p->log);
        t->partitions[0].partition_max_bytes = cfg->fetch_max_bytes;
        e->sent_gen = e->gen;
    }
    size_t at = begin_request(f, SM_API_FETCH, FETCH_VERSION);
    sm_proto_encode_FetchRequest(&f->out, FETCH_VERSION, &req);
    sm_proto_frame_end(&f->out, at, 0);

    pthread_mutex_unlock(&f->lock);
    sm_reader_t r;
    sm_fetch_resp_t resp;
    sm_arena_reset(&f->arena);
    int rc = exchange(f, SM_API_FETCH, FETCH_VERSION, &r);
    if (rc == 0 && sm_proto_decode_FetchResponse(&r, FETCH_VERSION, &f->arena, &resp) < 0) rc = -1;
    pthread_mutex_lock(&f->lock);
    if (rc < 0) return -1;
    if (resp.error_code != SM_ERR_NONE) {
        sm_log_warn(LOGGER, "%s Fetch failed: %s", f->prefix, sm_err_name(resp.error_code));
        for (int i = 0; i < f->n; i++)
            if (f->parts[i].sent_gen) delay_part(f, &f->parts[i]);
        return 0;
    }
    for (int32_t t = 0; t < resp.n_topics; t++)
        for (int32_t i = 0; i < resp.topics[t].n_partitions; i++) {
            const sm_fetch_resp_part_t *rp = &resp.topics[t].partitions[i];
            fpart_t *e = find_part(f, (const char *)resp.topics[t].topic.ptr, (size_t)resp.topics[t].topic.len,
                                   rp->partition);
            if (!e || e->sent_gen != e->gen || e->state != ST_FETCH) continue;
            e->sent_gen = 0;
            if (rp->error_code == SM_ERR_NONE) apply_records(f, e, rp);
            else apply_fetch_error(f, e, rp);
        }
    return 0;
}

static void *
fetcher_main(void *arg)
{
    fetcher_t *f = arg;
    sm_fetcher_mgr_t *fm = f->fm;
    pthread_mutex_lock(&f->lock);
    while (!f->stop) {
        if (f->n == 0) {
            close_conn_locked(f);
            pthread_cond_wait(&f->cond, &f->lock);
            continue;
        }
        int64_t now = sm_mono_ms(), next_due = INT64_MAX;
        int ready = 0;
        for (int i = 0; i < f->n; i++) {
            if (f->parts[i].delay_until > now) next_due = SM_MIN(next_due, f->parts[i].delay_until);
            else ready = 1;
        }
        if (!ready) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            int64_t wait = SM_MIN(next_due - now, (int64_t)1000);
            ts.tv_sec += wait / 1000;
            ts.tv_nsec += (wait % 1000) * 1000000;
            if (ts.tv_nsec >= 1000000000) { ts.tv_sec++; ts.tv_nsec -= 1000000000; }
            pthread_cond_timedwait(&f->cond, &f->lock, &ts);
            continue;
        }
        if (f->fd < 0) {
            char host[256];
            int port = 0, fd = -1;
            pthread_mutex_unlock(&f->lock);
            if (fm->cfg.resolve && fm->cfg.resolve(fm->cfg.resolve_arg, f->source, host, sizeof(host), &port) == 0)
                fd = connect_to(host, port, fm->cfg.socket_timeout_ms, &f->stop);
            pthread_mutex_lock(&f->lock);
            if (fd >= 0 && f->stop) { close(fd); break; }
            if (fd < 0) {
                /* Once per outage at WARN; the retries every backoff at DEBUG. */
                if (f->failing++ == 0)
                    sm_log_warn(LOGGER, "%s Error connecting to leader %d; retrying every %d ms", f->prefix, f->source,
                                fm->cfg.fetch_backoff_ms);
                else
                    sm_log_debug(LOGGER, "%s Error connecting to leader %d (attempt %d)", f->prefix, f->source,
                                 f->failing);
                for (int i = 0; i < f->n; i++) delay_part(f, &f->parts[i]);
                continue;
            }
            f->fd = fd;
            if (f->failing)
                sm_log_info(LOGGER, "%s Connected to leader %d after %d failed attempts", f->prefix, f->source,
                            f->failing);
            f->failing = 0;
        }
        int rc = truncation_round(f, now);
        if (rc == 0) rc = fetch_round(f, sm_mono_ms());
        if (rc < 0) {
            if (!f->stop)
                sm_log_warn(LOGGER, "%s Error in fetch from leader %d: connection lost; retrying in %d ms", f->prefix,
                            f->source, fm->cfg.fetch_backoff_ms);
            close_conn_locked(f);
            for (int i = 0; i < f->n; i++) delay_part(f, &f->parts[i]);
        }
    }
    close_conn_locked(f);
    pthread_mutex_unlock(&f->lock);
    return NULL;
}

/* ---- manager ---- */

sm_fetcher_mgr_t *
sm_fetcher_mgr_new(sm_replica_mgr_t *rm, const sm_fetcher_config_t *cfg)
{
    sm_fetcher_mgr_t *fm = sm_calloc(1, sizeof(*fm));
    fm->rm = rm;
    fm->cfg = *cfg;
    if (fm->cfg.fetch_backoff_ms <= 0) fm->cfg.fetch_backoff_ms = 1000;
    if (fm->cfg.socket_timeout_ms <= 0) fm->cfg.socket_timeout_ms = 30000;
    pthread_mutex_init(&fm->lock, NULL);
    return fm;
}

static fetcher_t *
fetcher_new(sm_fetcher_mgr_t *fm, int32_t source)
{
    fetcher_t *f = sm_calloc(1, sizeof(*f));
    f->fm = fm;
    f->source = source;
    f->fd = -1;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&f->cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&f->lock, NULL);
    sm_wbuf_init(&f->out, 4096);
    sm_arena_init(&f->arena, 16384);
    snprintf(f->prefix, sizeof(f->prefix), "[ReplicaFetcher replicaId=%d, leaderId=%d, fetcherId=0]", fm->cfg.broker_id,
             source);
    if (pthread_create(&f->th, NULL, fetcher_main, f) != 0) {
        sm_log_error(LOGGER, "%s Cannot start fetcher thread", f->prefix);
        abort();
    }
    sm_log_info(LOGGER, "%s Starting", f->prefix);
    f->next = fm->list;
    fm->list = f;
    return f;
}

void
sm_fetcher_mgr_free(sm_fetcher_mgr_t *fm)
{
    if (!fm) return;
    for (fetcher_t *f = fm->list, *next; f; f = next) {
        next = f->next;
        pthread_mutex_lock(&f->lock);
        __atomic_store_n(&f->stop, 1, __ATOMIC_RELAXED);
        if (f->fd >= 0) shutdown(f->fd, SHUT_RDWR);   /* unblock a long poll */
        pthread_cond_broadcast(&f->cond);
        pthread_mutex_unlock(&f->lock);
        pthread_join(f->th, NULL);
        for (int i = 0; i < f->n; i++) sm_partition_unref(f->parts[i].p);
        free(f->parts);
        free(f->in);
        sm_wbuf_free(&f->out);
        sm_arena_free(&f->arena);
        pthread_cond_destroy(&f->cond);
        pthread_mutex_destroy(&f->lock);
        sm_log_info(LOGGER, "%s Stopped", f->prefix);
        free(f);
    }
    pthread_mutex_destroy(&fm->lock);
    free(fm);
}

void
sm_fetcher_add(sm_fetcher_mgr_t *fm, sm_partition_t *p, int32_t leader_id, int32_t leader_epoch)
{
    pthread_mutex_lock(&fm->lock);
    fetcher_t *target = NULL;
    for (fetcher_t *f = fm->list; f; f = f->next) {
        if (f->source == leader_id) { target = f; continue; }
        pthread_mutex_lock(&f->lock);
        remove_part(f, p);
        pthread_mutex_unlock(&f->lock);
    }
    if (!target) target = fetcher_new(fm, leader_id);
    pthread_mutex_lock(&target->lock);
    fpart_t *e = NULL;
    for (int i = 0; i < target->n; i++)
        if (target->parts[i].p == p) e = &target->parts[i];
    if (!e || e->leader_epoch != leader_epoch) {
        if (!e) {
            if (target->n == target->cap) {
                target->cap = target->cap ? 2 * target->cap : 16;
                target->parts = sm_realloc(target->parts, (size_t)target->cap * sizeof(*target->parts));
            }
            e = &target->parts[target->n++];
            memset(e, 0, sizeof(*e));
            e->p = p;
            __atomic_add_fetch(&p->refs, 1, __ATOMIC_RELAXED);
        }
        e->leader_epoch = leader_epoch;
        e->state = ST_TRUNCATE;
        e->fetch_offset = sm_plog_log_end_offset(p->log);
        e->delay_until = 0;
        e->gen = ++fm->gen;
        e->sent_gen = 0;
        sm_log_info(LOGGER, "%s Added partition %s-%d with leader epoch %d, log end offset %lld", target->prefix,
                    p->topic, p->partition, leader_epoch, (long long)e->fetch_offset);
        pthread_cond_broadcast(&target->cond);
    }
    pthread_mutex_unlock(&target->lock);
    pthread_mutex_unlock(&fm->lock);
}

void
sm_fetcher_remove(sm_fetcher_mgr_t *fm, sm_partition_t *p)
{
    pthread_mutex_lock(&fm->lock);
    for (fetcher_t *f = fm->list; f; f = f->next) {
        pthread_mutex_lock(&f->lock);
        if (remove_part(f, p))
            sm_log_info(LOGGER, "%s Removed partition %s-%d", f->prefix, p->topic, p->partition);
        pthread_mutex_unlock(&f->lock);
    }
    pthread_mutex_unlock(&fm->lock);
}

int
sm_fetcher_count(sm_fetcher_mgr_t *fm)
{
    int n = 0;
    pthread_mutex_lock(&fm->lock);
    for (fetcher_t *f = fm->list; f; f = f->next) {
        pthread_mutex_lock(&f->lock);
        n += f->n;
        pthread_mutex_unlock(&f->lock);
    }
    pthread_mutex_unlock(&fm->lock);
    return n;
}
