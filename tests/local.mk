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
