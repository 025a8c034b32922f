"""tests/integration/test_configs.py - dynamic configs: samsa-configs and AlterConfigs.

Owns: `samsa-configs --zookeeper` and `--bootstrap-server` altering and
describing topic configs in Kafka 2.x's output format; the broker applying
a new segment.bytes live (segments roll without a restart) and reverting
when the override is deleted; DescribeConfigs reporting DYNAMIC_TOPIC_CONFIG
for overrides; AlterConfigs rejecting unknown names and bad values with
Kafka's errors; validate_only writing nothing; broker-level configs stored
in /config/brokers and refused over ZooKeeper while the broker runs;
confluent-kafka's AdminClient alter_configs/describe_configs round trip.
"""

import glob
import os

import pytest

import kafka_helpers as K
import samsa_harness as H

confluent_kafka = pytest.importorskip("confluent_kafka")
from confluent_kafka.admin import ConfigResource, ConfigSource  # noqa: E402
from confluent_kafka import KafkaException  # noqa: E402

pytestmark = pytest.mark.skipif(not H.have_binary("samsa-configs"),
                                reason="samsa-configs not built")


def configs_zk(b, *args, check=True):
    return H.run_tool([H.binary("samsa-configs"), "--zookeeper", b.zk_connect] + list(args), check=check)


def configs_bs(b, *args, check=True):
    return H.run_tool([H.binary("samsa-configs"), "--bootstrap-server", b.bootstrap] + list(args),
                      check=check)


def describe(bootstrap, topic):
    a = K.admin(bootstrap)
    res = ConfigResource(ConfigResource.Type.TOPIC, topic)
    return a.describe_configs([res])[res].result(30)


def segments(b, topic, partition=0):
    return sorted(glob.glob(os.path.join(b.logdirs, "%s-%d" % (topic, partition), "*.log")))


def produce(bootstrap, topic, n, size=200):
    p = confluent_kafka.Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, "batch.num.messages": 1})
    for i in range(n):
        p.produce(topic, value=b"%06d" % i + b"x" * size, partition=0)
        p.poll(0)
    assert p.flush(30) == 0


def test_zk_alter_describe_and_live_segment_roll(broker):
    t = "cfg-zk"
    K.create_topic(broker.bootstrap, t, 1)
    r = configs_zk(broker, "--entity-type", "topics", "--entity-name", t, "--alter",
                   "--add-config", "retention.ms=3600000,segment.bytes=1024")
    assert r.stdout == "Completed updating config for entity: topic '%s'.\n" % t
    r = configs_zk(broker, "--entity-type", "topics", "--entity-name", t, "--describe")
    assert r.stdout.startswith("Configs for topic '%s' are " % t)
    pairs = set(r.stdout.strip().split(" are ", 1)[1].split(","))
    assert pairs == {"retention.ms=3600000", "segment.bytes=1024"}

    # The broker picks the change up from /config/changes and rolls segments.
    def applied():
        d = describe(broker.bootstrap, t)
        return d["segment.bytes"].value == "1024"
    H.wait_until(applied, 20, what="segment.bytes visible in DescribeConfigs")
    d = describe(broker.bootstrap, t)
    assert d["segment.bytes"].source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value
    assert d["retention.ms"].value == "3600000"
    assert d["segment.ms"].source == ConfigSource.DEFAULT_CONFIG.value
    H.wait_until(lambda: "Applied new config of topic %s" % t in broker.log_text(), 20,
                 what="broker applying the new config")
    produce(broker.bootstrap, t, 40)
    assert len(segments(broker, t)) >= 5, segments(broker, t)

    # Deleting the override reverts to the broker default (8 MiB here).
    r = configs_zk(broker, "--topic", t, "--alter", "--delete-config", "segment.bytes")
    assert "Completed updating config for entity: topic '%s'." % t in r.stdout
    assert configs_zk(broker, "--topic", t, "--describe").stdout == \
        "Configs for topic '%s' are retention.ms=3600000\n" % t
    H.wait_until(lambda: describe(broker.bootstrap, t)["segment.bytes"].value == str(8 * 1024 * 1024), 20,
                 what="segment.bytes back to default")
    before = len(segments(broker, t))
    H.wait_until(lambda: broker.log_text().count("Applied new config of topic %s" % t) >= 2, 20,
                 what="second config application")
    produce(broker.bootstrap, t, 40)
    assert len(segments(broker, t)) <= before + 1

    # Errors, with Kafka's messages.
    r = configs_zk(broker, "--topic", t, "--alter", "--delete-config", "segment.bytes", check=False)
    assert r.returncode == 1 and "Invalid config(s): segment.bytes" in r.stderr
    r = configs_zk(broker, "--topic", t, "--alter", "--add-config", "no.such.key=1", check=False)
    assert r.returncode == 1 and "Unknown topic config name: no.such.key" in r.stderr
    r = configs_zk(broker, "--topic", t, "--alter", "--add-config", "retention.ms=abc", check=False)
    assert r.returncode == 1 and "Invalid value abc for configuration retention.ms" in r.stderr
    r = configs_zk(broker, "--topic", "cfg-missing", "--alter", "--add-config", "retention.ms=1", check=False)
    assert r.returncode == 1 and 'Topic "cfg-missing" does not exist.' in r.stderr


def test_bootstrap_alter_describe_and_bracket_values(broker):
    t = "cfg-bs"
    K.create_topic(broker.bootstrap, t, 1)
    r = configs_bs(broker, "--entity-type", "topics", "--entity-name", t, "--alter",
                   "--add-config", "retention.ms=1000,cleanup.policy=[compact,delete]")
    assert r.stdout == "Completed updating config for topic %s.\n" % t
    d = describe(broker.bootstrap, t)
    assert d["retention.ms"].value == "1000"
    assert d["cleanup.policy"].value == "compact,delete"
    r = configs_bs(broker, "--entity-type", "topics", "--entity-name", t, "--describe")
    lines = r.stdout.splitlines()
    assert lines[0] == "Dynamic configs for topic %s are:" % t
    assert lines[1].startswith("  cleanup.policy=compact,delete sensitive=false synonyms={")
    assert lines[2].startswith("  retention.ms=1000 sensitive=false synonyms={")
    assert len(lines) == 3
    # --add-config merges with what is there; --delete-config removes one.
    configs_bs(broker, "--topic", t, "--alter", "--add-config", "segment.ms=600000",
               "--delete-config", "cleanup.policy")
    d = describe(broker.bootstrap, t)
    assert d["segment.ms"].value == "600000" and d["retention.ms"].value == "1000"
    assert d["cleanup.policy"].source == ConfigSource.DEFAULT_CONFIG.value
    assert configs_zk(broker, "--topic", t, "--describe").stdout in (
        "Configs for topic '%s' are retention.ms=1000,segment.ms=600000\n" % t,
        "Configs for topic '%s' are segment.ms=600000,retention.ms=1000\n" % t)
    # --describe --all lists defaults too.
    r = configs_bs(broker, "--topic", t, "--describe", "--all")
    assert r.stdout.startswith("All configs for topic %s are:\n" % t)
    assert "  segment.bytes=%d sensitive=false" % (8 * 1024 * 1024) in r.stdout
    # A bad value fails with the broker's message.
    r = configs_bs(broker, "--topic", t, "--alter", "--add-config", "segment.bytes=1", check=False)
    assert r.returncode == 1
    assert "Invalid value 1 for configuration segment.bytes" in r.stderr
    assert describe(broker.bootstrap, t)["segment.ms"].value == "600000"


def test_admin_client_alter_configs_errors_and_validate_only(broker):
    t = "cfg-admin"
    K.create_topic(broker.bootstrap, t, 1)
    a = K.admin(broker.bootstrap)
    res = ConfigResource(ConfigResource.Type.TOPIC, t, set_config={"retention.ms": "123456",
                                                                    "max.message.bytes": "200000"})
    a.alter_configs([res])[res].result(30)
    d = describe(broker.bootstrap, t)
    assert d["retention.ms"].value == "123456" and d["max.message.bytes"].value == "200000"
    assert d["retention.ms"].source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value

    # validate_only: accepted, nothing written.
    res = ConfigResource(ConfigResource.Type.TOPIC, t, set_config={"retention.ms": "99"})
    a.alter_configs([res], validate_only=True)[res].result(30)
    assert describe(broker.bootstrap, t)["retention.ms"].value == "123456"

    def err_of(cfg, topic=t):
        r = ConfigResource(ConfigResource.Type.TOPIC, topic, set_config=cfg)
        with pytest.raises(KafkaException) as ei:
            a.alter_configs([r])[r].result(30)
        return ei.value.args[0]

    e = err_of({"no.such.key": "1"})
    assert e.code() == confluent_kafka.KafkaError.INVALID_CONFIG
    assert "Unknown topic config name: no.such.key" in e.str()
    e = err_of({"retention.ms": "soon"})
    assert e.code() == confluent_kafka.KafkaError.INVALID_REQUEST
    assert "Invalid value soon for configuration retention.ms" in e.str()
    e = err_of({"retention.ms": "1"}, topic="cfg-nope")
    assert e.code() == confluent_kafka.KafkaError.UNKNOWN_TOPIC_OR_PART
    # Nothing changed by the failures.
    assert describe(broker.bootstrap, t)["retention.ms"].value == "123456"
    # AlterConfigs replaces the whole set: max.message.bytes goes away.
    res = ConfigResource(ConfigResource.Type.TOPIC, t, set_config={"retention.ms": "7200000"})
    a.alter_configs([res])[res].result(30)
    d = describe(broker.bootstrap, t)
    assert d["retention.ms"].value == "7200000"
    assert d["max.message.bytes"].source == ConfigSource.DEFAULT_CONFIG.value


def test_broker_configs(broker):
    a = K.admin(broker.bootstrap)
    res = ConfigResource(ConfigResource.Type.BROKER, "0", set_config={"log.retention.ms": "86400000"})
    a.alter_configs([res])[res].result(30)
    r = configs_zk(broker, "--entity-type", "brokers", "--entity-name", "0", "--describe")
    assert r.stdout == "Configs for brokers '0' are log.retention.ms=86400000\n"
    r = configs_bs(broker, "--broker", "0", "--describe")
    assert r.stdout.startswith("Dynamic configs for broker 0 are:\n")
    # Cluster default: librdkafka cannot address it (empty resource name);
    # over ZooKeeper only the throttle rates may change while brokers run.
    r = configs_bs(broker, "--entity-type", "brokers", "--entity-default", "--alter",
                   "--add-config", "log.retention.bytes=1073741824", check=False)
    assert r.returncode == 1 and "cluster-default broker config" in r.stderr
    r = configs_zk(broker, "--entity-type", "brokers", "--entity-default", "--alter",
                   "--add-config", "log.retention.bytes=1073741824", check=False)
    assert r.returncode == 1 and "when brokers are running" in r.stderr
    r = configs_zk(broker, "--broker-defaults", "--alter", "--add-config",
                   "follower.replication.throttled.rate=5000")
    assert r.stdout == "Completed updating config for entity: default brokers.\n"
    r = configs_zk(broker, "--entity-type", "brokers", "--entity-default", "--describe")
    assert r.stdout == "Configs for default brokers are follower.replication.throttled.rate=5000\n"
    # Static-only keys are refused, like Kafka's DynamicBrokerConfig.
    bad = ConfigResource(ConfigResource.Type.BROKER, "0", set_config={"zookeeper.connect": "x"})
    with pytest.raises(KafkaException) as ei:
        a.alter_configs([bad])[bad].result(30)
    assert ei.value.args[0].code() == confluent_kafka.KafkaError.INVALID_REQUEST
    assert "Cannot update these configs dynamically" in ei.value.args[0].str()
    # ZooKeeper writes of dynamic broker keys are refused while the broker runs.
    r = configs_zk(broker, "--broker", "0", "--alter", "--add-config", "log.retention.ms=1", check=False)
    assert r.returncode == 1
    assert "--bootstrap-server option must be specified to update broker configs" in r.stderr
    assert "when broker 0 is running" in r.stderr
    # Throttle rates are allowed over ZooKeeper.
    r = configs_zk(broker, "--broker", "0", "--alter", "--add-config", "leader.replication.throttled.rate=1000")
    assert r.stdout == "Completed updating config for entity: brokers '0'.\n"


def test_usage_errors(broker):
    r = configs_zk(broker, "--topic", "x", check=False)
    assert r.returncode == 1 and "exactly one action" in r.stderr
    r = H.run_tool([H.binary("samsa-configs"), "--topic", "x", "--describe"], check=False)
    assert r.returncode == 1 and "Only one of --bootstrap-server or --zookeeper must be specified" in r.stderr
    r = configs_zk(broker, "--entity-type", "topics", "--alter", "--add-config", "a=b", check=False)
    assert r.returncode == 1 and "an entity name must be specified with --alter of topics" in r.stderr
    r = configs_zk(broker, "--topic", "x", "--alter", "--add-config", "a=b=c", check=False)
    assert r.returncode == 1 and 'all configs to be added must be in the format "key=val"' in r.stderr
