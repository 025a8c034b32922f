"""tests/integration/test_throttle.py - replication throttling during a
partition reassignment.

Three brokers; ~20 MB in a single-replica partition on broker 0, moved to
broker 2 with samsa-reassign-partitions:

- with --throttle 1000000 (1 MB/s, leader and follower side) the copy takes
  several seconds (only a loose lower bound is asserted), --verify reports
  the bytes left (from DescribeLogDirs) and they shrink while it runs, and
  once it is complete --verify removes the broker rates and the topic
  throttled-replica lists from ZooKeeper; every message arrives intact;
- without --throttle the same move of a second topic is faster.
"""

import json
import os
import re
import time

import pytest

import samsa_harness as H

kazoo_client = pytest.importorskip("kazoo.client")
ck = pytest.importorskip("confluent_kafka")

OVERRIDES = {
    "unclean.leader.election.enable": "false",
    "replica.lag.time.max.ms": 10000,
    "replica.fetch.backoff.ms": 200,
    "auto.leader.rebalance.enable": "false",
}
MSG_SIZE = 20000
N_MSGS = 1000                        # ~20 MB
RATE = 1000000


def zk_json(zk, path):
    data, _ = zk.get(path)
    return json.loads(data.decode())


def topic_config(zk, topic):
    try:
        return zk_json(zk, "/config/topics/%s" % topic).get("config", {})
    except kazoo_client.NoNodeError:
        return {}


def broker_config(zk, bid):
    try:
        return zk_json(zk, "/config/brokers/%d" % bid).get("config", {})
    except kazoo_client.NoNodeError:
        return {}


def fill(cluster, topic):
    H.run_tool([H.binary("samsa-topics"), "--zookeeper", cluster.zk_connect, "--create", "--topic", topic,
                "--replica-assignment", "0"])
    p = ck.Producer({"bootstrap.servers": cluster.bootstrap, "acks": "1", "linger.ms": 5,
                     "compression.type": "none", "message.max.bytes": 2000000})
    for i in range(N_MSGS):
        # Incompressible payload whose prefix names the message.
        v = (b"%06d" % i) + os.urandom(MSG_SIZE - 6)
        while True:
            try:
                p.produce(topic, v, partition=0)
                break
            except BufferError:
                p.poll(0.1)
        p.poll(0)
    assert p.flush(60) == 0


def reassign(cluster, plan, *extra):
    return H.run_tool([H.binary("samsa-reassign-partitions"), "--zookeeper", cluster.zk_connect,
                       "--reassignment-json-file", str(plan)] + list(extra)).stdout


def move(cluster, tmp_path, topic, throttle=None):
    """Move topic-0 from broker 0 to broker 2; returns (seconds, bytes-left samples)."""
    plan = tmp_path / ("plan-%s.json" % topic)
    plan.write_text('{"version":1,"partitions":[{"topic":"%s","partition":0,"replicas":[2]}]}' % topic)
    extra = ["--throttle", str(throttle)] if throttle else []
    t0 = time.time()
    out = reassign(cluster, plan, "--execute", *extra)
    assert "Successfully started partition reassignment for %s-0" % topic in out
    samples = []
    deadline = t0 + 180
    while True:
        out = reassign(cluster, plan, "--verify")
        if "Reassignment of partition %s-0 is complete." % topic in out:
            break
        m = re.search(r"Partitions still being reassigned: 1 of 1 \(bytes left: (\d+|unknown)\)", out)
        assert m, out
        if m.group(1) != "unknown":
            samples.append(int(m.group(1)))
        assert time.time() < deadline, "reassignment of %s did not finish: %s" % (topic, out)
        time.sleep(0.5)
    return time.time() - t0, samples, out


def check_data(cluster, topic):
    c = ck.Consumer({"bootstrap.servers": cluster.bootstrap, "group.id": "thr-" + topic,
                     "auto.offset.reset": "earliest", "enable.auto.commit": False})
    try:
        c.assign([ck.TopicPartition(topic, 0, 0)])
        n, deadline = 0, time.time() + 60
        while n < N_MSGS and time.time() < deadline:
            m = c.poll(1.0)
            if m is None or m.error():
                continue
            assert m.offset() == n
            assert m.value()[:6] == b"%06d" % n and len(m.value()) == MSG_SIZE
            n += 1
        assert n == N_MSGS
    finally:
        c.close()


def test_throttled_reassignment(cluster, tmp_path):
    for i in range(3):
        cluster.add(i, overrides=OVERRIDES)
    zk = kazoo_client.KazooClient(hosts=cluster.zk_connect, timeout=15)
    zk.start(timeout=15)
    try:
        # Unthrottled first: the same move, as the baseline.
        fill(cluster, "fast")
        fast_s, _, _ = move(cluster, tmp_path, "fast")
        H.log("unthrottled move of %d bytes: %.1f s" % (N_MSGS * MSG_SIZE, fast_s))

        fill(cluster, "slow")
        slow_s, samples, out = move(cluster, tmp_path, "slow", throttle=RATE)
        H.log("move at %d B/s: %.1f s, bytes left %s" % (RATE, slow_s, samples))
        # ~20 MB at 1 MB/s: roughly 19 s; only a loose lower bound.
        assert slow_s >= 5, slow_s
        assert slow_s > fast_s
        # Progress: reported while running, and shrinking.
        assert len(samples) >= 2, samples
        assert samples[0] > samples[-1], samples
        assert samples[0] > 2 * RATE, samples

        # The completing --verify removed every throttle.
        assert "Clearing broker-level throttles on brokers 0,1,2" in out
        assert "Clearing topic-level throttles on topic slow" in out
        for b in range(3):
            cfg = broker_config(zk, b)
            assert "leader.replication.throttled.rate" not in cfg, cfg
            assert "follower.replication.throttled.rate" not in cfg, cfg
        cfg = topic_config(zk, "slow")
        assert "leader.replication.throttled.replicas" not in cfg, cfg
        assert "follower.replication.throttled.replicas" not in cfg, cfg
        assert zk_json(zk, "/brokers/topics/slow")["partitions"]["0"] == [2]
        check_data(cluster, "slow")
        check_data(cluster, "fast")
    finally:
        zk.stop()
        zk.close()
