"""tests/integration/samsa_harness.py - process harness for the integration suite.

Owns: locating the built binaries, starting/stopping a local ZooKeeper (through
contrib/samsa-zk-local) and samsa-server processes on free 127.0.0.1 ports,
readiness checks, and the bookkeeping that guarantees every process we start
is killed by pid, even when a test fails or pytest is interrupted.

Every started process is recorded in LIVE; conftest.py kills what is left at
session end and atexit, and attaches broker log tails to failing test reports.
"""

import atexit
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

SRCDIR = os.environ.get("SAMSA_TOP_SRCDIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BUILDDIR = os.environ.get("SAMSA_TOP_BUILDDIR") or os.getcwd()
ZK_SCRIPT = os.path.join(SRCDIR, "contrib", "samsa-zk-local")

STARTED_RE = re.compile(r"\[KafkaServer id=(-?\d+)\] started")

# pid -> description of every process we started and have not yet reaped.
LIVE = {}
# Broker objects started during the current test (for failure reports).
RECENT_BROKERS = []


def binary(name):
    """Absolute path of a built program (samsa-server, samsa-topics, ...)."""
    env = os.environ.get("SAMSA_" + name.upper().replace("-", "_") + "_BIN")
    return env or os.path.join(BUILDDIR, name)


def have_binary(name):
    p = binary(name)
    return os.path.isfile(p) and os.access(p, os.X_OK)


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago.

    The kernel picks it; the small race until the server binds is accepted
    (ports come from the ephemeral range, which listeners rarely use).
    """
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def port_open(port, host="127.0.0.1", timeout=0.5):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class GiveUp(Exception):
    """Raised by a wait_until predicate to stop waiting at once (e.g. the
    process being waited for has exited)."""


def wait_until(pred, timeout, interval=0.1, what="condition"):
    """Poll pred() until it returns a truthy value; raise TimeoutError.

    Exceptions from pred() are retried (reported with the timeout), except
    GiveUp, which propagates immediately.
    """
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            v = pred()
            if v:
                return v
        except GiveUp:
            raise
        except Exception as e:  # keep polling; report the last error
            last_exc = e
        if time.monotonic() >= deadline:
            msg = "timed out after %.0fs waiting for %s" % (timeout, what)
            if last_exc is not None:
                msg += " (last error: %r)" % (last_exc,)
            raise TimeoutError(msg)
        time.sleep(interval)


def kill_pid(pid, sig=signal.SIGTERM, timeout=10.0):
    """Signal one process we own, escalate to SIGKILL after timeout, reap it.

    Returns the exit status if we could reap it (child of this process),
    else None.
    """
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        LIVE.pop(pid, None)
        return None
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline:
        status = _reap(pid)
        if status is not None or not _alive(pid):
            break
        time.sleep(0.05)
    else:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        for _ in range(100):
            status = _reap(pid)
            if status is not None or not _alive(pid):
                break
            time.sleep(0.05)
    LIVE.pop(pid, None)
    return status


def _reap(pid):
    try:
        wpid, st = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return None
    if wpid == 0:
        return None
    return os.waitstatus_to_exitcode(st)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie that is not our child still answers kill(0): check /proc.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def kill_all_live():
    """Kill every process still recorded as started by us (by pid)."""
    for pid in list(LIVE):
        kill_pid(pid, signal.SIGKILL, timeout=5.0)


atexit.register(kill_all_live)


def tail(path, lines=60):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        return "<cannot read %s: %s>" % (path, e)
    return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])


class ZooKeeper:
    """One standalone ZooKeeper on 127.0.0.1, run by contrib/samsa-zk-local."""

    def __init__(self, workdir, port=None):
        self.dir = os.path.join(workdir, "zookeeper")
        self.port = port or free_port()
        self.pid = None

    @property
    def connect(self):
        return "127.0.0.1:%d" % self.port

    def start(self, timeout=90):
        env = dict(os.environ, SAMSA_ZK_TIMEOUT=str(int(timeout)))
        r = subprocess.run([ZK_SCRIPT, "start", self.dir, str(self.port)],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout + 30)
        pidfile = os.path.join(self.dir, "zookeeper.pid")
        if os.path.exists(pidfile):
            with open(pidfile) as f:
                self.pid = int(f.read().strip() or 0) or None
        if self.pid:
            LIVE[self.pid] = "zookeeper :%d" % self.port
        if r.returncode != 0:
            raise RuntimeError("ZooKeeper failed to start:\n" + r.stdout.decode(errors="replace"))
        return self

    def stop(self):
        if self.pid is None:
            return
        subprocess.run([ZK_SCRIPT, "stop", self.dir, str(self.port)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
        # The script signals by pid file; make sure, by our own pid, it is gone.
        if _alive(self.pid):
            kill_pid(self.pid, signal.SIGKILL, timeout=5)
        LIVE.pop(self.pid, None)
        self.pid = None

    def log_tail(self, lines=40):
        return tail(os.path.join(self.dir, "zookeeper.log"), lines)


class Broker:
    """One samsa-server process with its own port, log dir and properties file."""

    def __init__(self, workdir, zk_connect, broker_id=0, port=None, overrides=None, name=None):
        self.id = broker_id
        self.name = name or "broker%d" % broker_id
        self.dir = os.path.join(workdir, self.name)
        self.logdirs = os.path.join(self.dir, "data")
        self.logfile = os.path.join(self.dir, "server.log")
        self.propfile = os.path.join(self.dir, "server.properties")
        self.port = port or free_port()
        self.zk_connect = zk_connect
        self.props = {
            "broker.id": str(broker_id),
            "listeners": "PLAINTEXT://127.0.0.1:%d" % self.port,
            "log.dirs": self.logdirs,
            "zookeeper.connect": zk_connect,
            "zookeeper.session.timeout.ms": "6000",
            "num.partitions": "1",
            "default.replication.factor": "1",
            "offsets.topic.replication.factor": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "log.segment.bytes": str(8 * 1024 * 1024),
            "num.network.threads": "2",
            "controlled.shutdown.retry.backoff.ms": "500",
        }
        if overrides:
            self.props.update({k: str(v) for k, v in overrides.items()})
        self.proc = None
        self.starts = 0
        os.makedirs(self.dir, exist_ok=True)

    @property
    def bootstrap(self):
        return "127.0.0.1:%d" % self.port

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def write_props(self):
        with open(self.propfile, "w") as f:
            f.write("# generated by the samsa integration harness\n")
            for k, v in self.props.items():
                f.write("%s=%s\n" % (k, v))

    def start(self, timeout=60, extra_args=()):
        """Start and wait for readiness: the 'started' log line and the port."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.write_props()
        self.starts += 1
        log = open(self.logfile, "ab")
        log.write(("\n===== harness: start #%d =====\n" % self.starts).encode())
        log.flush()
        mark = log.tell()
        self.proc = subprocess.Popen(
            [binary("samsa-server"), self.propfile] + list(extra_args),
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, cwd=self.dir)
        log.close()
        LIVE[self.proc.pid] = "samsa-server %s :%d" % (self.name, self.port)
        RECENT_BROKERS.append(self)

        def ready():
            if self.proc.poll() is not None:
                raise GiveUp("samsa-server exited with status %s during start-up:\n%s"
                                   % (self.proc.returncode, self.log_tail()))
            with open(self.logfile, "rb") as f:
                f.seek(mark)
                started = STARTED_RE.search(f.read().decode("utf-8", "replace"))
            return started and port_open(self.port)

        try:
            wait_until(ready, timeout, 0.05, "samsa-server %s to start" % self.name)
        except TimeoutError:
            raise TimeoutError("samsa-server %s not ready after %ss:\n%s"
                               % (self.name, timeout, self.log_tail()))
        return self

    def stop(self, timeout=30):
        """SIGTERM (clean shutdown); SIGKILL after timeout. Returns exit status."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        pid = self.proc.pid
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait(10)
            rc = "killed after %ss (SIGTERM ignored); was %s" % (timeout, rc)
        LIVE.pop(pid, None)
        return rc

    def kill9(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        pid = self.proc.pid
        self.proc.kill()
        self.proc.wait(10)
        LIVE.pop(pid, None)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def log_text(self):
        with open(self.logfile, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def log_tail(self, lines=60):
        return tail(self.logfile, lines)

    def cpu_seconds(self):
        """utime+stime of the broker in seconds, from /proc/<pid>/stat."""
        with open("/proc/%d/stat" % self.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ensure_zk_path(zk_connect, path):
    """Create a ZooKeeper path (a test chroot) if kazoo is installed."""
    try:
        from kazoo.client import KazooClient
    except ImportError:
        return False
    zk = KazooClient(hosts=zk_connect, timeout=15)
    zk.start(timeout=15)
    try:
        zk.ensure_path(path)
    finally:
        zk.stop()
        zk.close()
    return True


def run_tool(args, timeout=60, input=None, check=True):
    """Run one of our CLI tools; return CompletedProcess with text output."""
    r = subprocess.run(args, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout, text=True)
    if check and r.returncode != 0:
        raise AssertionError("%s exited %d\nstdout:\n%s\nstderr:\n%s"
                             % (" ".join(args), r.returncode, r.stdout[-3000:], r.stderr[-3000:]))
    return r


def rmtree(path):
    shutil.rmtree(path, ignore_errors=True)


def log(msg):
    sys.stderr.write("[harness] %s\n" % msg)
