# src/tools/local.mk - the operator CLIs (samsa-topics, samsa-console-producer,
# samsa-console-consumer, samsa-configs, samsa-consumer-groups,
# samsa-reassign-partitions, samsa-leader-election).
#
# The librdkafka-free helpers (sm_tool.c, sm_tool_admin.c) live in libsamsa.a
# so the unit tests can call them. Everything that needs librdkafka
# (sm_tool_rdk.c, sm_tool_zk.c) goes into libsamsa_tools.a, which only the
# tool binaries link: the broker never links librdkafka.
libsamsa_a_SOURCES += \
	src/tools/sm_tool.c src/tools/sm_tool.h \
	src/tools/sm_tool_admin.c src/tools/sm_tool_admin.h

noinst_LIBRARIES += libsamsa_tools.a
libsamsa_tools_a_SOURCES = \
	src/tools/sm_tool_rdk.c src/tools/sm_tool_rdk.h \
	src/tools/sm_tool_zk.c src/tools/sm_tool_zk.h
libsamsa_tools_a_CFLAGS = $(AM_CFLAGS) $(RDKAFKA_CFLAGS)

SM_TOOL_CFLAGS = $(AM_CFLAGS) $(RDKAFKA_CFLAGS)
SM_TOOL_LDADD = libsamsa_tools.a $(SM_LIBS) $(RDKAFKA_LIBS)

bin_PROGRAMS += samsa-topics
samsa_topics_SOURCES = src/tools/sm_topics.c
samsa_topics_CFLAGS = $(SM_TOOL_CFLAGS)
samsa_topics_LDADD = $(SM_TOOL_LDADD)

bin_PROGRAMS += samsa-console-producer
samsa_console_producer_SOURCES = src/tools/sm_console_producer.c
samsa_console_producer_CFLAGS = $(SM_TOOL_CFLAGS)
samsa_console_producer_LDADD = $(SM_TOOL_LDADD)

bin_PROGRAMS += samsa-console-consumer
samsa_console_consumer_SOURCES = src/tools/sm_console_consumer.c
samsa_console_consumer_CFLAGS = $(SM_TOOL_CFLAGS)
samsa_console_consumer_LDADD = $(SM_TOOL_LDADD)

# kafka-configs.sh / kafka-consumer-groups.sh equivalents.
bin_PROGRAMS += samsa-configs
samsa_configs_SOURCES = src/tools/sm_configs.c
samsa_configs_CFLAGS = $(SM_TOOL_CFLAGS)
samsa_configs_LDADD = $(SM_TOOL_LDADD)

bin_PROGRAMS += samsa-consumer-groups
samsa_consumer_groups_SOURCES = src/tools/sm_consumer_groups.c
samsa_consumer_groups_CFLAGS = $(SM_TOOL_CFLAGS)
samsa_consumer_groups_LDADD = $(SM_TOOL_LDADD)

# ZooKeeper-mode admin tools (controller requests through admin znodes).
bin_PROGRAMS += samsa-reassign-partitions
samsa_reassign_partitions_SOURCES = src/tools/sm_reassign.c
samsa_reassign_partitions_CFLAGS = $(SM_TOOL_CFLAGS)
samsa_reassign_partitions_LDADD = $(SM_TOOL_LDADD)

bin_PROGRAMS += samsa-leader-election
samsa_leader_election_SOURCES = src/tools/sm_leader_election.c
samsa_leader_election_CFLAGS = $(SM_TOOL_CFLAGS)
samsa_leader_election_LDADD = $(SM_TOOL_LDADD)

check_PROGRAMS += tests/unit/check_tools
TESTS += tests/unit/check_tools
tests_unit_check_tools_SOURCES = tests/unit/check_tools.c tests/unit/sm_test.c tests/unit/sm_test.h
tests_unit_check_tools_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_tools_LDADD = $(SM_LIBS) $(CHECK_LIBS)

check_PROGRAMS += tests/unit/check_tool_admin
TESTS += tests/unit/check_tool_admin
tests_unit_check_tool_admin_SOURCES = tests/unit/check_tool_admin.c tests/unit/sm_test.c tests/unit/sm_test.h
tests_unit_check_tool_admin_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_tool_admin_LDADD = $(SM_LIBS) $(CHECK_LIBS)
