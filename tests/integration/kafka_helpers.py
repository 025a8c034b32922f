"""tests/integration/kafka_helpers.py - client-side helpers for the integration suite.

Owns: topic creation/readiness through the admin API, "read a whole topic"
with confluent-kafka assign() (the broker has no consumer groups yet), and a
tiny hand-written Kafka wire codec (frames, ApiVersions, Produce v3 with a v2
record batch and CRC-32C) for the hostile-input tests, so those tests do not
depend on any client library's validation.
"""

import socket
import struct
import time

from samsa_harness import wait_until

# ---------------------------------------------------------------- admin / clients


def admin(bootstrap):
    from confluent_kafka.admin import AdminClient
    return AdminClient({"bootstrap.servers": bootstrap, "socket.timeout.ms": 10000})


def topic_ready(bootstrap, topic, partitions, timeout=30):
    """Wait until Metadata lists `topic` with `partitions` partitions, all led."""
    a = admin(bootstrap)

    def ok():
        md = a.list_topics(topic=topic, timeout=5)
        t = md.topics.get(topic)
        if t is None or t.error is not None or len(t.partitions) != partitions:
            return None
        if any(p.leader < 0 or p.error is not None for p in t.partitions.values()):
            return None
        return t

    return wait_until(ok, timeout, 0.2, "topic %s with %d led partitions" % (topic, partitions))


def create_topic(bootstrap, topic, partitions=1, replication=1, config=None, timeout=30):
    """Create a topic through CreateTopics and wait until it is usable."""
    from confluent_kafka.admin import NewTopic
    a = admin(bootstrap)
    fs = a.create_topics([NewTopic(topic, partitions, replication, config=config or {})],
                         request_timeout=15, operation_timeout=15)
    fs[topic].result(timeout)
    return topic_ready(bootstrap, topic, partitions, timeout)


def watermarks(bootstrap, topic, partition, timeout=10):
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "samsa-it-wm",
                  "enable.auto.commit": False})
    try:
        return c.get_watermark_offsets(TopicPartition(topic, partition), timeout=timeout)
    finally:
        c.close()


def consume_all(bootstrap, topic, partitions, expect=None, timeout=120, extra=None):
    """Read partitions 0..partitions-1 of `topic` from offset 0 up to the
    high watermark seen at the start (or until `expect` messages arrived).

    Returns {partition: [confluent_kafka.Message, ...]} in consumption order.
    Raises AssertionError on any consumer error (a CRC error included).
    """
    from confluent_kafka import Consumer, TopicPartition, OFFSET_BEGINNING, KafkaError
    conf = {"bootstrap.servers": bootstrap, "group.id": "samsa-it",
            "enable.auto.commit": False, "enable.auto.offset.store": False,
            "check.crcs": True, "fetch.wait.max.ms": 100,
            "enable.partition.eof": True}
    conf.update(extra or {})
    c = Consumer(conf)
    try:
        high = {}
        for p in range(partitions):
            lo, hi = c.get_watermark_offsets(TopicPartition(topic, p), timeout=15)
            high[p] = hi
        target = expect if expect is not None else sum(high.values())
        c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
        out = {p: [] for p in range(partitions)}
        n = 0
        eof = set()
        deadline = time.monotonic() + timeout
        while n < target or (expect is None and len(eof) < partitions):
            if time.monotonic() > deadline:
                raise AssertionError("consumed %d of %d messages from %s before timeout"
                                     % (n, target, topic))
            batch = c.consume(10000, 1.0)
            for m in batch:
                if m.error():
                    if m.error().code() == KafkaError._PARTITION_EOF:
                        if m.offset() >= high.get(m.partition(), 0):
                            eof.add(m.partition())
                        continue
                    raise AssertionError("consumer error: %s" % m.error())
                out[m.partition()].append(m)
                n += 1
            if expect is None and n >= target and len(eof) == partitions:
                break
        return out
    finally:
        c.close()


# ---------------------------------------------------------------- raw wire codec

def _crc32c_table():
    poly = 0x82F63B78
    tbl = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        tbl.append(c)
    return tbl


_CRC_TBL = _crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _CRC_TBL[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def varint(v):
    """Zig-zag varint (Kafka record fields)."""
    z = (v << 1) ^ (v >> 63)
    out = bytearray()
    while True:
        b = z & 0x7F
        z >>= 7
        if z:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def kstr(s):
    if s is None:
        return struct.pack(">h", -1)
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def record_batch(records, base_ts=None, corrupt_crc=False):
    """A magic-2 record batch (uncompressed) for [(key bytes|None, value bytes)]."""
    base_ts = int(time.time() * 1000) if base_ts is None else base_ts
    recs = bytearray()
    for i, (k, v) in enumerate(records):
        body = bytearray(b"\x00")               # attributes
        body += varint(0)                       # timestamp delta
        body += varint(i)                       # offset delta
        body += varint(-1) if k is None else varint(len(k)) + k
        body += varint(-1) if v is None else varint(len(v)) + v
        body += varint(0)                       # headers
        recs += varint(len(body)) + body
    after_crc = struct.pack(">hiqqqhii", 0, len(records) - 1, base_ts, base_ts,
                            -1, -1, -1, len(records)) + bytes(recs)
    crc = crc32c(after_crc)
    if corrupt_crc:
        crc ^= 0xDEADBEEF
    # batchLength counts from partitionLeaderEpoch to the end.
    batch_len = 4 + 1 + 4 + len(after_crc)
    return struct.pack(">qiibI", 0, batch_len, -1, 2, crc) + after_crc


def request(api_key, api_version, corr, body=b"", client_id="samsa-it"):
    """A size-prefixed request with a v1 header (non-flexible)."""
    hdr = struct.pack(">hhi", api_key, api_version, corr) + kstr(client_id)
    payload = hdr + body
    return struct.pack(">i", len(payload)) + payload


def produce_v3(topic, partition, batch, acks=1, timeout_ms=10000):
    body = kstr(None) + struct.pack(">hi", acks, timeout_ms)
    body += struct.pack(">i", 1) + kstr(topic)
    body += struct.pack(">i", 1) + struct.pack(">i", partition)
    body += struct.pack(">i", len(batch)) + batch
    return body


def parse_produce_v3_response(buf):
    """-> (correlation_id, [(topic, partition, error_code, base_offset)])"""
    off = 0

    def take(fmt):
        nonlocal off
        v = struct.unpack_from(fmt, buf, off)
        off += struct.calcsize(fmt)
        return v

    corr, = take(">i")
    out = []
    ntopics, = take(">i")
    for _ in range(ntopics):
        n, = take(">h")
        name = buf[off:off + n].decode()
        off += n
        nparts, = take(">i")
        for _ in range(nparts):
            p, err, base, _ts = take(">ihqq")
            out.append((name, p, err, base))
    take(">i")  # throttle time
    return corr, out


def parse_api_versions_v0(buf):
    """-> (correlation_id, error_code, {api_key: (min, max)})"""
    corr, err, n = struct.unpack_from(">ihi", buf, 0)
    if n < 0 or 10 + 6 * n > len(buf):
        raise ValueError("bad ApiVersions array length %d for %d bytes" % (n, len(buf)))
    apis = {}
    for i in range(n):
        k, lo, hi = struct.unpack_from(">hhh", buf, 10 + 6 * i)
        apis[k] = (lo, hi)
    return corr, err, apis


def connect(port, timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def recv_exact(s, n):
    data = bytearray()
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


def recv_frame(s):
    """One response frame (without the size), or None if the peer closed."""
    hdr = recv_exact(s, 4)
    if hdr is None:
        return None
    size, = struct.unpack(">i", hdr)
    if size < 0 or size > 64 * 1024 * 1024:
        raise ValueError("absurd response size %d" % size)
    return recv_exact(s, size)


def closed_by_peer(s, timeout=10):
    """True if the broker closes the connection within `timeout` seconds
    (EOF or reset), False if it is still open or sends data."""
    s.settimeout(timeout)
    try:
        data = s.recv(65536)
    except socket.timeout:
        return False
    except (ConnectionResetError, BrokenPipeError):
        return True
    return data == b""
