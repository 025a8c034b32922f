/*
 * sm_worker.c - a job queue drained by one thread (see sm_worker.h).
 */
#include <pthread.h>
#include <stdlib.h>
#include "core/sm_loop.h"
#include "core/sm_util.h"
#include "server/sm_worker.h"

typedef struct job_s {
    void (*work)(void *);
    void (*done)(void *);
    struct event_base *base;
    void *arg;
    struct job_s *next;
} job_t;

struct sm_worker_s {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    job_t *head, *tail;
    int stopping;
};

static void *
run(void *arg)
{
    sm_worker_t *w = arg;
    for (;;) {
        pthread_mutex_lock(&w->lock);
        while (!w->head && !w->stopping) pthread_cond_wait(&w->cond, &w->lock);
        job_t *j = w->head;
        if (j) { w->head = j->next; if (!w->head) w->tail = NULL; }
        pthread_mutex_unlock(&w->lock);
        if (!j) return NULL;
        j->work(j->arg);
        if (j->done) sm_loop_post(j->base, j->done, j->arg);
        free(j);
    }
}

sm_worker_t *
sm_worker_start(const char *name)
{
    sm_worker_t *w = sm_calloc(1, sizeof(*w));
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
    pthread_create(&w->thread, NULL, run, w);
    pthread_setname_np(w->thread, name);
    return w;
}

void
sm_worker_submit(sm_worker_t *w, void (*work)(void *), void (*done)(void *), struct event_base *base, void *arg)
{
    job_t *j = sm_calloc(1, sizeof(*j));
    j->work = work;
    j->done = done;
    j->base = base;
    j->arg = arg;
    pthread_mutex_lock(&w->lock);
    if (w->tail) w->tail->next = j; else w->head = j;
    w->tail = j;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

void
sm_worker_stop(sm_worker_t *w)
{
    if (!w) return;
    pthread_mutex_lock(&w->lock);
    w->stopping = 1;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->cond);
    free(w);
}
