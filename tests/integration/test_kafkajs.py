"""tests/integration/test_kafkajs.py - kafkajs 2.2.4 (Node.js) against Samsa.

Owns: kafkajs as a first-class client. The Node side is
tests/integration/js/kjs.js (one command per client role, JSON lines out);
this module installs the kafkajs version pinned in tests/integration/js/
package.json once into <builddir>/kafkajs-cache (kept across runs), runs the
scripts and makes every assertion: producer with acks -1 and 1, keys,
headers, gzip and idempotence plus a 20k-record group read over 3 partitions (content,
order, offsets), the admin API (createTopics, fetchTopicMetadata,
fetchTopicOffsets[ByTimestamp], deleteTopicRecords, alterConfigs,
describeConfigs, createPartitions, deleteTopics; listGroups,
describeGroups, fetchOffsets, resetOffsets, deleteGroups), a consumer group of three
kafkajs members on 6 partitions through a clean leave, a SIGKILL (session
timeout 6 s) and a restart that resumes exactly at the committed offsets,
records crossing between kafkajs and confluent-kafka both ways (gzip too),
and the API versions kafkajs negotiated (asserted and logged).

Skips with a reason when node is missing or npm cannot fetch kafkajs.
"""

import json
import os
import shutil
import signal
import subprocess
import threading
import time

import pytest

import kafka_helpers as K
import samsa_harness as H

JS_DIR = os.path.join(H.SRCDIR, "tests", "integration", "js")
SCRIPT = os.path.join(JS_DIR, "kjs.js")
# Kept across runs; SAMSA_KAFKAJS_CACHE points elsewhere (a CI cache, say).
CACHE = os.environ.get("SAMSA_KAFKAJS_CACHE") or os.path.join(H.BUILDDIR, "kafkajs-cache")

# apiName -> set of versions kafkajs put on the wire, over every run here.
VERSIONS = {}
# The functional tests that ran to the end (all of them: demand every API).
COMPLETED = set()
FUNCTIONAL = {"bulk", "from_confluent", "admin", "group"}

# What kafkajs 2.2.4 must pick from our ApiVersions table: min(its highest
# implemented version, our max) -- see src/server/sm_handlers.c apis[].
EXPECTED_VERSIONS = {
    "ApiVersions": 2, "Metadata": 6, "Produce": 7, "Fetch": 11, "ListOffsets": 3,
    "GroupCoordinator": 2, "JoinGroup": 5, "SyncGroup": 3, "Heartbeat": 3,
    "LeaveGroup": 3, "OffsetCommit": 5, "OffsetFetch": 4, "CreateTopics": 3,
    "DeleteTopics": 1, "DescribeConfigs": 2, "CreatePartitions": 1, "InitProducerId": 1,
    "ListGroups": 2, "DescribeGroups": 2, "DeleteGroups": 1, "AlterConfigs": 1,
    "DeleteRecords": 1,
}


def _pinned_version():
    with open(os.path.join(JS_DIR, "package.json")) as f:
        return json.load(f)["dependencies"]["kafkajs"]


def _installed_version():
    try:
        with open(os.path.join(CACHE, "node_modules", "kafkajs", "package.json")) as f:
            return json.load(f).get("version")
    except (OSError, ValueError):
        return None


@pytest.fixture(scope="module")
def kjs():
    """Environment for `node kjs.js`; installs kafkajs into the cache once."""
    node = shutil.which("node")
    if not node:
        pytest.skip("node not installed (apt-get install nodejs npm)")
    want = _pinned_version()
    if _installed_version() != want:
        npm = shutil.which("npm")
        if not npm:
            pytest.skip("npm not installed: cannot fetch kafkajs@%s" % want)
        env = dict(os.environ, npm_config_fetch_retries="1", npm_config_update_notifier="false",
                   npm_config_fetch_timeout="30000")
        try:
            r = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--prefix", CACHE,
                                "kafkajs@" + want], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, timeout=180)
            out = r.stdout
        except subprocess.TimeoutExpired:
            out = "timed out after 180s"
        if _installed_version() != want:
            errs = [ln for ln in out.splitlines() if ln.startswith(("npm error", "npm ERR!"))]
            pytest.skip("npm could not install kafkajs@%s (registry unreachable?): %s"
                        % (want, " | ".join(errs[:3]) or out.strip()[-300:]))
    return dict(os.environ, NODE_PATH=os.path.join(CACHE, "node_modules"))


def _note_versions(events):
    for e in events:
        if e.get("ev") == "versions":
            for api, vs in e["versions"].items():
                VERSIONS.setdefault(api, set()).update(vs)


def run_kjs(env, cmd, spec, timeout=90):
    """Run one kjs.js command to completion; return its events (dicts)."""
    r = subprocess.run(["node", SCRIPT, cmd, json.dumps(spec)], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=timeout, cwd=JS_DIR)
    events = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
    _note_versions(events)
    errs = [e for e in events if e["ev"] == "error"]
    assert r.returncode == 0 and not errs, "kjs.js %s exited %d: %s\nstderr:\n%s" % (
        cmd, r.returncode, errs, r.stderr[-3000:])
    return events


def of(events, ev):
    return [e for e in events if e["ev"] == ev]


def expected_record(i, prefix=""):
    """Record i of a `kjs.js produce` run (mirrors record() in kjs.js)."""
    return {"k": "%sk%d" % (prefix, i), "v": "%sv%d-%s" % (prefix, i, "x" * (i % 40)),
            "h": {"seq": str(i), "src": "kafkajs"}}


def check_produce_offsets(events, n, partitions, chunk, start):
    """Each send's base offset per partition continues where the last ended."""
    nxt = dict(start)
    sent = of(events, "sent")
    for s in range(0, n, chunk):
        counts = {}
        for i in range(s, min(n, s + chunk)):
            counts[i % partitions] = counts.get(i % partitions, 0) + 1
        got = {e["p"]: e for e in sent if e["first"] == s}
        assert sorted(got) == sorted(counts), (s, got)
        for p, c in counts.items():
            assert got[p]["err"] == 0 and got[p]["base"] == nxt[p], (s, p, got[p], nxt[p])
            nxt[p] += c
    return nxt


# ---------------------------------------------------------------- produce / consume


def test_kafkajs_produce_acks_gzip_consume_20k(broker, kjs):
    bs = broker.bootstrap
    topic, P, half = "kjs-bulk", 3, 10_000
    K.create_topic(bs, topic, P)
    ev1 = run_kjs(kjs, "produce", {"brokers": [bs], "topic": topic, "n": half, "partitions": P,
                                   "acks": -1, "gzip": False, "chunk": 500, "prefix": "a",
                                   "idempotent": True})
    nxt = check_produce_offsets(ev1, half, P, 500, {p: 0 for p in range(P)})
    ev2 = run_kjs(kjs, "produce", {"brokers": [bs], "topic": topic, "n": half, "partitions": P,
                                   "acks": 1, "gzip": True, "chunk": 500, "prefix": "g"})
    nxt = check_produce_offsets(ev2, half, P, 500, nxt)
    assert sum(nxt.values()) == 2 * half

    # Per partition: the plain run's records, then the gzip run's, in order.
    want = {p: [] for p in range(P)}
    for prefix in ("a", "g"):
        for i in range(half):
            want[i % P].append(expected_record(i, prefix))

    ev = run_kjs(kjs, "consume", {"brokers": [bs], "topic": topic, "groupId": "kjs-bulk-reader",
                                  "expect": 2 * half, "timeoutMs": 60000}, timeout=90)
    msgs = of(ev, "msg")
    assert len(msgs) == 2 * half
    for p in range(P):
        got = [m for m in msgs if m["p"] == p]
        assert [m["o"] for m in got] == list(range(len(want[p]))), "partition %d offsets" % p
        assert [{"k": m["k"], "v": m["v"], "h": m["h"]} for m in got] == want[p], \
            "partition %d content" % p

    # Cross-client: confluent-kafka reads what kafkajs wrote (plain and gzip).
    pytest.importorskip("confluent_kafka")
    cmsgs = K.consume_all(bs, topic, P)
    for p in range(P):
        got = [{"k": m.key().decode(), "v": m.value().decode(),
                "h": {k: v.decode() for k, v in (m.headers() or [])}} for m in cmsgs[p]]
        assert [m.offset() for m in cmsgs[p]] == list(range(len(want[p])))
        assert got == want[p], "confluent-kafka view of partition %d" % p
    COMPLETED.add("bulk")


def test_confluent_gzip_to_kafkajs(broker, kjs):
    ck = pytest.importorskip("confluent_kafka")
    bs = broker.bootstrap
    topic, P, n = "kjs-from-confluent", 2, 3000
    K.create_topic(bs, topic, P)
    prod = ck.Producer({"bootstrap.servers": bs, "compression.type": "gzip", "linger.ms": 20,
                        "acks": "all"})
    want = {p: [] for p in range(P)}
    for i in range(n):
        k, v = "ck%d" % i, "confluent-%d-%s" % (i, "y" * (i % 60))
        prod.produce(topic, key=k, value=v, partition=i % P, headers=[("n", str(i)), ("lib", "rdkafka")])
        want[i % P].append({"k": k, "v": v, "h": {"n": str(i), "lib": "rdkafka"}})
    assert prod.flush(30) == 0
    ev = run_kjs(kjs, "consume", {"brokers": [bs], "topic": topic, "groupId": "kjs-ck-reader",
                                  "expect": n, "timeoutMs": 40000}, timeout=60)
    msgs = of(ev, "msg")
    assert len(msgs) == n
    for p in range(P):
        got = [m for m in msgs if m["p"] == p]
        assert [m["o"] for m in got] == list(range(len(want[p])))
        assert [{"k": m["k"], "v": m["v"], "h": m["h"]} for m in got] == want[p]
    COMPLETED.add("from_confluent")


# ---------------------------------------------------------------- admin


def test_kafkajs_admin(broker, kjs):
    bs = broker.bootstrap
    t1, t2 = "kjs-admin-a", "kjs-admin-b"
    ev = run_kjs(kjs, "admin", {"brokers": [bs], "topic": t1, "topic2": t2})
    assert of(ev, "createTopics")[0]["result"] is True
    assert of(ev, "createTopicsAgain")[0]["result"] is False
    listed = of(ev, "listTopics")[0]["topics"]
    assert t1 in listed and t2 in listed
    md = {t["name"]: t["partitions"] for t in of(ev, "metadata")[0]["topics"]}
    assert [p["id"] for p in md[t1]] == [0, 1, 2] and [p["id"] for p in md[t2]] == [0, 1]
    for parts in md.values():
        for p in parts:
            assert p["err"] == 0 and p["leader"] == broker.id
            assert p["replicas"] == [broker.id] and p["isr"] == [broker.id]
    offs = of(ev, "offsets")[0]["partitions"]
    assert offs == [{"p": 0, "offset": "5", "high": "5", "low": "0"},
                    {"p": 1, "offset": "3", "high": "3", "low": "0"},
                    {"p": 2, "offset": "0", "high": "0", "low": "0"}]
    # p0's first record with timestamp >= TS0+3s; p1's records are newer;
    # p2 is empty (kafkajs then reports the high watermark).
    assert of(ev, "offsetsByTimestamp")[0]["partitions"] == [
        {"p": 0, "offset": "3"}, {"p": 1, "offset": "0"}, {"p": 2, "offset": "0"}]
    assert of(ev, "offsetsAfterDeleteRecords")[0]["partitions"][0] == \
        {"p": 0, "offset": "5", "high": "5", "low": "2"}
    # After AlterConfigs {retention.ms, segment.bytes}: the create-time
    # cleanup.policy override is gone (AlterConfigs replaces the whole set).
    (res,) = of(ev, "configs")[0]["resources"]
    assert res["err"] == 0 and res["name"] == t1 and res["type"] == 2
    entries = {e["name"]: e for e in res["entries"]}
    assert sorted(entries) == ["cleanup.policy", "retention.ms", "segment.bytes"]
    assert entries["retention.ms"]["value"] == "7200000" and not entries["retention.ms"]["isDefault"]
    assert entries["segment.bytes"]["value"] == "1048576" and not entries["segment.bytes"]["isDefault"]
    assert entries["cleanup.policy"]["value"] == "delete" and entries["cleanup.policy"]["isDefault"]
    assert of(ev, "createPartitions")[0]["partitions"] == 3
    assert of(ev, "deleted")[0]["remaining"] == []
    COMPLETED.add("admin")


# ---------------------------------------------------------------- consumer group


class JsMember:
    """One `kjs.js member` process and the events it has reported."""

    def __init__(self, env, workdir, spec, name):
        self.name = name
        self.errfile = os.path.join(workdir, "kjs-%s-%d.err" % (name, time.monotonic_ns()))
        with open(self.errfile, "w") as err:
            self.proc = subprocess.Popen(["node", SCRIPT, "member", json.dumps(spec)], env=env,
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=err, text=True, cwd=JS_DIR,
                                         start_new_session=True)
        H.LIVE[self.proc.pid] = "kafkajs member %s" % name
        self.events = []
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            if line.startswith("{"):
                e = json.loads(line)
                with self.lock:
                    self.events.append(e)

    def of(self, ev):
        with self.lock:
            return [e for e in self.events if e["ev"] == ev]

    def last_assign(self):
        a = self.of("assign")
        return a[-1] if a else None

    def stop(self, timeout=30):
        """Clean shutdown: kafkajs disconnect() (commit, LeaveGroup)."""
        self.proc.stdin.write("stop\n")
        self.proc.stdin.flush()
        try:
            rc = self.proc.wait(timeout)
        finally:
            self.kill()
        self.reader.join(5)
        _note_versions(self.events)
        assert rc == 0 and self.of("stopped"), "member %s: rc %s\n%s" % (
            self.name, rc, H.tail(self.errfile, 40))

    def kill(self, sig=signal.SIGKILL):
        if self.proc.poll() is None:
            H.kill_pid(self.proc.pid, sig)
        H.LIVE.pop(self.proc.pid, None)

    def describe(self):
        a = self.last_assign()
        return "%s(alive=%s gen=%s parts=%s msgs=%d crash=%s)" % (
            self.name, self.proc.poll() is None, a and a["gen"], a and a["parts"],
            len(self.of("msg")), self.of("crash"))


def stable(members, per_member):
    """The newest generation of every live member is the same one, and its
    assignment splits all 6 partitions among them, per_member each."""
    last = [m.last_assign() for m in members]
    if any(a is None for a in last) or len({a["gen"] for a in last}) != 1:
        return None
    parts = sorted(p for a in last for p in a["parts"])
    if parts != list(range(6)) or any(len(a["parts"]) != per_member for a in last):
        return None
    return last[0]["gen"]


def test_kafkajs_consumer_group(broker, kjs, workdir):
    bs = broker.bootstrap
    topic, group, P, per = "kjs-group6", "kjs-g6", 6, 100
    K.create_topic(bs, topic, P)
    spec = {"brokers": [bs], "topic": topic, "groupId": group, "sessionTimeout": 6000,
            "heartbeatInterval": 500}
    everyone = []

    def start(name):
        m = JsMember(kjs, workdir, dict(spec, clientId="kjs-" + name), name)
        everyone.append(m)
        return m

    def wait(pred, timeout, what):
        try:
            return H.wait_until(pred, timeout, 0.1, what)
        except TimeoutError:
            raise AssertionError("timed out waiting for %s: %s" % (
                what, "; ".join(m.describe() for m in everyone)))

    def produce(phase):
        """Produce `per` records to each partition, tagged with the phase."""
        run_kjs(kjs, "produce", {"brokers": [bs], "topic": topic, "n": per * P, "partitions": P,
                                 "acks": -1, "gzip": phase in ("B", "D"), "prefix": phase})

    def all_msgs():
        return [(m, e) for m in everyone for e in m.of("msg")]

    def committed():
        best = {}
        for m in everyone:
            for c in m.of("commit"):
                best[c["p"]] = max(best.get(c["p"], -1), c["o"])
        return best

    def drained(end):
        """Everything up to offset `end` in every partition consumed and committed."""
        return (len(all_msgs()) >= end * P and
                committed() == {p: end for p in range(P)})

    try:
        a, b, c = start("a"), start("b"), start("c")
        g1 = wait(lambda: stable([a, b, c], 2), 60, "3 members with 2 partitions each")
        produce("A")
        wait(lambda: drained(per), 60, "phase A consumed and committed")
        for m in (a, b, c):
            mine = set(m.last_assign()["parts"])
            got = {e["p"] for e in m.of("msg")}
            assert got == mine, "%s consumed %s, owns %s" % (m.name, got, mine)

        # A clean leave (LeaveGroup): the two others share its partitions.
        c.stop()
        g2 = wait(lambda: stable([a, b], 3), 30, "2 members after a clean leave")
        assert g2 > g1
        produce("B")
        wait(lambda: drained(2 * per), 60, "phase B consumed and committed")

        # SIGKILL: the dead member is expired after its 6 s session timeout.
        t0 = time.monotonic()
        b.kill()
        g3 = wait(lambda: stable([a], 6), 40, "1 member after a SIGKILL")
        assert time.monotonic() - t0 >= 4.0, "the killed member was expired too early"
        assert g3 > g2
        produce("C")
        wait(lambda: drained(3 * per), 60, "phase C consumed and committed")

        # Stop the last member, write more, restart: resume at the commits.
        a.stop()
        produce("D")
        d, e = start("d"), start("e")
        wait(lambda: stable([d, e], 3), 60, "2 new members")
        wait(lambda: drained(4 * per), 60, "phase D consumed and committed")
        for m in (d, e):
            assert all(x["o"] >= 3 * per and x["v"].startswith("D") for x in m.of("msg")), \
                "%s re-read records before the committed offsets" % m.name
        d.stop()
        e.stop()
    finally:
        for m in everyone:
            m.kill()

    # The coordinator's view, through kafkajs admin: an empty group whose
    # committed offsets (OffsetFetch) are the end of every partition.
    ev = run_kjs(kjs, "groupadmin", {"brokers": [bs], "topic": topic, "groupId": group})
    assert {"id": group, "type": "consumer"} in of(ev, "listGroups")[0]["groups"]
    assert of(ev, "describeGroups")[0]["groups"] == [
        {"id": group, "err": 0, "state": "Empty", "protocolType": "consumer", "members": 0}]
    assert of(ev, "fetchOffsets")[0]["partitions"] == [{"p": p, "o": 4 * per} for p in range(P)]
    # resetOffsets(earliest) commits the EARLIEST sentinel (-2), as on Kafka.
    assert of(ev, "afterReset")[0]["partitions"] == [{"p": p, "o": -2} for p in range(P)]
    assert group not in of(ev, "afterDelete")[0]["groups"]
    COMPLETED.add("group")

    # Every record exactly once, offsets contiguous, content as produced.
    msgs = all_msgs()
    assert len(msgs) == 4 * per * P
    assert len({(e["p"], e["o"]) for _, e in msgs}) == len(msgs), "a record was delivered twice"
    for p in range(P):
        got = sorted((e for _, e in msgs if e["p"] == p), key=lambda e: e["o"])
        assert [e["o"] for e in got] == list(range(4 * per))
        want = [expected_record(i, ph) for ph in "ABCD" for i in range(p, per * P, P)]
        assert [{"k": e["k"], "v": e["v"], "h": e["h"]} for e in got] == want

    # One owner per partition per generation; records only from owned partitions.
    owners = {}
    for m in everyone:
        for a_ in m.of("assign"):
            for p in a_["parts"]:
                key = (a_["gen"], p)
                assert owners.get(key, m.name) == m.name, \
                    "partition %d owned by %s and %s in generation %d" % (p, owners[key], m.name, a_["gen"])
                owners[key] = m.name
    for m, e in msgs:
        assert owners.get((e["gen"], e["p"])) == m.name, \
            "%s consumed partition %d in generation %s without owning it" % (m.name, e["p"], e["gen"])
    for m in everyone:
        assert not m.of("crash"), (m.name, m.of("crash"))


# ---------------------------------------------------------------- versions (last)


def test_kafkajs_negotiated_versions(kjs):
    """kafkajs picks min(its max, our max) for each API; log what it used."""
    if not VERSIONS:
        pytest.skip("no kafkajs run recorded versions (tests deselected)")
    line = ", ".join("%s v%s" % (api, "/".join(map(str, sorted(vs))))
                     for api, vs in sorted(VERSIONS.items()))
    H.log("kafkajs negotiated: " + line)
    with open(os.path.join(H.BUILDDIR, "kafkajs-versions.txt"), "w") as f:
        f.write(line + "\n")
    for api, v in EXPECTED_VERSIONS.items():
        if api in VERSIONS:
            assert VERSIONS[api] == {v}, "%s: kafkajs used %s, expected v%d" % (api, VERSIONS[api], v)
        else:
            assert COMPLETED != FUNCTIONAL, "kafkajs never sent %s" % api
