# src/metrics/local.mk - Prometheus metrics: counters and histograms, the
# exposition format, the HTTP scrape endpoint, and the broker's gauges.
libsamsa_a_SOURCES += \
	src/metrics/sm_metrics.c src/metrics/sm_metrics.h \
	src/metrics/sm_metrics_http.c src/metrics/sm_metrics_http.h \
	src/metrics/sm_metrics_broker.c src/metrics/sm_metrics_broker.h

check_PROGRAMS += tests/unit/check_metrics
TESTS += tests/unit/check_metrics
tests_unit_check_metrics_SOURCES = tests/unit/check_metrics.c tests/unit/sm_test.c tests/unit/sm_test.h
tests_unit_check_metrics_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_metrics_LDADD = $(SM_LIBS) $(CHECK_LIBS)
