#!/bin/sh
# run-zk-live.sh - `make check` entry: the live ZooKeeper tests
# (tests/unit/check_zk_live) under a throw-away server from zk-test-env.sh.
top_src=${SAMSA_TOP_SRCDIR:-$(dirname "$0")/..}
top_build=${SAMSA_TOP_BUILDDIR:-.}
exec "$top_src/tests/zk-test-env.sh" "$top_build/tests/unit/check_zk_live"
