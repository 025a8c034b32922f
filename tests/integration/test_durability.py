"""tests/integration/test_durability.py - restarts and crashes.

Owns: clean shutdown (SIGTERM, exit status 0, same data and offsets after a
restart, appends continue at the old log end) and kill -9 during an acks=all
and an acks=1 produce: every record the client got a delivery report for must
be found afterwards at the reported offset, and the whole log must read back
without CRC errors and with contiguous offsets.
"""

import threading
import time

import pytest

import kafka_helpers as K

confluent_kafka = pytest.importorskip("confluent_kafka")

SMALL_SEGMENTS = {"log.segment.bytes": 256 * 1024, "log.index.interval.bytes": 1024}


def produce_n(bootstrap, topic, partitions, n, start=0):
    p = confluent_kafka.Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 10})
    reports = {}

    def cb(err, m):
        assert err is None, err
        reports[int(m.value().split(b"-")[1])] = (m.partition(), m.offset())

    for i in range(start, start + n):
        p.produce(topic, key=b"k%d" % i, value=b"v-%d-%s" % (i, b"d" * (i % 300)),
                  partition=i % partitions, on_delivery=cb)
        if i % 5000 == 0:
            p.poll(0)
    assert p.flush(60) == 0
    return reports


def snapshot(bootstrap, topic, partitions):
    got = K.consume_all(bootstrap, topic, partitions)
    return {p: [(m.offset(), m.key(), m.value()) for m in got[p]] for p in range(partitions)}


def test_clean_restart_keeps_data_and_offsets(cluster):
    b = cluster.add(0, overrides=SMALL_SEGMENTS)
    topic = "durable"
    K.create_topic(b.bootstrap, topic, 2)
    reports = produce_n(b.bootstrap, topic, 2, 20_000)
    before = snapshot(b.bootstrap, topic, 2)
    assert sum(len(v) for v in before.values()) == 20_000

    rc = b.stop(timeout=30)
    assert rc == 0, "clean shutdown exit status %r\n%s" % (rc, b.log_tail())
    b.start()
    K.topic_ready(b.bootstrap, topic, 2)
    after = snapshot(b.bootstrap, topic, 2)
    assert after == before
    for i, (p, o) in reports.items():
        assert after[p][o][2].startswith(b"v-%d-" % i)

    # New appends continue at the old log end offset.
    more = produce_n(b.bootstrap, topic, 2, 1000, start=20_000)
    for i, (p, o) in more.items():
        assert o >= len(before[p])
    final = snapshot(b.bootstrap, topic, 2)
    for p in range(2):
        assert [x[0] for x in final[p]] == list(range(len(final[p])))
        assert final[p][:len(before[p])] == before[p]
        assert len(final[p]) == len(before[p]) + 500


class BackgroundProducer(threading.Thread):
    """Produces numbered records until stopped; remembers delivery reports."""

    def __init__(self, bootstrap, topic, partitions, acks):
        super().__init__(daemon=True)
        self.p = confluent_kafka.Producer({
            "bootstrap.servers": bootstrap, "acks": acks, "linger.ms": 5,
            "message.timeout.ms": 8000, "retries": 0,
            "reconnect.backoff.max.ms": 500, "queue.buffering.max.messages": 50000})
        self.topic = topic
        self.partitions = partitions
        self.acked = {}
        self.failed = 0
        self.stop_flag = threading.Event()
        self.sent = 0

    def _cb(self, err, m):
        if err is None:
            self.acked[m.value()] = (m.partition(), m.offset())
        else:
            self.failed += 1

    def run(self):
        i = 0
        while not self.stop_flag.is_set():
            v = b"crash-%d-%s" % (i, b"p" * (i % 500))
            try:
                self.p.produce(self.topic, key=b"%d" % i, value=v,
                               partition=i % self.partitions, on_delivery=self._cb)
                i += 1
            except BufferError:
                self.p.poll(0.05)
            if i % 200 == 0:
                self.p.poll(0)
        self.sent = i
        self.p.flush(30)


@pytest.mark.slow
@pytest.mark.parametrize("acks", ["all", "1"])
def test_kill9_during_produce_keeps_acked_records(cluster, acks):
    b = cluster.add(0, overrides=SMALL_SEGMENTS)
    topic = "crash-acks-%s" % acks
    parts = 3
    K.create_topic(b.bootstrap, topic, parts)
    bp = BackgroundProducer(b.bootstrap, topic, parts, acks)
    bp.start()
    # Let it write a few segments' worth, then pull the plug mid-stream.
    deadline = time.monotonic() + 60
    while len(bp.acked) < 30_000 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(bp.acked) >= 30_000, "producer too slow: %d acked" % len(bp.acked)
    b.kill9()
    time.sleep(0.5)
    bp.stop_flag.set()
    bp.join(60)
    assert not bp.is_alive()
    acked = dict(bp.acked)          # frozen: the broker is dead, no more acks

    b.start()
    K.topic_ready(b.bootstrap, topic, parts)
    got = K.consume_all(b.bootstrap, topic, parts, timeout=180)
    stored = {}
    for p in range(parts):
        offs = [m.offset() for m in got[p]]
        assert offs == list(range(len(offs))), "partition %d offsets not contiguous" % p
        for m in got[p]:
            stored[(p, m.offset())] = m.value()
    missing = [(v[:20], po) for v, po in acked.items() if stored.get(po) != v]
    assert not missing, "%d acked records lost or moved, e.g. %s" % (len(missing), missing[:5])
    assert "started" in b.log_text()

    # The recovered log accepts appends right after the recovered end.
    p = confluent_kafka.Producer({"bootstrap.servers": b.bootstrap, "acks": "all"})
    res = []
    p.produce(topic, value=b"after-crash", partition=0,
              on_delivery=lambda err, m: res.append((err, m.offset())))
    assert p.flush(30) == 0
    assert res == [(None, len(got[0]))]
