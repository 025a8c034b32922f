/*
 * sm_net_int.h - private to src/net: the response layout and the send
 * cursor shared by sm_resp.c (building) and sm_net.c (sending).
 *
 * Nothing outside src/net may include this file.
 */
#ifndef SM_NET_INT_H
#define SM_NET_INT_H

#include <stddef.h>
#include <stdint.h>
#include "core/sm_buf.h"
#include "core/sm_file.h"

/* One piece of a response. file == NULL: the bytes of mem. Otherwise the
 * region [pos, pos+len) of file; mem is then unused but stays initialised
 * so the slot can be reused for memory later. */
typedef struct {
    sm_file_t *file;
    int64_t pos, len;
    sm_wbuf_t mem;
} sm_chunk_t;

struct sm_resp_s {
    struct sm_resp_s *next;  /* connection output queue */
    sm_chunk_t *chunks;
    int nchunks;             /* chunks in use */
    int ninit;               /* slots whose mem is initialised (>= 1) */
    int cap;
    /* Send cursor: cur == -1 is the 4-byte size prefix, otherwise a chunk
     * index; off is the byte offset inside it. */
    int cur;
    size_t off;
    uint8_t prefix[4];
};

/* Worker threads keep a small cache of freed responses so that the hot
 * path (one response per request) does not hit malloc. The cache is
 * thread-local: sm_resp_thread_cache_enable() on a network thread at
 * start-up, sm_resp_thread_cache_drain() before it exits. */
void sm_resp_thread_cache_enable(void);
void sm_resp_thread_cache_drain(void);

#endif
