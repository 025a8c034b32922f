"""tests/integration/test_compression.py - compressed record batches end to end.

Owns: produce with each codec (gzip, snappy, lz4, zstd) through librdkafka
and (where its codec module is installed) kafka-python, consume with the
other client too, and compare records and offsets.  A compressed batch holds
many records under one offset range, so contiguous per-partition offsets
also prove the broker assigned offsets inside compressed batches correctly.
"""

import importlib

import pytest

import kafka_helpers as K
import test_confluent as CK
import test_kafka_python as KP

CODECS = ["gzip", "snappy", "lz4", "zstd"]
N = 20_000

# kafka-python's codec back-ends (Debian packages python3-snappy, python3-lz4,
# python3-zstandard); gzip uses the standard library.
KP_MODULES = {"gzip": "gzip", "snappy": "snappy", "lz4": "lz4.frame", "zstd": "zstandard"}


def has_module(name):
    try:
        importlib.import_module(name)
        return True
    except ImportError:
        return False


@pytest.mark.parametrize("codec", CODECS)
def test_confluent_codec(broker, codec):
    topic = "ck-%s" % codec
    K.create_topic(broker.bootstrap, topic, CK.P)
    reports = CK.produce(broker.bootstrap, topic, N, extra={"compression.type": codec})
    CK.check_topic(broker.bootstrap, topic, N, reports)
    # A different client library must decode the same stored batches.
    if has_module(KP_MODULES[codec]):
        got = KP.consume(broker.bootstrap, topic, N)
        assert sum(len(v) for v in got.values()) == N
        for p in range(CK.P):
            assert [r.offset for r in got[p]] == list(range(len(got[p])))
            for r, i in zip(got[p], [i for i in range(N) if i % CK.P == p]):
                key, value, headers, ts = CK.make(i)
                assert (r.key, r.value, r.timestamp) == (key, value, ts)
                assert list(r.headers) == headers


@pytest.mark.parametrize("codec", CODECS)
def test_kafka_python_codec(broker, codec):
    if not has_module(KP_MODULES[codec]):
        pytest.skip("python module %s for kafka-python %s not installed" % (KP_MODULES[codec], codec))
    topic = "kp-%s" % codec
    K.create_topic(broker.bootstrap, topic, KP.P)
    offsets = KP.produce(broker.bootstrap, topic, N, compression=codec)
    KP.check(KP.consume(broker.bootstrap, topic, N), offsets, N)
    # And librdkafka reads what kafka-python compressed.
    got = K.consume_all(broker.bootstrap, topic, KP.P, expect=N)
    for p in range(KP.P):
        exp = [i for i in range(N) if i % KP.P == p]
        assert [(m.offset(), m.key(), m.value()) for m in got[p]] == \
            [(j, KP.make(i)[0], KP.make(i)[1]) for j, i in enumerate(exp)]
