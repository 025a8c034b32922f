"""tests/integration/test_idempotence.py - idempotent producers and DeleteRecords.

Owns: InitProducerId (ids from /latest_producer_id_block, epoch 0,
transactional ids refused), the broker-side sequence checks seen through raw
Produce v3 frames (a resent batch gets the original base offset and is stored
once, a sequence gap gets OUT_OF_ORDER_SEQUENCE_NUMBER (45), a stale epoch
INVALID_PRODUCER_EPOCH (47)), producer state surviving a clean restart and a
kill -9, a librdkafka idempotent producer whose broker is killed and
restarted mid-run (every value exactly once, in order, contiguous offsets),
and DeleteRecords (low watermark, consumers from earliest start there).
"""

import json
import struct
import threading
import time

import pytest

import kafka_helpers as K

confluent_kafka = pytest.importorskip("confluent_kafka")

API_PRODUCE, API_DELETERECORDS, API_INITPRODUCERID = 0, 21, 22
SMALL_SEGMENTS = {"log.segment.bytes": 64 * 1024, "log.index.interval.bytes": 1024}


def call(port, api, ver, body, corr=7):
    s = K.connect(port)
    try:
        s.sendall(K.request(api, ver, corr, body))
        frame = K.recv_frame(s)
    finally:
        s.close()
    assert frame is not None, "broker closed the connection"
    assert struct.unpack_from(">i", frame)[0] == corr
    return frame


def init_producer_id(port, txn_id=None):
    """-> (error, producer_id, epoch) from InitProducerId v1."""
    f = call(port, API_INITPRODUCERID, 1, K.kstr(txn_id) + struct.pack(">i", 60000))
    _corr, _throttle, err, pid, epoch = struct.unpack(">iihqh", f)
    return err, pid, epoch


def idem_batch(values, pid, epoch, seq):
    """A magic-2 batch like K.record_batch but carrying producer fields."""
    ts = int(time.time() * 1000)
    recs = bytearray()
    for i, v in enumerate(values):
        body = bytearray(b"\x00") + K.varint(0) + K.varint(i) + K.varint(-1)
        body += K.varint(len(v)) + v + K.varint(0)
        recs += K.varint(len(body)) + body
    after_crc = struct.pack(">hiqqqhii", 0, len(values) - 1, ts, ts, pid, epoch, seq, len(values)) + bytes(recs)
    return struct.pack(">qiibI", 0, 4 + 1 + 4 + len(after_crc), -1, 2, K.crc32c(after_crc)) + after_crc


def produce(port, topic, batch, acks=-1):
    """-> (error, base_offset) of a Produce v3 for partition 0."""
    f = call(port, API_PRODUCE, 3, K.produce_v3(topic, 0, batch, acks=acks))
    _corr, parts = K.parse_produce_v3_response(f)
    assert len(parts) == 1
    return parts[0][2], parts[0][3]


def delete_records(port, topic, partition, offset):
    """-> (error, low_watermark) from DeleteRecords v1."""
    body = struct.pack(">i", 1) + K.kstr(topic) + struct.pack(">iiqi", 1, partition, offset, 10000)
    f = call(port, API_DELETERECORDS, 1, body)
    off = 8                                  # correlation id, throttle
    ntopics, = struct.unpack_from(">i", f, off)
    assert ntopics == 1
    n, = struct.unpack_from(">h", f, off + 4)
    off += 6 + n
    nparts, p, low, err = struct.unpack_from(">iiqh", f, off)
    assert nparts == 1 and p == partition
    return err, low


def kill9_and_restart(b, pause=0.0):
    """kill -9, then start again once ZooKeeper dropped the dead session's
    /brokers/ids registration (the new process would refuse to start)."""
    b.kill9()
    time.sleep(pause)
    kazoo = pytest.importorskip("kazoo.client")
    zk = kazoo.KazooClient(hosts=b.zk_connect, timeout=15)
    zk.start(timeout=15)
    try:
        deadline = time.monotonic() + 30
        while zk.exists("/brokers/ids/%d" % b.id) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        zk.stop()
        zk.close()
    b.start()


def values_of(bootstrap, topic):
    """(offset, value) of partition 0 from OFFSET_BEGINNING (the log start)."""
    lo, hi = K.watermarks(bootstrap, topic, 0)
    got = K.consume_all(bootstrap, topic, 1, expect=hi - lo)[0]
    return [(m.offset(), m.value()) for m in got]


def test_init_producer_id(broker):
    port = broker.port
    ids = set()
    for _ in range(5):
        err, pid, epoch = init_producer_id(port)
        assert (err, epoch) == (0, 0)
        ids.add(pid)
    assert len(ids) == 5 and min(ids) >= 0
    # Transactions are not supported: retriable COORDINATOR_NOT_AVAILABLE,
    # and an empty transactional id is an invalid request.
    assert init_producer_id(port, "txn-1")[0] == 15
    assert init_producer_id(port, "")[0] == 42
    kazoo = pytest.importorskip("kazoo.client")
    zk = kazoo.KazooClient(hosts=broker.zk_connect, timeout=15)
    zk.start(timeout=15)
    try:
        data, _ = zk.get("/latest_producer_id_block")
        block = json.loads(data.decode())
    finally:
        zk.stop()
        zk.close()
    assert block["version"] == 1 and block["broker"] == 0
    start, end = int(block["block_start"]), int(block["block_end"])
    assert isinstance(block["block_start"], str) and end - start == 999
    assert all(start <= i <= end for i in ids)


def test_raw_duplicates_gaps_and_epochs(cluster):
    b = cluster.add(0)
    topic = "idem-raw"
    K.create_topic(b.bootstrap, topic, 1)
    err, pid, _ = init_producer_id(b.port)
    assert err == 0
    first = idem_batch([b"a0", b"a1", b"a2"], pid, 0, 0)
    assert produce(b.port, topic, first) == (0, 0)
    assert produce(b.port, topic, first) == (0, 0)            # duplicate: original offset
    second = idem_batch([b"b0", b"b1"], pid, 0, 3)
    assert produce(b.port, topic, second) == (0, 3)
    assert produce(b.port, topic, first) == (0, 0)            # still within the last 5
    assert produce(b.port, topic, idem_batch([b"gap"], pid, 0, 7))[0] == 45
    assert produce(b.port, topic, idem_batch([b"neg"], pid, 0, -1))[0] == 87   # INVALID_RECORD
    # A new epoch must start at 0; then the old epoch is fenced.
    assert produce(b.port, topic, idem_batch([b"e1"], pid, 1, 4))[0] == 45
    assert produce(b.port, topic, idem_batch([b"c0", b"c1"], pid, 1, 0)) == (0, 5)
    assert produce(b.port, topic, idem_batch([b"stale"], pid, 0, 5))[0] == 47
    assert K.watermarks(b.bootstrap, topic, 0) == (0, 7)

    # Clean restart: the snapshot written at shutdown keeps the state.
    assert b.stop(timeout=30) == 0
    b.start()
    K.topic_ready(b.bootstrap, topic, 1)
    assert produce(b.port, topic, idem_batch([b"c0", b"c1"], pid, 1, 0)) == (0, 5)
    assert produce(b.port, topic, idem_batch([b"stale"], pid, 0, 5))[0] == 47
    assert produce(b.port, topic, idem_batch([b"d0"], pid, 1, 2)) == (0, 7)

    # kill -9: no shutdown snapshot, the state is rebuilt from the log.
    kill9_and_restart(b)
    K.topic_ready(b.bootstrap, topic, 1)
    assert produce(b.port, topic, idem_batch([b"d0"], pid, 1, 2)) == (0, 7)
    assert produce(b.port, topic, idem_batch([b"c0", b"c1"], pid, 1, 0)) == (0, 5)
    assert produce(b.port, topic, idem_batch([b"late"], pid, 1, 9))[0] == 45
    assert produce(b.port, topic, idem_batch([b"e0"], pid, 1, 3)) == (0, 8)
    assert values_of(b.bootstrap, topic) == list(enumerate(
        [b"a0", b"a1", b"a2", b"b0", b"b1", b"c0", b"c1", b"d0", b"e0"]))


class IdemProducer(threading.Thread):
    """Produces n unique values with enable.idempotence, counting acks."""

    def __init__(self, bootstrap, topic, n):
        super().__init__(daemon=True)
        self.topic, self.n = topic, n
        self.acked = 0
        self.errors = []
        self.left = None
        self.p = confluent_kafka.Producer({
            "bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all",
            "linger.ms": 2, "batch.num.messages": 100, "max.in.flight": 5,
            "retry.backoff.ms": 100, "reconnect.backoff.ms": 100, "reconnect.backoff.max.ms": 500,
            "message.timeout.ms": 120000, "error_cb": lambda e: self.errors.append(("error_cb", e)),
        })

    def _cb(self, err, m):
        if err is not None:
            self.errors.append(err)
        else:
            self.acked += 1

    def run(self):
        for i in range(self.n):
            while True:
                try:
                    self.p.produce(self.topic, value=b"v%06d" % i, partition=0, on_delivery=self._cb)
                    break
                except BufferError:
                    self.p.poll(0.05)
            if i % 100 == 0:
                self.p.poll(0)
                time.sleep(0.001)            # spread the run so the crash lands mid-stream
        self.left = self.p.flush(120)


def test_librdkafka_idempotent_kill9_restart(cluster):
    b = cluster.add(0, overrides=SMALL_SEGMENTS)
    topic = "idem-rdk"
    n = 50_000
    K.create_topic(b.bootstrap, topic, 1)
    prod = IdemProducer(b.bootstrap, topic, n)
    prod.start()
    deadline = time.monotonic() + 60
    while prod.acked < 15_000 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert 15_000 <= prod.acked < n, "crash not mid-run: %d acked" % prod.acked
    kill9_and_restart(b, 1.0)                # in-flight requests fail, retries queue up
    prod.join(180)
    assert not prod.is_alive()
    fatal = [e for e in prod.errors if not (isinstance(e, tuple) and not e[1].fatal())]
    assert not fatal, fatal[:5]
    assert prod.left == 0 and prod.acked == n
    got = values_of(b.bootstrap, topic)
    offsets = [o for o, _ in got]
    vals = [v for _, v in got]
    assert offsets == list(range(len(offsets))), "offsets not contiguous"
    dup = len(vals) - len(set(vals))
    assert dup == 0, "%d duplicated values" % dup
    assert vals == [b"v%06d" % i for i in range(n)]
    assert "Loading producer state" in b.log_text() or "Producer state recovery" in b.log_text()


def test_delete_records(cluster):
    b = cluster.add(0, overrides=SMALL_SEGMENTS)
    topic = "delrec"
    K.create_topic(b.bootstrap, topic, 1)
    p = confluent_kafka.Producer({"bootstrap.servers": b.bootstrap, "acks": "all", "linger.ms": 5})
    for i in range(3000):
        p.produce(topic, value=b"r%05d-%s" % (i, b"x" * 100), partition=0)
    assert p.flush(30) == 0
    assert K.watermarks(b.bootstrap, topic, 0) == (0, 3000)

    assert delete_records(b.port, topic, 0, 1234) == (0, 1234)
    assert K.watermarks(b.bootstrap, topic, 0) == (1234, 3000)
    got = values_of(b.bootstrap, topic)
    assert got[0] == (1234, b"r01234-" + b"x" * 100)
    assert [o for o, _ in got] == list(range(1234, 3000))
    # Lower than the current start: no change, answer the current start.
    assert delete_records(b.port, topic, 0, 10) == (0, 1234)
    # Beyond the high watermark: OFFSET_OUT_OF_RANGE; unknown partition/topic.
    assert delete_records(b.port, topic, 0, 3001)[0] == 1
    assert delete_records(b.port, topic, 5, 0)[0] == 3
    assert delete_records(b.port, "no-such-topic-x", 0, 0)[0] == 3
    # -1 = up to the high watermark; the log start survives a clean restart.
    assert delete_records(b.port, topic, 0, 2500) == (0, 2500)
    assert b.stop(timeout=30) == 0
    b.start()
    K.topic_ready(b.bootstrap, topic, 1)
    assert K.watermarks(b.bootstrap, topic, 0) == (2500, 3000)
    assert delete_records(b.port, topic, 0, -1) == (0, 3000)
    assert K.watermarks(b.bootstrap, topic, 0) == (3000, 3000)
    p = confluent_kafka.Producer({"bootstrap.servers": b.bootstrap, "acks": "all"})
    res = []
    p.produce(topic, value=b"after", partition=0, on_delivery=lambda e, m: res.append((e, m.offset())))
    assert p.flush(30) == 0
    assert res == [(None, 3000)]
    assert values_of(b.bootstrap, topic) == [(3000, b"after")]
