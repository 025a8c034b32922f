# src/net/local.mk - build fragment for the net module: acceptor and network
# threads, connections, framing, response sending.
libsamsa_a_SOURCES += \
	src/net/sm_net.c src/net/sm_net.h src/net/sm_net_int.h \
	src/net/sm_resp.c

check_PROGRAMS += tests/unit/check_net
TESTS += tests/unit/check_net
tests_unit_check_net_SOURCES = tests/unit/check_net.c tests/unit/sm_test.c tests/unit/sm_test.h
tests_unit_check_net_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_net_LDADD = $(SM_LIBS) $(CHECK_LIBS)
