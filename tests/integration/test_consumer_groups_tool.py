"""tests/integration/test_consumer_groups_tool.py - samsa-consumer-groups.

Owns: kafka-consumer-groups.sh behaviour of samsa-consumer-groups against a
real group coordinator. A confluent-kafka group consumes part of a topic and
commits; --list shows it; --describe prints Kafka 2.3+'s table with the right
CURRENT-OFFSET / LOG-END-OFFSET / LAG per partition, the member columns while
the consumer is live and "-" (plus "has no active members.") once it left;
--members/--state views; --reset-offsets refuses an active group, dry-runs by
default, and with --execute (--to-earliest, --shift-by, --to-offset,
--to-datetime) moves where the next consumer starts; --delete-offsets and
--delete remove the group's offsets and the group ("does not exist" after).
"""

import re
import time

import pytest

import kafka_helpers as K
import samsa_harness as H

confluent_kafka = pytest.importorskip("confluent_kafka")
from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402

pytestmark = pytest.mark.skipif(not H.have_binary("samsa-consumer-groups"),
                                reason="samsa-consumer-groups not built")

P = 3
PER_PART = 10


def cg(b, *args, check=True):
    return H.run_tool([H.binary("samsa-consumer-groups"), "--bootstrap-server", b.bootstrap] + list(args),
                      check=check)


def fill(bootstrap, topic):
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    for part in range(P):
        for i in range(PER_PART):
            p.produce(topic, value=b"p%d-%d" % (part, i), partition=part)
    assert p.flush(30) == 0


def consumer(bootstrap, group, client_id="cg-tool-client"):
    return Consumer({"bootstrap.servers": bootstrap, "group.id": group, "client.id": client_id,
                     "auto.offset.reset": "earliest", "enable.auto.commit": False,
                     "session.timeout.ms": 6000, "heartbeat.interval.ms": 500,
                     "fetch.wait.max.ms": 100})


def consume_and_commit(c, topic, per_partition):
    """Consume exactly per_partition[p] records of each partition, then commit them."""
    c.subscribe([topic])
    want = dict(per_partition)
    got = {p: 0 for p in want}
    deadline = time.time() + 60
    while any(got[p] < want[p] for p in want) and time.time() < deadline:
        m = c.poll(0.5)
        if m is None or m.error():
            continue
        p = m.partition()
        if got[p] < want[p]:
            got[p] += 1
            if got[p] == want[p]:
                c.commit(offsets=[TopicPartition(topic, p, m.offset() + 1)], asynchronous=False)
            # Stop fetching a partition once we have what we want.
            if got[p] >= want[p]:
                c.pause([TopicPartition(topic, p)])
    assert got == want, got


def first_offsets(bootstrap, group, topic):
    """Offset of the first record a fresh member of group gets, per partition."""
    c = consumer(bootstrap, group, "cg-tool-probe")
    c.subscribe([topic])
    first = {}
    deadline = time.time() + 60
    while len(first) < P and time.time() < deadline:
        m = c.poll(0.5)
        if m is None or m.error():
            continue
        first.setdefault(m.partition(), m.offset())
    c.close()
    return first


def table(stdout):
    """Rows of a describe table as lists of columns (header excluded)."""
    lines = [ln for ln in stdout.splitlines() if ln.strip()]
    assert lines[0].split() == ["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG",
                                "CONSUMER-ID", "HOST", "CLIENT-ID"], stdout
    return [ln.split() for ln in lines[1:]]


def wait_state(b, group, state, timeout=30):
    def ok():
        r = cg(b, "--describe", "--group", group, "--state", check=False)
        return state in r.stdout
    H.wait_until(ok, timeout, 0.3, "group %s to be %s" % (group, state))


def test_describe_reset_delete(broker):
    t, g = "cgt-topic", "cgt-group"
    K.create_topic(broker.bootstrap, t, P)
    fill(broker.bootstrap, t)
    c = consumer(broker.bootstrap, g)
    consume_and_commit(c, t, {0: 4, 1: 7, 2: 10})

    assert g in cg(broker, "--list").stdout.split("\n")
    wait_state(broker, g, "Stable")

    # Live member: its ids are in the table; columns aligned like Kafka.
    r = cg(broker, "--describe", "--group", g)
    assert r.stdout.startswith("\nGROUP")
    rows = table(r.stdout)
    assert [(x[0], x[1], x[2], x[3], x[4], x[5]) for x in rows] == [
        (g, t, "0", "4", "10", "6"), (g, t, "1", "7", "10", "3"), (g, t, "2", "10", "10", "0")]
    assert all(x[6].startswith("cg-tool-client") and x[8] == "cg-tool-client" for x in rows)
    header = r.stdout.splitlines()[1]
    assert header.index("TOPIC") == max(15, len(g)) + 1
    assert header.index("PARTITION") == header.index("TOPIC") + max(15, len(t)) + 1

    r = cg(broker, "--describe", "--group", g, "--members", "--verbose")
    lines = [ln for ln in r.stdout.splitlines() if ln.strip()]
    assert lines[0].split() == ["GROUP", "CONSUMER-ID", "HOST", "CLIENT-ID", "#PARTITIONS", "ASSIGNMENT"]
    assert lines[1].split()[0] == g and lines[1].split()[4] == "3"
    assert lines[1].rstrip().endswith("%s(0,1,2)" % t)
    r = cg(broker, "--describe", "--group", g, "--state")
    lines = [ln for ln in r.stdout.splitlines() if ln.strip()]
    assert lines[0].split() == ["GROUP", "COORDINATOR", "(ID)", "ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS"]
    assert lines[1].split()[0] == g and "Stable" in lines[1].split() and lines[1].split()[-1] == "1"

    # Resetting an active group is refused.
    r = cg(broker, "--reset-offsets", "--group", g, "--topic", t, "--to-earliest", "--execute", check=False)
    assert ("Error: Assignments can only be reset if the group '%s' is inactive, but the current state is Stable."
            % g) in r.stdout

    c.close()
    wait_state(broker, g, "Empty")
    r = cg(broker, "--describe", "--group", g)
    assert "Consumer group '%s' has no active members." % g in r.stderr
    rows = table(r.stdout)
    assert [x[:9] for x in rows] == [[g, t, "0", "4", "10", "6", "-", "-", "-"],
                                     [g, t, "1", "7", "10", "3", "-", "-", "-"],
                                     [g, t, "2", "10", "10", "0", "-", "-", "-"]]

    # Dry run (the default) prints the plan and changes nothing.
    r = cg(broker, "--reset-offsets", "--group", g, "--all-topics", "--to-earliest")
    assert "WARN: No action will be performed as the --execute option is missing." in r.stderr
    plan = [ln.split() for ln in r.stdout.splitlines() if ln.strip()]
    assert plan[0] == ["GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"]
    assert sorted(plan[1:]) == [[g, t, "0", "0"], [g, t, "1", "0"], [g, t, "2", "0"]]
    assert [x[3] for x in table(cg(broker, "--describe", "--group", g).stdout)] == ["4", "7", "10"]

    # --shift-by with clamping to the log end, on one partition list.
    r = cg(broker, "--reset-offsets", "--group", g, "--topic", "%s:0,2" % t, "--shift-by", "-2", "--execute")
    plan = sorted(ln.split() for ln in r.stdout.splitlines()[2:] if ln.strip())
    assert plan == [[g, t, "0", "2"], [g, t, "2", "8"]]
    assert [x[3] for x in table(cg(broker, "--describe", "--group", g).stdout)] == ["2", "7", "8"]
    r = cg(broker, "--reset-offsets", "--group", g, "--topic", "%s:1" % t, "--to-offset", "99", "--execute")
    assert "New offset (99) is higher than latest offset" in r.stderr
    assert [x[3] for x in table(cg(broker, "--describe", "--group", g).stdout)] == ["2", "10", "8"]

    # --to-earliest --execute: the next member starts from 0 everywhere.
    cg(broker, "--reset-offsets", "--group", g, "--all-topics", "--to-earliest", "--execute")
    assert first_offsets(broker.bootstrap, g, t) == {0: 0, 1: 0, 2: 0}
    wait_state(broker, g, "Empty")

    # --to-datetime far in the future = log end; --export CSV.
    r = cg(broker, "--reset-offsets", "--group", g, "--all-topics", "--to-datetime", "2999-01-01T00:00:00.000",
           "--export", "--dry-run")
    assert sorted(r.stdout.split()) == ["%s,%d,10" % (t, p) for p in range(P)]
    r = cg(broker, "--reset-offsets", "--group", g, "--all-topics", "--by-duration", "P1D", "--export", "--dry-run")
    assert sorted(r.stdout.split()) == ["%s,%d,0" % (t, p) for p in range(P)]

    # --delete-offsets on one partition.
    c2 = consumer(broker.bootstrap, g)
    consume_and_commit(c2, t, {0: 3, 1: 3, 2: 3})
    c2.close()
    wait_state(broker, g, "Empty")
    r = cg(broker, "--delete-offsets", "--group", g, "--topic", "%s:1" % t)
    assert "Request succeed for deleting offsets with topic %s group %s" % (t, g) in r.stdout
    assert re.search(r"^%s\s+1\s+Successful" % t, r.stdout, re.M), r.stdout
    assert [(x[2], x[3]) for x in table(cg(broker, "--describe", "--group", g).stdout)] == [("0", "3"), ("2", "3")]

    # --delete, then the group is gone.
    r = cg(broker, "--delete", "--group", g)
    assert r.stdout.strip() == "Deletion of requested consumer groups ('%s') was successful." % g
    assert g not in cg(broker, "--list").stdout.split("\n")
    r = cg(broker, "--describe", "--group", g)
    assert "Error: Consumer group '%s' does not exist." % g in r.stdout


def test_delete_active_group_fails_and_usage(broker):
    t, g = "cgt-active", "cgt-active-group"
    K.create_topic(broker.bootstrap, t, P)
    fill(broker.bootstrap, t)
    c = consumer(broker.bootstrap, g)
    consume_and_commit(c, t, {0: 1, 1: 1, 2: 1})
    wait_state(broker, g, "Stable")
    r = cg(broker, "--delete", "--group", g, check=False)
    assert r.returncode == 1
    assert "Error: Deletion of some consumer groups failed:" in r.stdout
    assert "* Group '%s' could not be deleted due to: org.apache.kafka.common.errors.GroupNotEmptyException" % g \
        in r.stdout
    r = cg(broker, "--list", "--state")
    lines = [ln.split() for ln in r.stdout.splitlines()]
    assert lines[0] == ["GROUP", "STATE"] and [g, "Stable"] in lines
    assert cg(broker, "--list", "--state", "empty").stdout.split("\n")[0].split() == ["GROUP", "STATE"]
    assert g not in cg(broker, "--list", "--state", "empty").stdout
    c.close()
    r = cg(broker, "--reset-offsets", "--group", g, "--to-earliest", check=False)
    assert r.returncode == 1 and "[all-topics], [topic]" in r.stderr
    r = cg(broker, "--describe", check=False)
    assert r.returncode == 1 and "[all-groups], [group]" in r.stderr
    r = cg(broker, "--describe", "--group", "cgt-never-existed")
    assert "Error: Consumer group 'cgt-never-existed' does not exist." in r.stdout
