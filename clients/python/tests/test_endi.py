"""The enDI adapter: enDI's call shapes, each route, settings, time zones,
context replace and cancel."""

from __future__ import annotations

import datetime as dt
import types
import zoneinfo
from typing import Any, Dict

from cloche_client import InvalidField
from cloche_client.endi import AbstractNotification, cancel_notifications, get_client, notify

from .support import ServerCase, uid


def fake_request(settings: Dict[str, Any]) -> Any:
    """What the adapter reads of a Pyramid request."""
    return types.SimpleNamespace(registry=types.SimpleNamespace(settings=settings))


class EndiNotifyTest(ServerCase):
    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        c = cls.client
        cls.co = uid("co")
        cls.manager, cls.admin, cls.es, cls.esp = uid(), uid(), uid(), uid()
        cls.num = uid("9000")  # a numeric id, as enDI's
        c.import_directory(
            companies=[{"id": cls.co, "name": "Enseigne"}],
            users=[
                {"id": cls.manager, "name": "Manager", "email": "m@example.org", "groups": ["manager"]},
                {"id": cls.admin, "name": "Admin", "email": "a@example.org", "groups": ["admin"]},
                {"id": cls.es, "name": "Entrepreneur", "email": "e@example.org", "companies": [cls.co],
                 "follower_id": cls.manager},
                {"id": cls.esp, "name": "No follower", "email": "n@example.org"},
                {"id": cls.num, "name": "Numeric"},
            ],
        )
        cls.request = fake_request({
            "cloche.url": cls.srv.url, "cloche.api_key": cls.srv.api_key, "cloche.time_zone": "Europe/Paris",
            "cloche.timeout": "30",
        })

    def total(self, user: str) -> int:
        n: int = self.client.counts(user)["total"]
        return n

    def test_each_call_shape(self) -> None:
        r = self.request
        msg = AbstractNotification(body="Message body", title="Title", key="message:internal")
        cases = [
            ("group_names", lambda: notify(r, msg, group_names=["manager", "admin"]), {self.manager, self.admin}),
            ("group_names, positional", lambda: notify(r, msg, ["admin"]), {self.admin}),
            ("user_ids", lambda: notify(r, msg, user_ids=[self.es]), {self.es}),
            ("user_ids, integers as enDI's", lambda: notify(r, msg, user_ids=[int(self.num)]), {self.num}),
            ("company_id", lambda: notify(r, msg, company_id=self.co), {self.es}),
            ("follower_user_id", lambda: notify(r, msg, follower_user_id=self.es), {self.manager}),
            # Without a follower: the fallback groups (manager, admin).
            ("follower_user_id, none", lambda: notify(r, msg, follower_user_id=self.esp), {self.manager, self.admin}),
            ("everything", lambda: notify(r, msg, group_names=["admin"], user_ids=[self.esp], company_id=self.co,
                                          follower_user_id=self.es), {self.admin, self.esp, self.es, self.manager}),
        ]
        everyone = [self.manager, self.admin, self.es, self.esp, self.num]
        for name, call, reached in cases:
            with self.subTest(name):
                before = {u: self.total(u) for u in everyone}
                res = call()
                self.assertEqual(res["status"], "published")
                after = {u: self.total(u) for u in everyone}
                self.assertEqual({u for u in everyone if after[u] == before[u] + 1}, reached)
                self.assertEqual({u for u in everyone if after[u] == before[u]}, set(everyone) - reached)

    def test_force_channel(self) -> None:
        msg = AbstractNotification(key="message:internal", title="Mail", body="To the inbox")
        res = notify(self.request, msg, user_ids=[self.es], force_channel="email")
        self.assertEqual(res["channel"], "email")
        self.assertEqual(len(self.client.deliveries(event_id=res["event_id"])["items"]), 1)
        res = notify(self.request, msg, user_ids=[self.es], force_channel="alert")
        self.assertEqual(res["channel"], "alert")

    def test_voir_link_is_first_class(self) -> None:
        msg = AbstractNotification(key="message:internal", title="Facture 42 validée", body="Votre facture est validée.",
                                   link="https://endi.example.org/invoices/42",
                                   actions=[{"label": "Voir le devis", "url": "https://endi.example.org/estimations/7"}])
        res = notify(self.request, msg, user_ids=[self.esp])
        item = self.client.inbox(self.esp)["items"][0]
        self.assertEqual(item["event_id"], res["event_id"])
        self.assertEqual(item["url"], "https://endi.example.org/invoices/42")
        self.assertEqual(item["actions"], [{"label": "Voir le devis", "url": "https://endi.example.org/estimations/7"}])

    def test_account_type(self) -> None:
        msg = AbstractNotification(key="message:internal", title="To every entrepreneur", body="")
        res = notify(self.request, msg, account_type="entrepreneur")
        self.assertEqual(res["status"], "published")

    def test_naive_due_datetime_in_the_configured_zone(self) -> None:
        due = dt.datetime(2031, 7, 1, 9, 30)  # summer time in Paris: 07:30 UTC
        msg = AbstractNotification(key="message:internal", title="Later", body="", due_datetime=due)
        res = notify(self.request, msg, user_ids=[self.es], until=dt.datetime(2031, 7, 1, 18, 0))
        ev = self.client.event(res["event_id"])
        self.assertEqual(ev["due_datetime"], "2031-07-01T07:30:00Z")
        self.assertEqual(ev["until"], "2031-07-01T16:00:00Z")
        # Another zone as an argument, and an aware datetime kept as it is.
        res = notify(self.request, msg, user_ids=[self.es], time_zone="America/New_York")
        self.assertEqual(self.client.event(res["event_id"])["due_datetime"], "2031-07-01T13:30:00Z")
        aware = AbstractNotification(key="message:internal", title="Aware", body="",
                                     due_datetime=dt.datetime(2031, 7, 1, 9, 30, tzinfo=zoneinfo.ZoneInfo("Asia/Tokyo")))
        res = notify(self.request, aware, user_ids=[self.es])
        self.assertEqual(self.client.event(res["event_id"])["due_datetime"], "2031-07-01T00:30:00Z")

    def test_context_replaces_and_cancels_as_in_endi(self) -> None:
        r = self.request
        ctx = uid("")
        due = dt.datetime(2031, 1, 1, 9, 0)
        first = notify(r, AbstractNotification("task:status:valid", "Validated", "", due_datetime=due,
                                               context_tablename="task", context_id=int(ctx)), user_ids=[self.es])
        ev = self.client.event(first["event_id"])
        self.assertEqual((ev["context_type"], ev["context_id"]), ("task", ctx))
        second = notify(r, AbstractNotification("task:status:valid", "Validated again", "", due_datetime=due,
                                                context_tablename="task", context_id=ctx), user_ids=[self.es])
        self.assertEqual(second["replaced"], [first["event_id"]])
        other = notify(r, AbstractNotification("message:internal", "Same task, other key", "", due_datetime=due,
                                               context_tablename="task", context_id=ctx), user_ids=[self.es])
        self.assertEqual(other.get("replaced") or [], [])
        self.assertEqual(cancel_notifications(r, "task", ctx, key="message:internal"), [other["event_id"]])
        self.assertEqual(cancel_notifications(r, "task", int(ctx)), [second["event_id"]])

    def test_arguments_instead_of_settings(self) -> None:
        msg = AbstractNotification(key="message:internal", title="No settings", body="")
        res = notify(None, msg, user_ids=[self.es], url=self.srv.url, api_key=self.srv.api_key)
        self.assertEqual(res["status"], "published")
        res = notify(fake_request({}), msg, user_ids=[self.es], client=get_client(self.request))
        self.assertEqual(res["status"], "published")
        key = uid("k")
        a = notify(self.request, msg, user_ids=[self.es], idempotency_key=key)
        b = notify(self.request, msg, user_ids=[self.es], idempotency_key=key)
        self.assertEqual((a["event_id"], b["replayed"]), (b["event_id"], True))

    def test_mistakes_name_what_is_wrong(self) -> None:
        msg = AbstractNotification(key="message:internal", title="T", body="")
        with self.assertRaisesRegex(ValueError, "cloche.url"):
            notify(fake_request({}), msg, user_ids=[self.es])
        with self.assertRaisesRegex(ValueError, "cloche.api_key"):
            notify(fake_request({"cloche.url": self.srv.url}), msg, user_ids=[self.es])
        with self.assertRaisesRegex(ValueError, "cloche.time_zone"):
            notify(self.request, msg, user_ids=[self.es], time_zone="Mars/Olympus")
        with self.assertRaisesRegex(TypeError, "groups"):
            notify(self.request, msg, groups=["admin"])
        with self.assertRaisesRegex(ValueError, "context_id"):
            notify(self.request, AbstractNotification("message:internal", "T", "", context_tablename="task"), user_ids=[self.es])
        with self.assertRaisesRegex(ValueError, "cloche.check_url"):
            notify(self.request, AbstractNotification("message:internal", "T", "", check_query="SELECT 1"), user_ids=[self.es])
        with self.assertRaises(InvalidField) as cm:
            notify(self.request, msg)  # no recipient: the server says which fields
        self.assertTrue(cm.exception.field)
