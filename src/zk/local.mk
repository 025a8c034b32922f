# src/zk/local.mk - ZooKeeper session, znode codecs, topic admin, broker
# registration and the controller.
libsamsa_a_SOURCES += \
	src/zk/sm_zk.c src/zk/sm_zk.h \
	src/zk/sm_zk_codec.c src/zk/sm_zk_codec.h \
	src/zk/sm_zk_admin.c src/zk/sm_zk_admin.h \
	src/zk/sm_zk_broker.c src/zk/sm_zk_broker.h \
	src/zk/sm_ctrl.c src/zk/sm_ctrl.h

check_PROGRAMS += tests/unit/check_zk
TESTS += tests/unit/check_zk
tests_unit_check_zk_SOURCES = tests/unit/check_zk.c tests/unit/sm_test.c tests/unit/sm_test.h
tests_unit_check_zk_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_zk_LDADD = $(SM_LIBS) $(CHECK_LIBS)

# Live tests against a real ZooKeeper: check_zk_live skips (77) unless
# SAMSA_ZK_CONNECT is set; tests/run-zk-live.sh starts a server for it.
check_PROGRAMS += tests/unit/check_zk_live
TESTS += tests/run-zk-live.sh
tests_unit_check_zk_live_SOURCES = tests/unit/check_zk_live.c tests/unit/sm_test.c tests/unit/sm_test.h
tests_unit_check_zk_live_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_zk_live_LDADD = $(SM_LIBS) $(CHECK_LIBS)
dist_noinst_SCRIPTS += tests/zk-test-env.sh tests/run-zk-live.sh
