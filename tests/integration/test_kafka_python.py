"""tests/integration/test_kafka_python.py - python3-kafka (kafka-python 2.0.2).

Owns: the independent pure-Python client: ApiVersions-based version
negotiation, KafkaProducer with futures (offsets), KafkaConsumer with
assign()/seek_to_beginning and group_id=None, 100k records with keys,
headers and explicit timestamps over 3 partitions, compared exactly.
"""

import time

import pytest

import kafka_helpers as K

kafka = pytest.importorskip("kafka")

N = 100_000
P = 3
BASE_TS = 1_650_000_000_000


def make(i):
    key = b"kp-%d" % i if i % 13 else None
    value = b"py-value-%d-" % i + b"z" * (i % 120)
    headers = [("i", str(i).encode())] if i % 3 else []
    return key, value, headers, BASE_TS + 2 * i


def produce(bootstrap, topic, n, compression=None, acks="all"):
    prod = kafka.KafkaProducer(bootstrap_servers=bootstrap, acks=acks, linger_ms=20,
                               batch_size=64 * 1024, compression_type=compression,
                               max_request_size=4 * 1024 * 1024)
    futures = []
    for i in range(n):
        key, value, headers, ts = make(i)
        futures.append(prod.send(topic, key=key, value=value, partition=i % P,
                                 headers=headers, timestamp_ms=ts))
    prod.flush(120)
    offsets = {}
    for i, f in enumerate(futures):
        md = f.get(timeout=60)
        offsets[i] = (md.partition, md.offset)
    prod.close(10)
    return offsets


def consume(bootstrap, topic, n, timeout=180):
    cons = kafka.KafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                               enable_auto_commit=False, check_crcs=True,
                               fetch_max_wait_ms=100, max_poll_records=5000,
                               consumer_timeout_ms=30000)
    tps = [kafka.TopicPartition(topic, p) for p in range(P)]
    cons.assign(tps)
    cons.seek_to_beginning(*tps)
    got = {p: [] for p in range(P)}
    count = 0
    deadline = time.monotonic() + timeout
    while count < n:
        assert time.monotonic() < deadline, "consumed only %d of %d" % (count, n)
        for tp, recs in cons.poll(timeout_ms=1000).items():
            got[tp.partition].extend(recs)
            count += len(recs)
    cons.close()
    return got


def check(got, offsets, n):
    exp = {p: [i for i in range(n) if i % P == p] for p in range(P)}
    for p in range(P):
        assert len(got[p]) == len(exp[p]), "partition %d count" % p
        for j, (r, i) in enumerate(zip(got[p], exp[p])):
            key, value, headers, ts = make(i)
            assert r.offset == j, "partition %d offset %d" % (p, j)
            assert offsets[i] == (p, j), "record %d acked at %s stored at %s" % (i, offsets[i], (p, j))
            assert (r.key, r.value, r.timestamp, r.timestamp_type) == (key, value, ts, 0), \
                "record %d" % i
            assert list(r.headers) == headers, "record %d headers" % i


@pytest.mark.slow
def test_kafka_python_100k(broker):
    topic = "kp-100k"
    K.create_topic(broker.bootstrap, topic, P)
    offsets = produce(broker.bootstrap, topic, N)
    got = consume(broker.bootstrap, topic, N)
    check(got, offsets, N)


def test_kafka_python_version_negotiation(broker):
    """kafka-python probes the broker with ApiVersions; it must settle on a
    0.11+ protocol (record batch v2), since we only store magic 2."""
    c = kafka.KafkaConsumer(bootstrap_servers=broker.bootstrap, group_id=None)
    try:
        v = c.config["api_version"]
        assert v >= (0, 11), "negotiated api_version %s" % (v,)
        c.topics()                      # forces a Metadata round trip
        brokers = c._client.cluster.brokers()
        assert [(b.nodeId, b.host, b.port) for b in brokers] == [(0, "127.0.0.1", broker.port)]
    finally:
        c.close()


def test_kafka_python_metadata_lists_topic(broker):
    topic = "kp-meta"
    K.create_topic(broker.bootstrap, topic, 2)
    c = kafka.KafkaConsumer(bootstrap_servers=broker.bootstrap, group_id=None)
    try:
        assert topic in c.topics()
        assert c.partitions_for_topic(topic) == {0, 1}
        tps = [kafka.TopicPartition(topic, 0), kafka.TopicPartition(topic, 1)]
        assert c.beginning_offsets(tps) == {tps[0]: 0, tps[1]: 0}
        assert c.end_offsets(tps) == {tps[0]: 0, tps[1]: 0}
    finally:
        c.close()
