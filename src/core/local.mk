# src/core/local.mk - bytes, varints, CRC-32C, hashes, logging, config.
libsamsa_a_SOURCES += \
	src/core/sm_err.c src/core/sm_err.h \
	src/core/sm_buf.c src/core/sm_buf.h \
	src/core/sm_util.c src/core/sm_util.h \
	src/core/sm_crc32c.c src/core/sm_crc32c.h \
	src/core/sm_log.c src/core/sm_log.h \
	src/core/sm_conf.c src/core/sm_conf.h \
	src/core/sm_json.c src/core/sm_json.h \
	src/core/sm_file.c src/core/sm_file.h \
	src/core/sm_loop.c src/core/sm_loop.h

check_PROGRAMS += tests/unit/check_core
TESTS += tests/unit/check_core
tests_unit_check_core_SOURCES = tests/unit/check_core.c tests/unit/sm_test.c tests/unit/sm_test.h
tests_unit_check_core_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_core_LDADD = $(SM_LIBS) $(CHECK_LIBS)

# Per-request bump allocator (owned by the proto helper).
libsamsa_a_SOURCES += src/core/sm_arena.c src/core/sm_arena.h
