"""tests/integration/test_compaction.py - log compaction end to end.

Owns: a topic with cleanup.policy=compact, small segments, a short
delete.retention.ms and min.cleanable.dirty.ratio=0.01, written with
confluent-kafka (100 keys updated many times, then tombstones) while a
consumer reads it concurrently; the log cleaner thread must leave exactly
the latest value of each live key at its original offset, drop deleted
keys once delete.retention.ms has passed, shrink the segment files, log
Kafka's "Log cleaner thread 0 cleaned log" summary, keep it all across a
restart, and the produce path must refuse keyless records on the topic.
"""

import os
import threading
import time

import pytest

import kafka_helpers as K
import samsa_harness as H

confluent_kafka = pytest.importorskip("confluent_kafka")
from confluent_kafka import KafkaError, TopicPartition, OFFSET_BEGINNING  # noqa: E402

TOPIC = "compacted"
KEYS = 100
ROUNDS = 20
DELETED = range(0, 10)


def log_bytes(b):
    d = os.path.join(b.logdirs, TOPIC + "-0")
    return sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d) if f.endswith(".log"))


PAYLOAD = [0]   # key + value bytes produced: a lower bound of the uncompacted log size


def produce(bootstrap, items):
    """items: (key, value-or-None); one flush at the end."""
    p = confluent_kafka.Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 2,
                                  "batch.num.messages": 7})
    errs = []

    def dr(err, msg):
        if err is not None:
            errs.append(err)

    for k, v in items:
        PAYLOAD[0] += len(k) + len(v or b"")
        p.produce(TOPIC, key=k, value=v, partition=0, on_delivery=dr)
        p.poll(0)
    assert p.flush(60) == 0
    assert errs == []


class Tailer(threading.Thread):
    """Reads the topic from the beginning while it is written and cleaned."""

    def __init__(self, bootstrap):
        super().__init__(daemon=True)
        self.bootstrap = bootstrap
        self.stop = threading.Event()
        self.offsets = []
        self.errors = []

    def run(self):
        c = confluent_kafka.Consumer({"bootstrap.servers": self.bootstrap, "group.id": "tailer",
                                      "enable.auto.commit": False, "check.crcs": True,
                                      "fetch.wait.max.ms": 50, "fetch.message.max.bytes": 2048})
        try:
            c.assign([TopicPartition(TOPIC, 0, OFFSET_BEGINNING)])
            while not self.stop.is_set():
                for m in c.consume(500, 0.2):
                    if m.error():
                        if m.error().code() != KafkaError._PARTITION_EOF:
                            self.errors.append(str(m.error()))
                        continue
                    self.offsets.append(m.offset())
        finally:
            c.close()


def snapshot(bootstrap, timeout=60):
    """Everything a fresh consumer reads from offset 0 up to the high
    watermark: [(offset, key, value)]. (A compacted log has fewer records
    than offsets, so K.consume_all's count-based stop does not apply.)"""
    c = confluent_kafka.Consumer({"bootstrap.servers": bootstrap, "group.id": "snapshot",
                                  "enable.auto.commit": False, "check.crcs": True,
                                  "fetch.wait.max.ms": 50, "enable.partition.eof": True})
    try:
        hi = c.get_watermark_offsets(TopicPartition(TOPIC, 0), timeout=15)[1]
        c.assign([TopicPartition(TOPIC, 0, OFFSET_BEGINNING)])
        out = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for m in c.consume(1000, 0.5):
                if m.error():
                    if m.error().code() == KafkaError._PARTITION_EOF:
                        if m.offset() >= hi:
                            return out
                        continue
                    raise AssertionError("consumer error: %s" % m.error())
                out.append((m.offset(), m.key(), m.value()))
        raise AssertionError("no end of partition after %d records" % len(out))
    finally:
        c.close()


def test_compaction_end_to_end(cluster):
    b = cluster.add(0, overrides={"log.cleaner.backoff.ms": "200",
                                  "log.cleaner.dedupe.buffer.size": str(4 << 20)})
    K.create_topic(b.bootstrap, TOPIC, 1, 1, config={
        "cleanup.policy": "compact", "segment.bytes": "4096", "delete.retention.ms": "2000",
        "min.cleanable.dirty.ratio": "0.01"})

    tail = Tailer(b.bootstrap)
    tail.start()
    try:
        latest = {}
        offset = 0
        for r in range(ROUNDS):
            items = [(b"key-%03d" % k, b"value-%03d-round-%02d" % (k, r)) for k in range(KEYS)]
            produce(b.bootstrap, items)
            for k, v in items:
                latest[k] = (offset, v)
                offset += 1
        produce(b.bootstrap, [(b"key-%03d" % k, None) for k in DELETED])
        offset += len(DELETED)
        # Unique filler keys push the tombstones out of the active segment.
        filler = [(b"filler-a-%03d" % i, b"x" * 20) for i in range(150)]
        produce(b.bootstrap, filler)
        for k, v in filler:
            latest[k] = (offset, v)
            offset += 1

        H.wait_until(lambda: "Log cleaner thread 0 cleaned log %s-0" % TOPIC in b.log_text(), 60, 0.2,
                     "a cleaner pass over %s-0" % TOPIC)

        # delete.retention.ms later, new dirty data triggers the pass that drops
        # the tombstones (Kafka 2.x only removes them while cleaning).
        time.sleep(2.5)
        filler = [(b"filler-b-%03d" % i, b"y" * 20) for i in range(150)]
        produce(b.bootstrap, filler)
        for k, v in filler:
            latest[k] = (offset, v)
            offset += 1
        for k in DELETED:
            del latest[b"key-%03d" % k]
        expect = sorted((o, k, v) for k, (o, v) in latest.items())

        last = []

        def compacted():
            last[:] = snapshot(b.bootstrap)
            return last == expect

        try:
            H.wait_until(compacted, 90, 0.5, "a fully compacted log")
        except Exception:
            raise AssertionError("fresh consumer saw %d records, expected %d; first diff: %r" % (
                len(last), len(expect), next(((x, y) for x, y in zip(last, expect) if x != y), None)))
        # The segment files shrank well below what was written.
        assert log_bytes(b) < PAYLOAD[0] / 2
    finally:
        tail.stop.set()
        tail.join(30)

    # The concurrent reader saw no errors and only increasing offsets.
    assert tail.errors == []
    assert len(tail.offsets) > 0
    assert all(x < y for x, y in zip(tail.offsets, tail.offsets[1:]))

    log = b.log_text()
    assert "[kafka-log-cleaner-thread-0]:" in log
    assert "MB of log processed in" in log
    ck = open(os.path.join(b.logdirs, "cleaner-offset-checkpoint")).read().split("\n")
    assert ck[0] == "0" and any(line.startswith(TOPIC + " 0 ") for line in ck[2:])

    # Keyless records are refused on a compacted topic.
    p = confluent_kafka.Producer({"bootstrap.servers": b.bootstrap, "retries": 0, "acks": 1})
    errs = []
    p.produce(TOPIC, value=b"no key", partition=0, on_delivery=lambda e, m: errs.append(e))
    p.flush(30)
    assert len(errs) == 1 and errs[0] is not None and errs[0].code() == KafkaError.INVALID_RECORD

    # The compacted log and the cleaner checkpoint survive a restart.
    b.stop()
    b.start()
    K.topic_ready(b.bootstrap, TOPIC, 1)
    assert snapshot(b.bootstrap) == expect
    leftovers = [f for f in os.listdir(os.path.join(b.logdirs, TOPIC + "-0"))
                 if f.endswith(".cleaned") or f.endswith(".swap")]
    assert leftovers == []
