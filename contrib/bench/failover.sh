#!/usr/bin/env bash
# contrib/bench/failover.sh - failover and replication benchmarks of a local
# 3-broker Samsa cluster: (a) kill -9 of a partition leader -> next
# acknowledged acks=all write, 1 and 1,000 partitions, with the ZooKeeper
# session-expiry component shown separately; (b) controller kill -9 with
# 10,000 partitions -> new controller "Ready to serve" and every partition
# led again; (c) produce throughput RF 3 acks=all vs RF 1 acks=1 with
# contrib/bench/sm_bench. Prints one table per measurement.
#
# The work is done by contrib/bench/failover.py (confluent-kafka, kazoo and
# the integration harness's process management: private ZooKeeper and
# brokers on free 127.0.0.1 ports in a temp dir, all killed by pid on exit).
#
# Environment: SAMSA_TOP_BUILDDIR (default: cwd), SAMSA_TOP_SRCDIR,
#   FAILOVER_SESSION_MS (4000), FAILOVER_CTRL_PARTITIONS (10000),
#   FAILOVER_CTRL_BROKERS (6), FAILOVER_MSGS_100 (300000),
#   FAILOVER_MSGS_1K (100000), FAILOVER_ONLY (leader,controller,throughput),
#   BENCH_KEEP=1 keeps the temp dir.
set -euo pipefail

srcdir=${SAMSA_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${SAMSA_TOP_BUILDDIR:-$(pwd)}
export SAMSA_TOP_SRCDIR=$srcdir SAMSA_TOP_BUILDDIR=$builddir PYTHONDONTWRITEBYTECODE=1

# Debian's confluent-kafka and kazoo live under /usr/bin/python3.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
if ! "$PY" -c 'import confluent_kafka, kazoo' 2>/dev/null; then
    echo "failover.sh: needs python3-confluent-kafka and python3-kazoo" >&2
    exit 1
fi
# librdkafka's own connection-refused chatter goes to stderr; keep the tables.
exec "$PY" "$srcdir/contrib/bench/failover.py" "$@"
