/*
 * sm_file.c - reference-counted file descriptors (see sm_file.h).
 */
#include <stdlib.h>
#include <unistd.h>
#include "core/sm_file.h"
#include "core/sm_util.h"

sm_file_t *
sm_file_new(int fd)
{
    sm_file_t *f = sm_malloc(sizeof(*f));
    f->fd = fd;
    f->refs = 1;
    return f;
}

sm_file_t *
sm_file_ref(sm_file_t *f)
{
    __atomic_add_fetch(&f->refs, 1, __ATOMIC_RELAXED);
    return f;
}

void
sm_file_unref(sm_file_t *f)
{
    if (f && __atomic_sub_fetch(&f->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        close(f->fd);
        free(f);
    }
}
