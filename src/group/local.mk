# src/group/local.mk - the group coordinator: state machine, offsets,
# __consumer_offsets persistence and the coordinator thread.
libsamsa_a_SOURCES += \
	src/group/sm_group.c src/group/sm_group.h \
	src/group/sm_group_coord.c src/group/sm_group_coord.h

check_PROGRAMS += tests/unit/check_group
TESTS += tests/unit/check_group
tests_unit_check_group_SOURCES = tests/unit/check_group.c tests/unit/sm_test.c tests/unit/sm_test.h
tests_unit_check_group_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_group_LDADD = $(SM_LIBS) $(CHECK_LIBS)
