/*
 * sm_crc32c.h - CRC-32C (Castagnoli), the checksum of record batch v2.
 *
 * Uses the SSE4.2 crc32 instruction when the CPU has it, else a
 * slicing-by-8 table. Named crc32c, never crc32: zlib exports crc32.
 */
#ifndef SM_CRC32C_H
#define SM_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Extend crc (start with 0) over len bytes; returns the finished value. */
uint32_t sm_crc32c(uint32_t crc, const void *data, size_t len);

#endif
