#!/bin/bash
# zk-test-env.sh - run a command against a throw-away ZooKeeper server.
#
# Starts Debian's ZooKeeper (3.8) on 127.0.0.1 with a free port and a temp
# data dir, exports SAMSA_ZK_CONNECT=127.0.0.1:<port>, runs "$@", and kills
# the server by pid on exit. Exits 77 (automake "skipped") if Java or the
# ZooKeeper jars are missing.
#   usage: tests/zk-test-env.sh ./tests/unit/check_zk_live
set -u

jars=/usr/share/java
cp=""
for j in zookeeper zookeeper-jute slf4j-api slf4j-nop metrics-core commons-cli \
         netty-handler netty-common netty-buffer netty-transport netty-codec \
         netty-resolver netty-transport-native-epoll netty-transport-native-unix-common; do
    [ -f "$jars/$j.jar" ] && cp="$cp${cp:+:}$jars/$j.jar"
done
if ! command -v java >/dev/null 2>&1 || [ ! -f "$jars/zookeeper.jar" ]; then
    echo "zk-test-env: java or $jars/zookeeper.jar missing: skipping" >&2
    exit 77
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/samsa-zk.XXXXXX")
zkpid=""
cleanup() {
    if [ -n "$zkpid" ]; then
        kill "$zkpid" 2>/dev/null
        wait "$zkpid" 2>/dev/null
    fi
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$dir/zoo.cfg" <<CFG
tickTime=500
initLimit=10
syncLimit=5
dataDir=$dir/data
clientPort=$port
clientPortAddress=127.0.0.1
admin.enableServer=false
minSessionTimeout=1000
maxSessionTimeout=60000
4lw.commands.whitelist=ruok
CFG
mkdir -p "$dir/data"
java -Xmx256m -cp "$cp" org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/zoo.cfg" \
    >"$dir/zookeeper.log" 2>&1 &
zkpid=$!

# Wait (up to 60 s) until the server answers "ruok" with "imok".
ok=0
for _ in $(seq 1 600); do
    if ! kill -0 "$zkpid" 2>/dev/null; then break; fi
    if /usr/bin/python3 - "$port" <<'PY' 2>/dev/null
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1)
s.sendall(b"ruok")
sys.exit(0 if s.recv(4) == b"imok" else 1)
PY
    then ok=1; break; fi
    sleep 0.1
done
if [ "$ok" != 1 ]; then
    echo "zk-test-env: ZooKeeper did not start; log follows" >&2
    cat "$dir/zookeeper.log" >&2
    exit 99
fi

export SAMSA_ZK_CONNECT="127.0.0.1:$port"
"$@"
