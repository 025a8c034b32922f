/*
 * sm_worker.h - one background thread for blocking work (synchronous
 * ZooKeeper admin calls for CreateTopics/DeleteTopics/CreatePartitions),
 * so network threads never block on ZooKeeper. A job runs on the worker,
 * then its completion runs on the event_base that submitted it.
 */
#ifndef SM_WORKER_H
#define SM_WORKER_H

struct event_base;
typedef struct sm_worker_s sm_worker_t;

sm_worker_t *sm_worker_start(const char *name);
/* Run work(arg) on the worker thread, then done(arg) on base's thread. */
void sm_worker_submit(sm_worker_t *w, void (*work)(void *), void (*done)(void *), struct event_base *base, void *arg);
/* Finish queued jobs, then join. */
void sm_worker_stop(sm_worker_t *w);

#endif
