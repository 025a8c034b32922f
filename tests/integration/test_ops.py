"""tests/integration/test_ops.py - operating a single broker: start-up
refusals, live topic config changes, retention, ListOffsets by time, and
surviving a ZooKeeper restart.

Owns the operator-facing promises of the foundation issue that are not about
one client: invalid configs and duplicate broker ids refuse to start with one
line and a non-zero exit; `samsa-topics --alter --config` changes a running
broker's behaviour without restart; retention advances the log start offset;
offsets_for_times goes through the time index; a ZooKeeper restart leaves
the broker serving and re-registered.
"""

import os
import subprocess
import time

import pytest

import kafka_helpers as K
import samsa_harness as H

confluent_kafka = pytest.importorskip("confluent_kafka")
from confluent_kafka import TopicPartition  # noqa: E402


def zk_get(connect, path):
    """Data of a znode, or None (kazoo, a fresh short session)."""
    from kazoo.client import KazooClient
    c = KazooClient(hosts=connect, timeout=10)
    c.start(timeout=10)
    try:
        return c.get(path)[0] if c.exists(path) else None
    finally:
        c.stop()
        c.close()


def server_cmd(props_path, *extra):
    return [H.binary("samsa-server"), props_path] + list(extra)


def write_props(path, props):
    with open(path, "w") as f:
        for k, v in props.items():
            f.write("%s=%s\n" % (k, v))


def run_server_expect_fail(props, workdir, timeout=60):
    path = os.path.join(workdir, "bad-%d.properties" % time.monotonic_ns())
    write_props(path, props)
    r = subprocess.run(server_cmd(path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    return r.returncode, r.stdout.decode(errors="replace")


def segments(broker, topic, partition=0):
    d = os.path.join(broker.logdirs, "%s-%d" % (topic, partition))
    return sorted(f for f in os.listdir(d) if f.endswith(".log"))


def produce(bootstrap, topic, values, partition=0, extra=None):
    conf = {"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 0}
    conf.update(extra or {})
    p = confluent_kafka.Producer(conf)
    offsets = []

    def cb(err, msg):
        assert err is None, err
        offsets.append(msg.offset())

    for v in values:
        if isinstance(v, tuple):
            p.produce(topic, value=v[0], timestamp=v[1], partition=partition, callback=cb)
        else:
            p.produce(topic, value=v, partition=partition, callback=cb)
        p.poll(0)
    assert p.flush(30) == 0
    return offsets


def test_invalid_config_refused(cluster, workdir):
    rc, out = run_server_expect_fail({"broker.id": "zero", "zookeeper.connect": cluster.zk_connect,
                                      "log.dirs": os.path.join(workdir, "never")}, workdir)
    assert rc != 0
    assert "Invalid value zero for configuration broker.id" in out


def test_unreachable_zookeeper_refused(workdir):
    port = H.free_port()
    t0 = time.monotonic()
    rc, out = run_server_expect_fail({"broker.id": "0", "zookeeper.connect": "127.0.0.1:%d" % port,
                                      "zookeeper.connection.timeout.ms": "2000",
                                      "listeners": "PLAINTEXT://127.0.0.1:%d" % H.free_port(),
                                      "log.dirs": os.path.join(workdir, "nozk")}, workdir)
    assert rc != 0
    assert "Timed out waiting for connection" in out
    assert time.monotonic() - t0 < 30


def test_duplicate_broker_id_refused(cluster, workdir):
    cluster.add(0)
    rc, out = run_server_expect_fail({"broker.id": "0", "zookeeper.connect": cluster.zk_connect,
                                      "listeners": "PLAINTEXT://127.0.0.1:%d" % H.free_port(),
                                      "log.dirs": os.path.join(workdir, "dup-%d" % H.free_port())}, workdir)
    assert rc != 0
    assert "/brokers/ids/0" in out and "already exists" in out
    # The first broker is unaffected.
    assert cluster.brokers[0].running()


def test_unknown_key_warns(cluster):
    b = cluster.add(0, overrides={"no.such.kafka.key": "1"})
    assert "The configuration 'no.such.kafka.key' was supplied but isn't a known config." in b.log_text()


@pytest.mark.needs_tools
def test_live_topic_config_change(broker):
    topic = "live-config"
    K.create_topic(broker.bootstrap, topic, 1)
    total = len(produce(broker.bootstrap, topic, [b"x" * 100] * 20))
    assert len(segments(broker, topic)) == 1
    H.run_tool([H.binary("samsa-topics"), "--zookeeper", broker.zk_connect, "--alter", "--topic", topic,
                "--config", "segment.bytes=1000"])
    # The broker picks the change up from /config/changes without a restart.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        total += len(produce(broker.bootstrap, topic, [b"y" * 100] * 10))
        if len(segments(broker, topic)) >= 3:
            break
        time.sleep(0.5)
    assert len(segments(broker, topic)) >= 3
    # Every segment after the change stays near the new limit.
    d = os.path.join(broker.logdirs, "%s-0" % topic)
    sizes = [os.path.getsize(os.path.join(d, s)) for s in segments(broker, topic)[1:-1]]
    assert sizes and max(sizes) < 2000
    # Deleting the override brings the default back for new segments.
    H.run_tool([H.binary("samsa-topics"), "--zookeeper", broker.zk_connect, "--alter", "--topic", topic,
                "--delete-config", "segment.bytes"])
    time.sleep(2)
    before = len(segments(broker, topic))
    total += len(produce(broker.bootstrap, topic, [b"z" * 100] * 30))
    assert len(segments(broker, topic)) <= before + 1
    # All data is still readable, in order.
    got = K.consume_all(broker.bootstrap, topic, 1, expect=total)
    assert [m.offset() for m in got[0]] == list(range(total))


def test_retention_advances_log_start(cluster):
    b = cluster.add(0, overrides={"log.retention.check.interval.ms": "300", "log.segment.bytes": "2000"})
    topic = "retained"
    K.create_topic(b.bootstrap, topic, 1, config={"retention.ms": "2000"})
    old = int(time.time() * 1000) - 3600 * 1000
    # Old timestamps: retention by time looks at each segment's newest record.
    produce(b.bootstrap, topic, [(b"o" * 200, old + i) for i in range(40)])
    produce(b.bootstrap, topic, [b"n" * 200] * 5)
    deadline = time.monotonic() + 30
    low = 0
    while time.monotonic() < deadline:
        low, high = K.watermarks(b.bootstrap, topic, 0)
        if low > 0:
            break
        time.sleep(0.3)
    assert low > 0 and high == 45
    # What is left starts exactly at the new log start offset.
    got = K.consume_all(b.bootstrap, topic, 1, expect=45 - low)
    assert [m.offset() for m in got[0]] == list(range(low, 45))


def test_offsets_for_times(broker):
    topic = "by-time"
    K.create_topic(broker.bootstrap, topic, 1)
    base = 1700000000000
    produce(broker.bootstrap, topic, [(b"v%d" % i, base + i * 1000) for i in range(500)], extra={"linger.ms": 50})
    c = confluent_kafka.Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "t"})
    try:
        for i in (0, 1, 250, 499):
            r = c.offsets_for_times([TopicPartition(topic, 0, base + i * 1000)], timeout=10)
            assert r[0].offset == i
        # Between two records: the next one.
        r = c.offsets_for_times([TopicPartition(topic, 0, base + 1500)], timeout=10)
        assert r[0].offset == 2
        # After the last record: end (-1 from the broker, reported as such).
        r = c.offsets_for_times([TopicPartition(topic, 0, base + 10 ** 9)], timeout=10)
        assert r[0].offset in (-1, 500)
    finally:
        c.close()


def test_zookeeper_restart_keeps_serving(workdir):
    zdir = os.path.join(workdir, "zk-restart")
    z = H.ZooKeeper(zdir)
    z.start()
    b = None
    try:
        b = H.Broker(workdir, z.connect, 0, name="zkrestart-b0",
                     overrides={"zookeeper.session.timeout.ms": "4000"})
        b.start()
        K.create_topic(b.bootstrap, "zkr", 1)
        produce(b.bootstrap, "zkr", [b"before"])
        z.stop()
        # The broker keeps serving the partitions it leads while ZooKeeper is away.
        produce(b.bootstrap, "zkr", [b"during"])
        time.sleep(6)   # past the session timeout: the session expires
        z.start()
        # It re-registers its ephemeral znode with the new session.
        H.wait_until(lambda: b"PLAINTEXT://" in (zk_get(z.connect, "/brokers/ids/0") or b""),
                     40, what="re-registration of /brokers/ids/0")
        produce(b.bootstrap, "zkr", [b"after"])
        got = K.consume_all(b.bootstrap, "zkr", 1, expect=3)
        assert [m.value() for m in got[0]] == [b"before", b"during", b"after"]
        assert b.running()
    finally:
        if b:
            b.stop()
        z.stop()


SEED_SERVER_PROPERTIES = """\
# The sample server.properties of the seed document (shared/seeds/001, section 7),
# with paths and hosts adjusted for a test on 127.0.0.1.
broker.id=0
port={port}
num.network.threads=3
num.io.threads=8
socket.send.buffer.bytes=102400
socket.receive.buffer.bytes=102400
socket.request.max.bytes=104857600
log.dirs={logdir}
num.partitions=2
num.recovery.threads.per.data.dir=1
log.retention.hours=168
log.roll.hours=1
log.segment.bytes=1073741824
log.retention.check.interval.ms=300000
log.cleaner.enable=true
zookeeper.connect={zk}
zookeeper.connection.timeout.ms=6000
log.flush.interval.messages=10000
log.flush.interval.ms=3000
delete.topic.enable=true
host.name=127.0.0.1

advertised.host.name=127.0.0.1
"""


def test_seed_sample_server_properties(cluster, workdir):
    port = H.free_port()
    d = os.path.join(workdir, "seed-%d" % port)
    os.makedirs(d)
    path = os.path.join(d, "server.properties")
    with open(path, "w") as f:
        f.write(SEED_SERVER_PROPERTIES.format(port=port, logdir=os.path.join(d, "data"), zk=cluster.zk_connect))
    logf = open(os.path.join(d, "server.log"), "wb")
    proc = subprocess.Popen(server_cmd(path), stdout=logf, stderr=subprocess.STDOUT)
    H.LIVE[proc.pid] = "seed broker"
    try:
        H.wait_until(lambda: "started" in open(os.path.join(d, "server.log")).read() and H.port_open(port),
                     60, what="seed-config broker start")
        text = open(os.path.join(d, "server.log")).read()
        assert "isn't a known config" not in text
        bootstrap = "127.0.0.1:%d" % port
        # num.partitions=2 applies to auto-created topics; advertised.host.name is what clients see.
        offsets = produce(bootstrap, "seed-topic", [b"a", b"b"], partition=1)
        assert offsets == [0, 1]
        md = K.admin(bootstrap).list_topics("seed-topic", timeout=10)
        assert len(md.topics["seed-topic"].partitions) == 2
        assert [(b.host, b.port) for b in md.brokers.values()] == [("127.0.0.1", port)]
    finally:
        H.kill_pid(proc.pid)
        H.LIVE.pop(proc.pid, None)
        logf.close()


@pytest.mark.needs_tools
def test_rack_aware_assignment(cluster):
    """broker.rack makes topic creation spread every partition's replicas
    over racks (Kafka's rack-aware assignment), through both entry points."""
    racks = {0: "r1", 1: "r1", 2: "r2", 3: "r2"}
    for bid, rack in racks.items():
        cluster.add(bid, overrides={"broker.rack": rack})
    K.create_topic(cluster.bootstrap, "racked-api", 8, replication=2)
    H.run_tool([H.binary("samsa-topics"), "--zookeeper", cluster.zk_connect, "--create", "--topic", "racked-zk",
                "--partitions", "8", "--replication-factor", "2"])
    K.topic_ready(cluster.bootstrap, "racked-zk", 8)
    md = K.admin(cluster.bootstrap).list_topics(timeout=10)
    for topic in ("racked-api", "racked-zk"):
        leaders = []
        for p in md.topics[topic].partitions.values():
            assert sorted(racks[r] for r in p.replicas) == ["r1", "r2"], (topic, p.id, p.replicas)
            leaders.append(p.replicas[0])
        # Leaders spread evenly over the four brokers.
        assert sorted(leaders.count(b) for b in racks) == [2, 2, 2, 2]
