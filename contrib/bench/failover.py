#!/usr/bin/python3
"""contrib/bench/failover.py - failover and replication benchmarks of a local
3-broker Samsa cluster (run through contrib/bench/failover.sh).

Owns three measurements, each on a fresh cluster (private ZooKeeper and
brokers on free 127.0.0.1 ports in a temp dir, stopped by pid on exit,
processes managed by tests/integration/samsa_harness.py):

  leader   : kill -9 of a partition leader (not the controller) while an
             acks=all producer writes to every partition of a topic with 1
             and with 1,000 partitions (RF 3). Reports the ZooKeeper
             session-expiry component (kill -> the broker's /brokers/ids
             znode gone), the election (-> every partition it led has a new
             leader in its state znode), and the client-visible gap: kill ->
             first, and -> last, successful delivery report on a partition the
             dead broker led. Deliveries before the session expired cannot
             come from a new leader (there is none yet), so only later ones
             count: stale reports of writes the dead leader acknowledged just
             before dying are excluded.
  controller: kill -9 of the controller with N partitions (default 10,000,
             RF 3): kill -> session expiry, -> new /controller, -> "Ready to
             serve" logged by the new controller, -> every partition has a
             live leader in a surviving broker's Metadata.
  throughput: contrib/bench/sm_bench produce on the same cluster, RF 3
             acks=all vs RF 1 acks=1, 100 B and 1 KiB records.

Prints one table per measurement. Environment: SAMSA_TOP_BUILDDIR,
SAMSA_TOP_SRCDIR, FAILOVER_SESSION_MS (4000: the smallest session the local
ZooKeeper grants with tickTime 2000), FAILOVER_CTRL_PARTITIONS (10000),
FAILOVER_CTRL_BROKERS (6: with RF 3 each broker then hosts 5,000
replicas, two open files each, under a 20,000 open-file limit), FAILOVER_MSGS_100 (300000), FAILOVER_MSGS_1K
(100000), FAILOVER_ONLY (comma list of leader,controller,throughput).
"""

import datetime
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

SRCDIR = os.environ.get("SAMSA_TOP_SRCDIR") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILDDIR = os.environ.get("SAMSA_TOP_BUILDDIR") or os.getcwd()
os.environ.setdefault("SAMSA_TOP_SRCDIR", SRCDIR)
os.environ.setdefault("SAMSA_TOP_BUILDDIR", BUILDDIR)
sys.path.insert(0, os.path.join(SRCDIR, "tests", "integration"))

import samsa_harness as H  # noqa: E402

from confluent_kafka import Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402
from kazoo.client import KazooClient  # noqa: E402

SESSION_MS = int(os.environ.get("FAILOVER_SESSION_MS", "4000"))
CTRL_PARTS = int(os.environ.get("FAILOVER_CTRL_PARTITIONS", "10000"))
CTRL_BROKERS = int(os.environ.get("FAILOVER_CTRL_BROKERS", "6"))
MSGS_100 = int(os.environ.get("FAILOVER_MSGS_100", "300000"))
MSGS_1K = int(os.environ.get("FAILOVER_MSGS_1K", "100000"))
ONLY = set((os.environ.get("FAILOVER_ONLY") or "leader,controller,throughput").split(","))

OVERRIDES = {
    "zookeeper.session.timeout.ms": SESSION_MS,
    "min.insync.replicas": 2,
    "unclean.leader.election.enable": "false",
    "replica.lag.time.max.ms": 10000,
    "replica.fetch.backoff.ms": 200,
    "auto.leader.rebalance.enable": "false",
    "log.segment.bytes": 64 * 1024 * 1024,
    "log.index.size.max.bytes": 1024 * 1024,
    "num.network.threads": 2,
}

class Cluster:
    def __init__(self, work, tag, n=3, extra=None):
        self.zk = H.ZooKeeper(os.path.join(work, tag))
        self.zk.start()
        self.brokers = []
        o = dict(OVERRIDES)
        o.update(extra or {})
        for i in range(n):
            b = H.Broker(os.path.join(work, tag), self.zk.connect, i, overrides=o)
            b.start(timeout=120)
            self.brokers.append(b)
        self.kz = KazooClient(hosts=self.zk.connect, timeout=15)
        self.kz.start(timeout=15)

    @property
    def bootstrap(self):
        return ",".join(b.bootstrap for b in self.brokers if b.running())

    def controller(self):
        try:
            data, _ = self.kz.get("/controller")
            return int(re.search(rb'"brokerid":(-?\d+)', data).group(1))
        except Exception:
            return None

    def registered(self, bid):
        return self.kz.exists("/brokers/ids/%d" % bid) is not None

    def state_leader(self, topic, p):
        data, _ = self.kz.get("/brokers/topics/%s/partitions/%d/state" % (topic, p))
        return int(re.search(rb'"leader":(-?\d+)', data).group(1))

    def close(self):
        try:
            self.kz.stop()
            self.kz.close()
        except Exception:
            pass
        for b in self.brokers:
            if b.running():
                b.stop(timeout=60)
        self.zk.stop()


def admin(bootstrap):
    return AdminClient({"bootstrap.servers": bootstrap, "socket.timeout.ms": 60000})


def create(c, topic, parts, rf, assignment=None, timeout=600):
    a = admin(c.bootstrap)
    nt = NewTopic(topic, num_partitions=parts, replica_assignment=assignment, config={"min.insync.replicas": "2"}) \
        if assignment else NewTopic(topic, parts, rf, config={"min.insync.replicas": "2"})
    a.create_topics([nt], request_timeout=120, operation_timeout=120)[topic].result(timeout)
    return wait_led(c, topic, parts, set(), timeout)


def leaders(bootstrap, topic, timeout=10):
    md = admin(bootstrap).list_topics(topic=topic, timeout=timeout)
    t = md.topics.get(topic)
    if t is None or t.error is not None:
        return None
    return {p: pm.leader for p, pm in t.partitions.items()}


def wait_led(c, topic, parts, dead, timeout, poll=0.05):
    """Every partition led by a live broker outside `dead` in Metadata;
    returns the {partition: leader} map."""
    live = ",".join(b.bootstrap for b in c.brokers if b.running() and b.id not in dead)

    def ok():
        m = leaders(live, topic)
        return m if m and len(m) == parts and all(l >= 0 and l not in dead for l in m.values()) else None

    return H.wait_until(ok, timeout, poll, "%d partitions of %s led" % (parts, topic))


def log_time(broker, text, since):
    """Wall time of the first log line containing text logged after `since`."""
    pat = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})\] .*" + re.escape(text))
    for line in broker.log_text().splitlines():
        m = pat.match(line)
        if m:
            t = datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
            if t >= since - 0.002:
                return t
    return None


class Load:
    """acks=all producer over every partition; remembers, per partition,
    the wall times of successful delivery reports."""

    def __init__(self, bootstrap, topic, parts, rate):
        self.topic, self.parts, self.rate = topic, parts, rate
        self.p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": False,
                           "retries": 100000000, "retry.backoff.ms": 20, "linger.ms": 2,
                           "message.timeout.ms": 300000, "request.timeout.ms": 30000,
                           "topic.metadata.refresh.interval.ms": 60000, "reconnect.backoff.ms": 20,
                           "reconnect.backoff.max.ms": 100, "max.in.flight.requests.per.connection": 5})
        self.acks = {p: [] for p in range(parts)}
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)

    def cb(self, err, msg):
        if err is None:
            now = time.time()
            with self.lock:
                self.acks[msg.partition()].append(now)

    def run(self):
        i = 0
        t0 = time.monotonic()
        while not self.stop.is_set():
            due = int((time.monotonic() - t0) * self.rate)
            while i < due and len(self.p) < 20000:
                self.p.produce(self.topic, value=b"x" * 50, partition=i % self.parts, on_delivery=self.cb)
                i += 1
            self.p.poll(0.001)
        self.p.flush(30)

    def first_after(self, parts, t):
        """{partition: first ack time > t} for those that have one."""
        out = {}
        with self.lock:
            for p in parts:
                for a in self.acks[p]:
                    if a > t:
                        out[p] = a
                        break
        return out


def bench_leader(work, parts):
    c = Cluster(work, "leader-%d" % parts)
    try:
        topic = "fo"
        ctrl = H.wait_until(lambda: [c.controller()] if c.controller() is not None else None, 30, 0.05, "controller")[0]
        if parts == 1:
            # The victim must not be the controller (that is the other bench).
            others = [b.id for b in c.brokers if b.id != ctrl]
            create(c, topic, 1, 3, assignment=[[others[0], others[1], ctrl]])
        else:
            create(c, topic, parts, 3)
        lead = wait_led(c, topic, parts, set(), 120)
        victim_id = [b.id for b in c.brokers if b.id != ctrl and b.id in lead.values()][0]
        led = [p for p, l in lead.items() if l == victim_id]
        load = Load(c.bootstrap, topic, parts, rate=2000 if parts == 1 else 20000)
        load.t.start()
        H.wait_until(lambda: all(load.acks[p] for p in range(parts)), 120, 0.1, "every partition acknowledged")
        time.sleep(1.0)
        victim = [b for b in c.brokers if b.id == victim_id][0]
        t0 = time.time()
        victim.kill9()
        H.wait_until(lambda: not c.registered(victim_id), SESSION_MS / 1000 + 30, 0.005, "session expiry")
        t_sess = time.time()
        H.wait_until(lambda: all(c.state_leader(topic, p) not in (-1, victim_id) for p in led) or None,
                     120, 0.01 if parts == 1 else 0.2, "new leaders in ZooKeeper")
        t_elect = time.time()
        H.wait_until(lambda: len(load.first_after(led, t_sess)) == len(led), 180, 0.01, "acks on every led partition")
        firsts = load.first_after(led, t_sess)
        load.stop.set()
        load.t.join(60)
        return {"partitions": parts, "led": len(led), "session": t_sess - t0, "elect": t_elect - t0,
                "first": min(firsts.values()) - t0, "last": max(firsts.values()) - t0}
    finally:
        c.close()


def bench_controller(work, parts, nbrokers):
    c = Cluster(work, "ctrl-%d" % parts, n=nbrokers)
    try:
        topic = "many"
        t = time.time()
        create(c, topic, parts, 3, timeout=1800)
        t_create = time.time() - t
        ctrl = H.wait_until(lambda: [c.controller()] if c.controller() is not None else None, 30, 0.05, "controller")[0]
        lead = wait_led(c, topic, parts, set(), 600)
        nled = sum(1 for l in lead.values() if l == ctrl)
        victim = [b for b in c.brokers if b.id == ctrl][0]
        t0 = time.time()
        victim.kill9()
        H.wait_until(lambda: not c.registered(ctrl), SESSION_MS / 1000 + 60, 0.005, "session expiry")
        t_sess = time.time()
        newc = H.wait_until(lambda: [c.controller()] if c.controller() not in (None, ctrl) else None, 120, 0.005,
                            "new controller")[0]
        t_newc = time.time()
        nb = [b for b in c.brokers if b.id == newc][0]
        H.wait_until(lambda: log_time(nb, "Ready to serve as the new controller", t0), 600, 0.05, "Ready to serve")
        t_ready = log_time(nb, "Ready to serve as the new controller", t0)
        wait_led(c, topic, parts, {ctrl}, 1800, poll=0.1)
        t_led = time.time()
        return {"partitions": parts, "brokers": nbrokers, "led": nled, "create": t_create, "session": t_sess - t0,
                "newctrl": t_newc - t0, "ready": t_ready - t0, "all_led": t_led - t0}
    finally:
        c.close()


def sm_bench(args):
    exe = os.path.join(BUILDDIR, "contrib", "bench", "sm_bench")
    out = subprocess.run([exe] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=1800)
    line = [l for l in out.stdout.splitlines() if l.startswith("RESULT")]
    if out.returncode != 0 or not line:
        raise RuntimeError("sm_bench %s failed: %s %s" % (args, out.stdout[-500:], out.stderr[-500:]))
    return dict(kv.split("=", 1) for kv in line[0].split()[1:])


def bench_throughput(work):
    c = Cluster(work, "tput")
    rows = []
    try:
        for size, n in ((100, MSGS_100), (1024, MSGS_1K)):
            for rf, acks in ((1, "1"), (3, "all")):
                topic = "tput-%d-rf%d" % (size, rf)
                create(c, topic, 3, rf)
                if rf == 3:
                    H.wait_until(lambda: all(len(c.kz.get("/brokers/topics/%s/partitions/%d/state" % (topic, p))[0]
                                                 .split(b'"isr":[')[1].split(b"]")[0].split(b",")) == 3
                                             for p in range(3)), 60, 0.1, "full ISR")
                r = sm_bench(["-b", c.bootstrap, "-t", topic, "-m", "produce", "-n", str(n), "-s", str(size),
                              "-p", "3", "-a", acks])
                rows.append((size, rf, acks, r))
    finally:
        c.close()
    return rows


def main():
    for f in ("samsa-server", os.path.join("contrib", "bench", "sm_bench")):
        if not os.access(os.path.join(BUILDDIR, f), os.X_OK):
            sys.exit("failover.py: %s not built in %s" % (f, BUILDDIR))
    # SIGTERM/SIGINT unwind through the finally below (processes killed by pid).
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
    work = tempfile.mkdtemp(prefix="samsa-failover-")
    try:
        print("zookeeper.session.timeout.ms=%d (3 brokers, RF 3, min.insync.replicas=2, unclean election off)"
              % SESSION_MS)
        if "leader" in ONLY:
            print("\n(a) kill -9 of a partition leader, acks=all producer on every partition (seconds from the kill)")
            print("%10s %8s %9s %9s %11s %10s" % ("partitions", "led", "session", "elected", "first-ack", "last-ack"))
            for parts in (1, 1000):
                r = bench_leader(work, parts)
                print("%10d %8d %9.3f %9.3f %11.3f %10.3f" % (r["partitions"], r["led"], r["session"], r["elect"],
                                                            r["first"], r["last"]))
                print("%10s %8s %9s %9.3f %11.3f %10.3f   (minus the session component)" % (
                    "", "", "", r["elect"] - r["session"], r["first"] - r["session"], r["last"] - r["session"]))
                sys.stdout.flush()
        if "controller" in ONLY:
            print("\n(b) kill -9 of the controller (seconds from the kill)")
            print("%10s %7s %8s %8s %9s %8s %8s %8s" % ("partitions", "brokers", "its-led", "create", "session",
                                                      "new-ctrl", "ready", "all-led"))
            r = bench_controller(work, CTRL_PARTS, CTRL_BROKERS)
            print("%10d %7d %8d %8.1f %9.3f %8.3f %8.3f %8.3f" % (r["partitions"], r["brokers"], r["led"], r["create"],
                                                                r["session"], r["newctrl"], r["ready"], r["all_led"]))
            sys.stdout.flush()
        if "throughput" in ONLY:
            print("\n(c) produce throughput, 3 brokers, 3 partitions, sm_bench (librdkafka)")
            print("%6s %3s %5s %9s %12s %9s" % ("size", "rf", "acks", "msgs", "msgs/s", "MB/s"))
            for size, rf, acks, r in bench_throughput(work):
                print("%6d %3d %5s %9s %12s %9s" % (size, rf, acks, r["msgs"], r["msgs_per_s"], r["mb_per_s"]))
    finally:
        H.kill_all_live()
        if os.environ.get("BENCH_KEEP"):
            print("kept %s" % work)
        else:
            H.rmtree(work)


if __name__ == "__main__":
    main()
