"""tests/integration/conftest.py - pytest fixtures for the Samsa integration suite.

Owns the fixture lifecycle: one temp work dir and one ZooKeeper per session,
brokers per module (`broker`) or per test (`cluster`), each broker set in its
own ZooKeeper chroot so tests cannot see each other's topics.  Whatever
happens, every process we started is killed by pid (fixture finalizers, then
a session-end sweep, then atexit), and a failing test's report carries the
tail of every live broker's log.
"""

import itertools
import os
import tempfile

import pytest

import samsa_harness as H

_chroot_seq = itertools.count(1)
ACTIVE_BROKERS = []


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long-running (100k-message and crash tests)")
    config.addinivalue_line("markers", "needs_tools: uses samsa-topics / console tools")


def pytest_collection_modifyitems(config, items):
    if H.have_binary("samsa-server"):
        skip_tools = None
        if not H.have_binary("samsa-topics"):
            skip_tools = pytest.mark.skip(reason="samsa-topics not built in %s" % H.BUILDDIR)
        for it in items:
            if skip_tools and "needs_tools" in it.keywords:
                it.add_marker(skip_tools)
        return
    skip = pytest.mark.skip(reason="samsa-server not built in %s" % H.BUILDDIR)
    for it in items:
        it.add_marker(skip)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        for b in ACTIVE_BROKERS:
            rep.sections.append(("samsa-server %s log tail (%s)" % (b.name, b.logfile),
                                 b.log_tail(80)))


@pytest.fixture(scope="session")
def workdir():
    d = tempfile.mkdtemp(prefix="samsa-it-")
    yield d
    H.kill_all_live()
    if os.environ.get("SAMSA_KEEP_TMP"):
        H.log("keeping %s" % d)
    else:
        H.rmtree(d)


@pytest.fixture(scope="session")
def zk(workdir):
    z = H.ZooKeeper(workdir)
    try:
        z.start()
    except Exception:
        z.stop()
        raise
    yield z
    z.stop()


class Cluster:
    """A set of brokers sharing one fresh chroot of the session ZooKeeper."""

    def __init__(self, workdir, zk, tag):
        self.workdir = workdir
        self.zk = zk
        self.chroot = "/samsa-it/%s-%d" % (tag, next(_chroot_seq))
        self.zk_connect = zk.connect + self.chroot
        self.brokers = []
        H.ensure_zk_path(zk.connect, self.chroot)

    def add(self, broker_id=None, overrides=None, start=True):
        bid = len(self.brokers) if broker_id is None else broker_id
        name = "%s-b%d" % (self.chroot.rsplit("/", 1)[1], bid)
        b = H.Broker(self.workdir, self.zk_connect, bid, overrides=overrides, name=name)
        self.brokers.append(b)
        ACTIVE_BROKERS.append(b)
        if start:
            b.start()
        return b

    @property
    def bootstrap(self):
        return ",".join(b.bootstrap for b in self.brokers)

    def close(self):
        for b in self.brokers:
            try:
                b.stop(timeout=20)
            finally:
                if b.running():
                    b.kill9()
                if b in ACTIVE_BROKERS:
                    ACTIVE_BROKERS.remove(b)


@pytest.fixture(scope="module")
def broker(request, workdir, zk):
    """One running broker shared by the tests of a module (auto-create on)."""
    c = Cluster(workdir, zk, request.module.__name__.replace("test_", ""))
    try:
        b = c.add(0)
        b.cluster = c
        yield b
    finally:
        c.close()


@pytest.fixture
def cluster(request, workdir, zk):
    """A fresh, empty cluster for one test: call cluster.add(...) to start brokers."""
    c = Cluster(workdir, zk, request.node.name.replace("test_", "")[:40].replace("[", "-").replace("]", ""))
    try:
        yield c
    finally:
        c.close()
