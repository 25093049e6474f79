"""pytest configuration for Sluice's end-to-end tests.

Runtime tests are parametrised over a `proxy` fixture: ["sluice", "haproxy"].
Debian's haproxy is the oracle (DESIGN.md, Compatibility rule): every
behaviour that HAProxy defines is asserted against both.

    /usr/bin/python3 -m pytest tests/e2e                      # sluice variants skip if not built
    /usr/bin/python3 -m pytest tests/e2e -k haproxy           # oracle only
    /usr/bin/python3 -m pytest tests/e2e --sluice $PWD/build/sluice   # missing binary = failure

Per-test time limits: `@pytest.mark.timeout(SECONDS)` (default 60 s), enforced
with SIGALRM (pytest-timeout is not a dependency).
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from e2eutil import Proxy, TcpServer, UdpSyslog  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DEFAULT_SLUICE = REPO / "build" / "sluice"
DEFAULT_HAPROXY = Path("/usr/sbin/haproxy")
EXAMPLES = (REPO.parent / "shared" / "examples").resolve()

DEFAULT_TIMEOUT = 60.0
SETUP_TEARDOWN_TIMEOUT = 60.0


def pytest_addoption(parser):
    g = parser.getgroup("sluice-e2e")
    g.addoption("--sluice", action="store", default=None, metavar="PATH",
                help="sluice binary (default: <repo>/build/sluice). When given "
                     "explicitly, a missing binary fails the sluice tests instead "
                     "of skipping them.")
    g.addoption("--haproxy", action="store", default=str(DEFAULT_HAPROXY), metavar="PATH",
                help="haproxy binary used as the oracle (default: /usr/sbin/haproxy)")


def pytest_configure(config):
    config.addinivalue_line("markers", "timeout(seconds): per-test time limit (SIGALRM)")
    config.addinivalue_line("markers", "sluice_only: behaviour specified by Sluice, not haproxy")


# --------------------------------------------------------------------- binaries

def _sluice_path(config) -> tuple[Path, bool]:
    opt = config.getoption("--sluice")
    if opt:
        return Path(opt).resolve(), True
    return DEFAULT_SLUICE.resolve(), False


def _binary(config, kind: str) -> str:
    if kind == "sluice":
        path, explicit = _sluice_path(config)
        if not (path.is_file() and os.access(path, os.X_OK)):
            msg = f"sluice binary not found at {path}"
            if explicit:
                pytest.fail(msg + " (given with --sluice)", pytrace=False)
            pytest.skip(msg + " (not built yet; pass --sluice PATH to require it)")
        return str(path)
    path = Path(config.getoption("--haproxy"))
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"haproxy (the oracle) not found at {path}", pytrace=False)
    return str(path)


class ProxyBin:
    def __init__(self, kind: str, path: str):
        self.kind = kind
        self.path = path

    def __repr__(self):
        return f"ProxyBin({self.kind}, {self.path})"


@pytest.fixture(params=["sluice", "haproxy"])
def proxy(request) -> ProxyBin:
    """Which proxy runs this test: sluice, then haproxy (the oracle)."""
    return ProxyBin(request.param, _binary(request.config, request.param))


@pytest.fixture
def sluice(request) -> ProxyBin:
    """For Sluice-only tests (behaviour haproxy does not share)."""
    return ProxyBin("sluice", _binary(request.config, "sluice"))


@pytest.fixture
def haproxy(request) -> ProxyBin:
    return ProxyBin("haproxy", _binary(request.config, "haproxy"))


@pytest.fixture
def examples_dir() -> Path:
    if not EXAMPLES.is_dir():
        pytest.fail(f"examples directory not found: {EXAMPLES}", pytrace=False)
    return EXAMPLES


# --------------------------------------------------------------------- timeouts

class E2ETimeout(BaseException):
    """Raised by SIGALRM when a test phase exceeds its limit. A BaseException
    so that a test's `except Exception` cannot swallow it."""


class _Alarm:
    def __init__(self, seconds: float, what: str):
        self.seconds = seconds
        self.what = what

    def _handler(self, signum, frame):
        raise E2ETimeout(f"{self.what} exceeded its time limit of {self.seconds:g}s")

    def __enter__(self):
        self.old = signal.signal(signal.SIGALRM, self._handler)
        signal.setitimer(signal.ITIMER_REAL, self.seconds)
        return self

    def __exit__(self, *exc):
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self.old)
        return False


def _test_timeout(item) -> float:
    m = item.get_closest_marker("timeout")
    if m and m.args:
        return float(m.args[0])
    return DEFAULT_TIMEOUT


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    with _Alarm(SETUP_TEARDOWN_TIMEOUT, f"setup of {item.nodeid}"):
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    with _Alarm(_test_timeout(item), item.nodeid):
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item):
    with _Alarm(SETUP_TEARDOWN_TIMEOUT, f"teardown of {item.nodeid}"):
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


def _failed(node) -> bool:
    for when in ("setup", "call"):
        rep = getattr(node, "rep_" + when, None)
        if rep is not None and rep.failed:
            return True
    return False


# --------------------------------------------------------------------- processes

class ProxyFactory:
    """start_proxy(bin, config, wait_ports=[...]) -> running Proxy; every
    process is stopped in teardown (SIGTERM, then SIGKILL)."""

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.started: list[Proxy] = []

    def create(self, pbin: ProxyBin, config: str | None, name: str | None = None,
               extra_args=None, env=None, cfg_args=None) -> Proxy:
        name = name or f"{pbin.kind}{len(self.started)}"
        p = Proxy(pbin.kind, pbin.path, self.tmp_path, config, name=name,
                  extra_args=extra_args, env=env, cfg_args=cfg_args)
        self.started.append(p)
        return p

    def __call__(self, pbin: ProxyBin, config: str | None, wait_ports=(), name: str | None = None,
                 extra_args=None, env=None, cfg_args=None, timeout: float = 20.0) -> Proxy:
        p = self.create(pbin, config, name=name, extra_args=extra_args, env=env,
                        cfg_args=cfg_args)
        return p.start(wait_ports=wait_ports, timeout=timeout)

    def stop_all(self):
        for p in reversed(self.started):
            try:
                p.stop()
            except Exception:
                pass


@pytest.fixture
def start_proxy(request, tmp_path):
    f = ProxyFactory(tmp_path)
    yield f
    f.stop_all()
    if _failed(request.node):
        for p in f.started:
            sys.stderr.write("\n" + p.logs() + "\n")


class ServerRegistry:
    """servers(X) starts server X and stops it in teardown."""

    def __init__(self):
        self.items = []

    def __call__(self, server):
        self.items.append(server)
        server.start()
        return server

    def stop_all(self):
        for s in reversed(self.items):
            try:
                s.stop()
            except Exception:
                pass


@pytest.fixture
def servers():
    reg = ServerRegistry()
    yield reg
    reg.stop_all()


@pytest.fixture
def syslog():
    s = UdpSyslog().start()
    yield s
    s.stop()
