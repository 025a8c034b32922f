"""tests/integration/test_groups_cluster.py - consumer groups on a replicated
3-broker cluster (RF 3 for __consumer_offsets and the data topic,
min.insync.replicas=2, unclean election off).

Owns: the group coordinator's replication and failover seen through real
clients. Three python3-confluent-kafka members, then three python3-kafka
members, share a 6-partition topic: every partition is owned by exactly one
member, every record is consumed exactly once; the members commit, stop,
and new members resume exactly at the committed offsets; the coordinator's
broker (found with a raw FindCoordinator) is kill -9'd and no committed
offset is lost: the new coordinator serves the same offsets, the group
carries on from them and keeps committing. A static member restarted within
its session timeout causes no rebalance. Two samsa-console-consumer --group
processes split the partitions and a restart resumes from the committed
offset. Three kafkajs members go through the same kill -9 / restart /
coordinator-failover cycle. The killed broker is restarted after each test, so the tests share
one cluster.
"""

import struct
import subprocess
import threading
import time

import pytest

import conftest
import kafka_helpers as K
import samsa_harness as H

confluent_kafka = pytest.importorskip("confluent_kafka")
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition  # noqa: E402
# kafkajs: its install fixture (a skip without node/npm) and member driver.
from test_kafkajs import JsMember, kjs, stable  # noqa: E402,F401

P = 6
OVERRIDES = {
    "default.replication.factor": 3,
    "min.insync.replicas": 2,
    "offsets.topic.replication.factor": 3,
    "offsets.topic.num.partitions": 6,
    "unclean.leader.election.enable": "false",
    "replica.lag.time.max.ms": 3000,
    "replica.fetch.backoff.ms": 200,
    "controlled.shutdown.enable": "false",
    "zookeeper.session.timeout.ms": 6000,
    # The three members of a new group normally land in one generation.
    "group.initial.rebalance.delay.ms": 1000,
}

# Errors a commit may meet while the coordinator moves: retried.
RETRIABLE = {KafkaError._WAIT_COORD, KafkaError.NOT_COORDINATOR, KafkaError.COORDINATOR_NOT_AVAILABLE,
             KafkaError.COORDINATOR_LOAD_IN_PROGRESS, KafkaError._TIMED_OUT, KafkaError._TRANSPORT,
             KafkaError.REQUEST_TIMED_OUT, KafkaError._MSG_TIMED_OUT}


@pytest.fixture(scope="module")
def c3(workdir, zk):
    c = conftest.Cluster(workdir, zk, "groups_cluster")
    try:
        for i in range(3):
            c.add(i, overrides=OVERRIDES)
        yield c
    finally:
        c.close()


def live(cluster):
    return [b for b in cluster.brokers if b.running()]


def live_bootstrap(cluster):
    return ",".join(b.bootstrap for b in live(cluster))


def find_coordinator(cluster, group, exclude=(), timeout=60):
    """The node id a live broker names as the group's coordinator (raw
    FindCoordinator v0), waiting past COORDINATOR_NOT_AVAILABLE."""
    def ask():
        for b in live(cluster):
            try:
                s = K.connect(b.port, timeout=5)
                try:
                    s.sendall(K.request(10, 0, 77, K.kstr(group)))
                    buf = K.recv_frame(s)
                finally:
                    s.close()
            except OSError:
                continue
            if buf is None:
                continue
            corr, err, node = struct.unpack_from(">ihi", buf, 0)
            assert corr == 77
            assert err in (0, 15), "FindCoordinator error %d" % err    # 15: COORDINATOR_NOT_AVAILABLE
            if err == 0 and node not in exclude:
                return [node]           # truthy for node 0 too
        return None
    return H.wait_until(ask, timeout, 0.2, "a coordinator for %s" % group)[0]


def broker_by_id(cluster, bid):
    return [b for b in cluster.brokers if b.id == bid][0]


def registered(cluster, bid):
    kz = pytest.importorskip("kazoo.client").KazooClient(hosts=cluster.zk_connect, timeout=15)
    kz.start(timeout=15)
    try:
        return kz.exists("/brokers/ids/%d" % bid) is not None
    finally:
        kz.stop()
        kz.close()


def restart_killed(cluster, b):
    """Bring a kill -9'd broker back once its ZooKeeper session expired, and
    wait until it is back in the ISR of every __consumer_offsets partition."""
    H.wait_until(lambda: not registered(cluster, b.id), 30, 0.3, "broker %d session to expire" % b.id)
    b.start()
    a = K.admin(cluster.bootstrap)

    def back():
        md = a.list_topics(timeout=5)
        for name in ("__consumer_offsets",):
            t = md.topics.get(name)
            if t is None or any(b.id not in p.isrs or p.leader < 0 for p in t.partitions.values()):
                return False
        return True
    H.wait_until(back, 60, 0.5, "broker %d back in every ISR" % b.id)


def produce(bootstrap, topic, start, n):
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "acks": "all",
                  "retries": 1000000, "retry.backoff.ms": 100, "message.timeout.ms": 90000,
                  "topic.metadata.refresh.interval.ms": 1000})
    errs = []
    for i in range(start, start + n):
        p.produce(topic, key=b"k%d" % i, value=b"v%d" % i, partition=i % P,
                  on_delivery=lambda e, m: e and errs.append(e))
        p.poll(0)
    assert p.flush(120) == 0
    assert not errs, errs


def high_watermarks(bootstrap, topic):
    return {p: K.watermarks(bootstrap, topic, p, timeout=20)[1] for p in range(P)}


def committed(bootstrap, group, topic):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                return {tp.partition: tp.offset for tp in
                        c.committed([TopicPartition(topic, p) for p in range(P)], timeout=20)}
            except KafkaException as e:
                if e.args[0].code() not in RETRIABLE or time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
    finally:
        c.close()


def wait_topic(cluster, topic):
    K.create_topic(cluster.brokers[0].bootstrap, topic, P, 3, timeout=60)

    def full_isr():
        md = K.admin(cluster.bootstrap).list_topics(topic=topic, timeout=5)
        t = md.topics[topic]
        return all(len(p.isrs) == 3 and p.leader >= 0 for p in t.partitions.values())
    H.wait_until(full_isr, 30, 0.3, "ISR of 3 on every partition of %s" % topic)


# ------------------------------------------------------------ members


class ConfluentMember:
    """One confluent-kafka member, polled from the test thread."""

    def __init__(self, bootstrap, group, topic, name, extra=None):
        conf = {"bootstrap.servers": bootstrap, "group.id": group,
                "auto.offset.reset": "earliest", "enable.auto.commit": False,
                "session.timeout.ms": 20000, "heartbeat.interval.ms": 500,
                "fetch.wait.max.ms": 100, "client.id": name,
                "topic.metadata.refresh.interval.ms": 1000}
        conf.update(extra or {})
        self.name = name
        self.assigns = 0
        self.assignment = set()
        self.seen = []                 # (partition, offset)
        self.c = Consumer(conf)
        self.c.subscribe([topic], on_assign=self._on_assign, on_revoke=self._on_revoke)

    def _on_assign(self, c, parts):
        self.assigns += 1
        self.assignment = {p.partition for p in parts}

    def _on_revoke(self, c, parts):
        self.assignment = set()

    def step(self):
        m = self.c.poll(0.05)
        if m is None:
            return
        if m.error():
            # Transport errors while a broker is down are reported, not fatal.
            assert m.error().code() in RETRIABLE | {KafkaError._PARTITION_EOF}, m.error()
            return
        assert m.partition() in self.assignment, (self.name, m.partition(), self.assignment)
        self.seen.append((m.partition(), m.offset()))
        # A synchronous commit of what was processed, retried while the
        # coordinator moves: an acknowledged commit must never be lost.
        deadline = time.monotonic() + 60
        while True:
            try:
                self.c.commit(message=m, asynchronous=False)
                return
            except KafkaException as e:
                if e.args[0].code() not in RETRIABLE or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def close(self):
        self.c.close()


class KafkaPythonMember:
    """One kafka-python member on its own thread (its JoinGroup blocks the
    calling thread until the whole group joined)."""

    def __init__(self, bootstrap, group, topic, name, extra=None):
        import kafka
        self.kafka = kafka
        self.name = name
        self.seen = []
        self.assignment = set()
        self.lock = threading.Lock()
        self.stop_flag = False
        self.error = None
        conf = dict(bootstrap_servers=bootstrap, group_id=group, client_id=name,
                    auto_offset_reset="earliest", enable_auto_commit=False,
                    session_timeout_ms=20000, heartbeat_interval_ms=500, fetch_max_wait_ms=100,
                    metadata_max_age_ms=2000, request_timeout_ms=30000, retry_backoff_ms=200)
        conf.update(extra or {})
        self.c = kafka.KafkaConsumer(**conf)
        self.c.subscribe([topic])
        self.t = threading.Thread(target=self._run, name=name, daemon=True)
        self.t.start()

    def _run(self):
        from kafka.structs import OffsetAndMetadata
        try:
            while not self.stop_flag:
                recs = self.c.poll(timeout_ms=100)
                with self.lock:
                    self.assignment = {tp.partition for tp in self.c.assignment()}
                for tp, msgs in recs.items():
                    for m in msgs:
                        with self.lock:
                            self.seen.append((m.partition, m.offset))
                    # Synchronous; kafka-python retries retriable errors
                    # (coordinator moves) itself.
                    self.c.commit({tp: OffsetAndMetadata(msgs[-1].offset + 1, None)})
        except Exception as e:      # reported by the test thread
            self.error = e
        finally:
            self.c.close()

    def step(self):
        assert self.error is None, (self.name, self.error)
        time.sleep(0.01)

    def close(self):
        self.stop_flag = True
        self.t.join(30)
        assert not self.t.is_alive()
        assert self.error is None, (self.name, self.error)


def pump(members, pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for m in members:
            m.step()
        if pred():
            return
    raise AssertionError("timed out waiting for %s: %s" % (
        what, [(m.name, sorted(m.assignment), len(m.seen)) for m in members]))


def consumed(members):
    out = []
    for m in members:
        lock = getattr(m, "lock", None)
        if lock:
            with lock:
                out += m.seen
        else:
            out += m.seen
    return out


def consumed_since(members, marks):
    out = []
    for m, k in zip(members, marks):
        lock = getattr(m, "lock", None)
        if lock:
            with lock:
                out += m.seen[k:]
        else:
            out += m.seen[k:]
    return out


def partitioned(members, n):
    owned = [p for m in members for p in m.assignment]
    return sorted(owned) == list(range(P)) and all(len(m.assignment) == n for m in members)


def settle(members, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for m in members:
            m.step()


def expect_range(got, lo, hi):
    """got (partition, offset) pairs are exactly [lo[p], hi[p]) per partition."""
    assert len(got) == len(set(got)), "a record was consumed twice"
    want = {(p, o) for p in range(P) for o in range(lo.get(p, 0), hi[p])}
    assert set(got) == want, ("missing", sorted(want - set(got))[:10], "extra", sorted(set(got) - want)[:10])


def group_scenario(cluster, make, group, topic):
    """The shared scenario for one client library (see the module doc)."""
    wait_topic(cluster, topic)
    bs = live_bootstrap(cluster)
    produce(bs, topic, 0, 600)
    hi0 = high_watermarks(bs, topic)
    assert sum(hi0.values()) == 600

    # 1. Three members split the six partitions and read everything once.
    ms = [make(bs, group, topic, "%s-%d" % (group, i)) for i in range(3)]
    try:
        pump(ms, lambda: partitioned(ms, 2) and len(consumed(ms)) >= 600, 120,
             "3 members with 2 partitions each and all 600 records")
        settle(ms, 1.0)
        # Synchronous commits make every hand-over exact: a partition owned
        # by two members at once would show up as a duplicate here.
        expect_range(consumed(ms), {}, hi0)
        assert partitioned(ms, 2)
    finally:
        for m in ms:
            m.close()
    assert committed(bs, group, topic) == hi0

    # 2. Stop, produce more, restart: resume exactly at the committed offsets.
    produce(bs, topic, 600, 120)
    hi1 = high_watermarks(bs, topic)
    ms = [make(bs, group, topic, "%s-r%d" % (group, i)) for i in range(3)]
    try:
        pump(ms, lambda: partitioned(ms, 2) and len(consumed(ms)) >= 120, 120, "the 120 new records")
        settle(ms, 1.0)
        expect_range(consumed(ms), hi0, hi1)
        assert committed(bs, group, topic) == hi1

        # 3. kill -9 the coordinator's broker while the group runs.
        coord = find_coordinator(cluster, group)
        victim = broker_by_id(cluster, coord)
        marks = [len(m.seen) for m in ms]
        assigns = [getattr(m, "assigns", 0) for m in ms]
        victim.kill9()
        try:
            bs2 = live_bootstrap(cluster)
            new = find_coordinator(cluster, group, exclude=(coord,))
            assert new != coord
            # Every acknowledged commit survived on the new coordinator.
            assert committed(bs2, group, topic) == hi1
            produce(bs2, topic, 720, 120)
            hi2 = high_watermarks(bs2, topic)
            pump(ms, lambda: len(consumed_since(ms, marks)) >= 120, 180, "records after the coordinator died")
            settle(ms, 2.0)
            expect_range(consumed_since(ms, marks), hi1, hi2)
            assert partitioned(ms, 2)
            # The loaded group was Stable: the members just carried on.
            assert [getattr(m, "assigns", 0) for m in ms] == assigns, "a rebalance after the failover"
            H.wait_until(lambda: committed(bs2, group, topic) == hi2, 30, 0.5, "final commits")
        finally:
            for m in ms:
                m.close()
            ms = []
        log = broker_by_id(cluster, new).log_text()
        assert "Finished loading" in log
        restart_killed(cluster, victim)
    finally:
        for m in ms:
            try:
                m.close()
            except Exception:
                pass


def test_confluent_members_coordinator_failover(c3):
    group_scenario(c3, ConfluentMember, "gc-confluent", "gcl-confluent")


def test_kafka_python_members_coordinator_failover(c3):
    pytest.importorskip("kafka")
    group_scenario(c3, KafkaPythonMember, "gc-kpython", "gcl-kpython")


def test_static_member_restart_no_rebalance(c3):
    topic, group = "gcl-static", "gc-static"
    wait_topic(c3, topic)
    bs = live_bootstrap(c3)
    ext = lambda i: {"group.instance.id": "inst-%d" % i, "session.timeout.ms": 20000}
    ms = [ConfluentMember(bs, group, topic, "s%d" % i, ext(i)) for i in range(2)]
    try:
        pump(ms, lambda: partitioned(ms, 3), 60, "two static members")
        old = set(ms[1].assignment)
        assigns0 = ms[0].assigns
        coord = broker_by_id(c3, find_coordinator(c3, group))
        mark = len(coord.log_text())
        ms[1].close()                   # a static member sends no LeaveGroup
        time.sleep(1.0)
        ms[1] = ConfluentMember(bs, group, topic, "s1b", ext(1))
        pump(ms, lambda: ms[1].assignment != set(), 30, "the restarted member's assignment")
        settle(ms, 3.0)
        assert ms[1].assignment == old
        assert ms[0].assigns == assigns0, "the other member was rebalanced"
        log = coord.log_text()[mark:]
        assert "Preparing to rebalance group %s" % group not in log
        assert "Static member inst-1 of group %s" % group in log
    finally:
        for m in ms:
            m.close()


def console_consumer(bs, topic, group, n):
    p = subprocess.Popen([H.binary("samsa-console-consumer"), "--bootstrap-server", bs, "--topic", topic,
                          "--group", group, "--from-beginning", "--max-messages", str(n),
                          "--timeout-ms", "60000", "--property", "print.partition=true",
                          "--property", "print.offset=true",
                          "--consumer-property", "session.timeout.ms=6000",
                          "--consumer-property", "heartbeat.interval.ms=500"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    H.LIVE[p.pid] = "samsa-console-consumer"
    return p


def parse_console(out):
    # "Partition:N\tOffset:M\tvalue" (DefaultMessageFormatter order).
    got = []
    for line in out.decode().splitlines():
        fields = line.split("\t")
        part = int(fields[0].split(":")[1])
        off = int(fields[1].split(":")[1])
        got.append((part, off, fields[-1]))
    return got


@pytest.mark.needs_tools
def test_console_consumer_group(c3):
    topic, group = "gcl-console", "gc-console"
    wait_topic(c3, topic)
    bs = live_bootstrap(c3)
    kafka = pytest.importorskip("kafka")
    # Two console consumers in one group; the records are produced once both
    # own their 3 partitions, so each reads exactly its own 30.
    procs = [console_consumer(bs, topic, group, 30) for _ in range(2)]
    outs = []
    try:
        admin = kafka.KafkaAdminClient(bootstrap_servers=bs)
        try:
            def split():
                d = admin.describe_consumer_groups([group])[0]
                return d.state == "Stable" and len(d.members) == 2
            H.wait_until(split, 60, 0.3, "two console consumers in a Stable group")
        finally:
            admin.close()
        produce(bs, topic, 0, 60)                   # 10 per partition
        for p in procs:
            out, err = p.communicate(timeout=120)
            assert p.returncode == 0, err
            assert b"Processed a total of 30 messages" in err
            outs.append(parse_console(out))
    finally:
        for p in procs:
            if p.poll() is None:
                H.kill_pid(p.pid, sig=9)
            H.LIVE.pop(p.pid, None)
    a, b = ({(q, o) for q, o, _ in x} for x in outs)
    assert len(a) == 30 and len(b) == 30 and not (a & b)
    assert {q for q, _ in a}.isdisjoint({q for q, _ in b}), "a partition was read by both consumers"
    assert a | b == {(q, o) for q in range(P) for o in range(10)}
    assert committed(bs, group, topic) == {q: 10 for q in range(P)}

    # A restart resumes from the committed offsets.
    produce(bs, topic, 60, 12)
    p = console_consumer(bs, topic, group, 12)
    try:
        out, err = p.communicate(timeout=120)
    finally:
        if p.poll() is None:
            H.kill_pid(p.pid, sig=9)
        H.LIVE.pop(p.pid, None)
    assert p.returncode == 0, err
    got = parse_console(out)
    assert sorted((q, o) for q, o, _ in got) == [(q, o) for q in range(P) for o in (10, 11)]
    assert sorted(v for _, _, v in got) == sorted("v%d" % i for i in range(60, 72))


# ------------------------------------------------------------ kafkajs


def test_kafkajs_members_kill_restart_coordinator_failover(c3, kjs, workdir):
    """Three kafkajs members (tests/integration/js/kjs.js `member`) on the
    replicated cluster: the split, a SIGKILL'd member expired after its
    session timeout, stop/produce/restart resuming at the commits, and a
    kill -9 of the coordinator's broker. Records come from confluent-kafka
    (record i: partition i % 6, key k<i>, value v<i>), so offset o of
    partition p is record o * 6 + p; each phase writes `per` per partition."""
    topic, group, per = "gcl-kafkajs", "gc-kafkajs", 40
    wait_topic(c3, topic)
    bs = live_bootstrap(c3)
    everyone = []

    def start(name):
        spec = {"brokers": live_bootstrap(c3).split(","), "topic": topic, "groupId": group,
                "clientId": "gc-kjs-" + name, "sessionTimeout": 6000, "heartbeatInterval": 500}
        m = JsMember(kjs, workdir, spec, name)
        everyone.append(m)
        return m

    def wait(pred, timeout, what):
        try:
            return H.wait_until(pred, timeout, 0.1, what)
        except TimeoutError:
            raise AssertionError("timed out waiting for %s: %s" % (
                what, "; ".join(m.describe() for m in everyone)))

    def all_msgs():
        return [(m, e) for m in everyone for e in m.of("msg")]

    def commits():
        best = {}
        for m in everyone:
            for c in m.of("commit"):
                best[c["p"]] = max(best.get(c["p"], -1), c["o"])
        return best

    def drained(end):
        return len(all_msgs()) >= end * P and commits() == {p: end for p in range(P)}

    def phase(k, brokers):
        produce(brokers, topic, k * per * P, per * P)

    victim = None
    try:
        # 1. Three members split the six partitions, two each.
        a, b, c = start("a"), start("b"), start("c")
        g1 = wait(lambda: stable([a, b, c], 2), 60, "3 kafkajs members with 2 partitions each")
        phase(0, bs)
        wait(lambda: drained(per), 60, "phase 0 consumed and committed")
        for m in (a, b, c):
            assert {e["p"] for e in m.of("msg")} == set(m.last_assign()["parts"]), m.describe()

        # 2. SIGKILL: b's partitions move to a and c once its 6 s session
        # timeout expired, not before.
        t0 = time.monotonic()
        b.kill()
        g2 = wait(lambda: stable([a, c], 3), 40, "2 members after a SIGKILL")
        assert time.monotonic() - t0 >= 4.0, "the killed member was expired too early"
        assert g2 > g1
        phase(1, bs)
        wait(lambda: drained(2 * per), 60, "phase 1 consumed and committed")
        assert {e["p"] for m in (a, c) for e in m.of("msg") if e["o"] >= per} == set(range(P))
        assert not any(e["o"] >= per for e in b.of("msg"))

        # 3. Commit (autoCommitThreshold 1), stop, produce, restart: three
        # new members resume exactly at the committed offsets.
        a.stop()
        c.stop()
        assert committed(bs, group, topic) == {p: 2 * per for p in range(P)}
        phase(2, bs)
        d, e, f = start("d"), start("e"), start("f")
        g3 = wait(lambda: stable([d, e, f], 2), 60, "3 restarted members")
        wait(lambda: drained(3 * per), 60, "phase 2 consumed and committed")
        for m in (d, e, f):
            got = [(x["p"], x["o"]) for x in m.of("msg")]
            assert sorted(got) == [(p, o) for p in m.last_assign()["parts"] for o in range(2 * per, 3 * per)], \
                "%s re-read or skipped records around the committed offsets" % m.name

        # 4. kill -9 the coordinator's broker while the group runs: the new
        # coordinator serves every acknowledged commit and the members carry
        # on from there.
        coord = find_coordinator(c3, group)
        victim = broker_by_id(c3, coord)
        mark = {m.name: len(m.of("msg")) for m in (d, e, f)}
        t_kill = time.time() * 1000
        victim.kill9()
        bs2 = live_bootstrap(c3)
        new = find_coordinator(c3, group, exclude=(coord,))
        assert committed(bs2, group, topic) == {p: 3 * per for p in range(P)}
        phase(3, bs2)
        wait(lambda: drained(4 * per), 120, "phase 3 consumed and committed after the failover")
        for m in (d, e, f):
            assert all(x["o"] >= 3 * per for x in m.of("msg")[mark[m.name]:]), m.describe()
        g4 = wait(lambda: stable([d, e, f], 2), 60, "3 members after the failover")
        assert g4 >= g3
        for m in (d, e, f):
            m.stop()
        assert committed(bs2, group, topic) == {p: 4 * per for p in range(P)}
        assert "Finished loading" in broker_by_id(c3, new).log_text()
    finally:
        for m in everyone:
            m.kill()
        if victim is not None and not victim.running():
            restart_killed(c3, victim)      # the next test gets 3 brokers

    # Records before the failover exactly once; after it (phase 3) a record
    # may be read again only if its commit was never acknowledged: no read
    # ever goes below an offset commit acknowledged (COMMIT_OFFSETS) before
    # it. Then every offset was read, with the content produced.
    msgs = all_msgs()
    seen = {}
    for m, x in msgs:
        seen.setdefault((x["p"], x["o"]), []).append("%s/gen %s" % (m.name, x["gen"]))
    twice = {k: v for k, v in seen.items() if len(v) > 1 and k[1] < 3 * per}
    assert not twice, "records delivered twice: %s" % sorted(twice.items())[:10]
    acked = sorted((c["t"], c["p"], c["o"]) for m in everyone for c in m.of("commit"))
    for m, x in msgs:
        floor = max([o for t, p, o in acked if p == x["p"] and t < x["t"]], default=0)
        assert x["o"] >= floor, "%s read %d:%d (generation %s) after the commit of offset %d was acknowledged" % (
            m.name, x["p"], x["o"], x["gen"], floor)
    for p in range(P):
        got = sorted({x["o"]: x for _, x in msgs if x["p"] == p}.values(), key=lambda x: x["o"])
        assert [x["o"] for x in got] == list(range(4 * per)), "partition %d offsets" % p
        assert [(x["k"], x["v"]) for x in got] == \
            [("k%d" % (o * P + p), "v%d" % (o * P + p)) for o in range(4 * per)], "partition %d content" % p
    # At most one owner per partition per generation, and records only from
    # a partition the member owned in the generation it read it in.
    owners = {}
    for m in everyone:
        for a_ in m.of("assign"):
            for p in a_["parts"]:
                assert owners.setdefault((a_["gen"], p), m.name) == m.name, \
                    "partition %d owned by %s and %s in generation %d" % (p, owners[(a_["gen"], p)],
                                                                           m.name, a_["gen"])
    for m, x in msgs:
        assert owners.get((x["gen"], x["p"])) == m.name, \
            "%s read partition %d in generation %s without owning it" % (m.name, x["p"], x["gen"])
    # kafkajs restarts its consumer (a new member) after a connection error:
    # only expected once the coordinator's broker is gone.
    for m in everyone:
        for x in m.of("crash"):
            assert m in (d, e, f) and x["restart"] and x["t"] >= t_kill, (m.name, x)
