/*
 * sm_compress.c - owns the codec glue for record payloads: gzip (zlib),
 * snappy (raw blocks and xerial/snappy-java framing), lz4 (LZ4 frame with
 * independent blocks, as Kafka's KafkaLZ4Block streams require) and zstd.
 *
 * Every decompressor writes into a buffer that may grow to max_out + 1 bytes
 * and no further: producing that extra byte is how we learn that the input
 * expands beyond the caller's bound, without trusting any size field the
 * (hostile) input declares.
 */
#include "proto/sm_compress.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <snappy-c.h>
#include <lz4frame.h>
#include <zstd.h>

#include "core/sm_buf.h"
#include "core/sm_util.h"

/* "\x82SNAPPY\0" + version 1 + min-compatible version 1 (snappy-java SnappyCodec). */
static const uint8_t xerial_magic[8] = { 0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0 };
#define XERIAL_HEADER_SIZE 16
#define XERIAL_BLOCK_SIZE (32 * 1024)   /* SnappyOutputStream.DEFAULT_BLOCK_SIZE */

#define LZ4_FRAME_MAGIC 0x184D2204u
#define LZ4_FLG_BLOCK_INDEP 0x20

/* Growable output bounded at limit = max_out + 1 bytes (see file comment). */
typedef struct {
    uint8_t *buf;
    size_t len, cap, limit;
} outbuf_t;

static void
outbuf_init(outbuf_t *o, size_t inlen, size_t max_out)
{
    o->limit = max_out == SIZE_MAX ? SIZE_MAX : max_out + 1;
    /* Start from a guess of 4x the input: most payloads fit without regrowth,
     * and a zip bomb cannot make us allocate more than limit anyway. */
    size_t want = inlen > SIZE_MAX / 4 ? SIZE_MAX : inlen * 4;
    if (want < 1024) want = 1024;
    if (want > o->limit) want = o->limit;
    o->cap = want ? want : 1;
    o->buf = sm_malloc(o->cap);
    o->len = 0;
}

/* Make room for more output. Returns 0 when the limit is already reached. */
static int
outbuf_grow(outbuf_t *o)
{
    if (o->cap >= o->limit) return 0;
    size_t ncap = o->cap > o->limit / 2 ? o->limit : o->cap * 2;
    o->buf = sm_realloc(o->buf, ncap);
    o->cap = ncap;
    return 1;
}

/* Hand the result over, or free it on error. */
static sm_err_t
outbuf_finish(outbuf_t *o, sm_err_t err, size_t max_out, uint8_t **out, size_t *outlen)
{
    if (err == SM_ERR_NONE && o->len > max_out) err = SM_ERR_CORRUPT_MESSAGE;
    if (err != SM_ERR_NONE) {
        free(o->buf);
        o->buf = NULL;
        *out = NULL;
        *outlen = 0;
        return err;
    }
    *out = o->buf;
    *outlen = o->len;
    o->buf = NULL;
    return SM_ERR_NONE;
}

/* ---- gzip ---------------------------------------------------------------- */

static sm_err_t
gzip_decompress(const uint8_t *in, size_t inlen, size_t max_out, uint8_t **out, size_t *outlen)
{
    z_stream zs;
    outbuf_t o;
    sm_err_t err = SM_ERR_CORRUPT_MESSAGE;
    int rc = Z_OK;

    memset(&zs, 0, sizeof(zs));
    /* 15 + 16: gzip wrapper only, as GZIPInputStream. */
    if (inflateInit2(&zs, 15 + 16) != Z_OK) return SM_ERR_CORRUPT_MESSAGE;
    outbuf_init(&o, inlen, max_out);
    zs.next_in = (Bytef *)in;
    zs.avail_in = 0;
    size_t in_left = inlen;

    for (;;) {
        if (zs.avail_in == 0 && in_left > 0) {
            /* avail_in is a uInt: feed very large inputs in slices. */
            size_t n = in_left > UINT32_MAX ? UINT32_MAX : in_left;
            zs.avail_in = (uInt)n;
            in_left -= n;
        }
        if (o.len == o.cap && !outbuf_grow(&o)) break;       /* over max_out */
        size_t room = o.cap - o.len;
        if (room > UINT32_MAX) room = UINT32_MAX;
        zs.next_out = o.buf + o.len;
        zs.avail_out = (uInt)room;
        rc = inflate(&zs, Z_NO_FLUSH);
        o.len += room - zs.avail_out;
        if (rc == Z_STREAM_END) {
            /* GZIPInputStream reads concatenated members; so do we. */
            if (zs.avail_in == 0 && in_left == 0) { err = SM_ERR_NONE; break; }
            if (inflateReset(&zs) != Z_OK) break;
            continue;
        }
        if (rc == Z_BUF_ERROR) {
            /* No progress possible: either truncated input or a full buffer. */
            if (zs.avail_out == 0) continue;
            break;
        }
        if (rc != Z_OK) break;
        if (zs.avail_in == 0 && in_left == 0 && zs.avail_out != 0) break;   /* truncated */
    }
    inflateEnd(&zs);
    return outbuf_finish(&o, err, max_out, out, outlen);
}

static sm_err_t
gzip_compress(const uint8_t *in, size_t inlen, uint8_t **out, size_t *outlen)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (inlen > UINT32_MAX / 2) return SM_ERR__FAIL;
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return SM_ERR__FAIL;
    size_t cap = deflateBound(&zs, (uLong)inlen) + 32;   /* + gzip header/trailer slack */
    uint8_t *buf = sm_malloc(cap);
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)inlen;
    zs.next_out = buf;
    zs.avail_out = (uInt)cap;
    int rc = deflate(&zs, Z_FINISH);
    size_t n = cap - zs.avail_out;
    deflateEnd(&zs);
    if (rc != Z_STREAM_END) { free(buf); return SM_ERR__FAIL; }
    *out = buf;
    *outlen = n;
    return SM_ERR_NONE;
}

/* ---- snappy -------------------------------------------------------------- */

/* Append one raw snappy block to o, honouring the bound. */
static sm_err_t
snappy_block(outbuf_t *o, const uint8_t *blk, size_t blen)
{
    size_t ulen;
    if (snappy_uncompressed_length((const char *)blk, blen, &ulen) != SNAPPY_OK)
        return SM_ERR_CORRUPT_MESSAGE;
    if (ulen > o->limit - 1 - o->len) return SM_ERR_CORRUPT_MESSAGE;   /* > max_out */
    while (o->cap - o->len < ulen) outbuf_grow(o);
    size_t got = ulen;
    if (snappy_uncompress((const char *)blk, blen, (char *)o->buf + o->len, &got) != SNAPPY_OK ||
        got != ulen)
        return SM_ERR_CORRUPT_MESSAGE;
    o->len += got;
    return SM_ERR_NONE;
}

static sm_err_t
snappy_decompress(const uint8_t *in, size_t inlen, size_t max_out, uint8_t **out, size_t *outlen)
{
    outbuf_t o;
    sm_err_t err = SM_ERR_NONE;

    /* Room is taken per block from the declared size (already bounded), so
     * start small instead of at 4x the input. */
    outbuf_init(&o, 0, max_out);
    if (inlen >= XERIAL_HEADER_SIZE && memcmp(in, xerial_magic, 8) == 0) {
        sm_reader_t r;
        sm_reader_init(&r, in + XERIAL_HEADER_SIZE, inlen - XERIAL_HEADER_SIZE);
        /* Version fields are informational: snappy-java only checks that the
         * min-compatible version is not above its own (1). */
        if ((int32_t)sm_be32(in + 12) > 1) err = SM_ERR_CORRUPT_MESSAGE;
        while (err == SM_ERR_NONE && sm_reader_remaining(&r) > 0) {
            int32_t blen = sm_read_i32(&r);
            const uint8_t *blk = blen >= 0 ? sm_read_raw(&r, (size_t)blen) : NULL;
            if (r.err || blk == NULL) { err = SM_ERR_CORRUPT_MESSAGE; break; }
            err = snappy_block(&o, blk, (size_t)blen);
        }
    } else {
        err = snappy_block(&o, in, inlen);
    }
    return outbuf_finish(&o, err, max_out, out, outlen);
}

/* Kafka's Java client writes xerial framing, and every reader (Java,
 * librdkafka, Go) accepts it, so the builder produces it too. */
static sm_err_t
snappy_compress_xerial(const uint8_t *in, size_t inlen, uint8_t **out, size_t *outlen)
{
    sm_wbuf_t w;
    size_t maxblk = snappy_max_compressed_length(XERIAL_BLOCK_SIZE);
    sm_wbuf_init(&w, XERIAL_HEADER_SIZE + inlen / 2 + 64);
    sm_write_raw(&w, xerial_magic, sizeof(xerial_magic));
    sm_write_i32(&w, 1);
    sm_write_i32(&w, 1);
    for (size_t off = 0; off < inlen; off += XERIAL_BLOCK_SIZE) {
        size_t n = inlen - off < XERIAL_BLOCK_SIZE ? inlen - off : XERIAL_BLOCK_SIZE;
        size_t at = sm_wbuf_reserve_i32(&w);
        size_t clen = maxblk;
        uint8_t *dst = sm_wbuf_reserve(&w, maxblk);
        if (snappy_compress((const char *)in + off, n, (char *)dst, &clen) != SNAPPY_OK) {
            sm_wbuf_free(&w);
            return SM_ERR__FAIL;
        }
        w.len += clen;
        sm_wbuf_patch_i32(&w, at, (int32_t)clen);
    }
    *out = sm_wbuf_steal(&w, outlen);
    return SM_ERR_NONE;
}

/* ---- lz4 ----------------------------------------------------------------- */

static sm_err_t
lz4_decompress(const uint8_t *in, size_t inlen, size_t max_out, uint8_t **out, size_t *outlen)
{
    LZ4F_dctx *dctx = NULL;
    outbuf_t o;
    sm_err_t err = SM_ERR_CORRUPT_MESSAGE;

    /* KafkaLZ4BlockInputStream refuses dependent blocks; match it so that a
     * batch we accept is one every Kafka consumer can read. */
    if (inlen >= 5 && (uint32_t)(in[0] | in[1] << 8 | in[2] << 16 | (uint32_t)in[3] << 24) == LZ4_FRAME_MAGIC &&
        !(in[4] & LZ4_FLG_BLOCK_INDEP))
        return SM_ERR_CORRUPT_MESSAGE;
    if (inlen == 0) return SM_ERR_CORRUPT_MESSAGE;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION))) return SM_ERR__FAIL;
    outbuf_init(&o, inlen, max_out);

    size_t pos = 0, hint = 1;
    for (;;) {
        if (o.len == o.cap && !outbuf_grow(&o)) break;
        size_t dst = o.cap - o.len, src = inlen - pos;
        hint = LZ4F_decompress(dctx, o.buf + o.len, &dst, in + pos, &src, NULL);
        if (LZ4F_isError(hint)) break;
        o.len += dst;
        pos += src;
        if (pos == inlen) {
            /* hint == 0: the frame ended exactly here. If output filled up,
             * buffered data may still be pending: go round again. */
            if (hint == 0) { err = SM_ERR_NONE; break; }
            if (o.len < o.cap && dst == 0) break;            /* truncated */
        } else if (src == 0 && dst == 0 && o.len < o.cap) {
            break;                                            /* no progress */
        }
    }
    LZ4F_freeDecompressionContext(dctx);
    return outbuf_finish(&o, err, max_out, out, outlen);
}

static sm_err_t
lz4_compress(const uint8_t *in, size_t inlen, uint8_t **out, size_t *outlen)
{
    LZ4F_preferences_t prefs;
    memset(&prefs, 0, sizeof(prefs));
    /* What KafkaLZ4BlockOutputStream writes: 64 KiB independent blocks. */
    prefs.frameInfo.blockSizeID = LZ4F_max64KB;
    prefs.frameInfo.blockMode = LZ4F_blockIndependent;
    size_t cap = LZ4F_compressFrameBound(inlen, &prefs);
    uint8_t *buf = sm_malloc(cap);
    size_t n = LZ4F_compressFrame(buf, cap, in, inlen, &prefs);
    if (LZ4F_isError(n)) { free(buf); return SM_ERR__FAIL; }
    *out = buf;
    *outlen = n;
    return SM_ERR_NONE;
}

/* ---- zstd ---------------------------------------------------------------- */

static sm_err_t
zstd_decompress(const uint8_t *in, size_t inlen, size_t max_out, uint8_t **out, size_t *outlen)
{
    ZSTD_DStream *ds = ZSTD_createDStream();
    outbuf_t o;
    sm_err_t err = SM_ERR_CORRUPT_MESSAGE;

    if (ds == NULL) return SM_ERR__FAIL;
    if (inlen == 0) { ZSTD_freeDStream(ds); return SM_ERR_CORRUPT_MESSAGE; }
    ZSTD_initDStream(ds);
    outbuf_init(&o, inlen, max_out);
    ZSTD_inBuffer ib = { in, inlen, 0 };
    size_t rc = 1;
    for (;;) {
        if (o.len == o.cap && !outbuf_grow(&o)) break;
        ZSTD_outBuffer ob = { o.buf + o.len, o.cap - o.len, 0 };
        size_t before_in = ib.pos;
        rc = ZSTD_decompressStream(ds, &ob, &ib);
        if (ZSTD_isError(rc)) break;
        o.len += ob.pos;
        if (ib.pos == ib.size && rc == 0) { err = SM_ERR_NONE; break; }
        /* Output not full and no input consumed: the frame is truncated. */
        if (ob.pos < ob.size && ib.pos == before_in && ib.pos == ib.size) break;
    }
    ZSTD_freeDStream(ds);
    return outbuf_finish(&o, err, max_out, out, outlen);
}

static sm_err_t
zstd_compress(const uint8_t *in, size_t inlen, uint8_t **out, size_t *outlen)
{
    size_t cap = ZSTD_compressBound(inlen);
    uint8_t *buf = sm_malloc(cap ? cap : 1);
    size_t n = ZSTD_compress(buf, cap, in, inlen, 3);   /* zstd-jni default level */
    if (ZSTD_isError(n)) { free(buf); return SM_ERR__FAIL; }
    *out = buf;
    *outlen = n;
    return SM_ERR_NONE;
}

/* ---- dispatch ------------------------------------------------------------ */

sm_err_t
sm_decompress(sm_codec_t codec, const uint8_t *in, size_t inlen, size_t max_out,
              uint8_t **out, size_t *outlen)
{
    *out = NULL;
    *outlen = 0;
    switch (codec) {
    case SM_CODEC_GZIP:   return gzip_decompress(in, inlen, max_out, out, outlen);
    case SM_CODEC_SNAPPY: return snappy_decompress(in, inlen, max_out, out, outlen);
    case SM_CODEC_LZ4:    return lz4_decompress(in, inlen, max_out, out, outlen);
    case SM_CODEC_ZSTD:   return zstd_decompress(in, inlen, max_out, out, outlen);
    default:              return SM_ERR_UNSUPPORTED_COMPRESSION_TYPE;
    }
}

sm_err_t
sm_compress(sm_codec_t codec, const uint8_t *in, size_t inlen, uint8_t **out, size_t *outlen)
{
    *out = NULL;
    *outlen = 0;
    switch (codec) {
    case SM_CODEC_GZIP:   return gzip_compress(in, inlen, out, outlen);
    case SM_CODEC_SNAPPY: return snappy_compress_xerial(in, inlen, out, outlen);
    case SM_CODEC_LZ4:    return lz4_compress(in, inlen, out, outlen);
    case SM_CODEC_ZSTD:   return zstd_compress(in, inlen, out, outlen);
    default:              return SM_ERR_UNSUPPORTED_COMPRESSION_TYPE;
    }
}
