"""A real `cloche serve` for the tests, built from this checkout.

``start()`` builds ``./cmd/cloche`` once per test run (``go build``), then
starts ``cloche serve`` on a free loopback port (``127.0.0.1:0``; the
address is read from its log) with a temporary SQLite database, configured
through the environment, creates an API key with ``cloche apikey create``,
and waits for ``/healthz``. ``stop()`` sends SIGTERM and removes the files.

Without Go the tests skip, saying so; with ``CLOCHE_TEST_REQUIRE_ALL=1``
they fail instead. ``CLOCHE_TEST_BINARY`` names a binary built already.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.request
from typing import Dict, List, Optional

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))

#: The token secret every test server shares with the tests.
TOKEN_SECRET = "0123456789abcdef0123456789abcdef-python-client-tests"

_binary: Optional[str] = None
_build_dir: Optional[str] = None


def _require_all() -> bool:
    return os.environ.get("CLOCHE_TEST_REQUIRE_ALL") == "1"


def binary() -> str:
    """The path of a cloche binary built from this checkout (once)."""
    global _binary, _build_dir
    if _binary:
        return _binary
    given = os.environ.get("CLOCHE_TEST_BINARY")
    if given:
        _binary = given
        return given
    go = shutil.which("go")
    if go is None:
        msg = "go is not on PATH: cannot build cloche for the Python client's tests"
        if _require_all():
            raise RuntimeError(msg + " (CLOCHE_TEST_REQUIRE_ALL=1)")
        raise unittest.SkipTest(msg)
    _build_dir = tempfile.mkdtemp(prefix="cloche-pytest-bin-")
    atexit.register(shutil.rmtree, _build_dir, True)
    out = os.path.join(_build_dir, "cloche")
    subprocess.run([go, "build", "-o", out, "./cmd/cloche"], cwd=REPO, check=True)
    _binary = out
    return out


class Server:
    """A running `cloche serve`."""

    def __init__(self, env: Optional[Dict[str, str]] = None) -> None:
        self.dir = tempfile.mkdtemp(prefix="cloche-pytest-")
        self.db = os.path.join(self.dir, "cloche.db")
        self.env = dict(os.environ)
        self.env.update(
            {
                "CLOCHE_DATABASE_URL": self.db,
                "CLOCHE_HTTP__ADDR": "127.0.0.1:0",
                "CLOCHE_LOG__FORMAT": "text",
                "CLOCHE_LOG__LEVEL": "info",
                "CLOCHE_AUTH__TOKEN_SECRET": TOKEN_SECRET,
                "CLOCHE_SCHEDULER__POLL_INTERVAL": "100ms",
                "CLOCHE_CHECK__RETRY_BASE": "1s",
                "CLOCHE_TIME_ZONE": "Europe/Paris",
            }
        )
        if env:
            self.env.update(env)
        self.bin = binary()
        self.proc: Optional[subprocess.Popen[str]] = None
        self.logs: List[str] = []
        self.url = ""
        self.api_key = ""

    def cli(self, *args: str) -> str:
        """Run one command of the binary on this server's database."""
        res = subprocess.run([self.bin, *args], env=self.env, capture_output=True, text=True)
        if res.returncode != 0:
            raise RuntimeError(f"cloche {' '.join(args)}: exit {res.returncode}\n{res.stderr}")
        return res.stdout

    def start(self) -> "Server":
        self.cli("migrate")
        self.api_key = self.cli("apikey", "create", "python-tests").strip()
        self.proc = subprocess.Popen(
            [self.bin, "serve"], env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        ready = threading.Event()
        addr: List[str] = []

        def read() -> None:
            assert self.proc is not None and self.proc.stderr is not None
            for line in self.proc.stderr:
                self.logs.append(line)
                if "cloche serving" in line and not addr:
                    for field in line.split():
                        if field.startswith("http="):
                            addr.append(field[len("http="):])
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        # Generous: the machine is shared; start-up is not what is tested.
        if not ready.wait(120) or not addr:
            self.stop()
            raise RuntimeError("cloche serve did not start:\n" + "".join(self.logs))
        self.url = "http://" + addr[0]
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=5) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise
                time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None and self.proc.stderr is not None:
            self.proc.stderr.close()
        self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)


def start(env: Optional[Dict[str, str]] = None) -> Server:
    """A started server; call ``stop()`` on it when done."""
    return Server(env).start()
