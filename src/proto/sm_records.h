/*
 * sm_records.h - Kafka record batch v2 (magic 2): header decode, validation,
 * record iteration, in-place stamping, and a builder for tools and tests.
 *
 * Layout (DefaultRecordBatch): baseOffset i64 | batchLength i32 |
 * partitionLeaderEpoch i32 | magic i8 | crc u32 | attributes i16 |
 * lastOffsetDelta i32 | baseTimestamp i64 | maxTimestamp i64 | producerId i64 |
 * producerEpoch i16 | baseSequence i32 | recordCount i32 | records...
 * The CRC-32C covers attributes..end, so baseOffset and the leader epoch can
 * be assigned in place without recomputing it.
 *
 * This file never touches the broker: it turns bytes into views and checks.
 * All functions are thread-safe (no shared state).
 */
#ifndef SM_RECORDS_H
#define SM_RECORDS_H

#include <stddef.h>
#include <stdint.h>
#include "core/sm_buf.h"
#include "core/sm_err.h"

#define SM_BATCH_HEADER_SIZE 61      /* RECORD_BATCH_OVERHEAD */
#define SM_BATCH_LOG_OVERHEAD 12     /* baseOffset + batchLength */
#define SM_BATCH_CRC_OFFSET 17
#define SM_BATCH_ATTR_OFFSET 21

#define SM_ATTR_CODEC_MASK 0x07
#define SM_ATTR_LOG_APPEND_TIME 0x08
#define SM_ATTR_TRANSACTIONAL 0x10
#define SM_ATTR_CONTROL 0x20

typedef enum {
    SM_CODEC_NONE = 0, SM_CODEC_GZIP = 1, SM_CODEC_SNAPPY = 2, SM_CODEC_LZ4 = 3, SM_CODEC_ZSTD = 4
} sm_codec_t;

typedef struct {
    int64_t base_offset;
    int32_t batch_length;            /* bytes after the batchLength field */
    int32_t partition_leader_epoch;
    int8_t magic;
    uint32_t crc;
    int16_t attributes;
    int32_t last_offset_delta;
    int64_t base_timestamp;
    int64_t max_timestamp;
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t base_sequence;
    int32_t record_count;
} sm_batch_hdr_t;

/* Total bytes of the batch (12 + batchLength). */
static inline size_t sm_batch_size(const sm_batch_hdr_t *h) { return SM_BATCH_LOG_OVERHEAD + (size_t)h->batch_length; }
static inline int64_t sm_batch_last_offset(const sm_batch_hdr_t *h) { return h->base_offset + h->last_offset_delta; }
static inline sm_codec_t sm_batch_codec(const sm_batch_hdr_t *h) { return (sm_codec_t)(h->attributes & SM_ATTR_CODEC_MASK); }

/* Decode the fixed header from p[0..len). No CRC check. Returns 0, or -1 if
 * len < 61, magic != 2, or batchLength < 49 (header minus the first 12). */
int sm_batch_header_decode(const uint8_t *p, size_t len, sm_batch_hdr_t *h);

/* Cheap integrity check used by log recovery: header decodes, the batch is
 * complete within len, and the CRC-32C matches. SM_ERR_NONE or
 * SM_ERR_CORRUPT_MESSAGE. */
sm_err_t sm_batch_check_crc(const uint8_t *p, size_t len, sm_batch_hdr_t *h);

/* Full validation of one client batch p[0..len) with len == 12 + batchLength:
 * header, CRC-32C, attributes (codec 0-4, no control batch from clients),
 * lastOffsetDelta == recordCount - 1, and every record's framing with
 * offsetDelta == its index, decompressing compressed batches (output bounded
 * by max_uncompressed). Returns SM_ERR_NONE, SM_ERR_CORRUPT_MESSAGE,
 * SM_ERR_INVALID_RECORD, or SM_ERR_UNSUPPORTED_COMPRESSION_TYPE. */
sm_err_t sm_batch_validate(const uint8_t *p, size_t len, size_t max_uncompressed, sm_batch_hdr_t *h);

/* In-place stamping (fields outside the CRC). */
void sm_batch_set_base_offset(uint8_t *batch, int64_t base_offset);
void sm_batch_set_leader_epoch(uint8_t *batch, int32_t epoch);
/* LogAppendTime: set attribute bit 3 and maxTimestamp = ts, recompute CRC.
 * batch must be a complete batch of len bytes. */
void sm_batch_set_log_append_time(uint8_t *batch, size_t len, int64_t ts);

/* One record, as views into the (possibly decompressed) batch. */
typedef struct {
    int64_t offset;                  /* base_offset + offsetDelta */
    int64_t timestamp;               /* baseTimestamp + timestampDelta */
    sm_bytes_t key;                  /* len -1 = null */
    sm_bytes_t value;                /* len -1 = null */
    int32_t header_count;
    const uint8_t *headers;          /* raw header section (header_count entries) */
    size_t headers_len;
} sm_record_t;

/* Record iterator over one batch. Decompresses into its own buffer. */
typedef struct {
    sm_batch_hdr_t hdr;
    sm_reader_t r;
    uint8_t *owned;                  /* decompressed records, freed by _free */
    int32_t index;
} sm_record_iter_t;

/* Returns SM_ERR_NONE or an error as sm_batch_validate does. */
sm_err_t sm_record_iter_init(sm_record_iter_t *it, const uint8_t *batch, size_t len, size_t max_uncompressed);
/* 1 = *rec filled, 0 = end, -1 = malformed. */
int  sm_record_iter_next(sm_record_iter_t *it, sm_record_t *rec);
void sm_record_iter_free(sm_record_iter_t *it);
/* Iterate the headers of a record: returns 1 with key/value, 0 at end, -1 bad. */
int  sm_record_header_next(sm_reader_t *hr, sm_bytes_t *key, sm_bytes_t *value);

/* A record to build; header arrays may be NULL when nheaders == 0. */
typedef struct {
    int64_t timestamp;
    sm_bytes_t key, value;
    int nheaders;
    const sm_bytes_t *header_keys, *header_values;
} sm_record_spec_t;

/* Append one complete v2 batch with n records to w (baseOffset = base_offset,
 * leader epoch -1 / producer fields -1 unless set later), compressed with
 * codec. Returns SM_ERR_NONE or an error from the compressor. */
sm_err_t sm_batch_build(sm_wbuf_t *w, int64_t base_offset, sm_codec_t codec,
                        const sm_record_spec_t *recs, int n);

#endif
