# src/proto/local.mk - build fragment for the proto module.

# Record batch v2 and compression codecs (records helper).
libsamsa_a_SOURCES += \
	src/proto/sm_records.c src/proto/sm_records.h \
	src/proto/sm_compress.c src/proto/sm_compress.h

check_PROGRAMS += tests/unit/check_records
TESTS += tests/unit/check_records
tests_unit_check_records_SOURCES = tests/unit/check_records.c tests/unit/sm_test.c tests/unit/sm_test.h
tests_unit_check_records_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_records_LDADD = $(SM_LIBS) $(CHECK_LIBS)

# Wire codec: headers, API table, one file per API family (proto helper).
libsamsa_a_SOURCES += \
	src/proto/sm_proto.h \
	src/proto/sm_proto_hdr.c \
	src/proto/sm_proto_apiversions.c \
	src/proto/sm_proto_metadata.c \
	src/proto/sm_proto_produce.c \
	src/proto/sm_proto_fetch.c \
	src/proto/sm_proto_listoffsets.c \
	src/proto/sm_proto_admin.c

check_PROGRAMS += tests/unit/check_proto
TESTS += tests/unit/check_proto
tests_unit_check_proto_SOURCES = tests/unit/check_proto.c tests/unit/sm_test.c tests/unit/sm_test.h
tests_unit_check_proto_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_proto_LDADD = $(SM_LIBS) $(CHECK_LIBS)

# Inter-broker codecs (LeaderAndIsr, UpdateMetadata, StopReplica,
# ControlledShutdown, OffsetForLeaderEpoch) and InitProducerId,
# AlterConfigs, DeleteRecords.
libsamsa_a_SOURCES += \
	src/proto/sm_proto_interbroker.h \
	src/proto/sm_proto_ib_ctrl.c \
	src/proto/sm_proto_ib_misc.c

check_PROGRAMS += tests/unit/check_proto_ib
TESTS += tests/unit/check_proto_ib
tests_unit_check_proto_ib_SOURCES = tests/unit/check_proto_ib.c tests/unit/sm_test.c tests/unit/sm_test.h
tests_unit_check_proto_ib_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_proto_ib_LDADD = $(SM_LIBS) $(CHECK_LIBS)

# Consumer-group API codecs and __consumer_offsets / consumer-protocol records.
libsamsa_a_SOURCES += \
	src/proto/sm_proto_group.h \
	src/proto/sm_proto_grp_coord.c \
	src/proto/sm_proto_grp_offsets.c \
	src/proto/sm_proto_grp_admin.c \
	src/proto/sm_group_records.c src/proto/sm_group_records.h

check_PROGRAMS += tests/unit/check_proto_group
TESTS += tests/unit/check_proto_group
tests_unit_check_proto_group_SOURCES = tests/unit/check_proto_group.c tests/unit/sm_test.c tests/unit/sm_test.h
tests_unit_check_proto_group_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_proto_group_LDADD = $(SM_LIBS) $(CHECK_LIBS)

# Legacy message sets (magic 0/1) and their conversions (legacy-formats helper).
libsamsa_a_SOURCES += src/proto/sm_legacy.c src/proto/sm_legacy.h

check_PROGRAMS += tests/unit/check_legacy
TESTS += tests/unit/check_legacy
tests_unit_check_legacy_SOURCES = tests/unit/check_legacy.c tests/unit/sm_test.c tests/unit/sm_test.h
tests_unit_check_legacy_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_legacy_LDADD = $(SM_LIBS) $(CHECK_LIBS)

# DescribeLogDirs (replica sizes for samsa-reassign-partitions --verify).
libsamsa_a_SOURCES += src/proto/sm_proto_logdirs.c src/proto/sm_proto_logdirs.h

check_PROGRAMS += tests/unit/check_proto_logdirs
TESTS += tests/unit/check_proto_logdirs
tests_unit_check_proto_logdirs_SOURCES = tests/unit/check_proto_logdirs.c tests/unit/sm_test.c tests/unit/sm_test.h
tests_unit_check_proto_logdirs_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_proto_logdirs_LDADD = $(SM_LIBS) $(CHECK_LIBS)
