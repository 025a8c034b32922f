"""tests/integration/test_topics.py - topic lifecycle through every entry point.

Owns: topics created with `samsa-topics --zookeeper` (controller picks them
up from ZooKeeper) and with the CreateTopics API (AdminClient) become
usable; `samsa-topics --list/--describe` output in Kafka 2.x format; error
codes for duplicate/invalid creates; auto-creation on Metadata when enabled
and its absence when disabled; deletion.
"""

import re
import time

import pytest

import kafka_helpers as K
import samsa_harness as H

confluent_kafka = pytest.importorskip("confluent_kafka")
from confluent_kafka import KafkaError  # noqa: E402
from confluent_kafka.admin import NewTopic  # noqa: E402


def topics_cmd(b, *args, check=True):
    return H.run_tool([H.binary("samsa-topics"), "--zookeeper", b.zk_connect] + list(args),
                      check=check)


def roundtrip(bootstrap, topic, partitions):
    """Write one record per partition and read them back at offset 0."""
    p = confluent_kafka.Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    for i in range(partitions):
        p.produce(topic, value=b"hello-%d" % i, partition=i)
    assert p.flush(30) == 0
    got = K.consume_all(bootstrap, topic, partitions, expect=partitions)
    assert {i: [(m.offset(), m.value()) for m in got[i]] for i in range(partitions)} == \
        {i: [(0, b"hello-%d" % i)] for i in range(partitions)}


DESCRIBE_SUMMARY = re.compile(
    r"^Topic: ?(?P<t>\S+)\t(?:TopicId: ?\S+\t)?PartitionCount: ?(?P<n>\d+)\t"
    r"ReplicationFactor: ?(?P<rf>\d+)\tConfigs: ?(?P<cfg>\S*)")
DESCRIBE_PART = re.compile(
    r"^\tTopic: (?P<t>\S+)\tPartition: (?P<p>\d+)\tLeader: (?P<l>\S+)\t"
    r"Replicas: (?P<r>[\d,]+)\tIsr: (?P<isr>[\d,]*)")


@pytest.mark.needs_tools
def test_samsa_topics_create_list_describe(broker):
    r = topics_cmd(broker, "--create", "--topic", "zk-made", "--partitions", "3",
                   "--replication-factor", "1", "--config", "retention.ms=3600000")
    assert "Created topic zk-made." in r.stdout
    K.topic_ready(broker.bootstrap, "zk-made", 3)
    roundtrip(broker.bootstrap, "zk-made", 3)

    topics_cmd(broker, "--create", "--topic", "zk-other", "--partitions", "1",
               "--replication-factor", "1")
    K.topic_ready(broker.bootstrap, "zk-other", 1)
    listed = topics_cmd(broker, "--list").stdout.split("\n")
    listed = [x for x in listed if x and not x.startswith("__")]
    assert "zk-made" in listed and "zk-other" in listed
    assert listed == sorted(listed), "--list must be sorted"

    out = topics_cmd(broker, "--describe", "--topic", "zk-made").stdout.splitlines()
    m = DESCRIBE_SUMMARY.match(out[0])
    assert m, "bad summary line %r" % out[0]
    assert (m["t"], m["n"], m["rf"]) == ("zk-made", "3", "1")
    assert "retention.ms=3600000" in m["cfg"]
    parts = [DESCRIBE_PART.match(x) for x in out[1:] if x.strip()]
    assert all(parts), out
    assert [(x["t"], x["p"], x["l"], x["r"], x["isr"]) for x in parts] == \
        [("zk-made", str(p), "0", "0", "0") for p in range(3)]

    # Creating it again fails with Kafka's message and a non-zero status.
    r = topics_cmd(broker, "--create", "--topic", "zk-made", "--partitions", "1",
                   "--replication-factor", "1", check=False)
    assert r.returncode != 0
    assert "already exists" in (r.stdout + r.stderr)
    r = topics_cmd(broker, "--create", "--if-not-exists", "--topic", "zk-made",
                   "--partitions", "1", "--replication-factor", "1")
    assert r.returncode == 0
    # Missing topic.
    r = topics_cmd(broker, "--describe", "--topic", "no-such-topic", check=False)
    assert r.returncode != 0
    assert "does not exist" in (r.stdout + r.stderr)


def test_admin_api_create_topics(broker):
    a = K.admin(broker.bootstrap)
    fs = a.create_topics([NewTopic("api-made", 4, 1, config={"cleanup.policy": "delete"}),
                          NewTopic("api-made-2", 1, 1)], request_timeout=15)
    for f in fs.values():
        assert f.result(30) is None
    K.topic_ready(broker.bootstrap, "api-made", 4)
    K.topic_ready(broker.bootstrap, "api-made-2", 1)
    roundtrip(broker.bootstrap, "api-made", 4)

    fs = a.create_topics([NewTopic("api-made", 1, 1)], request_timeout=15)
    with pytest.raises(confluent_kafka.KafkaException) as ei:
        fs["api-made"].result(30)
    assert ei.value.args[0].code() == KafkaError.TOPIC_ALREADY_EXISTS

    fs = a.create_topics([NewTopic("api-bad-rf", 1, 3)], request_timeout=15)
    with pytest.raises(confluent_kafka.KafkaException) as ei:
        fs["api-bad-rf"].result(30)
    assert ei.value.args[0].code() == KafkaError.INVALID_REPLICATION_FACTOR

    fs = a.create_topics([NewTopic("api-validate", 2, 1)], request_timeout=15,
                         validate_only=True)
    assert fs["api-validate"].result(30) is None
    time.sleep(1)
    assert "api-validate" not in a.list_topics(timeout=10).topics


@pytest.mark.needs_tools
def test_samsa_topics_sees_api_topics(broker):
    K.create_topic(broker.bootstrap, "api-seen", 2)
    listed = topics_cmd(broker, "--list").stdout.split()
    assert "api-seen" in listed
    out = topics_cmd(broker, "--describe", "--topic", "api-seen").stdout.splitlines()
    assert DESCRIBE_SUMMARY.match(out[0])["n"] == "2"


def test_auto_create_on_metadata(cluster):
    b = cluster.add(0, overrides={"auto.create.topics.enable": "true", "num.partitions": "2"})
    c = confluent_kafka.Consumer({"bootstrap.servers": b.bootstrap, "group.id": "g",
                                  "allow.auto.create.topics": True})
    try:
        def created():
            t = c.list_topics(topic="auto-made", timeout=5).topics["auto-made"]
            return t.error is None and len(t.partitions) == 2 and \
                all(p.leader == 0 for p in t.partitions.values())
        H.wait_until(created, 30, 0.3, "auto-created topic")
    finally:
        c.close()
    roundtrip(b.bootstrap, "auto-made", 2)


def test_no_auto_create_when_disabled(cluster):
    b = cluster.add(0, overrides={"auto.create.topics.enable": "false"})
    a = K.admin(b.bootstrap)
    for _ in range(3):
        t = a.list_topics(topic="never-made", timeout=10).topics.get("never-made")
        assert t is not None and t.error is not None
        assert t.error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART
        time.sleep(0.5)
    assert "never-made" not in a.list_topics(timeout=10).topics


def test_delete_topic(broker):
    K.create_topic(broker.bootstrap, "to-delete", 2)
    roundtrip(broker.bootstrap, "to-delete", 2)
    a = K.admin(broker.bootstrap)
    fs = a.delete_topics(["to-delete"], request_timeout=15, operation_timeout=15)
    assert fs["to-delete"].result(30) is None
    H.wait_until(lambda: "to-delete" not in a.list_topics(timeout=10).topics, 30, 0.3,
                 "topic deletion")
    # The partition directories go away (possibly after a *-delete rename).
    def gone():
        import os
        return not [d for d in os.listdir(broker.logdirs)
                    if d.startswith("to-delete-") and not d.endswith("-delete")]
    H.wait_until(gone, 30, 0.3, "partition directories removed")
