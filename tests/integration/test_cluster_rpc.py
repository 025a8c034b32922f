"""tests/integration/test_cluster_rpc.py - the inter-broker protocol in a real cluster.

Owns: three brokers on one ZooKeeper chroot learning the cluster from the
controller's LeaderAndIsr / UpdateMetadata requests over the wire.  Every
broker, asked directly with a raw Metadata v1 request, must report the same
brokers, controller and partition leaders; data produced through one
bootstrap broker must be readable back with exact offsets; after SIGTERM of
the controller the survivors must converge on a new controller; and a
non-controller broker's SIGTERM runs the ControlledShutdown exchange.
"""

import struct

import pytest

import kafka_helpers as K
import samsa_harness as H

confluent_kafka = pytest.importorskip("confluent_kafka")

pytestmark = pytest.mark.needs_tools

TOPIC = "spread"
NPART = 6
PER_PART = 10
FAST_SHUTDOWN = {"controlled.shutdown.retry.backoff.ms": "200", "controlled.shutdown.max.retries": "3"}


def metadata_v1(port, topics=None):
    """Ask one broker directly. -> (controller_id, {id: (host, port)},
    {topic: {partition: (error, leader, replicas, isr)}})"""
    if topics is None:
        body = struct.pack(">i", -1)
    else:
        body = struct.pack(">i", len(topics)) + b"".join(K.kstr(t) for t in topics)
    s = K.connect(port)
    try:
        s.sendall(K.request(3, 1, 7, body))
        buf = K.recv_frame(s)
    finally:
        s.close()
    assert buf is not None, "broker on port %d closed the connection" % port
    off = 0

    def take(fmt):
        nonlocal off
        v = struct.unpack_from(fmt, buf, off)
        off += struct.calcsize(fmt)
        return v

    def string():
        nonlocal off
        n, = take(">h")
        if n < 0:
            return None
        v = buf[off:off + n].decode()
        off += n
        return v

    def i32s():
        n, = take(">i")
        return [take(">i")[0] for _ in range(n)]

    corr, = take(">i")
    assert corr == 7
    brokers = {}
    for _ in range(take(">i")[0]):
        node, = take(">i")
        host = string()
        bport, = take(">i")
        string()  # rack
        brokers[node] = (host, bport)
    controller, = take(">i")
    out = {}
    for _ in range(take(">i")[0]):
        terr, = take(">h")
        name = string()
        take(">b")  # is_internal
        parts = {}
        for _ in range(take(">i")[0]):
            perr, idx, leader = take(">hii")
            parts[idx] = (perr, leader, i32s(), i32s())
        out[name] = parts if terr == 0 else terr
    return controller, brokers, out


def converged(brokers, expect_ids):
    """The common view of `brokers` if all agree and it is complete, else None."""
    views = [metadata_v1(b.port, [TOPIC]) for b in brokers]
    ctrl, live, topics = views[0]
    if ctrl not in expect_ids or set(live) != set(expect_ids):
        return None
    parts = topics.get(TOPIC)
    if not isinstance(parts, dict) or len(parts) != NPART:
        return None
    if any(p[0] != 0 or p[1] < 0 for p in parts.values()):
        return None
    for v in views[1:]:
        if v != views[0]:
            return None
    return views[0]


def test_cluster_rpc(cluster):
    bs = [cluster.add(i, overrides=FAST_SHUTDOWN) for i in range(3)]
    ids = [b.id for b in bs]
    H.run_tool([H.binary("samsa-topics"), "--zookeeper", bs[0].zk_connect, "--create", "--topic", TOPIC,
                "--partitions", str(NPART), "--replication-factor", "1"])

    view = H.wait_until(lambda: converged(bs, ids), 60, 0.2, "identical metadata on all three brokers")
    ctrl, live, topics = view
    ports = {b.id: b.port for b in bs}
    assert live == {i: ("127.0.0.1", ports[i]) for i in ids}
    leaders = {p: v[1] for p, v in topics[TOPIC].items()}
    # RF 1 spread over three brokers: every broker leads some partition, and
    # each partition's only replica is its leader.
    assert set(leaders.values()) == set(ids)
    for p, (_err, leader, replicas, isr) in topics[TOPIC].items():
        assert replicas == [leader] and isr == [leader]

    # Produce through a client bootstrapped on one broker only: it must
    # learn the other leaders from that broker's metadata.
    prod = confluent_kafka.Producer({"bootstrap.servers": bs[0].bootstrap, "acks": "all",
                                     "linger.ms": 5})
    for i in range(NPART * PER_PART):
        prod.produce(TOPIC, value=b"m-%d-%d" % (i % NPART, i // NPART), partition=i % NPART)
    assert prod.flush(30) == 0
    got = K.consume_all(bs[0].bootstrap, TOPIC, NPART, expect=NPART * PER_PART)
    for p in range(NPART):
        assert [(m.offset(), m.value()) for m in got[p]] == \
            [(k, b"m-%d-%d" % (p, k)) for k in range(PER_PART)], "partition %d" % p

    # SIGTERM the controller: the survivors elect a new one and both learn it.
    old = [b for b in bs if b.id == ctrl][0]
    assert old.stop(timeout=30) == 0
    rest = [b for b in bs if b.id != ctrl]
    rest_ids = [b.id for b in rest]

    def new_controller():
        views = [metadata_v1(b.port) for b in rest]
        c0, live0, _ = views[0]
        if c0 not in rest_ids or set(live0) != set(rest_ids):
            return None
        return c0 if all(v[0] == c0 and set(v[1]) == set(rest_ids) for v in views) else None

    new_ctrl = H.wait_until(new_controller, 60, 0.2, "a new controller known to both survivors")
    assert new_ctrl != ctrl

    # A non-controller broker going down asks the controller first.
    leaving = [b for b in rest if b.id != new_ctrl][0]
    assert leaving.stop(timeout=30) == 0
    text = leaving.log_text()
    assert "Starting controlled shutdown" in text
    assert "Controlled shutdown succeeded" in text, leaving.log_tail(40)
    stayer = [b for b in rest if b.id == new_ctrl][0]
    H.wait_until(lambda: set(metadata_v1(stayer.port)[1]) == {new_ctrl}, 30, 0.2,
                 "the controller to drop broker %d" % leaving.id)

    # A LeaderAndIsr from a deposed controller (epoch 0, below the epochs
    # this broker has accepted) is fenced, partition by partition.
    assert stale_leader_and_isr(stayer.port) == (11, [(TOPIC, 0, 11)])
    assert metadata_v1(stayer.port)[0] == new_ctrl


def stale_leader_and_isr(port):
    """LeaderAndIsr v1 with controller epoch 0 -> (error, [(topic, partition, error)])."""
    state = K.kstr(TOPIC) + struct.pack(">iiii", 0, 0, 99, 5)
    state += struct.pack(">ii", 1, 99) + struct.pack(">i", 0) + struct.pack(">ii", 1, 99) + b"\x00"
    body = struct.pack(">ii", 99, 0) + struct.pack(">i", 1) + state + struct.pack(">i", 0)
    s = K.connect(port)
    try:
        s.sendall(K.request(4, 1, 11, body))
        buf = K.recv_frame(s)
    finally:
        s.close()
    corr, err, n = struct.unpack_from(">ihi", buf, 0)
    assert corr == 11
    off, parts = 10, []
    for _ in range(n):
        ln, = struct.unpack_from(">h", buf, off)
        name = buf[off + 2:off + 2 + ln].decode()
        p, perr = struct.unpack_from(">ih", buf, off + 2 + ln)
        parts.append((name, p, perr))
        off += 2 + ln + 6
    return err, parts
