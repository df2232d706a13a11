"""Retries: a notify whose answer is lost is sent again with the same
Idempotency-Key and never notifies twice; 429 and 503 are retried after
their Retry-After; calls that would act twice are not retried on a lost
answer; every call has a timeout."""

from __future__ import annotations

import socket
from typing import List

from cloche_client import Client, ConnectionFailed, RateLimited, Unavailable

from .proxy import Proxy
from .support import ServerCase, uid


class RetryTest(ServerCase):
    def setUp(self) -> None:
        self.proxy = Proxy(self.srv.url[len("http://"):])
        self.addCleanup(self.proxy.close)
        self.sleeps: List[float] = []
        self.via = Client(self.proxy.url, self.srv.api_key, timeout=30, retries=3, backoff=0.2,
                          max_backoff=5, sleep=self.sleeps.append)
        self.user = uid()
        self.client.put_user(self.user, name="Retried")

    def test_lost_answer_notify_sends_once(self) -> None:
        for given in (None, uid("mine-")):
            with self.subTest(idempotency_key=given):
                before = self.client.counts(self.user)["total"]
                self.proxy.plans = ["kill"]
                self.proxy.seen.clear()
                title = uid("lost-")
                res = self.via.notify("message:internal", title, user_ids=[self.user], idempotency_key=given)
                self.assertEqual(res["status"], "published")
                self.assertTrue(res["replayed"], "the second attempt should be answered from the first")
                if given:
                    self.assertEqual(res["idempotency_key"], given)
                # Both attempts reached the server; one notification exists.
                self.assertEqual([s[0] for s in self.proxy.requests("/api/v1/events")], ["kill", "forward"])
                self.assertEqual(self.client.counts(self.user)["total"], before + 1)
                titles = [n["title"] for n in self.client.inbox(self.user, limit=100)["items"]]
                self.assertEqual(titles.count(title), 1)
                self.assertEqual(len(self.sleeps), 1)
                self.sleeps.clear()

    def test_503_and_429_honour_retry_after(self) -> None:
        self.proxy.plans = ["503", "429"]
        self.proxy.retry_after = "2"
        res = self.via.notify("message:internal", "After a 503 and a 429", user_ids=[self.user])
        self.assertEqual(res["status"], "published")
        self.assertFalse(res["replayed"])  # the proxy answered the first two itself
        self.assertEqual(self.sleeps, [2.0, 2.0])
        self.proxy.plans = ["429"]
        self.proxy.retry_after = "600"  # capped at max_backoff
        self.via.types()
        self.assertEqual(self.sleeps[-1], 5.0)

    def test_gives_up_after_the_retries_with_backoff(self) -> None:
        self.proxy.plans = ["503"] * 4
        self.proxy.retry_after = "x"  # not a number: the backoff applies
        with self.assertRaises(Unavailable) as cm:
            self.via.types()
        self.assertEqual(cm.exception.code, "unavailable")
        self.assertEqual(cm.exception.request_id, "proxy")
        self.assertEqual(len(self.proxy.requests()), 4)
        for i, s in enumerate(self.sleeps):
            self.assertTrue(0.1 * 2**i <= s <= 0.2 * 2**i, self.sleeps)
        self.proxy.plans = ["429"]
        with self.assertRaises(RateLimited):
            Client(self.proxy.url, self.srv.api_key, retries=0).types()

    def test_cancel_is_not_retried_on_a_lost_answer(self) -> None:
        res = self.client.notify("message:internal", "Later", user_ids=[self.user], due_datetime="2031-01-01T00:00:00Z")
        self.proxy.plans = ["kill"]
        with self.assertRaises(ConnectionFailed):
            self.via.cancel_event(res["event_id"])
        self.assertEqual(len(self.proxy.requests()), 1)
        self.assertEqual(self.client.event(res["event_id"])["status"], "cancelled")

    def test_timeout_on_every_call(self) -> None:
        self.proxy.plans = ["hang", "hang"]
        c = Client(self.proxy.url, self.srv.api_key, timeout=0.5, retries=1, sleep=self.sleeps.append)
        with self.assertRaises(ConnectionFailed) as cm:
            c.notify("message:internal", "Never answered", user_ids=[self.user])
        self.assertEqual(cm.exception.code, "timeout")
        self.assertEqual(len(self.proxy.requests()), 2)

    def test_connection_refused(self) -> None:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        c = Client(f"http://127.0.0.1:{port}", "ck_x", retries=2, sleep=self.sleeps.append)
        with self.assertRaises(ConnectionFailed) as cm:
            c.health()
        self.assertEqual(cm.exception.code, "connection_failed")
        self.assertEqual(len(self.sleeps), 2)
