/*
 * sm_loop.h - hand work to an event loop from any thread.
 *
 * ZooKeeper completion callbacks, appends that wake parked fetches, and
 * admin workers never touch another thread's state directly: they post a
 * function to the owning libevent event_base. Requires
 * evthread_use_pthreads() before the base is created (sm_loop_init does it).
 */
#ifndef SM_LOOP_H
#define SM_LOOP_H

struct event_base;

/* Enable libevent's pthread locking; call once at start-up before creating
 * any event_base. Idempotent. */
void sm_loop_init(void);
/* Run fn(arg) on base's thread, FIFO with other posts. Thread-safe. */
void sm_loop_post(struct event_base *base, void (*fn)(void *arg), void *arg);

#endif
