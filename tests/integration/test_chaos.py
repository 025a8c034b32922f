"""tests/integration/test_chaos.py - the replicated cluster under failures,
with a producer writing the whole time (3 brokers, RF 3,
min.insync.replicas=2, unclean election off).

Owns two scenarios:

test_no_acked_write_lost_under_chaos: a confluent-kafka producer (acks=all,
retries on, idempotence off, one request in flight) writes unique values
round-robin to a 3-partition topic from a background thread and records
every acknowledged (partition, offset, value), while the test in turn
kill -9's a partition leader and restarts it, kill -9's the controller and
restarts it, SIGSTOPs a leader past its ZooKeeper session (a raw acks=all
Produce queued to it meanwhile must not be acknowledged once it resumes,
and it must rejoin as a follower), and rolls a SIGTERM restart over all
brokers (controlled shutdown, the controller included). Then a fresh
consumer (CRC checks on) must find every acknowledged value at exactly its
acknowledged offset (so acknowledged values keep their log order), offsets
without holes, and no offset acknowledged twice. (Produce order itself is
not asserted: a non-idempotent librdkafka producer moves on to a new leader
while an older request is in flight to the old one, so that request's
retry lands later; the test counts and reports such inversions.)

test_min_isr_and_no_unclean_election: with two of three replicas down,
acks=all fails with NOT_ENOUGH_REPLICAS and leaves nothing visible; when the
last in-sync replica dies too and the out-of-sync ones return, the
partition stays offline (leader -1 in the state znode and in Metadata)
until the in-sync replica comes back, and nothing acknowledged is lost.

Every wait is on a condition (ZooKeeper state, acknowledgements, log
lines); the one fixed interval is the "stays offline" observation window.
"""

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

SESSION_MS = 6000
OVERRIDES = {
    "default.replication.factor": 3,
    "min.insync.replicas": 2,
    "unclean.leader.election.enable": "false",
    "replica.lag.time.max.ms": 3000,
    "replica.fetch.backoff.ms": 200,
    "zookeeper.session.timeout.ms": SESSION_MS,
    "controlled.shutdown.enable": "true",
    "controlled.shutdown.retry.backoff.ms": 500,
    "auto.leader.rebalance.enable": "false",
    "log.flush.offset.checkpoint.interval.ms": 1000,
}
NPART = 3
ERR_NOT_ENOUGH_REPLICAS = 19


class Zk:
    def __init__(self, cluster):
        self.c = kazoo_client.KazooClient(hosts=cluster.zk_connect, timeout=15)
        self.c.start(timeout=15)

    def get(self, path):
        data, _ = self.c.get(path)
        return json.loads(data.decode())

    def state(self, topic, p):
        return self.get("/brokers/topics/%s/partitions/%d/state" % (topic, p))

    def states(self, topic, n):
        return [self.state(topic, p) for p in range(n)]

    def controller(self):
        try:
            return self.get("/controller")["brokerid"]
        except Exception:
            return None

    def registered(self, bid):
        return self.c.exists("/brokers/ids/%d" % bid) is not None

    def wait_unregistered(self, bid, timeout=30):
        H.wait_until(lambda: not self.registered(bid), timeout, 0.1, "broker %d's session to expire" % bid)

    def close(self):
        self.c.stop()
        self.c.close()


def by_id(cluster, bid):
    return [b for b in cluster.brokers if b.id == bid][0]


def start3(cluster):
    for i in range(3):
        cluster.add(i, overrides=OVERRIDES)


def wait_full_isr(zk, topic, n, timeout=60):
    H.wait_until(lambda: all(s["leader"] >= 0 and len(s["isr"]) == 3 for s in zk.states(topic, n)), timeout, 0.1,
                 "full ISR of %s" % topic)


def wait_led_without(zk, topic, n, dead, timeout=40):
    """Every partition led by a broker other than `dead` (a set of ids)."""
    H.wait_until(lambda: all(s["leader"] >= 0 and s["leader"] not in dead for s in zk.states(topic, n)), timeout,
                 0.05, "every partition of %s led by a broker outside %s" % (topic, sorted(dead)))


class Load:
    """The background acks=all producer and its record of acknowledgements."""

    def __init__(self, bootstrap, topic):
        self.topic = topic
        self.lock = threading.Lock()
        self.acked = {p: [] for p in range(NPART)}   # p -> [(offset, seq, value)] in ack order
        self.errors = []
        self.when = {}
        self.stop = threading.Event()
        self.p = confluent_kafka.Producer({
            "bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": False,
            "retries": 10000000, "retry.backoff.ms": 100, "max.in.flight.requests.per.connection": 1,
            "linger.ms": 5, "message.timeout.ms": 120000, "request.timeout.ms": 10000,
            "topic.metadata.refresh.interval.ms": 1000, "reconnect.backoff.max.ms": 500})
        self.t = threading.Thread(target=self.run, daemon=True)

    def cb(self, err, msg):
        if err is not None:
            with self.lock:
                self.errors.append((msg.value(), str(err)))
            return
        seq = int(msg.value().split(b"-")[1])
        with self.lock:
            self.acked[msg.partition()].append((msg.offset(), seq, msg.value()))
            self.when[(msg.partition(), msg.offset())] = time.monotonic()

    def run(self):
        i = 0
        while not self.stop.is_set():
            for _ in range(10):
                # Round-robin by sequence number: each partition sees its
                # values in increasing sequence order.
                self.p.produce(self.topic, value=b"v-%09d-%s" % (i, b"x" * 40), partition=i % NPART, on_delivery=self.cb)
                i += 1
            self.p.poll(0.01)
            while len(self.p) > 3000 and not self.stop.is_set():
                self.p.poll(0.05)
        self.remaining = self.p.flush(150)

    def counts(self):
        with self.lock:
            return [len(self.acked[p]) for p in range(NPART)]

    def wait_progress(self, n=100, timeout=90, what="acks"):
        """Wait until every partition got n more acknowledgements."""
        base = self.counts()
        H.wait_until(lambda: all(c >= b + n for c, b in zip(self.counts(), base)), timeout, 0.05,
                     "%d more %s on every partition (had %s)" % (n, what, base))


def raw_produce_acks_all(sock, topic, partition, value, corr):
    batch = K.record_batch([(None, value)])
    sock.sendall(K.request(0, 3, corr, K.produce_v3(topic, partition, batch, acks=-1, timeout_ms=20000)))


def test_no_acked_write_lost_under_chaos(cluster):
    start3(cluster)
    topic = "chaos"
    K.create_topic(cluster.brokers[0].bootstrap, topic, NPART, 3, config={"min.insync.replicas": "2"}, timeout=60)
    zk = Zk(cluster)
    wait_full_isr(zk, topic, NPART)
    load = Load(cluster.bootstrap, topic)
    load.t.start()
    zombie = b"zombie-ack-must-not-survive"
    T0 = time.monotonic()
    try:
        load.wait_progress(200, what="initial acks")

        # 1. kill -9 a partition leader that is not the controller, restart it.
        ctrl = zk.controller()
        st = zk.states(topic, NPART)
        victim = by_id(cluster, [s["leader"] for s in st if s["leader"] != ctrl][0]
                       if any(s["leader"] != ctrl for s in st) else st[0]["leader"])
        H.log("%.2f chaos" % (time.monotonic() - T0) + " 1: kill -9 leader %d" % victim.id)
        victim.kill9()
        wait_led_without(zk, topic, NPART, {victim.id})
        load.wait_progress(100, what="acks after the leader kill")
        zk.wait_unregistered(victim.id)
        victim.start()
        wait_full_isr(zk, topic, NPART)
        load.wait_progress(100)

        # 2. kill -9 the controller, restart it.
        ctrl = zk.controller()
        H.log("%.2f chaos" % (time.monotonic() - T0) + " 2: kill -9 controller %d" % ctrl)
        by_id(cluster, ctrl).kill9()
        H.wait_until(lambda: zk.controller() not in (None, ctrl), SESSION_MS / 1000 + 20, 0.05, "a new controller")
        wait_led_without(zk, topic, NPART, {ctrl})
        load.wait_progress(100, what="acks after the controller kill")
        zk.wait_unregistered(ctrl)
        by_id(cluster, ctrl).start()
        wait_full_isr(zk, topic, NPART)
        load.wait_progress(100)

        # 3. SIGSTOP a leader (not the controller) past its session; a raw
        # acks=all Produce reaches it while frozen. Once it lost leadership,
        # it must not acknowledge that write when it resumes.
        ctrl = zk.controller()
        st = zk.states(topic, NPART)
        led = [(p, s["leader"]) for p, s in enumerate(st) if s["leader"] != ctrl]
        if not led:
            pytest.skip("the controller leads every partition")   # not with round-robin assignment
        zp, zid = led[0]
        frozen = by_id(cluster, zid)
        sock = K.connect(frozen.port)
        H.log("%.2f chaos" % (time.monotonic() - T0) + " 3: SIGSTOP leader %d of %s-%d" % (zid, topic, zp))
        os.kill(frozen.pid, signal.SIGSTOP)
        try:
            raw_produce_acks_all(sock, topic, zp, zombie, 7)
            wait_led_without(zk, topic, NPART, {zid}, timeout=SESSION_MS / 1000 + 30)
            load.wait_progress(100, what="acks while %d is frozen" % zid)
        finally:
            os.kill(frozen.pid, signal.SIGCONT)
        sock.settimeout(40)
        frame = K.recv_frame(sock)
        sock.close()
        if frame is not None:   # a closed connection is an acceptable non-answer
            _, parts = K.parse_produce_v3_response(frame)
            assert len(parts) == 1 and parts[0][2] != 0, "frozen ex-leader acknowledged a write: %r" % (parts,)
            H.log("frozen ex-leader answered error %d" % parts[0][2])
        H.wait_until(lambda: zk.registered(zid), 30, 0.1, "broker %d to re-register" % zid)
        wait_full_isr(zk, topic, NPART)
        load.wait_progress(100)

        # 4. Rolling SIGTERM restart (controlled shutdown), controller last.
        order = sorted(cluster.brokers, key=lambda b: b.id == zk.controller())
        for b in order:
            H.log("%.2f chaos" % (time.monotonic() - T0) + " 4: rolling restart of %d" % b.id)
            rc = b.stop(timeout=60)
            assert rc == 0, rc
            assert "Controlled shutdown succeeded" in b.log_text().rsplit("===== harness: start", 1)[-1]
            wait_led_without(zk, topic, NPART, {b.id}, timeout=SESSION_MS / 1000 + 20)
            b.start()
            wait_full_isr(zk, topic, NPART, timeout=90)
            load.wait_progress(100, what="acks after restarting %d" % b.id)
    finally:
        load.stop.set()
        load.t.join(180)
    try:
        assert not load.t.is_alive()
        assert load.remaining == 0, "%d messages never delivered" % load.remaining
        # Failures that were reported to the producer are not acknowledgements;
        # with message.timeout.ms this long there should be none.
        assert not load.errors, load.errors[:5]
        got = K.consume_all(cluster.bootstrap, topic, NPART, timeout=180)
        total = inversions = late_acks = 0
        for p in range(NPART):
            by_offset = {m.offset(): m.value() for m in got[p]}
            assert sorted(by_offset) == list(range(len(by_offset))), "holes in %s-%d" % (topic, p)
            assert zombie not in by_offset.values()
            acked = load.acked[p]
            total += len(acked)
            for off, _, v in acked:
                assert by_offset.get(off) == v, "%s-%d: acked %r at %d, log has %r" % (topic, p, v, off,
                                                                                    by_offset.get(off))
            # Two acknowledgements never claim the same offset. (They may
            # arrive out of offset order: a leader frozen with a write its
            # followers already fetched answers it on resumption, after the
            # new leader acknowledged later offsets; the write is committed
            # at its offset, which is what the loop above checks.)
            offs = [off for off, _, _ in acked]
            assert len(set(offs)) == len(offs), "%s-%d: two acks for one offset" % (topic, p)
            late_acks += sum(1 for x, y in zip(offs, offs[1:]) if y < x)
            # Produce order: a non-idempotent librdkafka producer sends new
            # batches to a new leader while an older request is still in
            # flight to the old one (the frozen leader above answers it only
            # when resumed), so its retry lands later. That is the client's
            # documented limit, not the broker's; count and report it.
            by_log = sorted(acked)
            bad = [(x, y) for x, y in zip(by_log, by_log[1:]) if x[1] > y[1]]
            inversions += len(bad)
            for x, y in bad[:3]:
                H.log("%s-%d: retried %s acked at %.2fs landed after %s acked at %.2fs" % (
                    topic, p, y[2][:11], load.when[(p, y[0])] - T0, x[2][:11], load.when[(p, x[0])] - T0))
        H.log("%.2f chaos" % (time.monotonic() - T0) + ": %d acknowledged values verified, %d records in the log, "
              "%d produce-order inversions from client retries, %d acks out of offset order"
              % (total, sum(len(got[p]) for p in range(NPART)), inversions, late_acks))
    finally:
        zk.close()


def producer(bootstrap, **extra):
    conf = {"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": False, "retries": 0,
            "linger.ms": 0, "message.timeout.ms": 15000, "request.timeout.ms": 10000}
    conf.update(extra)
    return confluent_kafka.Producer(conf)


def produce_sync(p, topic, values):
    res = {}

    def cb(err, msg):
        res[msg.value()] = (err.code() if err else None, msg.offset())

    for v in values:
        p.produce(topic, value=v, partition=0, on_delivery=cb)
    p.flush(60)
    return res


def metadata_leader(bootstrap, topic):
    md = K.admin(bootstrap).list_topics(topic=topic, timeout=5)
    return md.topics[topic].partitions[0].leader


def metadata_leader_or_none(bootstrap, topic):
    """Like metadata_leader, or None while the broker's metadata cache has
    not yet heard of the partition (a broker answers from its cache, which
    the controller fills with UpdateMetadata shortly after it starts)."""
    try:
        return metadata_leader(bootstrap, topic)
    except KeyError:
        return None


def test_min_isr_and_no_unclean_election(cluster):
    start3(cluster)
    zk = Zk(cluster)
    topic = "nounclean"
    try:
        ctrl = H.wait_until(lambda: [zk.controller()] if zk.controller() is not None else None, 30, 0.1,
                            "a controller")[0]
        x, y = [b.id for b in cluster.brokers if b.id != ctrl]
        # X leads; Y and the controller follow.
        from confluent_kafka.admin import NewTopic
        adm = K.admin(cluster.bootstrap)
        fs = adm.create_topics(
            [NewTopic(topic, num_partitions=1, replica_assignment=[[x, y, ctrl]], config={"min.insync.replicas": "2"})],
            request_timeout=15, operation_timeout=15)
        fs[topic].result(30)
        H.wait_until(lambda: len(zk.state(topic, 0)["isr"]) == 3, 30, 0.1, "ISR of 3")
        bx, by, bc = by_id(cluster, x), by_id(cluster, y), by_id(cluster, ctrl)
        res = produce_sync(producer(bx.bootstrap), topic, [b"before-%d" % i for i in range(10)])
        assert sorted(res.values()) == [(None, i) for i in range(10)]

        # Two of three replicas down: the ISR shrinks to the leader.
        by.kill9()
        bc.kill9()
        H.wait_until(lambda: zk.state(topic, 0)["isr"] == [x], 40, 0.1, "ISR shrunk to the leader")
        assert zk.state(topic, 0)["leader"] == x
        res = produce_sync(producer(bx.bootstrap), topic, [b"after-%d" % i for i in range(5)])
        assert set(e for e, _ in res.values()) == {ERR_NOT_ENOUGH_REPLICAS}, res
        assert K.watermarks(bx.bootstrap, topic, 0) == (0, 10)
        # acks=1 still works with one in-sync replica: these make the other
        # two replicas out of sync for good.
        res = produce_sync(producer(bx.bootstrap, acks="1"), topic, [b"solo-%d" % i for i in range(5)])
        assert sorted(res.values()) == [(None, 10 + i) for i in range(5)]

        # The last in-sync replica dies; the out-of-sync ones come back.
        bx.kill9()
        for b in (bx, by, bc):
            zk.wait_unregistered(b.id)
        by.start()
        bc.start()
        newc = H.wait_until(lambda: [zk.controller()] if zk.controller() is not None else None, 30, 0.1,
                            "a controller")[0]
        nb = by_id(cluster, newc)
        H.wait_until(lambda: "Ready to serve as the new controller" in nb.log_text().rsplit("===== harness: start", 1)[-1],
                     30, 0.1, "controller %d ready" % newc)
        H.wait_until(lambda: zk.state(topic, 0)["leader"] == -1, 30, 0.1, "leader -1 in the state znode")
        live = ",".join(b.bootstrap for b in (by, bc))
        for b in (by, bc):
            H.wait_until(lambda: metadata_leader_or_none(b.bootstrap, topic) == -1, 30, 0.2,
                         "broker %d reporting the partition offline" % b.id)
        # Stays offline while only out-of-sync replicas live (the one fixed
        # observation window in this file).
        end = time.monotonic() + 4
        while time.monotonic() < end:
            s = zk.state(topic, 0)
            assert s["leader"] == -1 and s["isr"] == [x], s
            assert metadata_leader(live, topic) == -1
            time.sleep(0.2)
        res = produce_sync(producer(live, **{"message.timeout.ms": 3000}), topic, [b"offline"])
        assert [e for e, _ in res.values()] != [None]

        # The in-sync replica returns: it leads again, nothing acked is lost.
        bx.start()
        H.wait_until(lambda: zk.state(topic, 0)["leader"] == x, 30, 0.1, "the in-sync replica leading again")
        H.wait_until(lambda: len(zk.state(topic, 0)["isr"]) == 3, 60, 0.1, "full ISR again")
        got = K.consume_all(cluster.bootstrap, topic, 1)[0]
        assert [(m.offset(), m.value()) for m in got] == \
            [(i, b"before-%d" % i) for i in range(10)] + [(10 + i, b"solo-%d" % i) for i in range(5)]
    finally:
        zk.close()
