# src/repl/local.mk - replica manager and follower fetchers.
libsamsa_a_SOURCES += src/repl/sm_replica.c src/repl/sm_replica.h \
	src/repl/sm_fetcher.c src/repl/sm_fetcher.h

check_PROGRAMS += tests/unit/check_repl
TESTS += tests/unit/check_repl
tests_unit_check_repl_SOURCES = tests/unit/check_repl.c tests/unit/sm_test.c tests/unit/sm_test.h
tests_unit_check_repl_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_repl_LDADD = $(SM_LIBS) $(CHECK_LIBS)

# Inter-broker client (inter-broker RPC helper).
libsamsa_a_SOURCES += src/repl/sm_ib_client.c src/repl/sm_ib_client.h

# Idempotent-producer state: sequence/epoch rules (idempotence helper);
# its snapshot files are in src/log/sm_pstate_snap.[ch].
libsamsa_a_SOURCES += src/repl/sm_producer_state.c src/repl/sm_producer_state.h

check_PROGRAMS += tests/unit/check_idem
TESTS += tests/unit/check_idem
tests_unit_check_idem_SOURCES = tests/unit/check_idem.c tests/unit/sm_test.c tests/unit/sm_test.h
tests_unit_check_idem_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_idem_LDADD = $(SM_LIBS) $(CHECK_LIBS)

# Replication throttles: token buckets and throttled-replica registry.
libsamsa_a_SOURCES += src/repl/sm_throttle.c src/repl/sm_throttle.h
# Replica sizes over DescribeLogDirs (samsa-reassign-partitions --verify).
libsamsa_a_SOURCES += src/repl/sm_logdirs_client.c src/repl/sm_logdirs_client.h

check_PROGRAMS += tests/unit/check_throttle
TESTS += tests/unit/check_throttle
tests_unit_check_throttle_SOURCES = tests/unit/check_throttle.c tests/unit/sm_test.c tests/unit/sm_test.h
tests_unit_check_throttle_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_throttle_LDADD = $(SM_LIBS) $(CHECK_LIBS)
