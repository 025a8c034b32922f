"""tests/integration/test_legacy_clients.py - old clients and legacy message formats.

Owns: Sarama 1.22 (default config = Kafka 0.8.2: Produce v0 / Fetch v0 /
ListOffsets v0 / Metadata v0 with magic-0 message sets; also config.Version
0.10.0 = magic 1 and 2.x = record batches) and kafka-go 0.2.1 (Produce v2 /
Fetch v2, magic 1, cannot read magic 2), both through small Go probes built
here from Debian's Go packages (tests/integration/go/); cross-client
checks (librdkafka-written v2 data down-converted for Sarama v0 and
kafka-go, Sarama-v0 data up-converted for confluent-kafka); the per-version
Fetch rules (zstd topics refuse Fetch < v10, magic by version) on the raw
wire; the topic's compression.type and
message.timestamp.difference.max.ms on append; and kafkajs 2.2.4 (installed
with npm into the build dir when node/npm work here, else skipped).

Every check compares keys, values and offsets exactly.
"""

import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time

import pytest

import kafka_helpers as K
import samsa_harness as H

GO_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "go")
GOPATH = "/usr/share/gocode"
N = 25


# ---------------------------------------------------------------- Go probes

@pytest.fixture(scope="module")
def probes():
    """Build the Go probes into a temp dir (GOPATH mode, Debian's packages)."""
    go = shutil.which("go")
    if go is None:
        pytest.skip("`go` is not installed (apt-get install golang-go "
                    "golang-github-shopify-sarama-dev golang-github-segmentio-kafka-go-dev)")
    out = tempfile.mkdtemp(prefix="samsa-go-", dir=os.environ.get("SAMSA_TOP_BUILDDIR") or None)
    env = dict(os.environ, GOPATH=GOPATH, GO111MODULE="off", GOFLAGS="",
               GOCACHE=os.path.join(out, "cache"), CGO_ENABLED="1")
    bins = {}
    try:
        for name in ("sarama_probe", "kafkago_probe"):
            exe = os.path.join(out, name)
            r = subprocess.run([go, "build", "-o", exe, "."], cwd=os.path.join(GO_DIR, name), env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
            assert r.returncode == 0, "go build %s failed:\n%s" % (name, r.stdout.decode(errors="replace"))
            bins[name] = exe
        yield bins
    finally:
        H.rmtree(out)


def run_probe(exe, args, timeout=90):
    r = subprocess.run([exe] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    assert r.returncode == 0, "%s %s failed (%d):\nstdout:\n%s\nstderr:\n%s" % (
        os.path.basename(exe), " ".join(args), r.returncode, r.stdout.decode(errors="replace"),
        r.stderr.decode(errors="replace")[-4000:])
    lines = r.stdout.decode().splitlines()
    return [l.split("\t") for l in lines if l.startswith("P\t")], \
           [l.split("\t") for l in lines if l.startswith("C\t")]


def sarama(probes, broker, topic, mode, n=N, codec="none", version="default", prefix="s", extra=()):
    return run_probe(probes["sarama_probe"], ["-brokers", broker.bootstrap, "-topic", topic, "-mode", mode,
                                              "-n", str(n), "-codec", codec, "-version", version,
                                              "-prefix", prefix] + list(extra))


def kafkago(probes, broker, topic, mode, n=N, codec="none", prefix="g", extra=()):
    return run_probe(probes["kafkago_probe"], ["-broker", broker.bootstrap, "-topic", topic, "-mode", mode,
                                               "-n", str(n), "-codec", codec, "-prefix", prefix] + list(extra))


def expected(prefix, codec, n, base=0, pad=0):
    out = []
    for i in range(n):
        v = "%s-value-%d-%s" % (prefix, i, codec)
        if len(v) < pad:
            v += "x" * (pad - len(v))
        out.append(["C", str(base + i), "%s-key-%d" % (prefix, i), v])
    return out


def confluent_read(bootstrap, topic, n):
    got = K.consume_all(bootstrap, topic, 1, expect=n)[0]
    return [(m.offset(), m.key(), m.value(), m.timestamp()) for m in got]


def librdkafka_produce(bootstrap, topic, n, codec, prefix="r"):
    from confluent_kafka import Producer
    # One batch for all records (long linger; flush sends it): librdkafka
    # sends a batch uncompressed when compressing would not shrink it, which
    # happens to a lone small record on a loaded machine.
    p = Producer({"bootstrap.servers": bootstrap, "compression.type": codec, "linger.ms": 2000,
                  "batch.num.messages": 10000, "acks": "all"})
    errs = []
    for i in range(n):
        p.produce(topic, key=b"%s-key-%d" % (prefix.encode(), i),
                  value=b"%s-value-%d-%s" % (prefix.encode(), i, codec.encode()), partition=0,
                  timestamp=1_600_000_000_000 + i,
                  on_delivery=lambda err, msg: errs.append(err) if err else None)
    assert p.flush(30) == 0
    assert errs == []


# ---------------------------------------------------------------- Sarama

@pytest.mark.parametrize("codec", ["none", "gzip", "snappy"])
def test_sarama_v0_roundtrip(broker, probes, codec):
    """Produce v0 + Fetch v0 (magic 0), then confluent-kafka reads the up-converted data."""
    topic = "sarama0-%s" % codec
    K.create_topic(broker.bootstrap, topic, 1)
    produced, consumed = sarama(probes, broker, topic, "both", codec=codec)
    assert produced == [["P", str(i), "s-key-%d" % i] for i in range(N)]
    assert consumed == expected("s", codec, N)
    got = confluent_read(broker.bootstrap, topic, N)
    assert [(o, k, v) for o, k, v, _ in got] == \
        [(i, b"s-key-%d" % i, b"s-value-%d-%s" % (i, codec.encode())) for i in range(N)]
    # Magic 0 has no timestamps: Kafka stores NO_TIMESTAMP (-1).
    assert all(ts[1] == -1 for _, _, _, ts in got)


@pytest.mark.parametrize("codec", ["none", "gzip", "snappy", "lz4"])
def test_sarama_v0_10_roundtrip(broker, probes, codec):
    """config.Version 0.10.0: Produce v2 / Fetch v2 with magic 1 (timestamps kept)."""
    topic = "sarama10-%s" % codec
    K.create_topic(broker.bootstrap, topic, 1)
    before = int(time.time() * 1000) - 1000
    produced, consumed = sarama(probes, broker, topic, "both", codec=codec, version="0.10.0.0")
    assert [p[1] for p in produced] == [str(i) for i in range(N)]
    assert consumed == expected("s", codec, N)
    got = confluent_read(broker.bootstrap, topic, N)
    assert [(o, k) for o, k, _, _ in got] == [(i, b"s-key-%d" % i) for i in range(N)]
    assert all(before <= ts[1] <= int(time.time() * 1000) + 1000 for _, _, _, ts in got)


@pytest.mark.parametrize("codec", ["none", "gzip", "snappy", "lz4"])
def test_sarama_v2_roundtrip(broker, probes, codec):
    """config.Version 2.0: record batches both ways (Produce v3, Fetch v4+)."""
    topic = "sarama2-%s" % codec
    K.create_topic(broker.bootstrap, topic, 1)
    produced, consumed = sarama(probes, broker, topic, "both", codec=codec, version="2.0.0")
    assert [p[1] for p in produced] == [str(i) for i in range(N)]
    assert consumed == expected("s", codec, N)


def test_sarama_zstd_needs_produce_v7(broker, probes):
    """Sarama 1.22 sends zstd batches in Produce v3; Kafka (and Samsa) only
    accept zstd from Produce v7 on, answering UNSUPPORTED_COMPRESSION_TYPE."""
    topic = "sarama2-zstd"
    K.create_topic(broker.bootstrap, topic, 1)
    r = subprocess.run([probes["sarama_probe"], "-brokers", broker.bootstrap, "-topic", topic, "-mode", "produce",
                        "-n", "3", "-codec", "zstd", "-version", "2.1.0"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=90)
    assert r.returncode != 0
    assert b"does not support the compression type" in r.stderr


def test_sarama_v0_large_messages(broker, probes):
    """Fetch v0 hard limit: a message larger than Sarama's 32 KiB fetch size
    arrives as a partial message, and Sarama retries with a larger size."""
    topic = "sarama0-large"
    K.create_topic(broker.bootstrap, topic, 1)
    produced, consumed = sarama(probes, broker, topic, "both", n=4, extra=["-value-size", "50000"])
    assert consumed == expected("s", "none", 4, pad=50000)


# ---------------------------------------------------------------- kafka-go

@pytest.mark.parametrize("codec", ["none", "gzip", "snappy", "lz4"])
def test_kafkago_roundtrip(broker, probes, codec):
    """kafka-go 0.2.1: Produce v2 (magic 1, wrappers with relative offsets) and Fetch v2."""
    topic = "kafkago-%s" % codec
    K.create_topic(broker.bootstrap, topic, 1)
    produced, consumed = kafkago(probes, broker, topic, "both", codec=codec)
    assert produced == [["P", "g-key-%d" % i] for i in range(N)]
    assert consumed == expected("g", codec, N)
    # A second produce continues the offsets; reading from 0 sees both.
    kafkago(probes, broker, topic, "produce", codec=codec, prefix="h")
    _, consumed = kafkago(probes, broker, topic, "consume", n=2 * N, codec=codec)
    assert consumed == expected("g", codec, N) + expected("h", codec, N, base=N)
    got = confluent_read(broker.bootstrap, topic, 2 * N)
    assert [(o, k) for o, k, _, _ in got] == \
        [(i, b"g-key-%d" % i) for i in range(N)] + [(N + i, b"h-key-%d" % i) for i in range(N)]


# ---------------------------------------------------------------- cross-client

@pytest.mark.parametrize("codec", ["none", "gzip", "snappy", "lz4"])
def test_librdkafka_data_read_by_old_clients(broker, probes, codec):
    """v2 batches written by librdkafka, down-converted for Sarama v0 (magic 0)
    and kafka-go (magic 1); Sarama 0.10.1 uses Fetch v3 (magic 1 + max_bytes)."""
    topic = "rdk-old-%s" % codec
    K.create_topic(broker.bootstrap, topic, 1)
    librdkafka_produce(broker.bootstrap, topic, N, codec)
    # librdkafka silently falls back to no compression when the broker lacks
    # a feature: make sure the stored batch really uses the codec.
    err, _, recs = fetch_partition(broker_port(broker), 4, topic)
    assert err == 0 and recs[16] == 2
    assert struct.unpack_from(">h", recs, 21)[0] & 7 == CODEC_IDS[codec]
    want = expected("r", codec, N)
    _, consumed = sarama(probes, broker, topic, "consume")
    assert consumed == want
    _, consumed = sarama(probes, broker, topic, "consume", version="0.10.1.0")
    assert consumed == want
    _, consumed = kafkago(probes, broker, topic, "consume")
    assert consumed == want


def test_sarama_v0_data_read_by_kafkago(broker, probes):
    """magic 0 in, stored as v2, out again as magic 1."""
    topic = "sarama0-to-kafkago"
    K.create_topic(broker.bootstrap, topic, 1)
    sarama(probes, broker, topic, "produce", codec="gzip")
    _, consumed = kafkago(probes, broker, topic, "consume")
    assert consumed == expected("s", "gzip", N)


# ---------------------------------------------------------------- raw wire

CODEC_IDS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}


def broker_port(broker):
    return int(broker.bootstrap.rsplit(":", 1)[1])


def fetch_request(version, topic, offset=0, max_bytes=1 << 20):
    """A Fetch request of any version 0-11 for partition 0 of topic."""
    body = struct.pack(">iii", -1, 100, 1)
    if version >= 3:
        body += struct.pack(">i", max_bytes)
    if version >= 4:
        body += struct.pack(">b", 0)
    if version >= 7:
        body += struct.pack(">ii", 0, -1)           # sessionless
    body += struct.pack(">i", 1) + K.kstr(topic) + struct.pack(">ii", 1, 0)
    if version >= 9:
        body += struct.pack(">i", -1)               # current leader epoch
    body += struct.pack(">q", offset)
    if version >= 5:
        body += struct.pack(">q", -1)               # log start offset
    body += struct.pack(">i", max_bytes)
    if version >= 7:
        body += struct.pack(">i", 0)                # forgotten topics
    if version >= 11:
        body += K.kstr("")                          # rack id
    return K.request(1, version, 7, body)


def fetch_partition(port, version, topic, offset=0, max_bytes=1 << 20):
    """-> (error_code, high_watermark, records bytes) of partition 0."""
    s = K.connect(port)
    try:
        s.sendall(fetch_request(version, topic, offset, max_bytes))
        buf = K.recv_frame(s)
    finally:
        s.close()
    assert buf is not None, "broker closed the connection on Fetch v%d" % version
    off = 4                                   # correlation id
    if version >= 1:
        off += 4                              # throttle
    if version >= 7:
        off += 6                              # error code, session id
    off += 4                                  # topics
    n, = struct.unpack_from(">h", buf, off)
    off += 2 + n + 4
    part, err, hw = struct.unpack_from(">ihq", buf, off)
    off += 14
    if version >= 4:
        off += 8                              # last stable offset
    if version >= 5:
        off += 8                              # log start offset
    if version >= 4:
        na, = struct.unpack_from(">i", buf, off)
        off += 4 + 16 * max(na, 0)
    if version >= 11:
        off += 4                              # preferred read replica
    rlen, = struct.unpack_from(">i", buf, off)
    return err, hw, buf[off + 4:off + 4 + max(rlen, 0)]


def test_fetch_magic_by_version(broker):
    """v0-1 get magic 0, v2-3 magic 1, v4+ the stored v2 batches; a v0-2
    limit is hard (output never exceeds it)."""
    topic = "fetch-magic"
    K.create_topic(broker.bootstrap, topic, 1)
    librdkafka_produce(broker.bootstrap, topic, 10, "none")
    port = broker_port(broker)
    for version, magic in ((0, 0), (1, 0), (2, 1), (3, 1), (4, 2), (7, 2), (11, 2)):
        err, hw, recs = fetch_partition(port, version, topic)
        assert (err, hw) == (0, 10)
        assert recs[16] == magic, "Fetch v%d returned magic %d" % (version, recs[16])
        if magic < 2:
            # Whole legacy entries, offsets 0..9 in order.
            offs, pos = [], 0
            while pos + 12 <= len(recs):
                o, size = struct.unpack_from(">qi", recs, pos)
                offs.append(o)
                pos += 12 + size
            assert pos == len(recs) and offs == list(range(10))
    # From offset 4: uncompressed data starts exactly there.
    err, _, recs = fetch_partition(port, 0, topic, offset=4)
    assert err == 0 and struct.unpack_from(">q", recs, 0)[0] == 4
    # Hard limit: 100 bytes hold two magic-0 messages (each 12+14+~20 bytes).
    err, _, recs = fetch_partition(port, 2, topic, max_bytes=100)
    assert err == 0 and 0 < len(recs) <= 100


def test_zstd_topic_refuses_old_fetch(broker):
    """Kafka answers Fetch < v10 on a compression.type=zstd topic with
    UNSUPPORTED_COMPRESSION_TYPE (76)."""
    topic = "zstd-topic"
    K.create_topic(broker.bootstrap, topic, 1, config={"compression.type": "zstd"})
    librdkafka_produce(broker.bootstrap, topic, 5, "none")
    port = broker_port(broker)
    for version in (0, 2, 4, 9):
        assert fetch_partition(port, version, topic)[0] == 76
    err, hw, recs = fetch_partition(port, 11, topic)
    assert (err, hw) == (0, 5)
    # The broker recompressed the uncompressed batch: codec bits = 4.
    assert recs[16] == 2 and struct.unpack_from(">h", recs, 21)[0] & 7 == 4


def test_topic_compression_type_recompresses(broker, probes):
    """compression.type=gzip: a Sarama v0 uncompressed set is stored gzip'd,
    and still reads back identically for every client."""
    topic = "recompress-gzip"
    K.create_topic(broker.bootstrap, topic, 1, config={"compression.type": "gzip"})
    sarama(probes, broker, topic, "produce")
    port = broker_port(broker)
    err, hw, recs = fetch_partition(port, 4, topic)
    assert (err, hw) == (0, N)
    assert recs[16] == 2 and struct.unpack_from(">h", recs, 21)[0] & 7 == 1
    _, consumed = sarama(probes, broker, topic, "consume")
    assert consumed == expected("s", "none", N)
    got = confluent_read(broker.bootstrap, topic, N)
    assert [(o, k, v) for o, k, v, _ in got] == \
        [(i, b"s-key-%d" % i, b"s-value-%d-none" % i) for i in range(N)]


def test_timestamp_difference_max_ms(broker):
    """message.timestamp.difference.max.ms rejects records too far from now."""
    from confluent_kafka import Producer
    topic = "ts-diff"
    K.create_topic(broker.bootstrap, topic, 1, config={"message.timestamp.difference.max.ms": "60000"})
    p = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 0, "retries": 0})
    res = []
    p.produce(topic, value=b"old", partition=0, timestamp=1_000_000,
              on_delivery=lambda err, msg: res.append(("old", err)))
    p.flush(20)
    p.produce(topic, value=b"now", partition=0, on_delivery=lambda err, msg: res.append(("now", err)))
    p.flush(20)
    assert res[0][0] == "old" and res[0][1] is not None and res[0][1].code() == 32
    assert res[1] == ("now", None)
    got = confluent_read(broker.bootstrap, topic, 1)
    assert [(o, v) for o, _, v, _ in got] == [(0, b"now")]


# ---------------------------------------------------------------- kafkajs

KAFKAJS_PROBE = r"""
const { Kafka, CompressionTypes, logLevel } = require('kafkajs');
const [broker, topic, nstr, codec, prefix, group] = process.argv.slice(2);
const n = parseInt(nstr, 10);
const kafka = new Kafka({ clientId: 'kafkajs-probe', brokers: [broker], logLevel: logLevel.NOTHING,
                          retry: { retries: 10 } });
(async () => {
  const producer = kafka.producer();
  await producer.connect();
  const messages = [];
  for (let i = 0; i < n; i++)
    messages.push({ key: `${prefix}-key-${i}`, value: `${prefix}-value-${i}-${codec}`, partition: 0 });
  const res = await producer.send({ topic, acks: -1, messages,
      compression: codec === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None });
  for (const r of res) console.log(`P\t${r.baseOffset}`);
  await producer.disconnect();
  const consumer = kafka.consumer({ groupId: group, sessionTimeout: 10000, heartbeatInterval: 1000 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let got = 0;
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${got} messages`)), 60000);
    consumer.run({ eachMessage: async ({ message }) => {
      console.log(`C\t${message.offset}\t${message.key}\t${message.value}`);
      if (++got >= n) { clearTimeout(timer); resolve(); }
    } });
  });
  await consumer.disconnect();
})().catch((e) => { console.error(e); process.exit(1); });
"""


@pytest.fixture(scope="module")
def kafkajs():
    """node + kafkajs 2.2.4 (npm-installed once into the build dir)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node/npm not installed: kafkajs checks skipped")
    cache = os.path.join(os.environ.get("SAMSA_TOP_BUILDDIR") or tempfile.gettempdir(), "kafkajs-cache")
    if not os.path.isdir(os.path.join(cache, "node_modules", "kafkajs")):
        os.makedirs(cache, exist_ok=True)
        try:
            r = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", cache,
                                "kafkajs@2.2.4"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
        except subprocess.TimeoutExpired:
            pytest.skip("npm install kafkajs@2.2.4 timed out (no registry access?)")
        if r.returncode != 0:
            pytest.skip("npm install kafkajs@2.2.4 failed: %s" % r.stdout.decode(errors="replace")[-500:])
    script = os.path.join(cache, "kafkajs_probe.js")
    with open(script, "w") as f:
        f.write(KAFKAJS_PROBE)
    return node, script


@pytest.mark.parametrize("codec", ["none", "gzip"])
def test_kafkajs_roundtrip_and_old_reader(broker, probes, kafkajs, codec):
    """kafkajs (Produce v7 / Fetch v11, consumer group) round trip; then
    Sarama v0 reads the same batches down-converted to magic 0."""
    node, script = kafkajs
    topic = "kafkajs-%s" % codec
    K.create_topic(broker.bootstrap, topic, 1)
    r = subprocess.run([node, script, broker.bootstrap, topic, str(N), codec, "j", "kjs-%s" % codec],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120,
                       cwd=os.path.dirname(script))
    assert r.returncode == 0, "kafkajs probe failed:\n%s" % r.stderr.decode(errors="replace")[-3000:]
    lines = [l.split("\t") for l in r.stdout.decode().splitlines()]
    assert [l for l in lines if l[0] == "P"] == [["P", "0"]]
    assert [l for l in lines if l[0] == "C"] == expected("j", codec, N)
    _, consumed = sarama(probes, broker, topic, "consume")
    assert consumed == expected("j", codec, N)
