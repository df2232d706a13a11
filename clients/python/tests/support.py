"""Shared pieces of the tests: a test case with its own `cloche serve`."""

from __future__ import annotations

import itertools
import time
import unittest
from typing import Any, Callable, ClassVar, Dict, Optional, TypeVar

from cloche_client import Client

from . import server

_ids = itertools.count(1)

T = TypeVar("T")


def uid(prefix: str = "u") -> str:
    """An id no other test uses."""
    return f"{prefix}{next(_ids)}"


class ServerCase(unittest.TestCase):
    """Tests of one class share one `cloche serve`, started for them."""

    server_env: ClassVar[Optional[Dict[str, str]]] = None
    srv: ClassVar[server.Server]
    client: ClassVar[Client]

    @classmethod
    def setUpClass(cls) -> None:
        cls.srv = server.start(cls.server_env)
        cls.client = Client(cls.srv.url, cls.srv.api_key, timeout=30)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.srv.stop()

    def wait_for(self, what: str, probe: Callable[[], Optional[T]], timeout: float = 90) -> T:
        """Poll ``probe`` until it returns something other than None;
        fail after a generous ``timeout`` (the machine is shared)."""
        deadline = time.monotonic() + timeout
        while True:
            value = probe()
            if value is not None:
                return value
            if time.monotonic() > deadline:
                self.fail(f"{what}: not within {timeout:g}s")
            time.sleep(0.1)


def event_status(client: Client, event_id: int) -> str:
    status: str = client.event(event_id)["status"]
    return status


