"""tests/integration/test_sendfile.py - the Fetch path sends record data with sendfile(2).

Owns: attaching strace to the running broker while a consumer reads a topic
and asserting that sendfile calls moved (about) the topic's bytes, i.e. the
zero-copy path is used rather than read()+write() through user space.
"""

import os
import re
import shutil
import signal
import subprocess
import time

import pytest

import kafka_helpers as K
import samsa_harness as H

confluent_kafka = pytest.importorskip("confluent_kafka")

pytestmark = pytest.mark.skipif(shutil.which("strace") is None, reason="strace not installed")

SENDFILE_RE = re.compile(r"sendfile(?:64)?\((\d+), (\d+), .*\) = (\d+)")


def test_fetch_uses_sendfile(broker, workdir):
    topic = "zero-copy"
    K.create_topic(broker.bootstrap, topic, 1)
    p = confluent_kafka.Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 20})
    n, size = 5000, 1000
    for i in range(n):
        p.produce(topic, value=(b"%08d" % i) * (size // 8), partition=0)
    assert p.flush(30) == 0

    out = os.path.join(workdir, "strace-sendfile.txt")
    st = subprocess.Popen(["strace", "-f", "-qq", "-e", "trace=sendfile,sendfile64",
                           "-o", out, "-p", str(broker.pid)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    H.LIVE[st.pid] = "strace"
    try:
        # strace needs a moment to attach to every thread.
        time.sleep(1.5)
        if st.poll() is not None:
            pytest.skip("strace cannot attach here: %s" % st.stderr.read().decode()[-500:])
        got = K.consume_all(broker.bootstrap, topic, 1, expect=n)[0]
        assert [m.offset() for m in got] == list(range(n))
        assert all(m.value() == (b"%08d" % m.offset()) * (size // 8) for m in got)
        time.sleep(0.5)
    finally:
        st.send_signal(signal.SIGINT)
        try:
            st.wait(10)
        except subprocess.TimeoutExpired:
            st.kill()
            st.wait(5)
        H.LIVE.pop(st.pid, None)
    with open(out) as f:
        text = f.read()
    calls = [m for m in SENDFILE_RE.finditer(text)]
    assert calls, "no successful sendfile() during the fetch; strace saw:\n%s" % text[-2000:]
    moved = sum(int(m.group(3)) for m in calls)
    # Record data (values plus batch/record overhead) went out via sendfile.
    assert moved >= n * size, "sendfile moved only %d bytes for %d bytes of values" % (moved, n * size)
