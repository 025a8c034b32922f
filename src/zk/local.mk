# src/zk/local.mk - ZooKeeper session, znode codecs, topic admin, broker
# registration and the controller.
libsamsa_a_SOURCES += \
	src/zk/sm_zk.c src/zk/sm_zk.h \
	src/zk/sm_zk_codec.c src/zk/sm_zk_codec.h \
	src/zk/sm_zk_admin.c src/zk/sm_zk_admin.h

check_PROGRAMS += tests/unit/check_zk
TESTS += tests/unit/check_zk
tests_unit_check_zk_SOURCES = tests/unit/check_zk.c
tests_unit_check_zk_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_zk_LDADD = $(SM_LIBS) $(CHECK_LIBS)
