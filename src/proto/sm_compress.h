/*
 * sm_compress.h - gzip, snappy (raw and xerial framing), lz4 (Kafka frame),
 * and zstd for record payloads. Decompression output is bounded by max_out
 * so a hostile batch cannot expand without limit.
 */
#ifndef SM_COMPRESS_H
#define SM_COMPRESS_H

#include <stddef.h>
#include <stdint.h>
#include "core/sm_err.h"
#include "proto/sm_records.h"

/* *out is heap memory the caller frees. Returns SM_ERR_NONE,
 * SM_ERR_CORRUPT_MESSAGE (bad or oversized input) or
 * SM_ERR_UNSUPPORTED_COMPRESSION_TYPE. */
sm_err_t sm_decompress(sm_codec_t codec, const uint8_t *in, size_t inlen, size_t max_out,
                       uint8_t **out, size_t *outlen);
sm_err_t sm_compress(sm_codec_t codec, const uint8_t *in, size_t inlen, uint8_t **out, size_t *outlen);

#endif
