# tests/local.mk - integration test hooks.
#
# The integration suite (tests/integration/, pytest) runs as one automake
# test script after the unit tests' programs and the binaries are built:
# it starts ZooKeeper and samsa-server processes of this build directory.
# `make check-integration` runs only this suite; pass pytest options in
# SAMSA_IT_ARGS, e.g. `make check-integration SAMSA_IT_ARGS='-m "not slow"'`.

TESTS += tests/integration/run.sh
dist_noinst_SCRIPTS += tests/integration/run.sh

.PHONY: check-integration
check-integration: all
	SAMSA_TOP_SRCDIR=$(abs_top_srcdir) SAMSA_TOP_BUILDDIR=$(abs_top_builddir) \
	  SAMSA_IT_ARGS='$(SAMSA_IT_ARGS)' $(SHELL) $(top_srcdir)/tests/integration/run.sh

# ---- fuzz targets (owned by the core-tests helper; see tests/fuzz/README) ----
# Each libFuzzer entry point is also linked with tests/fuzz/replay.c, a plain
# driver that replays tests/fuzz/corpus/<name>/ under `make check`.
# gen_corpus rewrites the seed corpus; `make fuzz` builds the real fuzzers
# with clang + libFuzzer + ASan/UBSan in $(abs_top_builddir)/fuzz/.
check_PROGRAMS += tests/fuzz/replay_records tests/fuzz/replay_json \
	tests/fuzz/replay_request tests/fuzz/replay_props
TESTS += tests/fuzz/replay_records tests/fuzz/replay_json \
	tests/fuzz/replay_request tests/fuzz/replay_props
tests_fuzz_replay_records_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_records.c
tests_fuzz_replay_records_CPPFLAGS = $(AM_CPPFLAGS) -DSM_FUZZ_NAME='"records"'
tests_fuzz_replay_records_LDADD = $(SM_LIBS)
tests_fuzz_replay_json_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_json.c
tests_fuzz_replay_json_CPPFLAGS = $(AM_CPPFLAGS) -DSM_FUZZ_NAME='"json"'
tests_fuzz_replay_json_LDADD = $(SM_LIBS)
tests_fuzz_replay_request_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_request.c
tests_fuzz_replay_request_CPPFLAGS = $(AM_CPPFLAGS) -DSM_FUZZ_NAME='"request"'
tests_fuzz_replay_request_LDADD = $(SM_LIBS)
tests_fuzz_replay_props_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_props.c
tests_fuzz_replay_props_CPPFLAGS = $(AM_CPPFLAGS) -DSM_FUZZ_NAME='"props"'
tests_fuzz_replay_props_LDADD = $(SM_LIBS)

noinst_PROGRAMS += tests/fuzz/gen_corpus
tests_fuzz_gen_corpus_SOURCES = tests/fuzz/gen_corpus.c
tests_fuzz_gen_corpus_LDADD = $(SM_LIBS)

.PHONY: fuzz fuzz-corpus
fuzz: libsamsa.a
	$(SHELL) $(abs_top_srcdir)/tests/fuzz/build.sh $(abs_top_srcdir) $(abs_top_builddir)/fuzz
fuzz-corpus: tests/fuzz/gen_corpus$(EXEEXT)
	./tests/fuzz/gen_corpus$(EXEEXT) $(abs_top_srcdir) $(abs_top_srcdir)/tests/fuzz/corpus
# ---- end of fuzz targets ----
