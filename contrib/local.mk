# contrib/local.mk - benchmarks and packaging helpers.
#
# sm_bench is a librdkafka client (never linked into the broker); `make bench`
# runs contrib/bench/run.sh against this build directory's samsa-server;
# `make bench-failover` runs contrib/bench/failover.sh (3-broker failover
# times and replicated throughput).

noinst_PROGRAMS += contrib/bench/sm_bench
contrib_bench_sm_bench_SOURCES = contrib/bench/sm_bench.c
contrib_bench_sm_bench_CFLAGS = $(AM_CFLAGS) $(RDKAFKA_CFLAGS)
contrib_bench_sm_bench_LDADD = $(RDKAFKA_LIBS)

dist_noinst_SCRIPTS += contrib/samsa-zk-local contrib/quickstart.sh contrib/bench/run.sh \
	contrib/bench/failover.sh contrib/bench/failover.py

.PHONY: bench
bench: all
	SAMSA_TOP_SRCDIR=$(abs_top_srcdir) SAMSA_TOP_BUILDDIR=$(abs_top_builddir) \
	  bash $(top_srcdir)/contrib/bench/run.sh

.PHONY: bench-failover
bench-failover: all
	SAMSA_TOP_SRCDIR=$(abs_top_srcdir) SAMSA_TOP_BUILDDIR=$(abs_top_builddir) \
	  bash $(top_srcdir)/contrib/bench/failover.sh
