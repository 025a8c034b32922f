/*
 * sm_loop.c - cross-thread posting onto a libevent loop (see sm_loop.h).
 */
#include <event2/event.h>
#include <event2/thread.h>
#include <pthread.h>
#include <stdlib.h>
#include "core/sm_loop.h"
#include "core/sm_util.h"

typedef struct {
    void (*fn)(void *);
    void *arg;
    struct event *ev;
} post_t;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static void init_once(void) { evthread_use_pthreads(); }
void sm_loop_init(void) { pthread_once(&once, init_once); }

static void
run_post(evutil_socket_t fd, short what, void *arg)
{
    post_t *p = arg;
    p->fn(p->arg);
    event_free(p->ev);
    free(p);
}

void
sm_loop_post(struct event_base *base, void (*fn)(void *), void *arg)
{
    post_t *p = sm_malloc(sizeof(*p));
    p->fn = fn;
    p->arg = arg;
    p->ev = event_new(base, -1, 0, run_post, p);
    /* event_active from another thread is safe once evthread is enabled;
     * libevent wakes the loop through its notify fd. */
    event_active(p->ev, EV_TIMEOUT, 0);
}
