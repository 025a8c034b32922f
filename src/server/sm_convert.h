/*
 * sm_convert.h - broker glue between the wire and the magic-2 log for old
 * clients: up-conversion of Produce v0-2 message sets, the topic's
 * compression.type / message.timestamp.difference.max.ms policy on append,
 * down-conversion for Fetch v0-3, and ListOffsets v0 answers.
 *
 * All functions run on network threads and touch only their arguments (plus
 * the topic config cache through sm_topic_log_config); they are thread-safe.
 */
#ifndef SM_CONVERT_H
#define SM_CONVERT_H

#include <stdint.h>
#include "core/sm_arena.h"
#include "core/sm_buf.h"
#include "log/sm_plog.h"
#include "proto/sm_proto.h"

/* Produce v0-2: if *rec holds a legacy (magic 0/1) message set, convert it
 * into one v2 batch written with the topic's codec (cfg->compression_type,
 * or the source codec for "producer"); *rec then points at the new batch,
 * whose heap buffer is returned in *owned (caller frees; NULL when nothing
 * was converted). Magic-2 data is left alone. Returns SM_ERR_NONE,
 * CORRUPT_MESSAGE (framing/CRC), INVALID_RECORD or
 * UNSUPPORTED_COMPRESSION_TYPE. */
sm_err_t sm_convert_produce_legacy(const sm_log_config_t *cfg, sm_bytes_t *rec, uint8_t **owned);

/* Topic policy for one validated v2 batch *rec before it is appended:
 * INVALID_TIMESTAMP if a CreateTime topic's message.timestamp.difference.max.ms
 * is exceeded by any record (records with timestamp -1 are exempt), and
 * recompression when compression.type names a codec other than the batch's
 * (producer id/epoch/sequence are kept). On recompression *rec points at a
 * new heap buffer that replaces *owned (the old one is freed). now_ms is the
 * broker's wall clock. */
sm_err_t sm_convert_topic_policy(const sm_log_config_t *cfg, sm_bytes_t *rec, uint8_t **owned, int64_t now_ms);

/* Consumer Fetch below v10 on one partition, after the log read filled
 * *reg: a topic with compression.type=zstd answers UNSUPPORTED_COMPRESSION_TYPE
 * (as Kafka does); for v0-3 the region's batches are read batch by batch
 * (pread) and down-converted to magic 0 (v0-1) or 1 (v2-3) into arena
 * memory, and *op is switched to carry them inline (emit = 0). limit is the
 * partition's byte limit: v0-2 treat it as hard (the output never exceeds
 * it; if not even the first message fits, the output is that message cut at
 * limit so clients see a partial message and grow their fetch size), v3
 * lets the first converted batch exceed it when `first` (KIP-74). On
 * return reg->file is released and reg->len is the converted length.
 * v4-9 return SM_ERR_NONE without touching reg/op. */
sm_err_t sm_convert_fetch(int16_t api_version, const char *topic, int64_t fetch_offset, int32_t limit, int first,
                          sm_log_region_t *reg, sm_fetch_resp_part_t *op, sm_arena_t *a);

/* ListOffsets v0: fill old_style_offsets from the v1-style answer already in
 * *op (offset -1 = none), honouring max_num_offsets. */
void sm_convert_listoffsets_v0(const sm_listoffsets_req_part_t *rp, sm_listoffsets_resp_part_t *op, sm_arena_t *a);

/* Decompression bound for one produced batch or legacy wrapper: eight times
 * the topic's max.message.bytes, at least 64 MiB (a hostile batch cannot
 * expand past it). */
size_t sm_convert_max_uncompressed(const sm_log_config_t *cfg);

#endif
