/*
 * check_net.c - unit tests for src/net: a real socket server on 127.0.0.1
 * with an in-process handler, driven by plain blocking client sockets.
 *
 * The handler picks its behaviour from the first byte of each frame:
 *   'E' echo now          'P' echo after two sm_net_post hops
 *   'T' echo from a timer 'F' header + file region + trailer
 *   'N' no response       'C' sm_conn_close
 *   'W' hold the request until the connection is closed, then respond
 * so every test speaks the same tiny protocol. Waits are "until a condition
 * holds" with a generous cap, never fixed sleeps.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include "core/sm_log.h"
#include "core/sm_util.h"
#include "net/sm_net.h"
#include "sm_test.h"

static sm_file_t *g_file;
static int g_closed_done;       /* 'W' requests that saw the close */
static int g_timer_done;        /* 'T' requests answered */

typedef struct {
    sm_conn_t *c;
    const uint8_t *frame;
    size_t len;
    struct event *ev;
    int hops;
} defer_t;

static void
respond_echo(sm_conn_t *c, const uint8_t *frame, size_t len)
{
    sm_resp_t *r = sm_resp_new();
    sm_write_raw(sm_resp_wbuf(r), frame, len);
    sm_conn_respond(c, r);
}

static void
post_hop(void *arg)
{
    defer_t *d = arg;
    if (--d->hops > 0) {
        sm_net_post(sm_conn_base(d->c), post_hop, d);
        return;
    }
    respond_echo(d->c, d->frame, d->len);
    sm_conn_unref(d->c);
    free(d);
}

static void
timer_fire(evutil_socket_t fd, short what, void *arg)
{
    defer_t *d = arg;
    respond_echo(d->c, d->frame, d->len);
    event_free(d->ev);
    sm_conn_unref(d->c);
    free(d);
    __atomic_add_fetch(&g_timer_done, 1, __ATOMIC_SEQ_CST);
}

static void
wait_close_fire(evutil_socket_t fd, short what, void *arg)
{
    defer_t *d = arg;
    if (!sm_conn_closed(d->c)) {
        struct timeval tv = { 0, 2000 };
        event_add(d->ev, &tv);
        return;
    }
    /* The frame must still be readable: we hold a reference. */
    ck_assert_int_eq(d->frame[0], 'W');
    respond_echo(d->c, d->frame, d->len);   /* freed: connection is closed */
    event_free(d->ev);
    sm_conn_unref(d->c);
    free(d);
    __atomic_add_fetch(&g_closed_done, 1, __ATOMIC_SEQ_CST);
}

static void
on_request(sm_conn_t *c, const uint8_t *frame, size_t len, void *opaque)
{
    defer_t *d;
    struct timeval tv = { 0, 10000 };

    switch (frame[0]) {
    case 'E':
        respond_echo(c, frame, len);
        break;
    case 'P':
        d = sm_calloc(1, sizeof(*d));
        d->c = sm_conn_ref(c);
        d->frame = frame;
        d->len = len;
        d->hops = 2;
        sm_net_post(sm_conn_base(c), post_hop, d);
        break;
    case 'T':
    case 'W':
        d = sm_calloc(1, sizeof(*d));
        d->c = sm_conn_ref(c);
        d->frame = frame;
        d->len = len;
        d->ev = evtimer_new(sm_conn_base(c), frame[0] == 'T' ? timer_fire : wait_close_fire, d);
        event_add(d->ev, &tv);
        break;
    case 'F': {
        /* 'F' pos(be32) len(be32) */
        sm_resp_t *r = sm_resp_new();
        sm_write_raw(sm_resp_wbuf(r), "HDR", 3);
        sm_resp_add_file(r, g_file, sm_be32(frame + 1), sm_be32(frame + 5));
        sm_write_raw(sm_resp_wbuf(r), "TRL", 3);
        ck_assert_uint_eq(sm_resp_len(r), 6 + sm_be32(frame + 5));
        sm_conn_respond(c, r);
        break;
    }
    case 'N':
        sm_conn_no_response(c);
        break;
    case 'C':
        sm_conn_close(c, "test asked to close");
        break;
    default:
        sm_conn_close(c, "unknown test command");
    }
}

static sm_net_t *
start_server(int threads, int port, char *err, size_t errlen)
{
    sm_net_config_t cfg = {
        .host = "127.0.0.1", .port = port, .num_threads = threads,
        .max_request_bytes = 16 * 1024 * 1024, .sndbuf = -1, .rcvbuf = -1,
        .on_request = on_request, .opaque = NULL,
    };
    return sm_net_start(&cfg, err, errlen);
}

static sm_net_t *
start_ok(int threads)
{
    char err[256] = "";
    sm_net_t *n = start_server(threads, 0, err, sizeof(err));
    ck_assert_msg(n != NULL, "start failed: %s", err);
    ck_assert_int_gt(sm_net_port(n), 0);
    return n;
}

static int
cli_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct timeval tv = { 30, 0 };   /* a hang fails the test instead of blocking it */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

static void
send_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        ck_assert_int_gt(w, 0);
        b += w;
        n -= (size_t)w;
    }
}

/* Read exactly n bytes; returns n, or what was read before EOF/error. */
static size_t
recv_all(int fd, void *p, size_t n)
{
    uint8_t *b = p;
    size_t got = 0;
    while (got < n) {
        ssize_t r = recv(fd, b + got, n - got, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    return got;
}

static void
send_frame(int fd, const void *payload, size_t len)
{
    uint8_t hdr[4];
    sm_put_be32(hdr, (uint32_t)len);
    send_all(fd, hdr, 4);
    send_all(fd, payload, len);
}

/* Receive one response frame into a fresh buffer; NULL on EOF. */
static uint8_t *
recv_frame(int fd, size_t *len)
{
    uint8_t hdr[4];
    if (recv_all(fd, hdr, 4) != 4)
        return NULL;
    *len = sm_be32(hdr);
    uint8_t *b = sm_malloc(*len ? *len : 1);
    if (recv_all(fd, b, *len) != *len) {
        free(b);
        return NULL;
    }
    return b;
}

/* The server closed this connection: EOF (or reset) with no more data. */
static void
expect_eof(int fd)
{
    uint8_t b[64];
    ssize_t r;
    do {
        r = recv(fd, b, sizeof(b), 0);
    } while (r < 0 && errno == EINTR);
    ck_assert_msg(r == 0 || (r < 0 && errno == ECONNRESET), "expected EOF, got %zd (errno %d)", r, errno);
}

static void
echo_roundtrip(int fd, const char *msg)
{
    size_t len = 0;
    send_frame(fd, msg, strlen(msg));
    uint8_t *got = recv_frame(fd, &len);
    ck_assert_ptr_nonnull(got);
    ck_assert_uint_eq(len, strlen(msg));
    ck_assert_int_eq(memcmp(got, msg, len), 0);
    free(got);
}

static void
wait_for(int *counter, int value)
{
    for (int i = 0; i < 30000 && __atomic_load_n(counter, __ATOMIC_SEQ_CST) < value; i++)
        usleep(1000);
    ck_assert_int_ge(__atomic_load_n(counter, __ATOMIC_SEQ_CST), value);
}

START_TEST(t_single)
{
    sm_net_t *n = start_ok(2);
    int fd = cli_connect(sm_net_port(n));
    echo_roundtrip(fd, "Ehello, samsa");
    echo_roundtrip(fd, "Esecond request on the same connection");
    close(fd);
    sm_net_stop(n);
}
END_TEST

#define NPIPE 1000

typedef struct { int fd; } writer_arg_t;

static void
make_pipe_frame(int i, uint8_t *buf, size_t *len)
{
    /* Alternate deferred and immediate answers so a reordering bug shows. */
    *len = 12 + (size_t)(i % 37);
    memset(buf, 'a' + i % 26, *len);
    buf[0] = (i % 3 == 0) ? 'E' : 'P';
    sm_put_be32(buf + 4, (uint32_t)i);
}

static void *
pipe_writer(void *arg)
{
    writer_arg_t *wa = arg;
    uint8_t buf[64];
    size_t len;
    for (int i = 0; i < NPIPE; i++) {
        make_pipe_frame(i, buf, &len);
        send_frame(wa->fd, buf, len);
    }
    return NULL;
}

START_TEST(t_pipelined)
{
    sm_net_t *n = start_ok(2);
    int fd = cli_connect(sm_net_port(n));
    writer_arg_t wa = { fd };
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, pipe_writer, &wa), 0);
    for (int i = 0; i < NPIPE; i++) {
        uint8_t want[64];
        size_t wlen, len;
        make_pipe_frame(i, want, &wlen);
        uint8_t *got = recv_frame(fd, &len);
        ck_assert_msg(got != NULL, "EOF at response %d", i);
        ck_assert_uint_eq(len, wlen);
        ck_assert_msg(memcmp(got, want, len) == 0, "response %d out of order (got seq %u)",
                      i, sm_be32(got + 4));
        free(got);
    }
    pthread_join(th, NULL);
    close(fd);
    sm_net_stop(n);
}
END_TEST

START_TEST(t_bad_sizes)
{
    char logpath[] = "/tmp/check_net_log_XXXXXX";
    int lfd = mkstemp(logpath);
    ck_assert_int_ge(lfd, 0);
    close(lfd);
    ck_assert_int_eq(sm_log_open(logpath), 0);

    sm_net_t *n = start_ok(2);
    int good = cli_connect(sm_net_port(n));
    echo_roundtrip(good, "Ebefore-all");

    /* Oversized: closed before the server allocates 2 GB. */
    int big = cli_connect(sm_net_port(n));
    uint8_t hdr[4];
    sm_put_be32(hdr, 2000000000u);
    send_all(big, hdr, 4);
    send_all(big, "Exxxxxxx", 8);
    expect_eof(big);
    close(big);

    /* Undersized and negative sizes. */
    int32_t bad[] = { 3, 0, -1, 16 * 1024 * 1024 + 1 };
    for (size_t i = 0; i < SM_ARRAY_SIZE(bad); i++) {
        int fd = cli_connect(sm_net_port(n));
        sm_put_be32(hdr, (uint32_t)bad[i]);
        send_all(fd, hdr, 4);
        expect_eof(fd);
        close(fd);
    }
    /* A bad size behind a good pipelined frame: the good one is answered. */
    int mix = cli_connect(sm_net_port(n));
    uint8_t two[4 + 8 + 4];
    sm_put_be32(two, 8);
    memcpy(two + 4, "Epipe-ok", 8);
    sm_put_be32(two + 12, 0x7fffffff);
    send_all(mix, two, sizeof(two));
    size_t len;
    uint8_t *got = recv_frame(mix, &len);
    ck_assert_ptr_nonnull(got);
    ck_assert_int_eq(memcmp(got, "Epipe-ok", 8), 0);
    free(got);
    expect_eof(mix);
    close(mix);

    echo_roundtrip(good, "Eafter: other connections are unaffected");
    close(good);
    sm_net_stop(n);

    sm_log_open(NULL);
    size_t loglen;
    char *log = sm_read_file(logpath, 1 << 20, &loglen);
    ck_assert_ptr_nonnull(log);
    ck_assert_msg(strstr(log, "request size 2000000000 exceeds socket.request.max.bytes 16777216") != NULL,
                  "missing WARN line in log:\n%s", log);
    ck_assert_ptr_nonnull(strstr(log, "WARN [SocketServer listenerType=ZK_BROKER, nodeId="));
    ck_assert_ptr_nonnull(strstr(log, "(samsa.network)"));
    ck_assert_ptr_nonnull(strstr(log, "Closing connection from 127.0.0.1:"));
    free(log);
    unlink(logpath);
}
END_TEST

START_TEST(t_split_bytes)
{
    sm_net_t *n = start_ok(1);
    int fd = cli_connect(sm_net_port(n));
    const char *msgs[] = { "Efirst frame, one byte at a time", "Psecond (deferred)", "Ethird frame" };
    uint8_t wire[256];
    size_t wl = 0;
    for (int i = 0; i < 3; i++) {
        size_t l = strlen(msgs[i]);
        sm_put_be32(wire + wl, (uint32_t)l);
        memcpy(wire + wl + 4, msgs[i], l);
        wl += 4 + l;
    }
    for (size_t i = 0; i < wl; i++)
        send_all(fd, wire + i, 1);
    for (int i = 0; i < 3; i++) {
        size_t len;
        uint8_t *got = recv_frame(fd, &len);
        ck_assert_ptr_nonnull(got);
        ck_assert_uint_eq(len, strlen(msgs[i]));
        ck_assert_int_eq(memcmp(got, msgs[i], len), 0);
        free(got);
    }
    close(fd);
    sm_net_stop(n);
}
END_TEST

/* A frame cut at every byte, then EOF: no response, no crash. */
START_TEST(t_truncated_frames)
{
    sm_net_t *n = start_ok(2);
    const char *msg = "Etruncate me";
    uint8_t wire[64];
    size_t wl = 4 + strlen(msg);
    sm_put_be32(wire, (uint32_t)strlen(msg));
    memcpy(wire + 4, msg, strlen(msg));
    for (size_t cut = 0; cut < wl; cut++) {
        int fd = cli_connect(sm_net_port(n));
        if (cut)
            send_all(fd, wire, cut);
        shutdown(fd, SHUT_WR);
        expect_eof(fd);
        close(fd);
    }
    int fd = cli_connect(sm_net_port(n));
    echo_roundtrip(fd, "Estill alive");
    close(fd);
    sm_net_stop(n);
}
END_TEST

/* Frames larger than the initial read buffer, pipelined, including one past
 * the shrink threshold. */
START_TEST(t_large_frames)
{
    sm_net_t *n = start_ok(1);
    int fd = cli_connect(sm_net_port(n));
    size_t sizes[] = { 100000, 1 << 20, 9 << 20, 20, 70000 };
    uint8_t *bufs[SM_ARRAY_SIZE(sizes)];
    for (size_t i = 0; i < SM_ARRAY_SIZE(sizes); i++) {
        bufs[i] = sm_malloc(sizes[i]);
        for (size_t j = 0; j < sizes[i]; j++)
            bufs[i][j] = (uint8_t)(j * 7 + i);
        bufs[i][0] = 'E';
    }
    /* Send two, then read, so the server sees them pipelined. */
    for (size_t i = 0; i < SM_ARRAY_SIZE(sizes); i++) {
        send_frame(fd, bufs[i], sizes[i]);
        if (i % 2 == 0 && i + 1 < SM_ARRAY_SIZE(sizes))
            continue;
        for (size_t k = (i % 2 == 0) ? i : i - 1; k <= i; k++) {
            size_t len;
            uint8_t *got = recv_frame(fd, &len);
            ck_assert_msg(got != NULL, "no response %zu (errno %d)", k, errno);
            ck_assert_uint_eq(len, sizes[k]);
            ck_assert_int_eq(memcmp(got, bufs[k], len), 0);
            free(got);
        }
    }
    for (size_t i = 0; i < SM_ARRAY_SIZE(sizes); i++)
        free(bufs[i]);
    close(fd);
    sm_net_stop(n);
}
END_TEST

static char g_tmpdir[64];

static void
make_file(size_t size, uint8_t **content)
{
    sm_test_mkdtemp(g_tmpdir, sizeof(g_tmpdir), "check_net_");
    char path[128];
    snprintf(path, sizeof(path), "%s/00000000000000000000.log", g_tmpdir);
    uint8_t *b = sm_malloc(size);
    for (size_t i = 0; i < size; i++)
        b[i] = (uint8_t)(i * 131 + (i >> 8));
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, b, size), (ssize_t)size);
    g_file = sm_file_new(fd);
    *content = b;
}

static void
file_request(int fd, uint32_t pos, uint32_t len)
{
    uint8_t req[9] = { 'F' };
    sm_put_be32(req + 1, pos);
    sm_put_be32(req + 5, len);
    send_frame(fd, req, sizeof(req));
}

START_TEST(t_file_region)
{
    uint8_t *content;
    size_t fsize = 300000;
    make_file(fsize, &content);
    sm_net_t *n = start_ok(2);
    int fd = cli_connect(sm_net_port(n));

    uint64_t calls0 = sm_net_sendfile_calls(), bytes0 = sm_net_sendfile_bytes();
    /* Two file responses pipelined with an echo between them. */
    file_request(fd, 1000, 250000);
    send_frame(fd, "Ebetween", 8);
    file_request(fd, 0, 17);
    size_t len;
    uint8_t *got = recv_frame(fd, &len);
    ck_assert_ptr_nonnull(got);
    ck_assert_uint_eq(len, 250006);
    ck_assert_int_eq(memcmp(got, "HDR", 3), 0);
    ck_assert_int_eq(memcmp(got + 3, content + 1000, 250000), 0);
    ck_assert_int_eq(memcmp(got + 250003, "TRL", 3), 0);
    free(got);
    got = recv_frame(fd, &len);
    ck_assert_ptr_nonnull(got);
    ck_assert_uint_eq(len, 8);
    ck_assert_int_eq(memcmp(got, "Ebetween", 8), 0);
    free(got);
    got = recv_frame(fd, &len);
    ck_assert_ptr_nonnull(got);
    ck_assert_uint_eq(len, 23);
    ck_assert_int_eq(memcmp(got + 3, content, 17), 0);
    ck_assert_int_eq(memcmp(got + 20, "TRL", 3), 0);
    free(got);
    ck_assert_uint_gt(sm_net_sendfile_calls(), calls0);
    ck_assert_uint_ge(sm_net_sendfile_bytes() - bytes0, 250017);

    /* A region past the end of the file (truncated underneath): the data
     * that exists is sent, then the connection closes. */
    file_request(fd, 299990, 100);
    uint8_t part[64];
    size_t got_n = recv_all(fd, part, sizeof(part));
    ck_assert_uint_eq(got_n, 4 + 3 + 10);
    ck_assert_uint_eq(sm_be32(part), 106);
    ck_assert_int_eq(memcmp(part + 7, content + 299990, 10), 0);
    close(fd);

    fd = cli_connect(sm_net_port(n));
    echo_roundtrip(fd, "Eserver still fine");
    close(fd);
    sm_net_stop(n);
    sm_file_unref(g_file);
    g_file = NULL;
    free(content);
    ck_assert_int_eq(sm_rmtree(g_tmpdir), 0);
}
END_TEST

START_TEST(t_deferred_timer)
{
    sm_net_t *n = start_ok(2);
    int fd = cli_connect(sm_net_port(n));
    /* The echo behind the timer request must wait for it. */
    send_frame(fd, "Ttimer-first", 12);
    send_frame(fd, "Eecho-second", 12);
    size_t len;
    uint8_t *got = recv_frame(fd, &len);
    ck_assert_ptr_nonnull(got);
    ck_assert_int_eq(memcmp(got, "Ttimer-first", 12), 0);
    free(got);
    got = recv_frame(fd, &len);
    ck_assert_ptr_nonnull(got);
    ck_assert_int_eq(memcmp(got, "Eecho-second", 12), 0);
    free(got);
    wait_for(&g_timer_done, 1);   /* counted just after the response is written */
    close(fd);
    sm_net_stop(n);
}
END_TEST

START_TEST(t_disconnect_while_deferred)
{
    sm_net_t *n = start_ok(2);
    for (int i = 0; i < 3; i++) {
        int fd = cli_connect(sm_net_port(n));
        send_frame(fd, "Wwait-for-close", 15);
        /* Pipelined frames behind it stay buffered and die with it. */
        send_frame(fd, "Eunanswered", 11);
        close(fd);
        wait_for(&g_closed_done, i + 1);
    }
    int fd = cli_connect(sm_net_port(n));
    echo_roundtrip(fd, "Ealive and well");
    close(fd);
    sm_net_stop(n);
}
END_TEST

START_TEST(t_no_response_and_close)
{
    sm_net_t *n = start_ok(1);
    int fd = cli_connect(sm_net_port(n));
    send_frame(fd, "Nno answer", 10);
    echo_roundtrip(fd, "Eanswered");   /* the first response is this one */
    send_frame(fd, "Cclose me", 9);
    expect_eof(fd);
    close(fd);
    fd = cli_connect(sm_net_port(n));
    send_frame(fd, "?unknown", 8);
    expect_eof(fd);
    close(fd);
    sm_net_stop(n);
}
END_TEST

START_TEST(t_stop_start)
{
    char err[256];
    sm_net_t *n = start_ok(3);
    int port = sm_net_port(n);

    /* Port in use: clear error, nothing leaked. */
    sm_net_t *n2 = start_server(1, port, err, sizeof(err));
    ck_assert_ptr_null(n2);
    char want[128];
    snprintf(want, sizeof(want), "Socket server failed to bind to 127.0.0.1:%d: Address already in use", port);
    ck_assert_str_eq(err, want);

    /* Stop with a live idle connection and a half-sent frame. */
    int a = cli_connect(port), b = cli_connect(port);
    echo_roundtrip(a, "Eup and running");
    send_all(b, "\0\0\0\040Epartial", 12);
    sm_net_stop(n);
    expect_eof(a);
    close(a);
    close(b);

    /* The same port again (SO_REUSEADDR), and quick cycles. */
    n = start_server(2, port, err, sizeof(err));
    ck_assert_msg(n != NULL, "restart failed: %s", err);
    a = cli_connect(port);
    echo_roundtrip(a, "Eagain after restart");
    close(a);
    sm_net_stop(n);
    for (int i = 0; i < 5; i++)
        sm_net_stop(start_ok(4));
}
END_TEST

#define NSLOW 400

typedef struct { int fd; int sent; } slow_arg_t;

static void
make_slow_frame(int i, uint8_t *buf, size_t *len)
{
    if (i % 4 == 3) {                 /* every 4th: a 200000-byte file region */
        buf[0] = 'F';
        sm_put_be32(buf + 1, (uint32_t)(i * 100));
        sm_put_be32(buf + 5, 200000);
        *len = 9;
        return;
    }
    *len = 8000 + (size_t)i;
    memset(buf, (uint8_t)i, *len);
    buf[0] = 'E';
    sm_put_be32(buf + 4, (uint32_t)i);
}

static void *
slow_writer(void *arg)
{
    slow_arg_t *sa = arg;
    uint8_t *buf = sm_malloc(16384);
    size_t len;
    for (int i = 0; i < NSLOW; i++) {
        make_slow_frame(i, buf, &len);
        send_frame(sa->fd, buf, len);
        __atomic_store_n(&sa->sent, i + 1, __ATOMIC_SEQ_CST);
    }
    free(buf);
    return NULL;
}

/* The client writes ~6 MB of requests whose answers total ~25 MB before it
 * reads anything back, through a 4 KB server send buffer: the server must
 * stop dispatching, park on EV_WRITE and resume, with every byte in order. */
START_TEST(t_backpressure)
{
    uint8_t *content;
    make_file(300000, &content);
    char err[256];
    sm_net_config_t cfg = {
        .host = "127.0.0.1", .port = 0, .num_threads = 2,
        .max_request_bytes = 1 << 20, .sndbuf = 4096, .rcvbuf = 8192,
        .on_request = on_request,
    };
    sm_net_t *n = sm_net_start(&cfg, err, sizeof(err));
    ck_assert_msg(n != NULL, "%s", err);
    int fd = cli_connect(sm_net_port(n));
    slow_arg_t sa = { fd, 0 };
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, slow_writer, &sa), 0);
    /* Let the writer run ahead until it stalls (coverage only: the checks
     * below hold whatever the interleaving). */
    int last = -1;
    for (int i = 0; i < 200 && __atomic_load_n(&sa.sent, __ATOMIC_SEQ_CST) != last; i++) {
        last = __atomic_load_n(&sa.sent, __ATOMIC_SEQ_CST);
        usleep(20000);
    }
    uint8_t *want = sm_malloc(16384);
    for (int i = 0; i < NSLOW; i++) {
        size_t wlen, len;
        make_slow_frame(i, want, &wlen);
        uint8_t *got = recv_frame(fd, &len);
        ck_assert_msg(got != NULL, "EOF at response %d", i);
        if (want[0] == 'F') {
            ck_assert_uint_eq(len, 200006);
            ck_assert_int_eq(memcmp(got + 3, content + i * 100, 200000), 0);
            ck_assert_int_eq(memcmp(got + 200003, "TRL", 3), 0);
        } else {
            ck_assert_uint_eq(len, wlen);
            ck_assert_msg(memcmp(got, want, len) == 0, "response %d corrupt or out of order", i);
        }
        free(got);
    }
    free(want);
    pthread_join(th, NULL);
    close(fd);
    sm_net_stop(n);
    sm_file_unref(g_file);
    g_file = NULL;
    free(content);
    ck_assert_int_eq(sm_rmtree(g_tmpdir), 0);
}
END_TEST

static int g_bcast;
static pthread_t g_bcast_tid[8];

static void
bcast_fn(struct event_base *base, void *arg)
{
    ck_assert_ptr_eq(arg, &g_bcast);
    ck_assert_ptr_nonnull(base);
    int i = __atomic_fetch_add(&g_bcast, 1, __ATOMIC_SEQ_CST);
    g_bcast_tid[i] = pthread_self();
}

START_TEST(t_broadcast)
{
    sm_net_t *n = start_ok(4);
    sm_net_broadcast(n, bcast_fn, &g_bcast);
    wait_for(&g_bcast, 4);
    sm_net_stop(n);   /* joins the threads: their writes are visible now */
    ck_assert_int_eq(g_bcast, 4);
    for (int i = 0; i < 4; i++)
        for (int j = i + 1; j < 4; j++)
            ck_assert(!pthread_equal(g_bcast_tid[i], g_bcast_tid[j]));
}
END_TEST

START_TEST(t_resp_build)
{
    /* Response assembly without a socket: lengths and file references. */
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    sm_file_t *f = sm_file_new(fd);
    sm_resp_t *r = sm_resp_new();
    ck_assert_uint_eq(sm_resp_len(r), 0);
    sm_write_i32(sm_resp_wbuf(r), 7);
    sm_resp_add_file(r, f, 10, 100);
    sm_resp_add_file(r, f, 0, 0);      /* empty: ignored */
    ck_assert_int_eq(f->refs, 2);
    sm_write_raw(sm_resp_wbuf(r), "abc", 3);
    ck_assert_uint_eq(sm_resp_len(r), 107);
    sm_resp_free(r);
    ck_assert_int_eq(f->refs, 1);
    sm_file_unref(f);
}
END_TEST

int
main(void)
{
    if (getenv("SM_TEST_DEBUG"))
        sm_log_level = SM_LOG_DEBUG;
    Suite *s = suite_create("net");
    TCase *tc = tcase_create("net");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, t_resp_build);
    tcase_add_test(tc, t_single);
    tcase_add_test(tc, t_pipelined);
    tcase_add_test(tc, t_bad_sizes);
    tcase_add_test(tc, t_split_bytes);
    tcase_add_test(tc, t_truncated_frames);
    tcase_add_test(tc, t_large_frames);
    tcase_add_test(tc, t_file_region);
    tcase_add_test(tc, t_backpressure);
    tcase_add_test(tc, t_deferred_timer);
    tcase_add_test(tc, t_disconnect_while_deferred);
    tcase_add_test(tc, t_no_response_and_close);
    tcase_add_test(tc, t_stop_start);
    tcase_add_test(tc, t_broadcast);
    suite_add_tcase(s, tc);
    return sm_test_run(s);
}
