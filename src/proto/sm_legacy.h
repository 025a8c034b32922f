/*
 * sm_legacy.h - legacy Kafka message sets (magic 0 and 1): bounded,
 * truncation-safe parsing with CRC-32 checks, a builder, and the two
 * conversions the broker needs: legacy -> one record batch v2 (Produce v0-2)
 * and record batch v2 -> legacy (Fetch v0-3).
 *
 * Layout (LegacyRecord / Records.java):
 *   LogEntry:   offset i64 | size i32 | Message            (12-byte overhead)
 *   Message v0: crc u32 | magic i8 | attributes i8 | key | value        (14)
 *   Message v1: crc u32 | magic i8 | attributes i8 | timestamp i64 | key | value (22)
 * key/value are int32-length bytes (-1 = null); the CRC is zlib's CRC-32 over
 * magic..end. attributes bits 0-2 = codec (0-3), bit 3 = LogAppendTime (v1).
 * A compressed "wrapper" message holds the compressed inner message set as
 * its value; in v1 the inner offsets are relative and the wrapper carries
 * the absolute offset of the last inner message, in v0 they are absolute.
 * LZ4 wrappers of magic 0 written by Kafka carry the pre-KIP-57 frame
 * header checksum (computed over the frame magic plus descriptor); this file
 * accepts both checksums for magic 0, and writes the broken one only in
 * sm_legacy_build (see sm_legacy_from_batch for why).
 *
 * Nothing here touches the broker; all functions are thread-safe (no shared
 * state). Allocation is per message set or per wrapper, never per message.
 */
#ifndef SM_LEGACY_H
#define SM_LEGACY_H

#include <stddef.h>
#include <stdint.h>
#include "core/sm_buf.h"
#include "core/sm_err.h"
#include "proto/sm_records.h"

#define SM_LEGACY_LOG_OVERHEAD 12
#define SM_LEGACY_V0_OVERHEAD 14     /* crc + magic + attributes + 2 lengths */
#define SM_LEGACY_V1_OVERHEAD 22     /* + timestamp */
#define SM_LEGACY_ATTR_LOG_APPEND_TIME 0x08
/* Position of the magic byte in a legacy entry and in a v2 batch alike. */
#define SM_RECORDS_MAGIC_OFFSET 16

/* Magic of the first entry of a records field p[0..len): 0, 1, 2..., or -1
 * if len is too short to tell. Used to dispatch Produce v0-2 data. */
int sm_records_magic(const uint8_t *p, size_t len);

/* One logical message as yielded by the iterator (views, valid until the
 * next call or _free). */
typedef struct {
    int64_t offset;                  /* absolute (wrapper offsets resolved) */
    int8_t magic;
    int8_t attributes;               /* of the (inner) message itself */
    int64_t timestamp;               /* -1 for magic 0; LogAppendTime wrappers override inner */
    sm_codec_t codec;                /* codec of the enclosing wrapper, NONE at top level */
    sm_bytes_t key, value;           /* len -1 = null */
} sm_legacy_msg_t;

typedef struct {
    sm_reader_t outer;               /* the message set */
    sm_reader_t inner;               /* decompressed wrapper contents, while in_wrapper */
    uint8_t *owned;                  /* decompressed bytes of the current wrapper */
    int in_wrapper;
    int64_t inner_delta;             /* added to inner offsets (v1: wrapper - last relative) */
    int8_t w_magic;
    int w_log_append;
    int64_t w_timestamp;
    sm_codec_t w_codec;
    size_t max_uncompressed;
    int partial_ok;
    sm_codec_t last_codec;           /* codec of the last wrapper seen */
    sm_err_t err;                    /* set when next() returns -1 */
    /* Set keep_all after init to keep every wrapper's buffer until _free,
     * so the views of all messages stay valid at once (up-conversion). */
    int keep_all;
    uint8_t **kept;
    size_t nkept, kept_cap;
} sm_legacy_iter_t;

/* Iterate the messages of the legacy set p[0..len), descending into
 * compressed wrappers (one level; nested compression is INVALID_RECORD).
 * Every message's CRC and framing is checked. With partial_ok a truncated
 * trailing top-level entry ends the iteration quietly (fetch responses);
 * otherwise it is CORRUPT_MESSAGE (produce). Decompressed output of one
 * wrapper is bounded by max_uncompressed. p must outlive the iterator. */
void sm_legacy_iter_init(sm_legacy_iter_t *it, const uint8_t *p, size_t len, size_t max_uncompressed,
                         int partial_ok);
/* 1 = *m filled, 0 = end, -1 = error in it->err (CORRUPT_MESSAGE for
 * framing/CRC, INVALID_RECORD for nested compression / magic mismatch / empty
 * wrapper, UNSUPPORTED_COMPRESSION_TYPE for codec > 3). */
int  sm_legacy_iter_next(sm_legacy_iter_t *it, sm_legacy_msg_t *m);
/* Release every buffer (views from this iterator become invalid). */
void sm_legacy_iter_free(sm_legacy_iter_t *it);

/* A message to build. */
typedef struct {
    int64_t offset;
    int64_t timestamp;               /* ignored for magic 0 */
    sm_bytes_t key, value;
} sm_legacy_spec_t;

/* Append a legacy message set (magic 0 or 1) holding m[0..n) to w. With
 * codec NONE each message is its own entry at its own offset. Otherwise all
 * n >= 1 messages go into one wrapper: inner offsets absolute (magic 0) or
 * m[i].offset - m[0].offset (magic 1); wrapper offset = m[n-1].offset,
 * wrapper timestamp = max inner timestamp, key null, attributes = codec only
 * (what kafka-go 0.2.1 requires). zstd is refused
 * (UNSUPPORTED_COMPRESSION_TYPE). Returns SM_ERR_NONE or a compressor error;
 * on error w is left as it was. */
sm_err_t sm_legacy_build(sm_wbuf_t *w, int magic, sm_codec_t codec, const sm_legacy_spec_t *m, int n);

/* Up-conversion (Kafka's LogValidator for magic 0/1 into a magic-2 log):
 * append ONE v2 batch (baseOffset 0, producer fields -1) holding every
 * message of the complete legacy set p[0..len) to w, keeping keys, values
 * and timestamps (-1 for magic 0). target_codec < 0 keeps the source codec
 * (the last compressed wrapper's, NONE if there is none); otherwise the
 * batch is written with target_codec. *nrecords (may be NULL) receives the
 * message count. An empty set is CORRUPT_MESSAGE. Errors as the iterator. */
sm_err_t sm_legacy_to_batch(sm_wbuf_t *w, const uint8_t *p, size_t len, int target_codec,
                            size_t max_uncompressed, int *nrecords);

/* Down-conversion (Kafka's RecordsUtil.downConvert) of one complete v2
 * batch to magic 0 or 1, appended to w. Control batches produce nothing.
 * Uncompressed batches skip records below first_offset (old consumers do
 * not expect them); compressed batches become one wrapper with all records.
 * LogAppendTime batches give every record the batch's maxTimestamp, written
 * as CreateTime (see sm_legacy_build). Headers are dropped. Magic-0 LZ4
 * wrappers get the standard header checksum, unlike Kafka: Java clients
 * since 0.10 ignore it for magic 0 and librdkafka accepts both, while
 * Sarama's lz4 reader rejects the broken one. Returns
 * SM_ERR_NONE, SM_ERR_UNSUPPORTED_COMPRESSION_TYPE (zstd), or
 * SM_ERR_CORRUPT_MESSAGE (bad batch). */
sm_err_t sm_legacy_from_batch(sm_wbuf_t *w, int magic, const uint8_t *batch, size_t len, int64_t first_offset,
                              size_t max_uncompressed);

/* LZ4 frame header checksum helpers (exposed for tests). The correct HC
 * byte is (xxh32(descriptor) >> 8) & 0xff; Kafka's magic-0 variant hashes
 * the 4-byte frame magic too. Return -1 if p is not a plausible LZ4 frame
 * header, else the byte offset of the HC byte in p; *good / *broken (may
 * be NULL) receive both checksums. */
int sm_lz4_header_checksums(const uint8_t *p, size_t len, uint8_t *good, uint8_t *broken);
uint32_t sm_xxh32(const void *data, size_t len, uint32_t seed);

#endif
