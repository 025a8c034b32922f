"""tests/integration/test_hostile.py - hostile and malformed input on raw sockets.

Owns: frames larger than socket.request.max.bytes, negative and garbage
frames, truncated requests, a Produce whose record batch fails its CRC-32C
(CORRUPT_MESSAGE and nothing appended), and ApiVersions with an unsupported
version (a v0 response carrying UNSUPPORTED_VERSION).  After each abuse a
fresh connection must still be served.
"""

import os
import socket
import struct

import pytest

import kafka_helpers as K
import samsa_harness as H

MAX_REQ = 1024 * 1024


@pytest.fixture(scope="module")
def broker(request, workdir, zk):
    """A broker with a small socket.request.max.bytes, so limits are cheap to hit."""
    from conftest import Cluster
    c = Cluster(workdir, zk, "hostile")
    try:
        yield c.add(0, overrides={"socket.request.max.bytes": MAX_REQ})
    finally:
        c.close()


def api_versions_ok(port):
    """A well-formed ApiVersions v0 round trip on a new connection."""
    s = K.connect(port)
    try:
        s.sendall(K.request(18, 0, 4242))
        resp = K.recv_frame(s)
        assert resp is not None, "broker closed a healthy connection"
        corr, err, apis = K.parse_api_versions_v0(resp)
        assert (corr, err) == (4242, 0)
        assert 0 in apis and 1 in apis and 3 in apis and 18 in apis   # Produce Fetch Metadata ApiVersions
        assert apis[18][0] == 0
        return apis
    finally:
        s.close()


def test_api_versions_v0_baseline(broker):
    apis = api_versions_ok(broker.port)
    assert apis[0][1] >= 3, "Produce must support v3+ (record batch v2)"


def test_oversized_frame_closes_only_that_connection(broker):
    bystander = K.connect(broker.port)
    s = K.connect(broker.port)
    # Just the size prefix: the broker must refuse before reading (or allocating) the body.
    s.sendall(struct.pack(">i", MAX_REQ + 1))
    assert K.closed_by_peer(s), "oversized frame did not close the connection"
    s.close()
    # The other connection opened before is unaffected, and new ones work.
    bystander.sendall(K.request(18, 0, 7))
    corr, err, _ = K.parse_api_versions_v0(K.recv_frame(bystander))
    assert (corr, err) == (7, 0)
    bystander.close()
    api_versions_ok(broker.port)


def test_frame_at_limit_is_not_rejected_for_size(broker):
    """A frame exactly at the limit passes the size check (it is then a
    Produce with junk padding, which may fail to parse - but not hang)."""
    s = K.connect(broker.port)
    hdr = K.request(18, 0, 9)[4:]
    body = hdr + b"\x00" * (MAX_REQ - len(hdr))
    s.sendall(struct.pack(">i", MAX_REQ) + body)
    s.settimeout(10)
    resp = K.recv_frame(s)
    # ApiVersions v0 ignores trailing bytes in Kafka; accept an answer or a close,
    # but the broker must not stall on a maximum-size frame.
    if resp is not None:
        assert struct.unpack_from(">i", resp)[0] == 9
    s.close()
    api_versions_ok(broker.port)


@pytest.mark.parametrize("frame", [
    struct.pack(">i", -1),                                        # negative size
    struct.pack(">i", 0),                                         # empty frame
    struct.pack(">i", 3) + b"\x00\x12\x00",                       # shorter than a header
    struct.pack(">i", 10) + b"\xff" * 10,                         # api key -1
    struct.pack(">i", 10) + struct.pack(">hhih", 9999, 0, 1, 0),  # unknown api key
    struct.pack(">i", 10) + struct.pack(">hhih", 18, 0, 1, 200),  # client id longer than frame
], ids=["negative", "zero", "short", "key-minus-1", "unknown-key", "bad-client-id"])
def test_garbage_frames_close_connection(broker, frame):
    s = K.connect(broker.port)
    s.sendall(frame)
    assert K.closed_by_peer(s), "garbage frame %r did not close the connection" % frame
    s.close()
    api_versions_ok(broker.port)


def test_random_bytes_do_not_kill_broker(broker):
    rnd = __import__("random").Random(1234)
    for i in range(50):
        s = K.connect(broker.port)
        n = rnd.randrange(4, 200)
        payload = struct.pack(">i", n) + bytes(rnd.randrange(256) for _ in range(n))
        # Keep the api key/version valid half the time to reach the body decoders.
        if i % 2 == 0:
            key = rnd.choice([0, 1, 2, 3, 18, 19])
            payload = payload[:4] + struct.pack(">hh", key, rnd.randrange(0, 8)) + payload[8:]
        try:
            s.sendall(payload)
            s.settimeout(2)
            try:
                s.recv(65536)
            except (socket.timeout, ConnectionResetError):
                pass
        finally:
            s.close()
    assert broker.running(), "broker died on random input:\n" + broker.log_tail()
    api_versions_ok(broker.port)


def test_corrupt_crc_rejected_and_not_appended(broker):
    topic = "crc-target"
    K.create_topic(broker.bootstrap, topic, 1)
    s = K.connect(broker.port)
    try:
        # First a valid batch, to prove the hand-built encoding is right.
        good = K.record_batch([(b"k1", b"good-1"), (b"k2", b"good-2")])
        s.sendall(K.request(0, 3, 1, K.produce_v3(topic, 0, good)))
        corr, res = K.parse_produce_v3_response(K.recv_frame(s))
        assert (corr, res) == (1, [(topic, 0, 0, 0)])

        bad = K.record_batch([(b"k3", b"evil")], corrupt_crc=True)
        s.sendall(K.request(0, 3, 2, K.produce_v3(topic, 0, bad)))
        resp = K.recv_frame(s)
        assert resp is not None, "broker closed the connection instead of answering"
        corr, res = K.parse_produce_v3_response(resp)
        assert corr == 2
        assert [(t, p, e) for t, p, e, _ in res] == [(topic, 0, 2)]   # CORRUPT_MESSAGE

        # A flipped payload byte (CRC left as computed for the original) too.
        flipped = bytearray(K.record_batch([(b"k4", b"tampered")]))
        flipped[-3] ^= 0x20
        s.sendall(K.request(0, 3, 3, K.produce_v3(topic, 0, bytes(flipped))))
        corr, res = K.parse_produce_v3_response(K.recv_frame(s))
        assert (corr, [(t, p, e) for t, p, e, _ in res]) == (3, [(topic, 0, 2)])

        # Same connection still usable afterwards.
        good2 = K.record_batch([(None, b"good-3")])
        s.sendall(K.request(0, 3, 4, K.produce_v3(topic, 0, good2)))
        corr, res = K.parse_produce_v3_response(K.recv_frame(s))
        assert (corr, res) == (4, [(topic, 0, 0, 2)])
    finally:
        s.close()
    assert K.watermarks(broker.bootstrap, topic, 0) == (0, 3)
    got = K.consume_all(broker.bootstrap, topic, 1)[0]
    assert [(m.offset(), m.key(), m.value()) for m in got] == \
        [(0, b"k1", b"good-1"), (1, b"k2", b"good-2"), (2, None, b"good-3")]


def test_truncated_record_batch_rejected(broker):
    topic = "trunc-target"
    K.create_topic(broker.bootstrap, topic, 1)
    full = K.record_batch([(b"k", b"v" * 100)])
    for cut in (10, 30, 61, len(full) - 1):
        s = K.connect(broker.port)
        try:
            s.sendall(K.request(0, 3, cut, K.produce_v3(topic, 0, full[:cut])))
            resp = K.recv_frame(s)
            if resp is not None:           # an error answer, or a close: both fine
                corr, res = K.parse_produce_v3_response(resp)
                assert corr == cut and res[0][2] != 0, "truncated batch accepted at %d" % cut
        finally:
            s.close()
    assert K.watermarks(broker.bootstrap, topic, 0) == (0, 0)
    api_versions_ok(broker.port)


def test_api_versions_unsupported_version(broker):
    s = K.connect(broker.port)
    try:
        # Header v1 + an empty tagged-field byte + a v3-style body, so that a
        # broker parsing the header either way finds a well-formed request.
        body = b"\x00" + b"\x02x" + b"\x021" + b"\x00"
        s.sendall(K.request(18, 127, 99, body))
        resp = K.recv_frame(s)
        assert resp is not None, "broker closed instead of answering UNSUPPORTED_VERSION"
        corr, err, apis = K.parse_api_versions_v0(resp)
        assert corr == 99
        assert err == 35                                   # UNSUPPORTED_VERSION
        assert 18 in apis, "v0 error response must still list ApiVersions' range"
        # The connection stays usable for the client to retry with v0.
        s.sendall(K.request(18, 0, 100))
        corr, err, _ = K.parse_api_versions_v0(K.recv_frame(s))
        assert (corr, err) == (100, 0)
    finally:
        s.close()


def socket_fds(pid):
    n = 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            if os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith("socket:"):
                n += 1
        except OSError:
            pass
    return n


def test_many_connections_opened_and_dropped(broker):
    baseline = socket_fds(broker.pid)
    socks = [K.connect(broker.port) for _ in range(200)]
    for i, s in enumerate(socks):
        if i % 2:
            s.sendall(K.request(18, 0, i)[:7])   # half a request, then hang up
        s.close()
    api_versions_ok(broker.port)
    assert broker.running()
    # Closed client sockets must be released (the close is noticed asynchronously).
    H.wait_until(lambda: socket_fds(broker.pid) <= baseline + 5, 20, 0.2,
                 "broker to release closed connections (baseline %d sockets)" % baseline)
