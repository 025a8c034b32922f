#!/bin/sh
# tests/integration/run.sh - `make check` entry point of the integration suite.
#
# Runs `python3 -m pytest` on tests/integration against the binaries of the
# build directory and exits with pytest's status; exit 77 (automake SKIP)
# only when python3 or pytest is missing.  Extra pytest arguments can be
# passed in SAMSA_IT_ARGS (e.g. SAMSA_IT_ARGS='-m "not slow"' or '-k kcat').
srcdir=${SAMSA_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${SAMSA_TOP_BUILDDIR:-$(pwd)}
export SAMSA_TOP_SRCDIR="$srcdir" SAMSA_TOP_BUILDDIR="$builddir"

# Debian's python modules (confluent-kafka, kafka, kazoo) live under /usr/bin/python3.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3 || true)
if [ -z "$PY" ]; then
    echo "SKIP: python3 not found"
    exit 77
fi
if ! "$PY" -c 'import pytest' 2>/dev/null; then
    echo "SKIP: pytest not installed for $PY (apt-get install python3-pytest)"
    exit 77
fi

# Under make check the broker is always built first; a missing binary means a
# broken build, which must not turn into a suite of skipped tests.
if [ ! -x "$builddir/samsa-server" ]; then
    echo "ERROR: $builddir/samsa-server not built"
    exit 99
fi

# Never write bytecode or caches into the (shared) source tree.
export PYTHONDONTWRITEBYTECODE=1
cd "$builddir" || exit 99
eval "set -- \"\$@\" $SAMSA_IT_ARGS"
"$PY" -m pytest -q -c "$srcdir/tests/integration/pytest.ini" --rootdir "$srcdir/tests/integration" \
    "$srcdir/tests/integration" "$@"
rc=$?
# 5 = no tests collected: that is a broken suite, not a pass.
[ "$rc" -eq 5 ] && rc=1
exit "$rc"
