"""check_query end to end: Cloche asks the host's check view, on a local
WSGI server, at due time; the view runs the queries it signed itself and
refuses forged or altered ones without running them."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import tempfile
import threading
import unittest
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Callable, ClassVar, Dict, List, Tuple
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from cloche_client.check import CheckApp, dbapi_runner, signed_check_url, verify_check_query
from cloche_client.endi import AbstractNotification, notify

from .support import ServerCase, uid

SECRET = "the host's own check secret, 32 bytes or more"


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _ThreadedWSGIServer(WSGIServer):
    daemon_threads = True


class CheckTest(ServerCase):
    # A refused check fails the event at once (no retries to wait for).
    server_env = {"CLOCHE_CHECK__MAX_ATTEMPTS": "1"}
    ran: ClassVar[List[str]]
    check_url: ClassVar[str]

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="cloche-check-")
        cls.db = os.path.join(cls.tmp, "host.db")
        with sqlite3.connect(cls.db) as conn:
            conn.execute("CREATE TABLE invoice (id INTEGER PRIMARY KEY, status TEXT)")
            conn.executemany("INSERT INTO invoice VALUES (?, ?)", [(1, "unpaid"), (2, "paid")])
        cls.ran = []
        run = dbapi_runner(lambda: sqlite3.connect(cls.db))

        def recording(query: str) -> Any:
            cls.ran.append(query)
            return run(query)

        cls.httpd = make_server("127.0.0.1", 0, CheckApp(SECRET, recording),
                                server_class=_ThreadedWSGIServer, handler_class=_Quiet)
        threading.Thread(target=cls.httpd.serve_forever, daemon=True).start()
        cls.check_url = "http://127.0.0.1:%d/cloche/check" % cls.httpd.server_port
        cls.user = uid()
        cls.client.put_user(cls.user, name="Checked")
        cls.client.set_type("invoice:late", label="Late invoice", default_channel="message", status_type="caution")
        cls.request_ = _request(cls.srv.url, cls.srv.api_key, cls.check_url)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.httpd.shutdown()
        cls.httpd.server_close()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    def post(self, url: str, method: str = "POST") -> Tuple[int, Dict[str, Any]]:
        req = urllib.request.Request(url, data=b'{"event": {}}' if method == "POST" else None, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def schedule_soon(self, send: Callable[[dt.datetime], Dict[str, Any]]) -> Dict[str, Any]:
        """Notify with a due datetime shortly ahead; when the machine was
        so slow that it had passed (the event went at once, unchecked),
        again further ahead."""
        for ahead in (1, 4, 15, 60):
            res = send(dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=ahead))
            if res["status"] == "pending":
                return res
        self.fail("could not schedule an event ahead of time")

    def final_status(self, event_id: int) -> Dict[str, Any]:
        def probe() -> Any:
            ev = self.client.event(event_id)
            return ev if ev["status"] != "pending" else None

        out: Dict[str, Any] = self.wait_for(f"event {event_id} leaves pending", probe)
        return out

    def test_signed_query_decides(self) -> None:
        for invoice, status in ((1, "published"), (2, "dropped")):
            with self.subTest(invoice=invoice):
                query = f"SELECT status = 'unpaid' FROM invoice WHERE id = {invoice}"
                res = self.schedule_soon(lambda due: notify(
                    self.request_, AbstractNotification("invoice:late", f"Invoice {invoice} is late", "",
                                                        check_query=query, due_datetime=due,
                                                        context_tablename="invoice", context_id=invoice),
                    user_ids=[self.user]))
                ev = self.final_status(res["event_id"])
                self.assertEqual(ev["status"], status, ev)
                self.assertIn(query, self.ran)
                self.assertNotIn(query, ev["check_url"])  # encoded, signed: not for Cloche to edit

    def test_forged_and_altered_urls_are_refused_unrun(self) -> None:
        signed = signed_check_url(self.check_url, SECRET, "SELECT 1")
        other = signed_check_url(self.check_url, SECRET, "SELECT 0")
        q_other = urllib.parse.parse_qs(urllib.parse.urlsplit(other).query)["q"][0]
        sig = urllib.parse.parse_qs(urllib.parse.urlsplit(signed).query)["sig"][0]
        forged_query = "DELETE FROM invoice"
        cases = {
            "another secret": signed_check_url(self.check_url, "not the host's secret, but 32 bytes long", forged_query),
            "altered query": f"{self.check_url}?q={q_other}&sig={sig}",
            "no signature": f"{self.check_url}?q={q_other}",
            "bad encoding": f"{self.check_url}?q=%25%25&sig={sig}",
        }
        before = list(self.ran)
        for name, url in cases.items():
            with self.subTest(name):
                code, body = self.post(url)
                self.assertEqual(code, 403, body)
                self.assertEqual(body["error"]["code"], "forbidden")
        self.assertEqual(self.ran, before, "a refused check URL must not run anything")
        self.assertEqual(self.post(signed), (200, {"send": True}))
        self.assertEqual(self.post(other), (200, {"send": False}))
        self.assertEqual(self.post(signed, method="GET")[0], 405)
        self.assertEqual(verify_check_query(SECRET, urllib.parse.urlsplit(signed).query), "SELECT 1")

        # Through Cloche: a forged check URL fails the event, nothing runs.
        res = self.schedule_soon(lambda due: self.client.notify(
            "message:internal", "Forged", user_ids=[self.user], due_datetime=due, check_url=cases["another secret"]))
        ev = self.final_status(res["event_id"])
        self.assertEqual(ev["status"], "failed", ev)
        self.assertIn("403", ev.get("status_reason", ""))
        self.assertNotIn(forged_query, self.ran)
        with sqlite3.connect(self.db) as conn:
            self.assertEqual(conn.execute("SELECT count(*) FROM invoice").fetchone()[0], 2)

    def test_short_secret_refused(self) -> None:
        with self.assertRaisesRegex(ValueError, "check_secret"):
            CheckApp("short", lambda q: True)
        with self.assertRaisesRegex(ValueError, "check_url"):
            signed_check_url("/relative", SECRET, "SELECT 1")


def _request(url: str, api_key: str, check_url: str) -> Any:
    import types

    return types.SimpleNamespace(registry=types.SimpleNamespace(settings={
        "cloche.url": url, "cloche.api_key": api_key, "cloche.check_url": check_url,
        "cloche.check_secret": SECRET, "cloche.timeout": 30}))


class PyramidViewTest(unittest.TestCase):
    """check_view and includeme with what they use of Pyramid and
    SQLAlchemy (neither is needed by the client, nor installed here)."""

    def setUp(self) -> None:
        import sys
        import types

        if "sqlalchemy" not in sys.modules:  # a stand-in for sqlalchemy.text
            fake = types.ModuleType("sqlalchemy")
            fake.text = lambda q: ("text", q)  # type: ignore[attr-defined]
            sys.modules["sqlalchemy"] = fake
            self.addCleanup(sys.modules.pop, "sqlalchemy")

    def test_check_view(self) -> None:
        import types

        from cloche_client.endi import check_view

        ran: List[Any] = []

        class Session:
            def execute(self, stmt: Any) -> Any:
                ran.append(stmt)
                return types.SimpleNamespace(scalar=lambda: 1)

        def request(url: str) -> Any:
            return types.SimpleNamespace(
                registry=types.SimpleNamespace(settings={"cloche.check_secret": SECRET}),
                query_string=urllib.parse.urlsplit(url).query, dbsession=Session(),
                response=types.SimpleNamespace(status_int=200))

        ok = request(signed_check_url("https://endi.example/cloche/check", SECRET, "SELECT 1"))
        self.assertEqual(check_view(ok), {"send": True})
        self.assertEqual(ok.response.status_int, 200)
        self.assertEqual(len(ran), 1)
        forged = request(signed_check_url("https://endi.example/cloche/check", "x" * 32, "SELECT 1"))
        self.assertEqual(check_view(forged)["error"]["code"], "forbidden")
        self.assertEqual(forged.response.status_int, 403)
        self.assertEqual(len(ran), 1)

    def test_includeme(self) -> None:
        from cloche_client.endi import check_view, includeme

        calls: List[Any] = []

        class Config:
            def get_settings(self) -> Dict[str, str]:
                return {"cloche.check_path": "/hooks/cloche"}

            def add_route(self, *a: Any, **kw: Any) -> None:
                calls.append(("route", a, kw))

            def add_view(self, *a: Any, **kw: Any) -> None:
                calls.append(("view", a, kw))

        includeme(Config())
        self.assertEqual(calls[0], ("route", ("cloche_check", "/hooks/cloche"), {}))
        self.assertEqual(calls[1][1], (check_view,))
        self.assertEqual(calls[1][2]["request_method"], "POST")
        self.assertIs(calls[1][2]["require_csrf"], False)
