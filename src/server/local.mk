# src/server/local.mk - the broker: config, start-up, request handlers.
libsamsa_a_SOURCES += \
	src/server/sm_config.c src/server/sm_config.h \
	src/server/sm_metadata.c src/server/sm_metadata.h \
	src/server/sm_worker.c src/server/sm_worker.h \
	src/server/sm_server.c src/server/sm_server.h \
	src/server/sm_handlers.c src/server/sm_fetch.c src/server/sm_admin_api.c

# Replication: OffsetForLeaderEpoch, delayed acks=all produce, ISR writes (replication helper).
libsamsa_a_SOURCES += src/server/sm_repl_api.c

bin_PROGRAMS += samsa-server
samsa_server_SOURCES = src/server/sm_main.c
samsa_server_LDADD = $(SM_LIBS)

check_PROGRAMS += tests/unit/check_server
TESTS += tests/unit/check_server
tests_unit_check_server_SOURCES = tests/unit/check_server.c tests/unit/sm_test.c tests/unit/sm_test.h
tests_unit_check_server_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_server_LDADD = $(SM_LIBS) $(CHECK_LIBS)

# Message-format conversion glue for old clients (legacy-formats helper).
libsamsa_a_SOURCES += src/server/sm_convert.c src/server/sm_convert.h

# Inter-broker APIs (LeaderAndIsr, UpdateMetadata, StopReplica,
# ControlledShutdown) and the controlled-shutdown client.
libsamsa_a_SOURCES += src/server/sm_ib_api.c src/server/sm_ib_api.h

# Consumer-group API handlers and the coordinator life cycle (groups helper).
libsamsa_a_SOURCES += src/server/sm_group_api.c

# AlterConfigs (config-tools helper).
libsamsa_a_SOURCES += src/server/sm_config_api.c

# Idempotent producers (InitProducerId) and DeleteRecords (idempotence helper).
libsamsa_a_SOURCES += src/server/sm_idem_api.c

# Replication throttles (registry feed, leader side) and DescribeLogDirs
# (throttle helper).
libsamsa_a_SOURCES += src/server/sm_repl_throttle.c src/server/sm_logdirs_api.c

# Dynamic broker configs: /config/brokers layers applied live, broker
# DescribeConfigs sources and synonyms (dynamic-config helper).
libsamsa_a_SOURCES += src/server/sm_dyncfg.c src/server/sm_dyncfg.h
check_PROGRAMS += tests/unit/check_dyncfg
TESTS += tests/unit/check_dyncfg
tests_unit_check_dyncfg_SOURCES = tests/unit/check_dyncfg.c tests/unit/sm_test.c tests/unit/sm_test.h
tests_unit_check_dyncfg_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_dyncfg_LDADD = $(SM_LIBS) $(CHECK_LIBS)
