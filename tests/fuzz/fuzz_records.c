/*
 * fuzz_records.c - libFuzzer entry point for record batch v2 handling
 * (proto/sm_records.h): header decode, CRC check, full client-batch
 * validation, and the record/header iterators over every codec.
 *
 * The input is one batch as it would arrive in a Produce request or sit in
 * a segment. A random input almost never carries a matching CRC-32C, so
 * each input is tried twice: as given, and as a copy whose CRC has been
 * recomputed, which lets the fuzzer reach the record parsers and the
 * decompressors. Invariants checked (abort on violation):
 *   - a batch sm_batch_validate() accepts iterates to exactly recordCount
 *     records with offsets base..base+count-1;
 *   - after sm_batch_set_log_append_time() a complete batch passes the CRC.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sm_buf.h"
#include "core/sm_crc32c.h"
#include "proto/sm_records.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_UNCOMPRESSED (1u << 20)

static void
iterate(const uint8_t *p, size_t len, int validated, const sm_batch_hdr_t *vh)
{
    sm_record_iter_t it;
    sm_err_t err = sm_record_iter_init(&it, p, len, MAX_UNCOMPRESSED);
    if (err != SM_ERR_NONE) {
        if (validated) { fprintf(stderr, "validated batch fails iter_init: %d\n", err); abort(); }
        sm_record_iter_free(&it);
        return;
    }
    sm_record_t rec;
    int rc;
    int32_t n = 0;
    volatile uint8_t sink = 0;
    while ((rc = sm_record_iter_next(&it, &rec)) == 1) {
        /* Touch every byte of the views so ASan sees any out-of-bounds one. */
        for (int32_t i = 0; i < rec.key.len; i++) sink ^= rec.key.ptr[i];
        for (int32_t i = 0; i < rec.value.len; i++) sink ^= rec.value.ptr[i];
        sm_reader_t hr;
        sm_reader_init(&hr, rec.headers, rec.headers_len);
        sm_bytes_t hk, hv;
        int32_t nh = 0;
        while (sm_record_header_next(&hr, &hk, &hv) == 1) {
            for (int32_t i = 0; i < hk.len; i++) sink ^= hk.ptr[i];
            for (int32_t i = 0; i < hv.len; i++) sink ^= hv.ptr[i];
            nh++;
        }
        if (hr.err || nh != rec.header_count) {
            fprintf(stderr, "header section of a parsed record does not re-parse\n");
            abort();
        }
        if (validated && rec.offset != vh->base_offset + n) {
            fprintf(stderr, "validated batch: record %d has offset %lld\n", n, (long long)rec.offset);
            abort();
        }
        n++;
    }
    if (validated && (rc != 0 || n != vh->record_count)) {
        fprintf(stderr, "validated batch yields %d records (rc %d), header says %d\n", n, rc, vh->record_count);
        abort();
    }
    sm_record_iter_free(&it);
    (void)sink;
}

static void
one(const uint8_t *p, size_t len)
{
    sm_batch_hdr_t h;
    (void)sm_batch_header_decode(p, len, &h);
    (void)sm_batch_check_crc(p, len, &h);
    sm_batch_hdr_t vh;
    int ok = sm_batch_validate(p, len, MAX_UNCOMPRESSED, &vh) == SM_ERR_NONE;
    iterate(p, len, ok, &vh);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one(data, size);
    if (size < SM_BATCH_HEADER_SIZE) return 0;

    uint8_t *copy = malloc(size);
    if (!copy) return 0;
    memcpy(copy, data, size);
    /* Recompute the CRC over the batch as declared, clamped to the input. */
    size_t declared = SM_BATCH_LOG_OVERHEAD + (size_t)sm_be32(copy + 8);
    size_t cover = declared < size ? declared : size;
    if (cover < SM_BATCH_HEADER_SIZE) cover = size;   /* nonsense length: cover all */
    sm_put_be32(copy + SM_BATCH_CRC_OFFSET,
                sm_crc32c(0, copy + SM_BATCH_ATTR_OFFSET, cover - SM_BATCH_ATTR_OFFSET));
    one(copy, size);

    /* Stamping, under its contract: a complete batch (the broker stamps
     * only batches that passed sm_batch_validate). */
    sm_batch_hdr_t h;
    if (sm_batch_header_decode(copy, size, &h) == 0 && sm_batch_size(&h) <= size) {
        sm_batch_set_base_offset(copy, 1000);
        sm_batch_set_leader_epoch(copy, 7);
        sm_batch_set_log_append_time(copy, size, 1234567890123);
        sm_batch_header_decode(copy, size, &h);
        if (sm_batch_check_crc(copy, size, &h) != SM_ERR_NONE) {
            fprintf(stderr, "CRC wrong after sm_batch_set_log_append_time\n");
            abort();
        }
        if (h.base_offset != 1000 || h.partition_leader_epoch != 7 || h.max_timestamp != 1234567890123 ||
            !(h.attributes & SM_ATTR_LOG_APPEND_TIME)) {
            fprintf(stderr, "stamped fields not read back\n");
            abort();
        }
    }
    free(copy);
    return 0;
}
