# src/log/local.mk - partition logs (segments, indexes, recovery, retention)
# and the log manager (log dirs, checkpoints, start-up loading).
libsamsa_a_SOURCES += \
	src/log/sm_plog.h src/log/sm_logmgr.h \
	src/log/sm_seg.c src/log/sm_seg.h \
	src/log/sm_ckpt.c src/log/sm_ckpt.h \
	src/log/sm_log_config.c \
	src/log/sm_plog.c \
	src/log/sm_logmgr.c

check_PROGRAMS += tests/unit/check_log
TESTS += tests/unit/check_log
tests_unit_check_log_SOURCES = tests/unit/check_log.c tests/unit/sm_test.c tests/unit/sm_test.h
tests_unit_check_log_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_log_LDADD = $(SM_LIBS) $(CHECK_LIBS)

# Log cleaner (compaction of cleanup.policy=compact logs).
libsamsa_a_SOURCES += src/log/sm_cleaner.c src/log/sm_cleaner.h

check_PROGRAMS += tests/unit/check_cleaner
TESTS += tests/unit/check_cleaner
tests_unit_check_cleaner_SOURCES = tests/unit/check_cleaner.c tests/unit/sm_test.c tests/unit/sm_test.h
tests_unit_check_cleaner_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_cleaner_LDADD = $(SM_LIBS) $(CHECK_LIBS)

# Producer-state snapshots (<offset>.snapshot) and rebuild (idempotence helper).
libsamsa_a_SOURCES += src/log/sm_pstate_snap.c src/log/sm_pstate_snap.h
