"""tests/integration/test_controller.py - the controller and cluster
operations on real 3-4 broker clusters.

Covers: samsa-topics --describe matching the state znodes, and
--under-replicated-partitions / --unavailable-partitions after kill -9 of
brokers; controller failover after kill -9 of the controller (new
controller within session timeout + a few seconds, /controller_epoch
bumped); a rolling SIGTERM restart of every broker keeping all partitions
online (controlled shutdown); topic deletion on a live cluster (data dirs
and znodes gone everywhere); partition addition; samsa-leader-election
restoring preferred leaders; samsa-reassign-partitions moving a partition
to a new broker while a producer writes, with nothing lost.
"""

import json
import os
import threading
import time

import pytest

import samsa_harness as H

kazoo_client = pytest.importorskip("kazoo.client")

SESSION_MS = 6000
OVERRIDES = {
    "default.replication.factor": 3,
    "unclean.leader.election.enable": "false",
    "zookeeper.session.timeout.ms": SESSION_MS,
    "replica.lag.time.max.ms": 3000,
    "replica.fetch.backoff.ms": 200,
    "controlled.shutdown.retry.backoff.ms": 500,
    "auto.leader.rebalance.enable": "false",
}


def start(cluster, n, overrides=None):
    o = dict(OVERRIDES)
    o.update(overrides or {})
    for i in range(n):
        cluster.add(i, overrides=o)
    return cluster


class Zk:
    def __init__(self, cluster):
        self.c = kazoo_client.KazooClient(hosts=cluster.zk_connect, timeout=15)
        self.c.start(timeout=15)

    def get(self, path):
        data, _ = self.c.get(path)
        return json.loads(data.decode())

    def state(self, topic, p):
        return self.get("/brokers/topics/%s/partitions/%d/state" % (topic, p))

    def assignment(self, topic):
        return self.get("/brokers/topics/%s" % topic)

    def states(self, topic):
        n = len(self.assignment(topic)["partitions"])
        return [self.state(topic, p) for p in range(n)]

    def controller(self):
        try:
            return self.get("/controller")["brokerid"]
        except Exception:
            return None

    def epoch(self):
        data, _ = self.c.get("/controller_epoch")
        return int(data.decode())

    def exists(self, path):
        return self.c.exists(path) is not None

    def close(self):
        self.c.stop()
        self.c.close()


def topics_tool(cluster, *args, check=True):
    return H.run_tool([H.binary("samsa-topics"), "--zookeeper", cluster.zk_connect] + list(args), check=check)


def create(cluster, topic, partitions, rf, assignment=None):
    args = ["--create", "--topic", topic]
    if assignment:
        args += ["--replica-assignment", assignment]
    else:
        args += ["--partitions", str(partitions), "--replication-factor", str(rf)]
    topics_tool(cluster, *args)


def wait_full_isr(zk, topic, timeout=60):
    def ok():
        a = zk.assignment(topic)["partitions"]
        return all(zk.state(topic, int(p))["leader"] >= 0 and
                   sorted(zk.state(topic, int(p))["isr"]) == sorted(r) for p, r in a.items())
    H.wait_until(ok, timeout, 0.2, "full ISR for %s" % topic)


def by_id(cluster, bid):
    return [b for b in cluster.brokers if b.id == bid][0]


def parse_describe(out):
    rows = {}
    for line in out.splitlines():
        if not line.startswith("\tTopic:"):
            continue
        f = dict(x.split(": ", 1) for x in line.strip().split("\t"))
        rows[(f["Topic"], int(f["Partition"]))] = f
    return rows


def test_describe_and_failure_listings(cluster):
    start(cluster, 3)
    zk = Zk(cluster)
    try:
        create(cluster, "rf3", 4, 3)
        create(cluster, "solo", 0, 0, assignment="2,2,1")   # 3 partitions, RF 1
        wait_full_isr(zk, "rf3")
        wait_full_isr(zk, "solo")
        rows = parse_describe(topics_tool(cluster, "--describe").stdout)
        for t in ("rf3", "solo"):
            for p, st in enumerate(zk.states(t)):
                r = rows[(t, p)]
                assert r["Leader"] == str(st["leader"])
                assert r["Isr"] == ",".join(map(str, st["isr"]))
                assert r["Replicas"] == ",".join(map(str, zk.assignment(t)["partitions"][str(p)]))
        assert topics_tool(cluster, "--describe", "--under-replicated-partitions").stdout.strip() == ""
        assert topics_tool(cluster, "--describe", "--unavailable-partitions").stdout.strip() == ""

        by_id(cluster, 2).kill9()
        H.wait_until(lambda: all(2 not in s["isr"] for s in zk.states("rf3")), SESSION_MS / 1000 + 20, 0.2,
                     "broker 2 out of every ISR")
        H.wait_until(lambda: zk.state("solo", 0)["leader"] == -1, 20, 0.2, "solo-0 offline")
        under = parse_describe(topics_tool(cluster, "--describe", "--under-replicated-partitions").stdout)
        assert set(k for k in under if k[0] == "rf3") == {("rf3", p) for p in range(4)}
        unavail = parse_describe(topics_tool(cluster, "--describe", "--unavailable-partitions").stdout)
        assert set(unavail) == {("solo", 0), ("solo", 1)}
        assert unavail[("solo", 0)]["Leader"] == "none"
        assert unavail[("solo", 0)]["Isr"] == "2"           # the last ISR member is kept
        assert zk.state("solo", 2)["leader"] == 1
        # Every rf3 partition still has a live leader with leader_epoch bumped
        # where broker 2 led.
        for st in zk.states("rf3"):
            assert st["leader"] in (0, 1)
    finally:
        zk.close()


def test_controller_kill9_failover(cluster):
    start(cluster, 3)
    zk = Zk(cluster)
    try:
        create(cluster, "fo", 6, 3)
        wait_full_isr(zk, "fo")
        ctrl = zk.controller()
        epoch = zk.epoch()
        assert ctrl in (0, 1, 2)
        t0 = time.time()
        by_id(cluster, ctrl).kill9()
        H.wait_until(lambda: zk.controller() not in (None, ctrl), SESSION_MS / 1000 + 10, 0.05,
                     "a new controller")
        took = time.time() - t0
        assert took < SESSION_MS / 1000 + 5, took
        H.wait_until(lambda: zk.epoch() > epoch, 10, 0.05, "epoch bump")
        assert zk.epoch() == epoch + 1
        new = by_id(cluster, zk.controller())
        H.wait_until(lambda: "Ready to serve as the new controller with epoch %d" % (epoch + 1) in new.log_text(),
                     10, 0.1, "new controller ready")
        H.wait_until(lambda: all(s["leader"] not in (-1, ctrl) and ctrl not in s["isr"] for s in zk.states("fo")),
                     20, 0.1, "every partition led by a live broker")
        H.log("controller failover (3 brokers, 6 partitions): %.2fs to a new /controller" % took)
    finally:
        zk.close()


def test_rolling_restart_keeps_partitions_online(cluster):
    start(cluster, 3)
    zk = Zk(cluster)
    try:
        create(cluster, "roll", 6, 3)
        wait_full_isr(zk, "roll")
        # The controller goes last, so that the others shut down through it.
        order = sorted(cluster.brokers, key=lambda b: b.id == zk.controller())
        for b in order:
            was_controller = b.id == zk.controller()
            offline = []
            stop = threading.Event()

            def watch():
                while not stop.is_set():
                    try:
                        offline.extend(p for p, s in enumerate(zk.states("roll")) if s["leader"] < 0)
                    except Exception:
                        pass
                    time.sleep(0.05)
            th = threading.Thread(target=watch)
            th.start()
            rc = b.stop(timeout=60)
            if was_controller:
                # The controller broker has nobody to ask (broker side): its
                # successor moves the leaderships on the broker change.
                H.wait_until(lambda: all(s["leader"] not in (-1, b.id) for s in zk.states("roll")), 15, 0.05,
                             "leaderships moved off the old controller")
            stop.set()
            th.join()
            assert rc == 0, rc
            if not was_controller:
                assert "Controlled shutdown succeeded" in b.log_text()
                # Leadership had moved before the process exited.
                assert all(s["leader"] != b.id for s in zk.states("roll"))
            assert offline == [], offline
            b.start()
            wait_full_isr(zk, "roll", timeout=90)
    finally:
        zk.close()


def test_delete_topic_on_live_cluster(cluster):
    start(cluster, 3)
    zk = Zk(cluster)
    try:
        create(cluster, "gone", 3, 3)
        wait_full_isr(zk, "gone")
        dirs = lambda: [d for b in cluster.brokers for d in os.listdir(b.logdirs) if d.startswith("gone-")]
        H.wait_until(lambda: len(dirs()) == 9, 30, 0.2, "9 replica dirs")
        topics_tool(cluster, "--delete", "--topic", "gone")
        H.wait_until(lambda: not zk.exists("/brokers/topics/gone") and not zk.exists("/config/topics/gone")
                     and not zk.exists("/admin/delete_topics/gone"), 30, 0.2, "znodes gone")
        H.wait_until(lambda: dirs() == [], 30, 0.2, "replica dirs gone on every broker")
    finally:
        zk.close()


def test_delete_waits_for_dead_replica(cluster):
    start(cluster, 3)
    zk = Zk(cluster)
    try:
        create(cluster, "later", 1, 3)
        wait_full_isr(zk, "later")
        b2 = by_id(cluster, 2)
        b2.kill9()
        # Broker 2's session must be gone (its ISR may shrink earlier, by lag).
        H.wait_until(lambda: not zk.exists("/brokers/ids/2") and 2 not in zk.state("later", 0)["isr"], 30, 0.2,
                     "broker 2 deregistered and out of the ISR")
        topics_tool(cluster, "--delete", "--topic", "later")
        time.sleep(2)
        assert zk.exists("/admin/delete_topics/later")   # ineligible while 2 is down
        assert zk.exists("/brokers/topics/later")
        b2.start()
        H.wait_until(lambda: not zk.exists("/brokers/topics/later") and not zk.exists("/admin/delete_topics/later"),
                     40, 0.2, "deletion completes once the replica returns")
        H.wait_until(lambda: not [d for d in os.listdir(b2.logdirs) if d.startswith("later-")], 30, 0.2,
                     "dir gone on the returning broker")
    finally:
        zk.close()


def test_partition_addition_live(cluster):
    start(cluster, 3)
    zk = Zk(cluster)
    try:
        create(cluster, "grow", 2, 2)
        wait_full_isr(zk, "grow")
        topics_tool(cluster, "--alter", "--topic", "grow", "--partitions", "5")
        wait_full_isr(zk, "grow")
        rows = parse_describe(topics_tool(cluster, "--describe", "--topic", "grow").stdout)
        assert sorted(p for (_, p) in rows) == [0, 1, 2, 3, 4]
        for p in range(5):
            assert rows[("grow", p)]["Leader"] == str(zk.state("grow", p)["leader"])
    finally:
        zk.close()


def test_leader_election_tool(cluster):
    start(cluster, 3)
    zk = Zk(cluster)
    try:
        create(cluster, "pe", 0, 0, assignment="0:1:2,0:2:1")
        wait_full_isr(zk, "pe")
        b0 = by_id(cluster, 0)
        b0.stop(timeout=60)
        H.wait_until(lambda: all(s["leader"] != 0 for s in zk.states("pe")), 30, 0.2, "leadership moved off 0")
        b0.start()
        wait_full_isr(zk, "pe", timeout=90)
        assert all(s["leader"] != 0 for s in zk.states("pe"))
        r = H.run_tool([H.binary("samsa-leader-election"), "--bootstrap-server", cluster.bootstrap,
                        "--election-type", "preferred", "--all-topic-partitions"])
        assert "Successfully completed leader election (PREFERRED) for partitions" in r.stdout
        assert "pe-0" in r.stdout and "pe-1" in r.stdout
        assert all(s["leader"] == 0 for s in zk.states("pe"))
        assert not zk.exists("/admin/preferred_replica_election")
        r = H.run_tool([H.binary("samsa-leader-election"), "--zookeeper", cluster.zk_connect,
                        "--election-type", "preferred", "--topic", "pe", "--partition", "1"])
        assert r.stdout.strip() == "Valid replica already elected for partitions pe-1"
    finally:
        zk.close()


def test_reassign_to_new_broker_under_load(cluster, tmp_path):
    ck = pytest.importorskip("confluent_kafka")
    start(cluster, 3)
    zk = Zk(cluster)
    try:
        create(cluster, "mv", 0, 0, assignment="0:1")
        wait_full_isr(zk, "mv")
        acked, errors = [], []
        stop = threading.Event()

        def produce():
            p = ck.Producer({"bootstrap.servers": cluster.bootstrap, "acks": "all", "linger.ms": 5,
                             "enable.idempotence": False, "retries": 100, "retry.backoff.ms": 100})
            i = 0
            while not stop.is_set():
                v = ("m%06d" % i).encode()

                def cb(err, msg, v=v):
                    (errors if err else acked).append(v if not err else str(err))
                p.produce("mv", v, partition=0, on_delivery=cb)
                p.poll(0)
                i += 1
                time.sleep(0.002)
            p.flush(30)
        th = threading.Thread(target=produce)
        th.start()
        time.sleep(1.5)
        gen_topics = tmp_path / "topics.json"
        gen_topics.write_text('{"topics":[{"topic":"mv"}],"version":1}')
        g = H.run_tool([H.binary("samsa-reassign-partitions"), "--zookeeper", cluster.zk_connect, "--generate",
                        "--topics-to-move-json-file", str(gen_topics), "--broker-list", "1,2"])
        lines = g.stdout.splitlines()
        assert lines[0] == "Current partition replica assignment"
        assert json.loads(lines[2]) == {"version": 1, "partitions": [
            {"topic": "mv", "partition": 0, "replicas": [0, 1], "log_dirs": ["any", "any"]}]}
        assert "Proposed partition reassignment configuration" in lines
        plan = tmp_path / "plan.json"
        plan.write_text('{"version":1,"partitions":[{"topic":"mv","partition":0,"replicas":[2,1]}]}')
        x = H.run_tool([H.binary("samsa-reassign-partitions"), "--bootstrap-server", cluster.bootstrap,
                        "--execute", "--reassignment-json-file", str(plan), "--throttle", "50000000"])
        assert "Successfully started partition reassignment for mv-0" in x.stdout
        assert "The inter-broker throttle limit was set to 50000000 B/s" in x.stdout
        assert zk.get("/config/brokers/2")["config"]["follower.replication.throttled.rate"] == "50000000"

        def verify():
            return H.run_tool([H.binary("samsa-reassign-partitions"), "--zookeeper", cluster.zk_connect,
                               "--verify", "--reassignment-json-file", str(plan)]).stdout
        H.wait_until(lambda: "Reassignment of partition mv-0 is complete." in verify(), 90, 0.5,
                     "reassignment complete")
        out = verify()
        assert "Clearing broker-level throttles on brokers 0,1,2" in out
        assert "follower.replication.throttled.rate" not in zk.get("/config/brokers/2")["config"]
        assert zk.assignment("mv")["partitions"]["0"] == [2, 1]
        assert not zk.exists("/admin/reassign_partitions")
        st = zk.state("mv", 0)
        assert st["leader"] in (1, 2) and sorted(st["isr"]) == [1, 2]
        time.sleep(1)
        stop.set()
        th.join(60)
        assert acked, errors
        H.wait_until(lambda: not [d for d in os.listdir(by_id(cluster, 0).logdirs) if d.startswith("mv-")], 30,
                     0.2, "old replica deleted on broker 0")
        c = ck.Consumer({"bootstrap.servers": cluster.bootstrap, "group.id": "mvcheck",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
        c.assign([ck.TopicPartition("mv", 0, 0)])
        got = set()
        want = set(acked)          # retries may have written duplicates
        deadline = time.time() + 60
        while not want <= got and time.time() < deadline:
            m = c.poll(1.0)
            if m is not None and not m.error():
                got.add(m.value())
        c.close()
        missing = want - got
        assert not missing, "%d acknowledged messages lost, e.g. %s" % (len(missing), sorted(missing)[:5])
    finally:
        zk.close()
