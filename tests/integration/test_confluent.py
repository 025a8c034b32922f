"""tests/integration/test_confluent.py - python3-confluent-kafka (librdkafka) clients.

Owns: 100k records with keys, values, headers and explicit CreateTime
timestamps over 3 partitions, read back with assign() and compared field by
field, with the offsets the producer's delivery reports gave; plus a few
edge-shaped records (null key, empty value, null value, big value).
"""

import pytest

import kafka_helpers as K

confluent_kafka = pytest.importorskip("confluent_kafka")

N = 100_000
P = 3
BASE_TS = 1_600_000_000_000


def make(i):
    key = None if i % 101 == 0 else b"key-%d" % i
    value = b"value-%d-" % i + bytes([i % 256]) * (i % 200)
    headers = [("idx", str(i).encode()), ("kind", b"even" if i % 2 == 0 else b"odd")]
    if i % 7 == 0:
        headers.append(("idx", b"dup"))     # repeated header keys keep their order
    return key, value, headers, BASE_TS + i


def produce(bootstrap, topic, n, extra=None):
    """Produce n records (record i to partition i % P); return the delivery
    reports as {i: (partition, offset)}."""
    conf = {"bootstrap.servers": bootstrap, "linger.ms": 20, "acks": "all",
            "batch.num.messages": 5000, "queue.buffering.max.messages": 200000}
    conf.update(extra or {})
    p = confluent_kafka.Producer(conf)
    reports = {}
    errors = []

    def cb(i):
        def done(err, msg):
            if err is not None:
                errors.append((i, err))
            else:
                reports[i] = (msg.partition(), msg.offset())
        return done

    for i in range(n):
        key, value, headers, ts = make(i)
        while True:
            try:
                p.produce(topic, value=value, key=key, partition=i % P, headers=headers,
                          timestamp=ts, on_delivery=cb(i))
                break
            except BufferError:
                p.poll(0.1)
        if i % 1000 == 0:
            p.poll(0)
    remaining = p.flush(120)
    assert remaining == 0, "%d messages not delivered" % remaining
    assert not errors, "delivery errors: %s" % errors[:5]
    return reports


def check_topic(bootstrap, topic, n, reports):
    got = K.consume_all(bootstrap, topic, P, expect=n)
    expected_per_part = {p: [] for p in range(P)}
    for i in range(n):
        expected_per_part[i % P].append(i)
    for p in range(P):
        msgs = got[p]
        exp = expected_per_part[p]
        assert len(msgs) == len(exp), "partition %d: %d != %d" % (p, len(msgs), len(exp))
        for j, (m, i) in enumerate(zip(msgs, exp)):
            key, value, headers, ts = make(i)
            assert m.offset() == j, "partition %d offsets not contiguous at %d" % (p, j)
            assert reports[i] == (p, j), "record %d reported at %s, stored at %s" % (i, reports[i], (p, j))
            assert m.key() == key, "record %d key" % i
            assert m.value() == value, "record %d value" % i
            assert m.timestamp() == (confluent_kafka.TIMESTAMP_CREATE_TIME, ts), "record %d ts" % i
            assert (m.headers() or []) == headers, "record %d headers" % i
        lo, hi = K.watermarks(bootstrap, topic, p)
        assert (lo, hi) == (0, len(exp))


@pytest.mark.slow
def test_confluent_100k_headers_timestamps_3_partitions(broker):
    topic = "ck-100k"
    K.create_topic(broker.bootstrap, topic, P)
    reports = produce(broker.bootstrap, topic, N)
    assert len(reports) == N
    check_topic(broker.bootstrap, topic, N, reports)


def test_confluent_edge_records(broker):
    topic = "ck-edge"
    K.create_topic(broker.bootstrap, topic, 1)
    p = confluent_kafka.Producer({"bootstrap.servers": broker.bootstrap, "acks": "all",
                                  "message.max.bytes": 2_000_000})
    recs = [(None, b"no key"), (b"empty value", b""), (b"null value", None),
            (b"big", bytes(range(256)) * 3000), (b"", b"empty key"),
            (b"utf8-\xc3\xa9", "h\u00e9llo w\u00f6rld".encode())]
    offs = []
    for k, v in recs:
        p.produce(topic, key=k, value=v, partition=0,
                  on_delivery=lambda err, m: offs.append(err or m.offset()))
        p.flush(30)          # one batch per record: several batches in the log
    assert offs == list(range(len(recs)))
    got = K.consume_all(broker.bootstrap, topic, 1, expect=len(recs))[0]
    assert [(m.offset(), m.key(), m.value()) for m in got] == \
        [(i, k, v) for i, (k, v) in enumerate(recs)]


def test_confluent_fetch_from_middle_offset(broker):
    """A consumer assigned to an offset inside a batch gets exactly the
    records from that offset on (the broker returns whole batches; the client
    skips the earlier records)."""
    topic = "ck-seek"
    K.create_topic(broker.bootstrap, topic, 1)
    p = confluent_kafka.Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 50})
    for i in range(1000):
        p.produce(topic, value=b"m%d" % i, partition=0)
    assert p.flush(30) == 0
    c = confluent_kafka.Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "g",
                                  "enable.auto.commit": False})
    try:
        c.assign([confluent_kafka.TopicPartition(topic, 0, 777)])
        seen = []
        for _ in range(100):
            for m in c.consume(1000, 1.0):
                assert m.error() is None, m.error()
                seen.append((m.offset(), m.value()))
            if len(seen) >= 223:
                break
        assert seen == [(o, b"m%d" % o) for o in range(777, 1000)]
    finally:
        c.close()
