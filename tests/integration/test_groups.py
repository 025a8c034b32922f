"""tests/integration/test_groups.py - consumer groups on one broker.

Owns: the group coordinator seen through real clients. Three
python3-confluent-kafka consumers share a 6-partition topic (each partition
owned by exactly one member, every record consumed exactly once); a member
that closes and a member that is kill -9'd (expired after session.timeout.ms)
hand their partitions over; committed offsets survive stopping every
consumer and a broker restart; kafka-python's group consumer (JoinGroup v2,
OffsetCommit v2, OffsetFetch v1) commits and resumes; a static member
(group.instance.id) restarted within its session timeout gets its old
assignment without a rebalance; kafka-python's admin lists, describes and
deletes groups.
"""

import os
import subprocess
import sys
import time

import pytest

import kafka_helpers as K
import samsa_harness as H

confluent_kafka = pytest.importorskip("confluent_kafka")
from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402

P = 6


def produce(bootstrap, topic, start, n):
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "acks": "all"})
    for i in range(start, start + n):
        p.produce(topic, key=b"k%d" % i, value=b"v%d" % i, partition=i % P)
    assert p.flush(30) == 0


class Member:
    """One confluent-kafka group member and what it has seen."""

    def __init__(self, bootstrap, group, topic, name, extra=None):
        conf = {"bootstrap.servers": bootstrap, "group.id": group,
                "auto.offset.reset": "earliest", "enable.auto.commit": False,
                "session.timeout.ms": 6000, "heartbeat.interval.ms": 500,
                "fetch.wait.max.ms": 100, "client.id": name}
        conf.update(extra or {})
        self.name = name
        self.assigns = 0
        self.assignment = set()
        self.seen = []                 # (partition, offset, value)
        self.c = Consumer(conf)
        self.c.subscribe([topic], on_assign=self._on_assign, on_revoke=self._on_revoke)

    def _on_assign(self, c, parts):
        self.assigns += 1
        self.assignment = {p.partition for p in parts}

    def _on_revoke(self, c, parts):
        self.assignment = set()

    def poll(self, t=0.05):
        m = self.c.poll(t)
        if m is None:
            return
        assert m.error() is None, m.error()
        self.seen.append((m.partition(), m.offset(), m.value()))
        # Synchronous commit of what was processed: exactly-once hand-over.
        self.c.commit(message=m, asynchronous=False)

    def close(self):
        self.c.close()


def pump(members, pred, timeout, what):
    """Poll every member round-robin until pred() holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for m in members:
            m.poll()
        if pred():
            return
    raise AssertionError("timed out waiting for %s: %s" % (
        what, [(m.name, sorted(m.assignment), len(m.seen)) for m in members]))


def partitioned(members, n):
    """Every partition owned by exactly one member, each owning n."""
    owned = [p for m in members for p in m.assignment]
    return sorted(owned) == list(range(P)) and all(len(m.assignment) == n for m in members)


def consumed(members):
    return [(p, o) for m in members for (p, o, _) in m.seen]


@pytest.fixture(scope="module")
def topic(broker):
    K.create_topic(broker.bootstrap, "grp6", P)
    return "grp6"


def test_three_members_close_and_kill9(broker, topic):
    bs = broker.bootstrap
    group = "g-three"
    ms = [Member(bs, group, topic, "m%d" % i) for i in range(2)]
    # A third member in a child process, so it can be killed with SIGKILL.
    child = subprocess.Popen([sys.executable, "-c", CHILD, bs, group, topic],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    H.LIVE[child.pid] = "group member child"
    try:
        pump(ms, lambda: all(len(m.assignment) == 2 for m in ms) and
             len(ms[0].assignment | ms[1].assignment) == 4, 60, "3 members with 2 partitions each")
        produce(bs, topic, 0, 600)
        # The child consumes too (and commits): the two in-process members
        # must see exactly their 4 partitions' records.
        mine = lambda: len(consumed(ms)) >= 400
        pump(ms, mine, 60, "400 records in the two members")
        got = consumed(ms)
        assert len(got) == len(set(got)) == 400
        assert {p for p, _ in got} == ms[0].assignment | ms[1].assignment

        # kill -9 the child: its partitions move after the session timeout.
        t0 = time.monotonic()
        H.kill_pid(child.pid, sig=9)
        H.LIVE.pop(child.pid, None)
        pump(ms, lambda: partitioned(ms, 3), 40, "the dead member's partitions to move")
        assert time.monotonic() - t0 >= 4.0      # not before the session timed out
        produce(bs, topic, 600, 120)
        pump(ms, lambda: len(consumed(ms)) >= 520, 60, "records after the kill")
        got = consumed(ms)
        assert len(got) == len(set(got))
        # The 120 new records (20 per partition, offsets 100..119) all arrived.
        assert {(p, o) for p in range(P) for o in range(100, 120)} <= set(got)

        # A member that closes (LeaveGroup) hands over at once.
        ms[1].close()
        survivors = ms[:1]
        pump(survivors, lambda: survivors[0].assignment == set(range(P)), 30, "one member owning all")
        before = len(ms[0].seen)
        produce(bs, topic, 720, 60)
        pump(survivors, lambda: len(ms[0].seen) >= before + 60, 60, "records after the close")
        got = consumed(ms)
        assert len(got) == len(set(got)), "a record was delivered twice"
        assert {(p, o) for p in range(P) for o in range(120, 130)} <= set(got)
    finally:
        if child.poll() is None:
            H.kill_pid(child.pid, sig=9)
        H.LIVE.pop(child.pid, None)
        for m in ms:
            try:
                m.close()
            except Exception:
                pass


CHILD = r"""
import sys
from confluent_kafka import Consumer
bs, group, topic = sys.argv[1:4]
c = Consumer({"bootstrap.servers": bs, "group.id": group, "auto.offset.reset": "earliest",
              "enable.auto.commit": False, "session.timeout.ms": 6000,
              "heartbeat.interval.ms": 500, "client.id": "child"})
c.subscribe([topic])
while True:
    m = c.poll(0.1)
    if m is not None and m.error() is None:
        c.commit(message=m, asynchronous=False)
"""


def committed(bs, group, topic):
    c = Consumer({"bootstrap.servers": bs, "group.id": group, "enable.auto.commit": False})
    try:
        return {tp.partition: tp.offset for tp in
                c.committed([TopicPartition(topic, p) for p in range(P)], timeout=20)}
    finally:
        c.close()


def test_commit_stop_restart_resume(broker, topic):
    bs = broker.bootstrap
    group = "g-resume"
    lo, hi = {}, {}
    for p in range(P):
        lo[p], hi[p] = K.watermarks(bs, topic, p)
    ms = [Member(bs, group, topic, "r%d" % i) for i in range(2)]
    total = sum(hi[p] - lo[p] for p in range(P))
    pump(ms, lambda: len(consumed(ms)) >= total, 90, "the whole topic")
    for m in ms:
        m.close()
    assert committed(bs, group, topic) == hi

    produce(bs, topic, 10_000, 60)
    # The broker restarts too: offsets come back from __consumer_offsets.
    broker.stop()
    broker.start()
    K.topic_ready(bs, topic, P, 60)
    assert committed(bs, group, topic) == hi
    ms = [Member(bs, group, topic, "r%d" % i) for i in range(2)]
    pump(ms, lambda: len(consumed(ms)) >= 60, 90, "the 60 new records")
    time.sleep(1.0)
    for m in ms:
        m.poll(0.2)
    got = consumed(ms)
    assert len(got) == 60 and len(set(got)) == 60
    for p in range(P):
        offs = sorted(o for q, o in got if q == p)
        assert offs == list(range(hi[p], hi[p] + 10)), (p, offs)
    for m in ms:
        m.close()


def test_kafka_python_group_consumer(broker):
    kafka = pytest.importorskip("kafka")
    bs = broker.bootstrap
    K.create_topic(bs, "grp-kp", 2)
    produce_kp = Producer({"bootstrap.servers": bs})
    for i in range(50):
        produce_kp.produce("grp-kp", value=b"a%d" % i, partition=i % 2)
    produce_kp.flush(30)

    def consumer():
        return kafka.KafkaConsumer("grp-kp", bootstrap_servers=bs, group_id="g-kp",
                                   auto_offset_reset="earliest", enable_auto_commit=False,
                                   consumer_timeout_ms=8000, session_timeout_ms=10000)

    c = consumer()
    vals = []
    for msg in c:
        vals.append(msg.value)
        if len(vals) == 50:
            break
    c.commit()
    c.close()
    assert sorted(vals) == sorted(b"a%d" % i for i in range(50))

    for i in range(20):
        produce_kp.produce("grp-kp", value=b"b%d" % i, partition=i % 2)
    produce_kp.flush(30)
    c = consumer()
    vals = []
    for msg in c:
        vals.append((msg.partition, msg.offset, msg.value))
        if len(vals) == 20:
            break
    c.commit()
    c.close()
    assert sorted(v for _, _, v in vals) == sorted(b"b%d" % i for i in range(20))
    assert sorted(o for p, o, _ in vals if p == 0) == list(range(25, 35))

    # Admin view of the group: listed, described (Empty now), offsets, delete.
    admin = kafka.KafkaAdminClient(bootstrap_servers=bs)
    try:
        groups = dict(admin.list_consumer_groups())
        assert groups.get("g-kp") == "consumer"
        desc = admin.describe_consumer_groups(["g-kp"])[0]
        assert desc.state == "Empty" and desc.protocol_type == "consumer"
        offs = admin.list_consumer_group_offsets("g-kp")
        assert {tp.partition: om.offset for tp, om in offs.items()} == {0: 35, 1: 35}
        res = dict(admin.delete_consumer_groups(["g-kp", "g-nope"]))
        assert res["g-kp"].errno == 0
        assert res["g-nope"].errno == 69           # GROUP_ID_NOT_FOUND
        assert "g-kp" not in dict(admin.list_consumer_groups())
    finally:
        admin.close()


def test_static_member_restart_no_rebalance(broker, topic):
    bs = broker.bootstrap
    group = "g-static"
    ext = lambda i: {"group.instance.id": "inst-%d" % i, "session.timeout.ms": 20000}
    ms = [Member(bs, group, topic, "s%d" % i, ext(i)) for i in range(2)]
    pump(ms, lambda: partitioned(ms, 3), 60, "two static members")
    old = set(ms[1].assignment)
    assigns0 = ms[0].assigns
    mark = len(broker.log_text())
    ms[1].close()                       # a static member leaves no LeaveGroup
    time.sleep(1.0)
    ms[1] = Member(bs, group, topic, "s1b", ext(1))
    pump(ms, lambda: ms[1].assignment != set(), 30, "the restarted member's assignment")
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        for m in ms:
            m.poll()
    assert ms[1].assignment == old
    assert ms[0].assigns == assigns0, "the other member was rebalanced"
    log = broker.log_text()[mark:]
    assert "Preparing to rebalance group %s" % group not in log
    assert "Static member inst-1 of group %s" % group in log
    for m in ms:
        m.close()
