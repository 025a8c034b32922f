"""tests/integration/test_kcat.py - kcat (librdkafka CLI) against one broker.

Owns: 100k keyed messages produced with `kcat -P -K:` and read back with
`kcat -C -e -f`, compared record by record (key, value, offset, partition,
timestamp range), and `kcat -L` metadata in text and JSON form.
"""

import json
import shutil
import subprocess
import time
import zlib

import pytest

import kafka_helpers as K

pytestmark = pytest.mark.skipif(shutil.which("kcat") is None, reason="kcat not installed")

N = 100_000


def kcat(*args, input=None, timeout=300):
    r = subprocess.run(["kcat"] + list(args), input=input, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    assert r.returncode == 0, "kcat %s -> %d\n%s" % (" ".join(args), r.returncode,
                                                   r.stderr.decode(errors="replace")[-3000:])
    return r


def kcat_consume(bootstrap, topic):
    r = kcat("-C", "-b", bootstrap, "-t", topic, "-o", "beginning", "-e", "-q",
             "-f", "%p|%o|%T|%k|%s\n")
    rows = []
    for line in r.stdout.decode().splitlines():
        p, o, ts, k, v = line.split("|", 4)
        rows.append((int(p), int(o), int(ts), k, v))
    return rows


@pytest.mark.slow
def test_kcat_100k_single_partition_exact_order(broker):
    topic = "kcat-one"
    K.create_topic(broker.bootstrap, topic, 1)
    lines = ["key-%06d:value-%06d-%s" % (i, i, "x" * (i % 50)) for i in range(N)]
    t0 = int(time.time() * 1000)
    r = kcat("-P", "-b", broker.bootstrap, "-t", topic, "-K:", "-X", "linger.ms=20",
             input=("\n".join(lines) + "\n").encode())
    t1 = int(time.time() * 1000)
    assert b"fail" not in r.stderr.lower(), r.stderr

    rows = kcat_consume(broker.bootstrap, topic)
    assert len(rows) == N
    for i, (p, o, ts, k, v) in enumerate(rows):
        assert (p, o, k, v) == (0, i, "key-%06d" % i, "value-%06d-%s" % (i, "x" * (i % 50))), \
            "mismatch at record %d" % i
        assert t0 - 1000 <= ts <= t1 + 1000, "timestamp %d outside produce window" % ts
    # Per-partition CreateTime follows production order (one producer, one partition).
    assert all(rows[i][2] <= rows[i + 1][2] for i in range(N - 1))
    assert K.watermarks(broker.bootstrap, topic, 0) == (0, N)


def test_kcat_keys_partitioned_like_librdkafka(broker):
    """librdkafka's default partitioner (consistent_random) is CRC32(key) % n:
    the broker must store each record in the partition the client picked, and
    keep per-partition order with contiguous offsets from 0."""
    topic = "kcat-three"
    n = 30_000
    K.create_topic(broker.bootstrap, topic, 3)
    keys = ["k%d" % (i % 997) for i in range(n)]
    lines = ["%s:v%d" % (keys[i], i) for i in range(n)]
    kcat("-P", "-b", broker.bootstrap, "-t", topic, "-K:", input=("\n".join(lines) + "\n").encode())
    rows = kcat_consume(broker.bootstrap, topic)
    assert len(rows) == n
    per_part = {0: [], 1: [], 2: []}
    for p, o, ts, k, v in rows:
        assert p == zlib.crc32(k.encode()) % 3, "key %s in partition %d" % (k, p)
        per_part[p].append((o, k, v))
    expected = {0: [], 1: [], 2: []}
    for i in range(n):
        expected[zlib.crc32(keys[i].encode()) % 3].append((keys[i], "v%d" % i))
    for p in range(3):
        got = per_part[p]
        assert [o for o, _, _ in got] == list(range(len(got))), "partition %d offsets" % p
        assert [(k, v) for _, k, v in got] == expected[p], "partition %d content/order" % p


def test_kcat_metadata(broker):
    topic = "kcat-meta"
    K.create_topic(broker.bootstrap, topic, 4)
    r = kcat("-L", "-b", broker.bootstrap, "-t", topic)
    out = r.stdout.decode()
    assert "1 brokers:" in out
    assert "broker 0 at %s" % broker.bootstrap in out
    assert 'topic "%s" with 4 partitions:' % topic in out
    for p in range(4):
        assert "partition %d, leader 0, replicas: 0, isrs: 0" % p in out

    r = kcat("-L", "-J", "-b", broker.bootstrap)
    md = json.loads(r.stdout.decode())
    assert md["brokers"] == [{"id": 0, "name": broker.bootstrap}]
    assert md["controllerid"] == 0
    topics = {t["topic"]: t for t in md["topics"]}
    assert topic in topics
    parts = sorted(topics[topic]["partitions"], key=lambda x: x["partition"])
    assert [x["partition"] for x in parts] == [0, 1, 2, 3]
    for x in parts:
        assert x["leader"] == 0
        assert [rep["id"] for rep in x["replicas"]] == [0]
        assert [i["id"] for i in x["isrs"]] == [0]
