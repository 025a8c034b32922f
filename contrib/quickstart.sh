#!/usr/bin/env bash
# contrib/quickstart.sh - from a fresh Debian 12 machine to a running Samsa
# broker with a demo topic, in one command (run as root from anywhere):
#
#   contrib/quickstart.sh          install deps, build, start ZooKeeper + broker, demo
#   contrib/quickstart.sh stop     stop the broker and ZooKeeper started here
#   contrib/quickstart.sh status
#
# Everything lives under <source>/build (the out-of-tree build) and
# <source>/run (ZooKeeper data, broker data, logs and pid files).
# Environment: SKIP_APT=1 skips apt-get (deps already installed or not root),
# QUICKSTART_PORT (default 9092), QUICKSTART_ZK_PORT (default 2181).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/build
run=$top/run
# `stop`/`status` reuse the ports chosen by the last `start`.
if [ -r "$run/quickstart.env" ]; then
    . "$run/quickstart.env"
fi
port=${QUICKSTART_PORT:-${qs_port:-9092}}
zk_port=${QUICKSTART_ZK_PORT:-${qs_zk_port:-2181}}
bootstrap=127.0.0.1:$port
pidfile=$run/samsa-server.pid

say() { printf '\n==> %s\n' "$*"; }

install_deps() {
    if [ -n "${SKIP_APT:-}" ]; then
        return
    fi
    if [ "$(id -u)" -ne 0 ]; then
        echo "quickstart: run as root to install packages, or set SKIP_APT=1" >&2
        exit 1
    fi
    say "Installing build and runtime dependencies (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends \
        build-essential autoconf automake libtool pkg-config \
        libevent-dev libssl-dev zlib1g-dev libsnappy-dev liblz4-dev libzstd-dev \
        libzookeeper-mt-dev librdkafka-dev check \
        zookeeper default-jre-headless kcat \
        python3 python3-pytest python3-confluent-kafka python3-kafka python3-kazoo \
        python3-snappy python3-lz4 python3-zstandard strace procps \
        golang-go golang-github-shopify-sarama-dev golang-github-segmentio-kafka-go-dev
    # Node.js + npm for the kafkajs client tests; optional, so never fatal.
    if ! command -v node >/dev/null 2>&1; then
        apt-get install -y -q --no-install-recommends nodejs npm ||
            echo "quickstart: nodejs/npm not installed (only the kafkajs tests need them)" >&2
    fi
}

build_samsa() {
    say "Building Samsa in $build"
    cd "$top"
    autoreconf -fi
    mkdir -p "$build"
    cd "$build"
    [ -f Makefile ] || ../configure -q
    make -j"$(nproc)" >/dev/null
}

broker_pid() {
    [ -r "$pidfile" ] || return 1
    local pid
    pid=$(cat "$pidfile")
    kill -0 "$pid" 2>/dev/null || return 1
    echo "$pid"
}

start_all() {
    mkdir -p "$run"
    printf 'qs_port=%s\nqs_zk_port=%s\n' "$port" "$zk_port" >"$run/quickstart.env"
    say "Starting ZooKeeper on 127.0.0.1:$zk_port"
    "$top/contrib/samsa-zk-local" start "$run/zookeeper" "$zk_port"

    if pid=$(broker_pid); then
        say "samsa-server already running (pid $pid)"
        return
    fi
    say "Starting samsa-server on $bootstrap (log: $run/server.log)"
    : >"$run/server.log"
    nohup "$build/samsa-server" "$top/conf/server.properties" \
        --override "listeners=PLAINTEXT://$bootstrap" \
        --override "log.dirs=$run/data" \
        --override "zookeeper.connect=127.0.0.1:$zk_port" \
        --override "samsa.metrics.listener=http://127.0.0.1:${QUICKSTART_METRICS_PORT:-9404}" \
        </dev/null >>"$run/server.log" 2>&1 &
    echo $! >"$pidfile"
    for _ in $(seq 1 300); do
        grep -q 'KafkaServer id=[0-9-]*\] started' "$run/server.log" && break
        if ! broker_pid >/dev/null; then
            tail -n 30 "$run/server.log" >&2
            echo "quickstart: samsa-server exited during start-up" >&2
            exit 1
        fi
        sleep 0.1
    done
    grep -m1 'KafkaServer id=[0-9-]*\] started' "$run/server.log" || {
        tail -n 30 "$run/server.log" >&2; echo "quickstart: broker not ready after 30s" >&2; exit 1; }
}

demo() {
    local topic=quickstart-events
    say "Creating topic $topic"
    "$build/samsa-topics" --bootstrap-server "$bootstrap" --create --if-not-exists \
        --topic "$topic" --partitions 1 --replication-factor 1
    "$build/samsa-topics" --bootstrap-server "$bootstrap" --describe --topic "$topic"

    say "Producing three messages"
    printf 'hello\nfrom\nsamsa\n' | "$build/samsa-console-producer" \
        --bootstrap-server "$bootstrap" --topic "$topic"

    say "Consuming them back"
    "$build/samsa-console-consumer" --bootstrap-server "$bootstrap" --topic "$topic" \
        --from-beginning --max-messages 3
}

stop_all() {
    if pid=$(broker_pid); then
        say "Stopping samsa-server (pid $pid)"
        kill -TERM "$pid"
        for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$pid" 2>/dev/null; then
            echo "samsa-server did not stop in 30s, sending SIGKILL" >&2
            kill -KILL "$pid"
        fi
    fi
    rm -f "$pidfile"
    "$top/contrib/samsa-zk-local" stop "$run/zookeeper" "$zk_port"
}

case "${1:-start}" in
    start)
        install_deps
        build_samsa
        start_all
        demo
        cat <<EOF

Samsa is running: bootstrap server $bootstrap, ZooKeeper 127.0.0.1:$zk_port.
  tools:   $build/samsa-topics --bootstrap-server $bootstrap --list
           kcat -b $bootstrap -L
  logs:    $run/server.log, $run/zookeeper/zookeeper.log
  stop it: $0 stop
EOF
        ;;
    stop) stop_all ;;
    status)
        if pid=$(broker_pid); then echo "samsa-server running (pid $pid)"; else echo "samsa-server not running"; fi
        "$top/contrib/samsa-zk-local" status "$run/zookeeper" "$zk_port" || true
        ;;
    *) echo "usage: $0 [start|stop|status]" >&2; exit 2 ;;
esac
