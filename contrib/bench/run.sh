#!/usr/bin/env bash
# contrib/bench/run.sh - throughput benchmark of one local Samsa broker.
#
# Starts a private ZooKeeper (contrib/samsa-zk-local) and one samsa-server
# from the build directory on free 127.0.0.1 ports in a temp dir, then for
# record sizes 100 B and 1 KiB and for 1 and 100 partitions runs
# contrib/bench/sm_bench produce then consume, and prints msgs/s, MB/s and
# the broker's CPU-seconds per GB moved (utime+stime from /proc/<pid>/stat).
# Everything it started is stopped by pid on exit, also on failure/Ctrl-C.
#
# Environment: SAMSA_TOP_BUILDDIR (default: cwd), SAMSA_TOP_SRCDIR,
#   BENCH_MSGS_100 (default 1000000), BENCH_MSGS_1K (default 250000),
#   BENCH_ACKS (default 1), BENCH_KEEP=1 keeps the temp dir.
set -euo pipefail

srcdir=${SAMSA_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${SAMSA_TOP_BUILDDIR:-$(pwd)}
server=$builddir/samsa-server
bench=$builddir/contrib/bench/sm_bench
zkl=$srcdir/contrib/samsa-zk-local
msgs_100=${BENCH_MSGS_100:-1000000}
msgs_1k=${BENCH_MSGS_1K:-250000}
acks=${BENCH_ACKS:-1}

for f in "$server" "$bench"; do
    [ -x "$f" ] || { echo "run.sh: $f not built (run make first)" >&2; exit 1; }
done

free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

work=$(mktemp -d "${TMPDIR:-/tmp}/samsa-bench.XXXXXX")
zk_port=$(free_port)
port=$(free_port)
broker_pid=

cleanup() {
    set +e
    if [ -n "$broker_pid" ] && kill -0 "$broker_pid" 2>/dev/null; then
        kill -TERM "$broker_pid"
        for _ in $(seq 1 100); do kill -0 "$broker_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$broker_pid" 2>/dev/null
    fi
    "$zkl" stop "$work/zk" "$zk_port" >/dev/null 2>&1
    if [ -n "${BENCH_KEEP:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$zkl" start "$work/zk" "$zk_port" >/dev/null

cat >"$work/server.properties" <<PROPS
broker.id=0
listeners=PLAINTEXT://127.0.0.1:$port
log.dirs=$work/data
zookeeper.connect=127.0.0.1:$zk_port
num.partitions=1
offsets.topic.replication.factor=1
log.segment.bytes=268435456
PROPS
"$server" "$work/server.properties" >"$work/server.log" 2>&1 &
broker_pid=$!
for i in $(seq 1 300); do
    grep -q 'KafkaServer id=0\] started' "$work/server.log" && break
    kill -0 "$broker_pid" 2>/dev/null || { tail -n 30 "$work/server.log" >&2; exit 1; }
    sleep 0.1
done
grep -q 'KafkaServer id=0\] started' "$work/server.log" || { echo "broker did not start" >&2; tail -n 30 "$work/server.log" >&2; exit 1; }

hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{ s = $0; sub(/.*\) /, "", s); split(s, f, " "); print f[12] + f[13] }' "/proc/$broker_pid/stat"; }

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }

printf '%-8s %6s %5s %9s %12s %10s %14s\n' op size parts msgs msgs/s MB/s "cpu-s/GB"
run_case() {
    local size=$1 parts=$2 n=$3 topic="bench-$1-$2" out t0 t1 bytes cpu
    "$bench" -b "127.0.0.1:$port" -t "$topic" -m create -p "$parts" >/dev/null
    for op in produce consume; do
        t0=$(cpu_ticks)
        out=$("$bench" -b "127.0.0.1:$port" -t "$topic" -m "$op" -n "$n" -s "$size" -p "$parts" -a "$acks" | grep '^RESULT')
        t1=$(cpu_ticks)
        bytes=$(field bytes "$out")
        cpu=$(awk -v d=$((t1 - t0)) -v hz="$hz" -v b="$bytes" 'BEGIN { printf "%.2f", (d / hz) / (b / 1073741824) }')
        printf '%-8s %6s %5s %9s %12s %10s %14s\n' "$op" "$size" "$parts" "$(field msgs "$out")" \
            "$(field msgs_per_s "$out")" "$(field mb_per_s "$out")" "$cpu"
    done
}

run_case 100 1 "$msgs_100"
run_case 100 100 "$msgs_100"
run_case 1024 1 "$msgs_1k"
run_case 1024 100 "$msgs_1k"
echo "(acks=$acks; MB = 2^20 bytes of record values; cpu-s/GB = broker utime+stime per 2^30 value bytes)"
