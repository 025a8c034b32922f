"""tests/integration/test_matrix.py - every client against a replicated cluster.

Owns the client matrix: one module-wide cluster (real ZooKeeper, 3 brokers on
127.0.0.1, RF 3, min.insync.replicas=2) on which each producer client --
librdkafka (confluent-kafka), kafka-python, kafkajs, Sarama 1.22 at its
default version (Kafka 0.8.2: Produce/Fetch v0, magic 0) and at 2.0.0
(record batches), and kafka-go 0.2.1 (Produce/Fetch v2, magic 1) -- writes K
keyed records to a topic of its own with every codec it supports; then every
consumer client reads every topic and the keys, values and offsets must match
exactly.  Pairs a reader cannot decode (a codec it lacks, or zstd for a
reader that fetches magic 0/1, which cannot carry zstd) are skipped with the
reason; the broker's refusal for those is checked on the raw wire.  A
seventh topic gets records from every writer in turn and is read whole.  The test ids name the pair: test_read[<reader>-<writer>-<codec>].

Also: an idempotent librdkafka producer (enable.idempotence, acks=all)
writing unique sequential values while the partition leader is kill -9'd
and later restarted: afterwards every value is there exactly once, in order,
at contiguous offsets, and the three replicas hold identical logs.  That
needs producer state on the followers (rebuilt from the batches they
replicate) and duplicate detection on the new leader.
"""

import collections
import glob
import json
import os
import shutil
import struct
import subprocess
import threading
import time

import pytest

import kafka_helpers as K
import samsa_harness as H
import test_kafkajs as KJ
from conftest import Cluster
from test_kafkajs import kjs  # noqa: F401  (module fixture: node + kafkajs)
from test_legacy_clients import CODEC_IDS, fetch_partition

confluent_kafka = pytest.importorskip("confluent_kafka")
kazoo_client = pytest.importorskip("kazoo.client")

K_RECS = 50
GO_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "go")
GOPATH = "/usr/share/gocode"

OVERRIDES = {
    "default.replication.factor": 3,
    "min.insync.replicas": 2,
    "offsets.topic.replication.factor": 3,
    "unclean.leader.election.enable": "false",
    "replica.lag.time.max.ms": 3000,
    "replica.fetch.backoff.ms": 200,
    "controlled.shutdown.enable": "false",
    "zookeeper.session.timeout.ms": 6000,
}

# kafka-python's codec back-ends (gzip is the standard library).
KP_MODULES = {"gzip": "gzip", "snappy": "snappy", "lz4": "lz4.frame", "zstd": "zstandard"}


def have_module(name):
    try:
        __import__(name)
        return True
    except ImportError:
        return False


# writer -> (codecs it can produce, key/value prefix)
WRITERS = {
    "librdkafka": (["none", "gzip", "snappy", "lz4", "zstd"], "rdk"),
    "kafka-python": (["none"] + [c for c in ("gzip", "snappy", "lz4", "zstd") if have_module(KP_MODULES[c])], "kpy"),
    # kafkajs ships gzip only; the other codecs need third-party plugins.
    "kafkajs": (["none", "gzip"], "kjs"),
    # Sarama refuses lz4 below Version 0.10 and zstd below 2.1 (and sends it
    # in Produce v3, which Kafka rejects: test_legacy_clients covers that).
    "sarama-default": (["none", "gzip", "snappy"], "sv0"),
    "sarama-2.0.0": (["none", "gzip", "snappy", "lz4"], "s20"),
    "kafka-go-0.2.1": (["none", "gzip", "snappy", "lz4"], "kgo"),
}
READERS = ["librdkafka", "kafka-python", "kafkajs", "sarama-default", "sarama-2.0.0", "kafka-go-0.2.1"]
PRODUCE_CASES = [(w, c) for w, (codecs, _) in WRITERS.items() for c in codecs]
READ_CASES = [(r, w, c) for r in READERS for w, c in PRODUCE_CASES]


def cannot_read(reader, codec):
    """Why `reader` cannot read `codec` data at all, or None."""
    if codec == "zstd" and reader in ("sarama-default", "kafka-go-0.2.1"):
        return ("%s fetches with v0/v2 (magic 0/1): Kafka answers UNSUPPORTED_COMPRESSION_TYPE "
                "rather than down-convert zstd" % reader)
    if reader == "kafkajs" and codec not in ("none", "gzip"):
        return "kafkajs 2.2.4 has no built-in %s codec" % codec
    if reader == "kafka-python" and codec != "none" and not have_module(KP_MODULES[codec]):
        return "python module %s (kafka-python %s) not installed" % (KP_MODULES[codec], codec)
    return None


def topic_of(writer, codec):
    return "mx-%s-%s" % (writer.replace(".", ""), codec)


def expected(writer, codec, n=K_RECS):
    """[(offset, key, value)] a writer's run must have stored."""
    prefix = WRITERS[writer][1]
    if writer == "kafkajs":        # kjs.js record(): no codec in the value
        return [(i, "%sk%d" % (prefix, i), "%sv%d-%s" % (prefix, i, "x" * (i % 40))) for i in range(n)]
    return [(i, "%s-key-%d" % (prefix, i), "%s-value-%d-%s" % (prefix, i, codec)) for i in range(n)]


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def mx(workdir, zk):
    """The module's 3-broker cluster (all brokers up between tests)."""
    c = Cluster(workdir, zk, "matrix")
    try:
        for i in range(3):
            c.add(i, overrides=OVERRIDES)
        c.produced = {}        # topic -> None (ok) or the writer's failure
        yield c
    finally:
        c.close()


@pytest.fixture(scope="module")
def go_probes():
    """sarama_probe and kafkago_probe, built once per build dir (GOPATH mode,
    Debian's packages; the Go build cache makes a rebuild a no-op)."""
    go = shutil.which("go")
    if go is None:
        pytest.skip("`go` is not installed (apt-get install golang-go "
                    "golang-github-shopify-sarama-dev golang-github-segmentio-kafka-go-dev)")
    out = os.path.join(H.BUILDDIR, "go-probes")
    os.makedirs(out, exist_ok=True)
    env = dict(os.environ, GOPATH=GOPATH, GO111MODULE="off", GOFLAGS="",
               GOCACHE=os.path.join(out, "cache"), CGO_ENABLED="1")
    bins = {}
    for name in ("sarama_probe", "kafkago_probe"):
        exe = os.path.join(out, name)
        r = subprocess.run([go, "build", "-o", exe, "."], cwd=os.path.join(GO_DIR, name), env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
        assert r.returncode == 0, "go build %s failed:\n%s" % (name, r.stdout.decode(errors="replace"))
        bins[name] = exe
    return bins


# ---------------------------------------------------------------- client drivers


def run_probe(exe, args, timeout=90):
    r = subprocess.run([exe] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    assert r.returncode == 0, "%s %s failed (%d):\nstdout:\n%s\nstderr:\n%s" % (
        os.path.basename(exe), " ".join(args), r.returncode, r.stdout.decode(errors="replace")[-2000:],
        r.stderr.decode(errors="replace")[-4000:])
    lines = [l.split("\t") for l in r.stdout.decode().splitlines()]
    return [l for l in lines if l[0] == "P"], [l for l in lines if l[0] == "C"]


def client_env(request, client):
    """(go probes, kafkajs env) the client needs; skips when its runtime is missing."""
    if client == "kafka-python" and not have_module("kafka"):
        pytest.skip("kafka-python (python3-kafka) not installed")
    probes = request.getfixturevalue("go_probes") if client.startswith(("sarama", "kafka-go")) else None
    kjs_env = request.getfixturevalue("kjs") if client == "kafkajs" else None
    return probes, kjs_env


def sarama_version(client):
    return "default" if client == "sarama-default" else client.split("-", 1)[1]


def produce(c, probes, kjs_env, writer, codec, topic):
    """Run `writer`; return the offsets it was told, in record order (None
    when the client does not report them)."""
    prefix = WRITERS[writer][1]
    want = expected(writer, codec)
    if writer == "librdkafka":
        # One batch, and a compressed one: librdkafka sends a lone small
        # record uncompressed when compressing would not shrink it.  Records
        # produced before it knows the partition wait in a side queue until
        # its next metadata refresh (up to 1 s later, past the linger), and
        # the first one moved to the partition then leaves alone.  So learn
        # the topic first, and let the linger (not flush()) send the batch.
        p = confluent_kafka.Producer({"bootstrap.servers": c.bootstrap, "compression.type": codec,
                                      "linger.ms": 500, "batch.num.messages": 10000, "acks": "all"})
        H.wait_until(lambda: len(p.list_topics(topic, timeout=10).topics[topic].partitions) == 1, 30, 0.1,
                     "librdkafka to know %s" % topic)
        offs, errs = {}, []

        def cb(err, msg):
            if err:
                errs.append(err)
            else:
                offs[msg.key().decode()] = msg.offset()

        for _, k, v in want:
            p.produce(topic, key=k, value=v, partition=0, on_delivery=cb)
        deadline = time.monotonic() + 60
        while len(offs) + len(errs) < len(want) and time.monotonic() < deadline:
            p.poll(0.05)
        assert p.flush(60) == 0 and errs == [], errs
        return [offs.get(k) for _, k, _ in want]
    if writer == "kafka-python":
        import kafka
        p = kafka.KafkaProducer(bootstrap_servers=c.bootstrap.split(","), acks="all", linger_ms=200,
                                compression_type=None if codec == "none" else codec)
        futs = [p.send(topic, key=k.encode(), value=v.encode(), partition=0) for _, k, v in want]
        p.flush(60)
        offs = [f.get(timeout=60).offset for f in futs]
        p.close(10)
        return offs
    if writer == "kafkajs":
        ev = KJ.run_kjs(kjs_env, "produce", {"brokers": c.bootstrap.split(","), "topic": topic, "n": K_RECS,
                                             "partitions": 1, "acks": -1, "gzip": codec == "gzip",
                                             "chunk": K_RECS, "prefix": prefix}, timeout=120)
        sent = KJ.of(ev, "sent")
        assert [(s["p"], s["err"]) for s in sent] == [(0, 0)], sent
        return [sent[0]["base"] + i for i in range(K_RECS)]
    if writer.startswith("sarama"):
        out, _ = run_probe(probes["sarama_probe"], ["-brokers", c.bootstrap, "-topic", topic, "-mode", "produce",
                                                    "-n", str(K_RECS), "-codec", codec, "-version",
                                                    sarama_version(writer), "-prefix", prefix])
        assert [l[2] for l in out] == [k for _, k, _ in want]
        return [int(l[1]) for l in out]
    if writer == "kafka-go-0.2.1":
        # A follower as bootstrap: kafka-go must find the leader itself.
        out, _ = run_probe(probes["kafkago_probe"], ["-broker", c.brokers[2].bootstrap, "-topic", topic,
                                                     "-mode", "produce", "-n", str(K_RECS), "-codec", codec,
                                                     "-prefix", prefix])
        assert [l[1] for l in out] == [k for _, k, _ in want]
        return None
    raise AssertionError("unknown writer %s" % writer)


def read(c, probes, kjs_env, reader, topic, n=K_RECS):
    """[(offset, key, value)] of partition 0 as `reader` sees it."""
    if reader == "librdkafka":
        got = K.consume_all(c.bootstrap, topic, 1, expect=n, timeout=60)[0]
        return [(m.offset(), m.key().decode(), m.value().decode()) for m in got]
    if reader == "kafka-python":
        import kafka
        cons = kafka.KafkaConsumer(bootstrap_servers=c.bootstrap.split(","), group_id=None,
                                   enable_auto_commit=False, check_crcs=True, fetch_max_wait_ms=100)
        try:
            tp = kafka.TopicPartition(topic, 0)
            cons.assign([tp])
            cons.seek_to_beginning(tp)
            out = []
            deadline = time.monotonic() + 60
            while len(out) < n and time.monotonic() < deadline:
                for recs in cons.poll(timeout_ms=500).values():
                    out += [(r.offset, r.key.decode(), r.value.decode()) for r in recs]
            return out
        finally:
            cons.close()
    if reader == "kafkajs":
        ev = KJ.run_kjs(kjs_env, "consume", {"brokers": c.bootstrap.split(","), "topic": topic,
                                             "groupId": "mx-kjs-" + topic, "expect": n,
                                             "timeoutMs": 60000}, timeout=90)
        return [(m["o"], m["k"], m["v"]) for m in KJ.of(ev, "msg")]
    if reader.startswith("sarama"):
        _, got = run_probe(probes["sarama_probe"], ["-brokers", c.bootstrap, "-topic", topic, "-mode", "consume",
                                                    "-n", str(n), "-version", sarama_version(reader)])
        return [(int(o), k, v) for _, o, k, v in got]
    if reader == "kafka-go-0.2.1":
        _, got = run_probe(probes["kafkago_probe"], ["-broker", c.brokers[1].bootstrap, "-topic", topic,
                                                     "-mode", "consume", "-n", str(n)])
        return [(int(o), k, v) for _, o, k, v in got]
    raise AssertionError("unknown reader %s" % reader)


def leader_port(c, topic):
    t = K.topic_ready(c.bootstrap, topic, 1)
    leader = t.partitions[0].leader
    return [b for b in c.brokers if b.id == leader][0].port


def stored_codecs(port, topic):
    """(magic, codec id) of every batch the leader stores, via Fetch v11
    (plus, to explain a failure, "base offset+record count" of each)."""
    err, _, recs = fetch_partition(port, 11, topic)
    assert err == 0, "Fetch v11 of %s: error %d" % (topic, err)
    out, shape, pos = [], [], 0
    while pos + 61 <= len(recs):
        base, blen, _, magic = struct.unpack_from(">qiib", recs, pos)
        out.append((magic, struct.unpack_from(">h", recs, pos + 21)[0] & 7))
        shape.append("%d+%d" % (base, struct.unpack_from(">i", recs, pos + 57)[0]))
        pos += 12 + blen
    return out, shape


def segment_bytes(broker, topic, partition=0):
    d = os.path.join(broker.logdirs, "%s-%d" % (topic, partition))
    out = b""
    for f in sorted(glob.glob(os.path.join(d, "*.log"))):
        with open(f, "rb") as fh:
            out += fh.read()
    return out


def wait_identical(c, topic, timeout=30):
    def same():
        blobs = [segment_bytes(b, topic) for b in c.brokers]
        return blobs[0] if blobs[0] and all(x == blobs[0] for x in blobs) else None
    return H.wait_until(same, timeout, 0.2, "byte-identical logs of %s on all replicas" % topic)


# ---------------------------------------------------------------- the matrix


@pytest.mark.parametrize("writer,codec", PRODUCE_CASES, ids=["%s-%s" % wc for wc in PRODUCE_CASES])
def test_write(request, mx, writer, codec):
    """`writer` produces K keyed records with `codec` to its own RF-3 topic:
    the offsets it is told are 0..K-1, the high watermark is K, the leader
    stores magic-2 batches with that codec, and all three replicas hold
    byte-identical logs."""
    topic = topic_of(writer, codec)
    mx.produced[topic] = "not produced (writer test failed or was skipped)"
    probes, kjs_env = client_env(request, writer)
    K.create_topic(mx.brokers[0].bootstrap, topic, 1, 3, config={"min.insync.replicas": "2"}, timeout=60)
    offs = produce(mx, probes, kjs_env, writer, codec, topic)
    if offs is not None:
        assert offs == list(range(K_RECS)), "%s reported offsets %s" % (writer, offs)
    assert K.watermarks(mx.bootstrap, topic, 0) == (0, K_RECS)
    batches, shape = stored_codecs(leader_port(mx, topic), topic)
    assert batches and all(b == (2, CODEC_IDS[codec]) for b in batches), \
        "%s/%s stored as (magic, codec) %s, batches %s" % (writer, codec, batches, shape)
    wait_identical(mx, topic)
    mx.produced[topic] = None


@pytest.mark.parametrize("reader,writer,codec", READ_CASES, ids=["%s-%s-%s" % rwc for rwc in READ_CASES])
def test_read(request, mx, reader, writer, codec):
    """`reader` reads what `writer` stored with `codec`: exactly the
    expected keys and values at offsets 0..K-1 (test_write saw the high
    watermark at K, so there is nothing else)."""
    why = cannot_read(reader, codec)
    if why:
        pytest.skip(why)
    topic = topic_of(writer, codec)
    failed = mx.produced.get(topic, "not produced")
    if failed:
        pytest.skip("%s/%s: %s" % (writer, codec, failed))
    probes, kjs_env = client_env(request, reader)
    got = read(mx, probes, kjs_env, reader, topic)
    assert got == expected(writer, codec), "%s reading %s/%s" % (reader, writer, codec)


@pytest.mark.parametrize("writer", [w for w, c in PRODUCE_CASES if c == "zstd"])
def test_zstd_refused_to_legacy_fetch(mx, writer):
    """Why the zstd pairs of Sarama default and kafka-go are skipped: Fetch
    v0-3 would need magic 0/1, which cannot carry zstd, so the broker answers
    UNSUPPORTED_COMPRESSION_TYPE (76) as Kafka does; from v4 on the stored
    zstd batches go out as they are (the topic itself is not
    compression.type=zstd), and Sarama at 2.0.0 (Fetch v4) decodes them."""
    topic = topic_of(writer, "zstd")
    if mx.produced.get(topic, "not produced"):
        pytest.skip("%s/zstd: %s" % (writer, mx.produced.get(topic, "not produced")))
    port = leader_port(mx, topic)
    for version in (0, 1, 2, 3):
        assert fetch_partition(port, version, topic)[0] == 76, "Fetch v%d" % version
    for version in (4, 9, 10, 11):
        err, hw, recs = fetch_partition(port, version, topic)
        assert (err, hw) == (0, K_RECS), "Fetch v%d" % version
        assert (recs[16], struct.unpack_from(">h", recs, 21)[0] & 7) == (2, 4), "Fetch v%d" % version


# ---------------------------------------------------------------- one topic, every writer

# Each writer appends K records in turn to one topic with a codec of its own,
# so every reader crosses batches of every origin (magic 0/1 up-converted,
# each codec) inside single fetches -- and down-converts them back.
MIXED = [("librdkafka", "lz4"), ("kafka-python", "snappy" if have_module("snappy") else "none"),
         ("kafkajs", "gzip"), ("sarama-default", "snappy"), ("sarama-2.0.0", "lz4"),
         ("kafka-go-0.2.1", "gzip"), ("librdkafka", "none")]
MIXED_TOPIC = "mx-mixed"


def mixed_expected():
    out = []
    for j, (w, c) in enumerate(MIXED):
        out += [(j * K_RECS + o, k, v) for o, k, v in expected(w, c)]
    return out


def test_mixed_write(request, mx):
    mx.produced[MIXED_TOPIC] = "not produced (test_mixed_write failed)"
    K.create_topic(mx.brokers[0].bootstrap, MIXED_TOPIC, 1, 3, config={"min.insync.replicas": "2"}, timeout=60)
    for j, (w, c) in enumerate(MIXED):
        probes, kjs_env = client_env(request, w)
        offs = produce(mx, probes, kjs_env, w, c, MIXED_TOPIC)
        if offs is not None:
            assert offs == [j * K_RECS + i for i in range(K_RECS)], "%s/%s offsets %s" % (w, c, offs)
        assert K.watermarks(mx.bootstrap, MIXED_TOPIC, 0) == (0, (j + 1) * K_RECS)
    wait_identical(mx, MIXED_TOPIC)
    mx.produced[MIXED_TOPIC] = None


@pytest.mark.parametrize("reader", READERS)
def test_mixed_read(request, mx, reader):
    whys = sorted(set(filter(None, (cannot_read(reader, c) for _, c in MIXED))))
    if whys:
        pytest.skip("; ".join(whys))
    if mx.produced.get(MIXED_TOPIC, "not produced"):
        pytest.skip(mx.produced.get(MIXED_TOPIC, "not produced"))
    probes, kjs_env = client_env(request, reader)
    got = read(mx, probes, kjs_env, reader, MIXED_TOPIC, n=len(MIXED) * K_RECS)
    assert got == mixed_expected(), "%s reading the mixed topic" % reader


# ---------------------------------------------------------------- idempotence under failover


class Zk:
    def __init__(self, c):
        self.c = kazoo_client.KazooClient(hosts=c.zk_connect, timeout=15)
        self.c.start(timeout=15)

    def state(self, topic, partition=0):
        data, _ = self.c.get("/brokers/topics/%s/partitions/%d/state" % (topic, partition))
        return json.loads(data.decode())

    def wait_state(self, topic, pred, timeout, what):
        return H.wait_until(lambda: (lambda s: s if pred(s) else None)(self.state(topic)), timeout, 0.2, what)

    def wait_unregistered(self, bid, timeout=30):
        H.wait_until(lambda: self.c.exists("/brokers/ids/%d" % bid) is None, timeout, 0.2,
                     "broker %d's session to expire" % bid)

    def close(self):
        self.c.stop()
        self.c.close()


def test_follower_producer_state_after_failover(mx):
    """Followers rebuild idempotent-producer state from the batches they
    replicate: after the leader dies, the new leader recognises a resent
    batch (original offset, stored once), accepts the next sequence and
    refuses a gap (OUT_OF_ORDER_SEQUENCE_NUMBER) -- on the raw wire."""
    import test_idempotence as TI
    topic = "mx-idem-raw"
    K.create_topic(mx.brokers[0].bootstrap, topic, 1, 3, config={"min.insync.replicas": "2"}, timeout=60)
    zk = Zk(mx)
    try:
        st = zk.wait_state(topic, lambda s: len(s["isr"]) == 3 and s["leader"] >= 0, 30, "ISR of 3")
        leader = [b for b in mx.brokers if b.id == st["leader"]][0]
        err, pid, epoch = TI.init_producer_id(leader.port)
        assert err == 0
        b0 = TI.idem_batch([b"a0", b"a1", b"a2"], pid, epoch, 0)
        b1 = TI.idem_batch([b"b0", b"b1"], pid, epoch, 3)
        # Until the leader has its LeaderAndIsr: UNKNOWN_TOPIC_OR_PARTITION / NOT_LEADER.
        first = H.wait_until(lambda: (lambda r: r if r[0] not in (3, 6) else None)(
            TI.produce(leader.port, topic, b0)), 30, 0.1, "the leader to take b0")
        assert first == (0, 0)
        assert TI.produce(leader.port, topic, b1) == (0, 3)     # acks=all: on every ISR replica
        leader.kill9()
        new = zk.wait_state(topic, lambda s: s["leader"] not in (-1, leader.id), 40, "a new leader")
        nb = [b for b in mx.brokers if b.id == new["leader"]][0]
        dup = H.wait_until(lambda: (lambda r: r if r[0] not in (3, 6) else None)(
            TI.produce(nb.port, topic, b1)), 30, 0.1, "the new leader to answer")
        assert dup == (0, 3)                                    # duplicate of the last batch
        assert TI.produce(nb.port, topic, b0) == (0, 0)         # and of an older one
        assert TI.produce(nb.port, topic, TI.idem_batch([b"gap"], pid, epoch, 9))[0] == 45
        assert TI.produce(nb.port, topic, TI.idem_batch([b"c0"], pid, epoch, 5)) == (0, 5)
        zk.wait_unregistered(leader.id)
        leader.start()
        zk.wait_state(topic, lambda s: len(s["isr"]) == 3, 60, "the old leader back in the ISR")
        got = K.consume_all(mx.bootstrap, topic, 1, expect=6, timeout=60)[0]
        assert [(m.offset(), m.value()) for m in got] == \
            list(enumerate([b"a0", b"a1", b"a2", b"b0", b"b1", b"c0"]))
        assert K.watermarks(mx.bootstrap, topic, 0) == (0, 6)
    finally:
        zk.close()


IDEM_N = 20_000
IDEM_WINDOW = 2_000


def test_idempotent_producer_survives_leader_kill9(mx):
    """enable.idempotence + acks=all, 20k unique sequential values.  The
    partition leader is kill -9'd with batches in flight and restarted once
    its session expired (it truncates to the new leader and rejoins the ISR);
    then the next leader is kill -9'd the same way, so the partition may come
    back to the restarted broker with its rebuilt producer state.  At the
    end: every value exactly once, in order, offsets contiguous from 0, each
    acknowledgement naming the value's real offset, identical replicas."""
    topic = "mx-idem"
    K.create_topic(mx.brokers[0].bootstrap, topic, 1, 3, config={"min.insync.replicas": "2"}, timeout=60)
    zk = Zk(mx)
    try:
        zk.wait_state(topic, lambda s: len(s["isr"]) == 3 and s["leader"] >= 0, 30, "ISR of 3")
        acked, errors = [], []
        p = confluent_kafka.Producer({
            "bootstrap.servers": mx.bootstrap, "enable.idempotence": True, "acks": "all",
            "linger.ms": 5, "batch.num.messages": 200, "max.in.flight": 5,
            "retry.backoff.ms": 100, "reconnect.backoff.ms": 100, "reconnect.backoff.max.ms": 500,
            "message.timeout.ms": 120000, "topic.metadata.refresh.interval.ms": 1000,
            "error_cb": lambda e: errors.append(("error_cb", e))})

        def cb(err, msg):
            if err is not None:
                errors.append(err)
            else:
                acked.append((msg.offset(), msg.value()))

        # The producer thread itself kill -9's the current leader just after
        # handing it value KILL_AT[k], so the values of the last requests are
        # unacknowledged at the crash (and may or may not be on the
        # followers); it may not pass `allow` before the first victim has
        # rejoined the ISR.
        KILL_AT = (5_000, 14_000)
        gate = {"allow": 12_000}
        state = {"kills": []}
        killed = [threading.Event(), threading.Event()]

        def kill_leader(k):
            st = zk.state(topic)
            victim = [b for b in mx.brokers if b.id == st["leader"]][0]
            victim.kill9()
            state["kills"].append((victim, st, len(acked)))
            killed[k].set()

        def run():
            for i in range(IDEM_N):
                while i >= gate["allow"] or i - len(acked) - len(errors) > IDEM_WINDOW:
                    p.poll(0.01)
                while True:
                    try:
                        p.produce(topic, value=b"v%06d" % i, partition=0, on_delivery=cb)
                        break
                    except BufferError:
                        p.poll(0.05)
                if i % 50 == 0:
                    p.poll(0)
                if i in KILL_AT:
                    # A moment for the last batches to reach the leader (and
                    # its followers) but, mostly, not their acknowledgement.
                    p.poll(0)
                    time.sleep(0.015)
                    kill_leader(KILL_AT.index(i))
            state["left"] = p.flush(180)

        def recover(k):
            assert killed[k].wait(120), "kill %d never happened" % (k + 1)
            victim, old, n = state["kills"][k]
            H.log("idempotence: leader %d killed with %d of %d values acknowledged"
                  % (victim.id, n, KILL_AT[k] + 1))
            new = zk.wait_state(topic, lambda s: s["leader"] not in (-1, old["leader"]), 40, "a new leader")
            assert new["leader_epoch"] > old["leader_epoch"]
            zk.wait_unregistered(victim.id)
            victim.start()
            zk.wait_state(topic, lambda s: len(s["isr"]) == 3, 60, "broker %d back in the ISR" % victim.id)

        t = threading.Thread(target=run, daemon=True)
        t.start()
        try:
            recover(0)
            gate["allow"] = IDEM_N
            recover(1)
        finally:
            gate["allow"] = IDEM_N
            t.join(240)
        assert not t.is_alive(), "producer still running"
        fatal = [e for e in errors if not (isinstance(e, tuple) and not e[1].fatal())]
        assert not fatal, fatal[:5]
        assert state.get("left") == 0 and len(acked) == IDEM_N, (state, len(acked))

        lo, hi = K.watermarks(mx.bootstrap, topic, 0)
        got = K.consume_all(mx.bootstrap, topic, 1, expect=hi - lo, timeout=120)[0]
        offsets = [m.offset() for m in got]
        vals = [m.value() for m in got]
        assert lo == 0 and offsets == list(range(len(offsets))), "offsets not contiguous"
        dups = sorted(v for v, k in collections.Counter(vals).items() if k > 1)
        assert not dups, "%d values duplicated, e.g. %s" % (len(dups), dups[:5])
        missing = sorted(set(b"v%06d" % i for i in range(IDEM_N)) - set(vals))
        assert not missing, "%d values lost, e.g. %s" % (len(missing), missing[:5])
        assert vals == [b"v%06d" % i for i in range(IDEM_N)], "values reordered"
        # Every acknowledgement named the offset the value really sits at.
        assert sorted(acked) == list(enumerate(vals))
        # And all three replicas converge on the same bytes.
        wait_identical(mx, topic, 60)
    finally:
        zk.close()
