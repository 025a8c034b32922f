/*
 * sm_file.h - a reference-counted open file descriptor.
 *
 * Segments hand out sm_file_t references for fetch responses, so a file that
 * retention deletes (unlink) or a log that rolls stays readable until the
 * last queued sendfile() region releases it. Thread-safe (atomic count).
 */
#ifndef SM_FILE_H
#define SM_FILE_H

#include <stdint.h>

typedef struct sm_file_s {
    int fd;
    int refs;             /* atomic */
} sm_file_t;

/* Wrap fd with one reference held by the caller. */
sm_file_t *sm_file_new(int fd);
sm_file_t *sm_file_ref(sm_file_t *f);
/* Drop a reference; the last one closes the fd and frees. NULL is allowed. */
void sm_file_unref(sm_file_t *f);

#endif
