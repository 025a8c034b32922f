"""tests/integration/test_replication.py - the replicated data path on a real
3-broker cluster (RF 3, min.insync.replicas=2, unclean election off).

Covers: byte-identical segment files on every replica after a produce run;
no acknowledged acks=all write lost, moved or reordered while the partition
leader is kill -9'ed and restarted; NOT_ENOUGH_REPLICAS with two replicas
down and nothing becoming visible; a follower that was down catching up and
rejoining the ISR (state znode); and a divergent, never-replicated tail of
a killed leader being truncated when it returns (leader epochs).
"""

import glob
import json
import os
import signal
import threading
import time

import pytest

import kafka_helpers as K
import samsa_harness as H

confluent_kafka = pytest.importorskip("confluent_kafka")
kazoo_client = pytest.importorskip("kazoo.client")

LAG_MS = 3000
OVERRIDES = {
    "default.replication.factor": 3,
    "min.insync.replicas": 2,
    "unclean.leader.election.enable": "false",
    "replica.lag.time.max.ms": LAG_MS,
    "replica.fetch.backoff.ms": 200,
    "controlled.shutdown.enable": "false",
    "zookeeper.session.timeout.ms": 6000,
    "log.flush.offset.checkpoint.interval.ms": 1000,
}


def start3(cluster):
    for i in range(3):
        cluster.add(i, overrides=OVERRIDES)
    return cluster


class Zk:
    def __init__(self, cluster):
        self.c = kazoo_client.KazooClient(hosts=cluster.zk_connect, timeout=15)
        self.c.start(timeout=15)

    def state(self, topic, partition=0):
        data, _ = self.c.get("/brokers/topics/%s/partitions/%d/state" % (topic, partition))
        return json.loads(data.decode())

    def registered(self, bid):
        return self.c.exists("/brokers/ids/%d" % bid) is not None

    def wait_unregistered(self, bid, timeout=30):
        # A kill -9'ed broker can restart only once its session expired.
        H.wait_until(lambda: not self.registered(bid), timeout, 0.2, "broker %d session to expire" % bid)

    def close(self):
        self.c.stop()
        self.c.close()


def broker_by_id(cluster, bid):
    return [b for b in cluster.brokers if b.id == bid][0]


def live_bootstrap(cluster):
    return ",".join(b.bootstrap for b in cluster.brokers if b.running())


def wait_state(zk, topic, pred, timeout, what):
    return H.wait_until(lambda: (lambda s: s if pred(s) else None)(zk.state(topic)), timeout, 0.2, what)


def segment_bytes(broker, topic, partition=0):
    d = os.path.join(broker.logdirs, "%s-%d" % (topic, partition))
    out = b""
    for f in sorted(glob.glob(os.path.join(d, "*.log"))):
        with open(f, "rb") as fh:
            out += fh.read()
    return out


def wait_identical(cluster, topic, timeout=30, brokers=None):
    brokers = brokers or [b for b in cluster.brokers if b.running()]

    def same():
        blobs = [segment_bytes(b, topic) for b in brokers]
        return blobs[0] if blobs[0] and all(x == blobs[0] for x in blobs) else None

    return H.wait_until(same, timeout, 0.3, "identical segment files of %s on %s"
                        % (topic, [b.id for b in brokers]))


def producer(bootstrap, **extra):
    conf = {"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5,
            "enable.idempotence": False, "max.in.flight.requests.per.connection": 1,
            "retries": 1000000, "retry.backoff.ms": 100, "message.timeout.ms": 60000,
            "request.timeout.ms": 10000, "topic.metadata.refresh.interval.ms": 1000}
    conf.update(extra)
    return confluent_kafka.Producer(conf)


def produce_sync(p, topic, values, partition=0):
    results = {}

    def cb(err, msg):
        results[msg.value()] = (err, msg.offset())

    for v in values:
        p.produce(topic, value=v, partition=partition, on_delivery=cb)
        p.poll(0)
    p.flush(60)
    return results


def read_partition(bootstrap, topic, partition=0):
    got = K.consume_all(bootstrap, topic, 1)
    return [(m.offset(), m.value()) for m in got[partition]]


def create(cluster, topic):
    K.create_topic(cluster.brokers[0].bootstrap, topic, 1, 3, config={"min.insync.replicas": "2"}, timeout=60)
    zk = Zk(cluster)
    wait_state(zk, topic, lambda s: len(s["isr"]) == 3 and s["leader"] >= 0, 30, "ISR of 3")
    return zk


def test_logs_byte_identical(cluster):
    start3(cluster)
    topic = "repl-identical"
    zk = create(cluster, topic)
    try:
        p = producer(cluster.bootstrap, **{"compression.type": "lz4", "batch.num.messages": 50})
        vals = [("m-%06d" % i).encode() * 3 for i in range(3000)]
        res = produce_sync(p, topic, vals)
        assert all(err is None for err, _ in res.values()), [e for e, _ in res.values() if e][:3]
        assert sorted(off for _, off in res.values()) == list(range(3000))
        blob = wait_identical(cluster, topic)
        assert len(blob) > 3000 * 10
        # Followers checkpoint the same HW as the leader.
        leader = zk.state(topic)["leader"]
        assert leader in (0, 1, 2)
        got = read_partition(cluster.bootstrap, topic)
        assert [v for _, v in got] == vals
        for b in cluster.brokers:
            ck = os.path.join(b.logdirs, "replication-offset-checkpoint")
            H.wait_until(lambda: os.path.exists(ck) and ("%s 0 3000" % topic) in open(ck).read(), 20, 0.3,
                         "HW checkpoint on broker %d" % b.id)
    finally:
        zk.close()


def test_acks_all_survives_leader_kill(cluster):
    start3(cluster)
    topic = "repl-kill"
    zk = create(cluster, topic)
    acked = {}
    errors = []
    stop = threading.Event()
    order = []

    def run():
        p = producer(cluster.bootstrap)
        i = 0

        def cb(err, msg):
            if err is None:
                acked[msg.value()] = msg.offset()
                order.append(msg.value())
            else:
                errors.append(err)

        while not stop.is_set():
            p.produce(topic, value=("v-%07d" % i).encode(), partition=0, on_delivery=cb)
            i += 1
            p.poll(0.002)
            if len(p) > 200:
                p.poll(0.05)
        p.flush(90)

    t = threading.Thread(target=run)
    t.start()
    try:
        H.wait_until(lambda: len(acked) > 500, 60, 0.1, "first acks")
        old = zk.state(topic)
        victim = broker_by_id(cluster, old["leader"])
        victim.kill9()
        n_at_kill = len(acked)
        new = wait_state(zk, topic, lambda s: s["leader"] not in (-1, old["leader"]), 40, "new leader")
        assert new["leader_epoch"] > old["leader_epoch"]
        H.wait_until(lambda: len(acked) > n_at_kill + 500, 90, 0.2, "acks after failover")
        zk.wait_unregistered(victim.id)
        victim.start()
        wait_state(zk, topic, lambda s: len(s["isr"]) == 3, 60, "old leader back in ISR")
        H.wait_until(lambda: len(acked) > n_at_kill + 1500, 90, 0.2, "more acks")
    finally:
        stop.set()
        t.join(120)
    try:
        assert acked, "nothing acknowledged"
        wait_identical(cluster, topic, 60)
        # Retries after the failover may duplicate values (at-least-once);
        # what matters is what sits at each acknowledged offset.
        by_offset = dict(read_partition(cluster.bootstrap, topic))
        for v, off in acked.items():
            assert by_offset.get(off) == v, "acked %r at %d but log has %r" % (v, off, by_offset.get(off))
        # Acknowledged order is log order.
        offs = [acked[v] for v in order]
        assert offs == sorted(offs)
        # Every offset decodes (no holes, no corruption): consume_all checked CRCs.
        assert sorted(by_offset) == list(range(len(by_offset)))
    finally:
        zk.close()


def test_not_enough_replicas(cluster):
    start3(cluster)
    topic = "repl-nei"
    zk = create(cluster, topic)
    try:
        p = producer(cluster.bootstrap)
        res = produce_sync(p, topic, [b"before-%d" % i for i in range(10)])
        assert all(e is None for e, _ in res.values())
        leader = zk.state(topic)["leader"]
        for b in cluster.brokers:
            if b.id != leader:
                b.kill9()
        wait_state(zk, topic, lambda s: s["isr"] == [leader], 40, "ISR shrunk to the leader")
        lb = broker_by_id(cluster, leader)
        lo, hi = K.watermarks(lb.bootstrap, topic, 0)
        assert hi == 10
        p2 = producer(lb.bootstrap, retries=0, **{"message.timeout.ms": 15000})
        res = produce_sync(p2, topic, [b"after-%d" % i for i in range(5)])
        codes = set(e.code() if e else None for e, _ in res.values())
        assert codes == {confluent_kafka.KafkaError.NOT_ENOUGH_REPLICAS}, codes
        # Nothing was appended, let alone made visible.
        assert K.watermarks(lb.bootstrap, topic, 0) == (0, 10)
        assert segment_bytes(lb, topic).count(b"after-") == 0
        # acks=1 still works with one replica.
        p3 = producer(lb.bootstrap, acks="1", retries=0)
        res = produce_sync(p3, topic, [b"one"])
        assert [e for e, _ in res.values()] == [None]
    finally:
        zk.close()


def test_follower_catches_up_and_rejoins(cluster):
    start3(cluster)
    topic = "repl-rejoin"
    zk = create(cluster, topic)
    try:
        leader = zk.state(topic)["leader"]
        follower = [b for b in cluster.brokers if b.id != leader][0]
        follower.kill9()
        wait_state(zk, topic, lambda s: follower.id not in s["isr"], 40, "follower out of ISR")
        p = producer(cluster.bootstrap)
        vals = [b"while-down-%05d" % i for i in range(2000)]
        res = produce_sync(p, topic, vals)
        assert all(e is None for e, _ in res.values())
        zk.wait_unregistered(follower.id)
        follower.start()
        s = wait_state(zk, topic, lambda s: follower.id in s["isr"], 60, "follower back in ISR")
        assert s["leader"] == leader
        wait_identical(cluster, topic, 30)
        assert "Expanding ISR" in broker_by_id(cluster, leader).log_text()
    finally:
        zk.close()


def test_divergent_tail_truncated(cluster):
    start3(cluster)
    topic = "repl-diverge"
    zk = create(cluster, topic)
    try:
        p = producer(cluster.bootstrap)
        res = produce_sync(p, topic, [b"committed-%d" % i for i in range(20)])
        assert all(e is None for e, _ in res.values())
        wait_identical(cluster, topic)
        old = zk.state(topic)
        lb = broker_by_id(cluster, old["leader"])
        followers = [b for b in cluster.brokers if b.id != old["leader"]]
        # Freeze the followers so the next acks=1 writes are not replicated.
        for b in followers:
            os.kill(b.pid, signal.SIGSTOP)
        try:
            # Let their parked fetches expire (empty answers into socket
            # buffers) so no later append can reach them.
            time.sleep(1.5)
            p1 = producer(lb.bootstrap, acks="1", retries=0)
            res = produce_sync(p1, topic, [b"lost-%d" % i for i in range(5)])
            assert sorted(off for _, off in res.values()) == list(range(20, 25))
            lb.kill9()
        finally:
            for b in followers:
                os.kill(b.pid, signal.SIGCONT)
        new = wait_state(zk, topic, lambda s: s["leader"] not in (-1, old["leader"]), 40, "new leader")
        assert new["leader_epoch"] > old["leader_epoch"]
        p2 = producer(live_bootstrap(cluster))
        res = produce_sync(p2, topic, [b"new-%d" % i for i in range(10)])
        assert all(e is None for e, _ in res.values())
        assert sorted(off for _, off in res.values()) == list(range(20, 30))
        zk.wait_unregistered(lb.id)
        lb.start()
        wait_state(zk, topic, lambda s: lb.id in s["isr"], 60, "old leader back in ISR")
        blob = wait_identical(cluster, topic, 30)
        assert b"lost-" not in blob
        got = read_partition(cluster.bootstrap, topic)
        assert [v for _, v in got] == [b"committed-%d" % i for i in range(20)] + [b"new-%d" % i for i in range(10)]
        assert "Truncating" in lb.log_text()
    finally:
        zk.close()
