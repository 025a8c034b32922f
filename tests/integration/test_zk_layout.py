"""tests/integration/test_zk_layout.py - the broker's ZooKeeper layout (Kafka 2.x).

Owns: reading every znode a ZK-mode Kafka operator or tool relies on with
kazoo, under the test's chroot, and checking node mode (ephemeral or not)
and JSON fields against the documented layout (/work/shared reference
zkschema, Kafka's ZkData.scala): broker registration, topic assignment,
partition state, controller and epoch, cluster id (+ meta.properties),
topic config; ephemeral nodes vanish on clean shutdown.
"""

import json
import os
import re

import pytest

import kafka_helpers as K
import samsa_harness as H

kazoo_client = pytest.importorskip("kazoo.client")

B64URL_UUID = re.compile(r"^[A-Za-z0-9_-]{22}$")


@pytest.fixture
def zkc(zk):
    c = kazoo_client.KazooClient(hosts=zk.connect, timeout=15)
    c.start(timeout=15)
    yield c
    c.stop()
    c.close()


def get_json(zkc, path):
    data, stat = zkc.get(path)
    return json.loads(data.decode()), stat


def test_znodes_after_start_and_create(broker, zkc):
    root = broker.cluster.chroot
    K.create_topic(broker.bootstrap, "zk-layout", 2, config={"retention.ms": "7200000"})

    # Broker registration: ephemeral, v4 (2.0-2.6) or v5 (2.7+).
    reg, st = get_json(zkc, root + "/brokers/ids/0")
    assert st.ephemeralOwner != 0, "/brokers/ids/0 must be ephemeral"
    assert reg["version"] in (4, 5)
    assert reg["host"] == "127.0.0.1" and reg["port"] == broker.port
    assert reg["endpoints"] == ["PLAINTEXT://127.0.0.1:%d" % broker.port]
    assert reg["listener_security_protocol_map"].get("PLAINTEXT") == "PLAINTEXT"
    assert isinstance(reg["jmx_port"], int)
    assert isinstance(reg["timestamp"], str) and reg["timestamp"].isdigit()
    if reg["version"] == 5:
        assert isinstance(reg["features"], dict)
    assert zkc.get_children(root + "/brokers/ids") == ["0"]

    # Controller: ephemeral, epoch is a plain decimal string.
    ctl, st = get_json(zkc, root + "/controller")
    assert st.ephemeralOwner != 0
    assert ctl["version"] == 1 and ctl["brokerid"] == 0
    assert isinstance(ctl["timestamp"], str) and ctl["timestamp"].isdigit()
    epoch_raw, _ = zkc.get(root + "/controller_epoch")
    assert re.fullmatch(rb"\d+", epoch_raw), epoch_raw
    epoch = int(epoch_raw)
    assert epoch >= 1

    # Topic assignment.
    asg, st = get_json(zkc, root + "/brokers/topics/zk-layout")
    assert st.ephemeralOwner == 0
    assert asg["version"] in (1, 2, 3)
    assert asg["partitions"] == {"0": [0], "1": [0]}
    if asg["version"] >= 2:
        assert asg.get("adding_replicas", {}) == {} and asg.get("removing_replicas", {}) == {}
    if asg["version"] == 3:
        assert B64URL_UUID.match(asg["topic_id"])

    # Partition state, created by the controller.
    for p in (0, 1):
        state, st = get_json(zkc, root + "/brokers/topics/zk-layout/partitions/%d/state" % p)
        assert st.ephemeralOwner == 0
        assert state["version"] == 1
        assert state["leader"] == 0 and state["isr"] == [0]
        assert state["leader_epoch"] >= 0
        assert 1 <= state["controller_epoch"] <= epoch
    assert sorted(zkc.get_children(root + "/brokers/topics/zk-layout/partitions")) == ["0", "1"]

    # Topic config overrides.
    cfg, _ = get_json(zkc, root + "/config/topics/zk-layout")
    assert cfg == {"version": 1, "config": {"retention.ms": "7200000"}}

    # Cluster id, and the same id in meta.properties.
    cid, _ = get_json(zkc, root + "/cluster/id")
    assert cid["version"] == "1", "/cluster/id version is a string in Kafka"
    assert B64URL_UUID.match(cid["id"]), cid
    with open(os.path.join(broker.logdirs, "meta.properties")) as f:
        meta = dict(line.strip().split("=", 1) for line in f
                    if "=" in line and not line.startswith("#"))
    assert meta.get("cluster.id") == cid["id"]
    assert meta.get("broker.id") == "0"
    assert meta.get("version") == "0"

    # Persistent paths ensured at start-up (ZkData.PersistentZkPaths).
    for path in ("/brokers/ids", "/brokers/topics", "/brokers/seqid", "/config/changes",
                 "/config/topics", "/config/clients", "/config/users", "/config/brokers",
                 "/admin/delete_topics", "/isr_change_notification",
                 "/log_dir_event_notification", "/latest_producer_id_block", "/consumers"):
        assert zkc.exists(root + path), "missing persistent path %s" % path

    # Nothing leaked outside the chroot.
    assert not zkc.exists("/brokers"), "broker wrote outside its chroot"


def test_zk_topic_created_by_hand_is_picked_up(broker, zkc):
    """What `kafka-topics.sh --zookeeper` does: write config, then the
    assignment; the controller must create partition state and lead it."""
    root = broker.cluster.chroot
    zkc.create(root + "/config/topics/by-hand", b'{"version":1,"config":{}}', makepath=True)
    zkc.create(root + "/brokers/topics/by-hand",
               b'{"version":1,"partitions":{"0":[0],"1":[0],"2":[0]}}', makepath=True)
    K.topic_ready(broker.bootstrap, "by-hand", 3)
    state, _ = get_json(zkc, root + "/brokers/topics/by-hand/partitions/2/state")
    assert (state["leader"], state["isr"]) == (0, [0])


def test_ephemerals_removed_on_clean_shutdown(cluster, zkc):
    b = cluster.add(0)
    root = cluster.chroot
    epoch1 = int(zkc.get(root + "/controller_epoch")[0])
    cid1 = get_json(zkc, root + "/cluster/id")[0]["id"]
    assert zkc.exists(root + "/brokers/ids/0") and zkc.exists(root + "/controller")
    assert b.stop() == 0
    # The session is closed on shutdown, so the ephemerals go at once rather
    # than after zookeeper.session.timeout.ms.
    H.wait_until(lambda: not zkc.exists(root + "/brokers/ids/0"), 5, 0.1, "/brokers/ids/0 removal")
    H.wait_until(lambda: not zkc.exists(root + "/controller"), 5, 0.1, "/controller removal")
    b.start()
    H.wait_until(lambda: zkc.exists(root + "/controller"), 30, 0.1, "controller election")
    epoch2 = int(zkc.get(root + "/controller_epoch")[0])
    assert epoch2 == epoch1 + 1
    assert get_json(zkc, root + "/cluster/id")[0]["id"] == cid1


def test_broker_creates_missing_chroot(cluster, zkc):
    """Kafka creates the zookeeper.connect chroot if it does not exist yet
    (KafkaServer.createChrootIfNecessary); operators rely on that."""
    chroot = cluster.chroot + "-fresh/samsa"
    assert not zkc.exists(chroot)
    cluster.zk_connect = cluster.zk.connect + chroot
    b = cluster.add(0)
    assert zkc.exists(chroot + "/brokers/ids/0")
    K.create_topic(b.bootstrap, "in-fresh-chroot", 1)
    assert zkc.exists(chroot + "/brokers/topics/in-fresh-chroot")
