"""tests/integration/test_metrics.py - the Prometheus endpoint (samsa.metrics.listener).

Owns: a broker with the metrics listener on a free 127.0.0.1 port; after
producing N messages to a topic and consuming them, a scrape of /metrics
reports exactly N messages in for that topic, at least N values' bytes in
and out, Produce/Fetch request counts and latencies, partition and leader
counts matching what the broker hosts, controller gauges, per-partition log
series, connections, sendfile and process metrics, all in a well-formed
text exposition (format 0.0.4). Hostile HTTP input is refused (400/431/
close) without disturbing the broker, other paths get 404, and a metrics
port that is taken stops start-up with one clear line.
"""

import os
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

import kafka_helpers as K
import samsa_harness as H

confluent_kafka = pytest.importorskip("confluent_kafka")

N = 500
VALUE_SIZE = 100
TOPIC = "t"
PARTITIONS = 2

SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_exposition(text):
    """{(name, frozenset(labels.items())): float} plus {family: type}.

    Strict enough to catch format slips: every sample belongs to the family
    of the last # TYPE line, no family is declared twice, the text ends in
    a newline. When prometheus_client is installed its parser must accept
    the text too.
    """
    assert text.endswith("\n")
    samples, types, cur = {}, {}, None
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ", 3)
            assert name not in types, "family %s declared twice" % name
            assert typ in ("counter", "gauge", "summary", "histogram", "untyped"), line
            types[name] = typ
            cur = name
            continue
        m = SAMPLE_RE.match(line)
        assert m, "malformed sample line: %r" % line
        name, labels, value = m.group(1), m.group(2), m.group(3)
        assert cur and (name == cur or name in (cur + "_sum", cur + "_count", cur + "_bucket")), \
            "sample %s outside its family %s" % (name, cur)
        lab = dict(LABEL_RE.findall(labels or ""))
        samples[(name, frozenset(lab.items()))] = float(value)
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError:
        pass
    else:
        fams = list(text_string_to_metric_families(text))
        assert len(fams) == len(types)
    return samples, types


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())))


def total(samples, name, **labels):
    """Sum over every series of name whose labels include `labels`."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= set(ls))


def series(samples, name):
    return [dict(ls) for (n, ls) in samples if n == name]


def scrape(port, path="/metrics"):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=10) as r:
        assert r.status == 200
        assert r.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
        return r.read().decode("utf-8")


def raw_http(port, data, timeout=10):
    """Send raw bytes, return everything the server sent before closing."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
        return out
    finally:
        s.close()


@pytest.fixture(scope="module")
def mbroker(workdir, zk):
    from conftest import Cluster
    c = Cluster(workdir, zk, "metrics")
    port = H.free_port()
    try:
        b = c.add(0, overrides={"samsa.metrics.listener": "http://127.0.0.1:%d" % port,
                                "samsa.metrics.per.partition.enable": "true"})
        b.metrics_port = port
        b.cluster = c
        yield b
    finally:
        c.close()


@pytest.fixture(scope="module")
def traffic(mbroker):
    """N messages of VALUE_SIZE bytes produced to TOPIC and consumed back."""
    K.create_topic(mbroker.bootstrap, TOPIC, PARTITIONS)
    p = confluent_kafka.Producer({"bootstrap.servers": mbroker.bootstrap, "linger.ms": 5})
    for i in range(N):
        p.produce(TOPIC, value=(b"%08d" % i) * (VALUE_SIZE // 8) + b"x" * (VALUE_SIZE % 8), partition=i % PARTITIONS)
    assert p.flush(30) == 0
    got = K.consume_all(mbroker.bootstrap, TOPIC, PARTITIONS, expect=N)
    assert sum(len(v) for v in got.values()) == N
    return mbroker


def test_startup_log_names_endpoint(mbroker):
    assert ("Serving Prometheus metrics on http://127.0.0.1:%d/metrics" % mbroker.metrics_port) in mbroker.log_text()


def test_throughput_counters(traffic):
    samples, types = parse_exposition(scrape(traffic.metrics_port))
    assert types["kafka_server_brokertopicmetrics_messagesin_total"] == "counter"
    assert value(samples, "kafka_server_brokertopicmetrics_messagesin_total", topic=TOPIC) == N
    assert value(samples, "kafka_server_brokertopicmetrics_messagesin_total") >= N
    assert value(samples, "kafka_server_brokertopicmetrics_bytesin_total", topic=TOPIC) >= N * VALUE_SIZE
    assert value(samples, "kafka_server_brokertopicmetrics_bytesout_total", topic=TOPIC) >= N * VALUE_SIZE
    assert value(samples, "kafka_server_brokertopicmetrics_totalproducerequests_total", topic=TOPIC) > 0
    assert value(samples, "kafka_server_brokertopicmetrics_totalfetchrequests_total", topic=TOPIC) > 0
    assert value(samples, "kafka_server_brokertopicmetrics_failedproducerequests_total", topic=TOPIC) == 0
    assert value(samples, "kafka_server_brokertopicmetrics_failedfetchrequests_total", topic=TOPIC) == 0
    # Record data left through sendfile.
    assert value(samples, "samsa_network_sendfile_bytes_total") >= N * VALUE_SIZE
    assert value(samples, "samsa_network_sendfile_calls_total") > 0


def test_request_metrics(traffic):
    samples, types = parse_exposition(scrape(traffic.metrics_port))
    assert total(samples, "kafka_network_requestmetrics_requests_total", request="Produce") > 0
    assert total(samples, "kafka_network_requestmetrics_requests_total", request="FetchConsumer") > 0
    assert total(samples, "kafka_network_requestmetrics_requests_total", request="Metadata") > 0
    assert all(s["version"].isdigit() for s in series(samples, "kafka_network_requestmetrics_requests_total"))
    assert types["kafka_network_requestmetrics_totaltimems"] == "summary"
    assert value(samples, "kafka_network_requestmetrics_totaltimems_count", request="Produce") > 0
    p99 = value(samples, "kafka_network_requestmetrics_totaltimems", request="Produce", quantile="0.99")
    assert p99 is not None and 0 <= p99 < 30000
    assert types["samsa_network_request_duration_seconds"] == "histogram"
    assert value(samples, "samsa_network_request_duration_seconds_bucket", request="Produce", le="+Inf") == \
        value(samples, "samsa_network_request_duration_seconds_count", request="Produce")


def test_replica_and_controller_gauges(traffic):
    samples, _ = parse_exposition(scrape(traffic.metrics_port))
    md = K.admin(traffic.bootstrap).list_topics(timeout=10)
    hosted = sum(len(t.partitions) for t in md.topics.values())
    assert value(samples, "kafka_server_replicamanager_partitioncount") == hosted
    assert value(samples, "kafka_server_replicamanager_leadercount") == hosted
    assert value(samples, "kafka_server_replicamanager_underreplicatedpartitions") == 0
    assert value(samples, "kafka_server_replicamanager_offlinereplicacount") == 0
    assert value(samples, "kafka_controller_kafkacontroller_activecontrollercount") == 1
    assert value(samples, "kafka_controller_kafkacontroller_offlinepartitionscount") == 0
    assert value(samples, "kafka_controller_kafkacontroller_globalpartitioncount") == hosted
    # Per-partition log series (enabled in this fixture).
    sizes = {int(s["partition"]): value(samples, "kafka_log_log_size", **s)
             for s in series(samples, "kafka_log_log_size") if s["topic"] == TOPIC}
    assert sorted(sizes) == list(range(PARTITIONS))
    assert all(v > 0 for v in sizes.values())
    ends = [value(samples, "kafka_log_log_logendoffset", topic=TOPIC, partition=str(p)) for p in range(PARTITIONS)]
    assert sum(ends) == N
    assert value(samples, "kafka_log_log_logstartoffset", topic=TOPIC, partition="0") == 0
    assert value(samples, "kafka_server_socket_server_metrics_connection_count", listener="PLAINTEXT") >= 0
    assert value(samples, "kafka_server_socket_server_metrics_connection_creation_total", listener="PLAINTEXT") > 0
    assert value(samples, "samsa_broker_info", broker_id="0", cluster_id=traffic_cluster_id(samples),
                 version=traffic_version(samples)) == 1


def traffic_cluster_id(samples):
    return series(samples, "samsa_broker_info")[0]["cluster_id"]


def traffic_version(samples):
    return series(samples, "samsa_broker_info")[0]["version"]


def test_process_metrics(mbroker):
    samples, types = parse_exposition(scrape(mbroker.metrics_port))
    assert types["process_cpu_seconds_total"] == "counter"
    assert value(samples, "process_resident_memory_bytes") > 1 << 20
    assert value(samples, "process_open_fds") > 3
    start = value(samples, "process_start_time_seconds")
    assert time.time() - 3600 < start <= time.time() + 2


def test_deleted_topic_series_hidden(mbroker):
    K.create_topic(mbroker.bootstrap, "short-lived", 1)
    p = confluent_kafka.Producer({"bootstrap.servers": mbroker.bootstrap})
    p.produce("short-lived", value=b"v", partition=0)
    assert p.flush(30) == 0
    samples, _ = parse_exposition(scrape(mbroker.metrics_port))
    assert value(samples, "kafka_server_brokertopicmetrics_messagesin_total", topic="short-lived") == 1
    a = K.admin(mbroker.bootstrap)   # keep the client alive until the result arrives
    fs = a.delete_topics(["short-lived"], operation_timeout=15)
    fs["short-lived"].result(30)

    def gone():
        s, _ = parse_exposition(scrape(mbroker.metrics_port))
        return value(s, "kafka_server_brokertopicmetrics_messagesin_total", topic="short-lived") is None

    H.wait_until(gone, 30, 0.2, "deleted topic's series to disappear")


def test_hostile_http(mbroker):
    port = mbroker.metrics_port
    # Not HTTP at all (a TLS ClientHello, a Kafka frame): 400 and close.
    assert raw_http(port, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03").startswith(b"HTTP/1.1 400 ")
    assert raw_http(port, b"\x00\x00\x00\x0e\x00\x12\x00\x00\x00\x00\x00\x01\x00\x00").startswith(b"HTTP/1.1 400 ")
    # Oversized head: refused once the bounded buffer is full, or closed.
    out = raw_http(port, b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 20000)
    assert out == b"" or out.startswith(b"HTTP/1.1 431 ")
    # Wrong path and method.
    with pytest.raises(urllib.error.HTTPError) as e:
        scrape(port, "/nope")
    assert e.value.code == 404
    assert raw_http(port, b"POST /metrics HTTP/1.0\r\n\r\n").startswith(b"HTTP/1.1 405 ")
    # HEAD gets headers only.
    out = raw_http(port, b"HEAD /metrics HTTP/1.0\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 200 OK\r\n") and out.endswith(b"\r\n\r\n")
    # A silent client does not block a scrape.
    idle = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        assert "kafka_server_replicamanager_partitioncount" in scrape(port)
    finally:
        idle.close()
    # The broker keeps serving both its endpoint and Kafka clients.
    assert mbroker.running()
    assert K.admin(mbroker.bootstrap).list_topics(timeout=10).brokers


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool (Debian prometheus) not installed")
def test_promtool_accepts_exposition(traffic):
    text = scrape(traffic.metrics_port)
    r = subprocess.run(["promtool", "check", "metrics"], input=text.encode(), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    out = r.stdout.decode(errors="replace")
    # Exit 3 = lint remarks only. The jmx_exporter-compatible names draw two
    # known remarks (camelCase label delayedOperation, a gauge named
    # *_connection_count); anything else, or a parse error (exit 1), fails.
    assert r.returncode in (0, 3), out
    known = ("label names should be written in 'snake_case'", 'should not have "_count" suffix')
    for line in out.splitlines():
        assert any(k in line for k in known), out


def test_metrics_port_taken_refused(cluster, workdir):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    port = s.getsockname()[1]
    try:
        props = os.path.join(workdir, "metrics-taken.properties")
        with open(props, "w") as f:
            f.write("broker.id=5\nzookeeper.connect=%s\nlisteners=PLAINTEXT://127.0.0.1:%d\n"
                    "log.dirs=%s\nsamsa.metrics.listener=http://127.0.0.1:%d\n"
                    % (cluster.zk_connect, H.free_port(), os.path.join(workdir, "metrics-taken"), port))
        r = subprocess.run([H.binary("samsa-server"), props], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60)
        out = r.stdout.decode(errors="replace")
        assert r.returncode != 0
        assert ("Metrics endpoint failed to bind to 127.0.0.1:%d: Address already in use" % port) in out
    finally:
        s.close()


def test_invalid_metrics_listener_refused(cluster, workdir):
    props = os.path.join(workdir, "metrics-bad.properties")
    with open(props, "w") as f:
        f.write("broker.id=6\nzookeeper.connect=%s\nlog.dirs=%s\nsamsa.metrics.listener=https://x:1\n"
                % (cluster.zk_connect, os.path.join(workdir, "metrics-bad")))
    r = subprocess.run([H.binary("samsa-server"), props], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    assert r.returncode != 0
    assert "Invalid value https://x:1 for configuration samsa.metrics.listener" in r.stdout.decode(errors="replace")
