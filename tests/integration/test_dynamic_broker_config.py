"""tests/integration/test_dynamic_broker_config.py - dynamic broker configs.

Owns: per-broker (/config/brokers/<id>) and cluster-default
(/config/brokers/<default>) overrides applied live by the brokers they
concern (log.segment.bytes on broker 0 only rolls broker 0's segments; a
default log.retention.ms reaches both brokers and deletes old segments),
DescribeConfigs for brokers and topics reporting Kafka's config sources,
read-only flags and synonyms (checked on the wire, one broker at a time),
deleting an override reverting to server.properties, read-only keys refused
with Kafka's message, and the overrides re-read at start-up.
"""

import glob
import os
import struct

import pytest

import kafka_helpers as K
import samsa_harness as H

confluent_kafka = pytest.importorskip("confluent_kafka")

pytestmark = pytest.mark.skipif(not H.have_binary("samsa-configs"), reason="samsa-configs not built")

BROKER, TOPIC = 4, 2
DYNAMIC_BROKER, DYNAMIC_DEFAULT, STATIC, DEFAULT = 2, 3, 4, 5
SEG = str(8 * 1024 * 1024)       # the harness's static log.segment.bytes


# ---------------------------------------------------------------- raw wire helpers

class Reader:
    def __init__(self, buf):
        self.buf, self.off = buf, 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.buf, self.off)
        self.off += struct.calcsize(fmt)
        return v[0] if len(v) == 1 else v

    def string(self):
        n = self.take(">h")
        if n < 0:
            return None
        s = self.buf[self.off:self.off + n].decode()
        self.off += n
        return s


def roundtrip(port, api, ver, body):
    s = K.connect(port)
    try:
        s.sendall(K.request(api, ver, 7, body))
        frame = K.recv_frame(s)
    finally:
        s.close()
    assert frame is not None, "broker closed the connection"
    r = Reader(frame)
    assert r.take(">i") == 7
    return r


def describe(port, rtype, name, keys=None, synonyms=True):
    """DescribeConfigs v1 of one resource -> (error, message, {key: entry})."""
    body = struct.pack(">i", 1) + struct.pack(">b", rtype) + K.kstr(name)
    if keys is None:
        body += struct.pack(">i", -1)
    else:
        body += struct.pack(">i", len(keys)) + b"".join(K.kstr(k) for k in keys)
    body += struct.pack(">b", 1 if synonyms else 0)
    r = roundtrip(port, 32, 1, body)
    r.take(">i")                                  # throttle
    assert r.take(">i") == 1
    err, msg, _t, _n = r.take(">h"), r.string(), r.take(">b"), r.string()
    out = {}
    for _ in range(r.take(">i")):
        key, value = r.string(), r.string()
        read_only, source, _sensitive = r.take(">bbb")
        syns = []
        for _ in range(r.take(">i")):
            syns.append((r.string(), r.string(), r.take(">b")))
        out[key] = {"value": value, "read_only": bool(read_only), "source": source, "synonyms": syns}
    assert r.off == len(r.buf)
    return err, msg, out


def alter(port, rtype, name, configs):
    """AlterConfigs v0 of one resource (replaces its whole config) -> (error, message)."""
    body = struct.pack(">i", 1) + struct.pack(">b", rtype) + K.kstr(name) + struct.pack(">i", len(configs))
    for k, v in configs.items():
        body += K.kstr(k) + K.kstr(v)
    body += struct.pack(">b", 0)
    r = roundtrip(port, 33, 0, body)
    r.take(">i")
    assert r.take(">i") == 1
    return r.take(">h"), r.string()


def configs_bs(b, *args, check=True):
    return H.run_tool([H.binary("samsa-configs"), "--bootstrap-server", b.bootstrap] + list(args), check=check)


def configs_zk(b, *args, check=True):
    return H.run_tool([H.binary("samsa-configs"), "--zookeeper", b.zk_connect] + list(args), check=check)


def segments(b, topic, partition):
    return sorted(glob.glob(os.path.join(b.logdirs, "%s-%d" % (topic, partition), "*.log")))


def produce(bootstrap, topic, partition, n, size=200):
    p = confluent_kafka.Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, "batch.num.messages": 1})
    for i in range(n):
        p.produce(topic, value=b"%06d" % i + b"x" * size, partition=partition)
        p.poll(0)
    assert p.flush(30) == 0


def wait_log(b, text, count=1, timeout=20):
    H.wait_until(lambda: b.log_text().count(text) >= count, timeout, what="%r in %s's log" % (text, b.name))


# ---------------------------------------------------------------- the test

def test_dynamic_broker_configs(cluster):
    over = {"log.retention.check.interval.ms": "300"}
    b0 = cluster.add(0, overrides=over)
    b1 = cluster.add(1, overrides=over)
    t = "dyncfg"
    from confluent_kafka.admin import NewTopic
    a = K.admin(cluster.bootstrap)
    fs = a.create_topics([NewTopic(t, num_partitions=2, replica_assignment=[[0], [1]])], request_timeout=15)
    fs[t].result(30)
    K.topic_ready(cluster.bootstrap, t, 2)

    # Start-up read the (empty) layers.
    assert "[DynamicBrokerConfig id=0] Loaded 0 per-broker and 0 cluster-default" in b0.log_text()

    # --- per-broker override, through the tool and AlterConfigs ------------
    r = configs_bs(b0, "--entity-type", "brokers", "--entity-name", "0", "--alter",
                   "--add-config", "log.segment.bytes=2000")
    assert r.stdout == "Completed updating config for broker 0.\n"
    wait_log(b0, "[DynamicConfigManager] Processing override for entityPath: brokers/0")
    wait_log(b0, "brokers/0: updated log.segment.bytes: %s -> 2000" % SEG)
    wait_log(b0, "Applied new config of topic %s" % t)
    produce(b0.bootstrap, t, 0, 40)
    produce(b1.bootstrap, t, 1, 40)
    assert len(segments(b0, t, 0)) >= 4, segments(b0, t, 0)
    assert len(segments(b1, t, 1)) == 1, segments(b1, t, 1)
    # Broker 1 ignores another broker's entity.
    assert "entityPath: brokers/0" not in b1.log_text()

    err, msg, d = describe(b0.port, BROKER, "0")
    assert (err, msg) == (0, None)
    e = d["log.segment.bytes"]
    assert (e["value"], e["source"], e["read_only"]) == ("2000", DYNAMIC_BROKER, False)
    assert e["synonyms"] == [("log.segment.bytes", "2000", DYNAMIC_BROKER), ("log.segment.bytes", SEG, STATIC),
                             ("log.segment.bytes", "1073741824", DEFAULT)]
    e = d["log.retention.ms"]                     # Kafka's null default; hours behind it
    assert (e["value"], e["source"]) == (None, DEFAULT)
    assert e["synonyms"] == []
    assert d["log.retention.hours"]["synonyms"] == [("log.retention.hours", "168", DEFAULT)]
    assert (d["broker.id"]["value"], d["broker.id"]["read_only"], d["broker.id"]["source"]) == ("0", True, STATIC)
    assert (d["num.partitions"]["source"], d["delete.topic.enable"]["source"]) == (STATIC, DEFAULT)
    err, _, d1 = describe(b1.port, BROKER, "1", keys=["log.segment.bytes"], synonyms=False)
    assert err == 0 and list(d1) == ["log.segment.bytes"]
    assert (d1["log.segment.bytes"]["value"], d1["log.segment.bytes"]["source"]) == (SEG, STATIC)
    assert d1["log.segment.bytes"]["synonyms"] == []
    # Topic defaults show where they come from, broker by broker.
    _, _, td0 = describe(b0.port, TOPIC, t, keys=["segment.bytes"])
    _, _, td1 = describe(b1.port, TOPIC, t, keys=["segment.bytes"])
    assert (td0["segment.bytes"]["value"], td0["segment.bytes"]["source"]) == ("2000", DYNAMIC_BROKER)
    assert (td1["segment.bytes"]["value"], td1["segment.bytes"]["source"]) == (SEG, STATIC)
    # Another broker's id is not ours to describe.
    err, msg, _ = describe(b0.port, BROKER, "1")
    assert err == 42 and msg == "Unexpected broker id, expected 0 or empty string, but received 1"
    r = configs_bs(b0, "--broker", "0", "--describe")
    assert r.stdout.startswith("Dynamic configs for broker 0 are:\n  log.segment.bytes=2000 sensitive=false "
                               "synonyms={DYNAMIC_BROKER_CONFIG:log.segment.bytes=2000"), r.stdout

    # --- read-only keys are refused ------------------------------------------
    r = configs_bs(b0, "--broker", "0", "--alter", "--add-config", "log.dirs=/tmp/elsewhere", check=False)
    assert r.returncode == 1
    assert "Cannot update these configs dynamically: Set(log.dirs)" in r.stderr, r.stderr
    err, msg = alter(b0.port, BROKER, "0", {"broker.id": "5"})
    assert err == 42
    assert msg == ("Invalid config value for resource ConfigResource(type=BROKER, name='0'): "
                   "Cannot update these configs dynamically: Set(broker.id)")
    assert describe(b0.port, BROKER, "0", keys=["log.segment.bytes"])[2]["log.segment.bytes"]["value"] == "2000"

    # --- cluster default (resource name ""), reaching both brokers -----------
    assert alter(b1.port, BROKER, "", {"log.retention.ms": "1000"}) == (0, None)
    for b in (b0, b1):
        wait_log(b, "[DynamicConfigManager] Processing override for entityPath: brokers/<default>")
        wait_log(b, "brokers/<default>: updated log.retention.ms: -2 -> 1000")
    err, _, dd = describe(b0.port, BROKER, "")
    assert err == 0 and list(dd) == ["log.retention.ms"]
    assert (dd["log.retention.ms"]["value"], dd["log.retention.ms"]["source"]) == ("1000", DYNAMIC_DEFAULT)
    assert dd["log.retention.ms"]["synonyms"] == [("log.retention.ms", "1000", DYNAMIC_DEFAULT),
                                                  ("log.retention.hours", "168", DEFAULT)]
    for b, bid in ((b0, "0"), (b1, "1")):
        e = describe(b.port, BROKER, bid, keys=["log.retention.ms"])[2]["log.retention.ms"]
        assert (e["value"], e["source"]) == ("1000", DYNAMIC_DEFAULT)
        e = describe(b.port, TOPIC, t, keys=["retention.ms"])[2]["retention.ms"]
        assert (e["value"], e["source"]) == ("1000", DYNAMIC_DEFAULT)
    # The new retention applies: broker 0's sealed segments go away.
    H.wait_until(lambda: K.watermarks(b0.bootstrap, t, 0)[0] > 0, 30, 0.5, "retention on %s-0" % t)

    # --- deleting the per-broker override reverts to server.properties -------
    r = configs_bs(b0, "--broker", "0", "--alter", "--delete-config", "log.segment.bytes")
    assert r.stdout == "Completed updating config for broker 0.\n"
    wait_log(b0, "brokers/0: updated log.segment.bytes: 2000 -> %s" % SEG)
    e = describe(b0.port, BROKER, "0", keys=["log.segment.bytes"])[2]["log.segment.bytes"]
    assert (e["value"], e["source"]) == (SEG, STATIC)
    before = len(segments(b0, t, 0))
    produce(b0.bootstrap, t, 0, 40)
    assert len(segments(b0, t, 0)) <= before + 1

    # --- overrides written while the brokers are down apply at start-up ------
    for b in (b0, b1):
        assert b.stop() == 0
    r = configs_zk(b0, "--entity-type", "brokers", "--entity-default", "--alter",
                   "--add-config", "log.retention.ms=7200000")
    assert r.stdout == "Completed updating config for entity: default brokers.\n"
    r = configs_zk(b0, "--entity-type", "brokers", "--entity-name", "0", "--alter",
                   "--add-config", "log.segment.bytes=4000,min.insync.replicas=1")
    assert r.stdout == "Completed updating config for entity: brokers '0'.\n"
    for b in (b0, b1):
        b.start()
    wait_log(b0, "start-up: updated log.segment.bytes: %s -> 4000" % SEG)
    wait_log(b1, "start-up: updated log.retention.ms: -2 -> 7200000")
    K.topic_ready(cluster.bootstrap, t, 2)
    _, _, d = describe(b0.port, BROKER, "0", keys=["log.segment.bytes", "log.retention.ms", "min.insync.replicas"])
    assert (d["log.segment.bytes"]["value"], d["log.segment.bytes"]["source"]) == ("4000", DYNAMIC_BROKER)
    assert (d["log.retention.ms"]["value"], d["log.retention.ms"]["source"]) == ("7200000", DYNAMIC_DEFAULT)
    assert d["min.insync.replicas"]["source"] == DYNAMIC_BROKER
    _, _, d = describe(b1.port, BROKER, "1", keys=["log.segment.bytes", "log.retention.ms"])
    assert (d["log.segment.bytes"]["value"], d["log.segment.bytes"]["source"]) == (SEG, STATIC)
    assert (d["log.retention.ms"]["value"], d["log.retention.ms"]["source"]) == ("7200000", DYNAMIC_DEFAULT)
    before = len(segments(b0, t, 0))
    produce(b0.bootstrap, t, 0, 30)
    assert len(segments(b0, t, 0)) >= before + 2
