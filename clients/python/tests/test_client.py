"""Every method of the client against a real `cloche serve`."""

from __future__ import annotations

import datetime as dt
from typing import Any
import zoneinfo

from cloche_client import (
    Attachment,
    BadRequest,
    Client,
    Conflict,
    Forbidden,
    InvalidField,
    NotFound,
    Unauthorized,
)

from .support import ServerCase, uid


class DirectoryTest(ServerCase):
    def test_import_and_read(self) -> None:
        c = self.client
        co, u1, u2 = uid("co"), uid(), uid()
        stats = c.import_directory(
            companies=[{"id": co, "name": "Atelier Nord", "email": "nord@example.org", "active": True}],
            users=[
                {"id": u1, "email": "a@example.org", "name": "Alice", "groups": ["imp-manager"], "companies": [co],
                 "follower_id": None},  # None: left out, as a host's empty column
                {"id": u2, "email": "b@example.org", "name": "Bob", "companies": [co], "follower_id": u1},
            ],
        )
        self.assertEqual(stats, {"companies": 1, "users": 2})
        self.assertEqual(c.user(u2)["follower_id"], u1)
        self.assertEqual(c.company(co)["name"], "Atelier Nord")
        self.assertEqual({u["id"] for u in c.iter_users(company_id=co)}, {u1, u2})
        page = c.users(group="imp-manager", limit=1)
        self.assertEqual([u["id"] for u in page["items"]], [u1])

    def test_import_refuses_a_bad_row_naming_it(self) -> None:
        with self.assertRaises(InvalidField) as cm:
            self.client.import_directory(users=[{"id": uid(), "email": "not an address"}])
        self.assertIn("email", cm.exception.field or "")
        self.assertTrue(cm.exception.request_id)

    def test_users_groups_companies(self) -> None:
        c = self.client
        u1, u2, co, group = uid(), uid(), uid("co"), uid("g")
        c.put_company(co, name="Atelier Sud", email="sud@example.org")
        got = c.put_user(u1, email="c@example.org", name="Carol", locale="en", groups=[group], companies=[co])
        self.assertEqual((got["id"], got["name"], got["locale"]), (u1, "Carol", "en"))
        c.put_user(u2, name="Dan", follower_id=u1, active=False)
        self.assertFalse(c.user(u2)["active"])
        self.assertEqual([u["id"] for u in c.group_members(group)["items"]], [u1])
        self.assertIn(group, [g["name"] for g in c.groups()])
        c.set_group_members(group, [u1, u2])
        self.assertEqual({u["id"] for u in c.group_members(group)["items"]}, {u1, u2})
        c.delete_group(group)
        self.assertNotIn(group, [g["name"] for g in c.groups()])
        c.delete_user(u2)
        with self.assertRaises(NotFound) as cm:
            c.user(u2)
        self.assertEqual(cm.exception.code, "not_found")
        self.assertEqual(cm.exception.status, 404)
        c.delete_company(co)
        with self.assertRaises(NotFound):
            c.company(co)

    def test_account_type_on_a_user(self) -> None:
        u = uid()
        got = self.client.put_user(u, name="Eve", account_type="entrepreneur")
        self.assertEqual(got.get("account_type"), "entrepreneur")


class TypesTest(ServerCase):
    def test_types(self) -> None:
        c = self.client
        keys = [t["key"] for t in c.types()]
        self.assertIn("message:internal", keys)
        t = c.set_type("py:late", label="Late", default_channel="email", status_type="caution")
        self.assertEqual((t["key"], t["default_channel"], t["status_type"]), ("py:late", "email", "caution"))
        self.assertEqual(c.set_type("py:late", label="Very late")["label"], "Very late")
        self.assertEqual(c.get_type("py:late")["default_channel"], "email")
        c.delete_type("py:late")
        with self.assertRaises(NotFound):
            c.get_type("py:late")

    def test_type_in_use_cannot_be_deleted(self) -> None:
        c = self.client
        u = uid()
        c.put_user(u, name="F")
        c.set_type("py:used", default_channel="message")
        c.notify("py:used", "T", user_ids=[u])
        with self.assertRaises(Conflict) as cm:
            c.delete_type("py:used")
        self.assertEqual(cm.exception.code, "in_use")

    def test_new_type_needs_a_channel(self) -> None:
        with self.assertRaises(InvalidField) as cm:
            self.client.set_type("py:nochannel", label="x")
        self.assertEqual(cm.exception.field, "default_channel")


class NotifyTest(ServerCase):
    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        c = cls.client
        cls.co = uid("co")
        cls.boss, cls.member, cls.other = uid(), uid(), uid()
        c.put_company(cls.co, name="Atelier")
        c.put_user(cls.boss, name="Boss", email="boss@example.org", groups=["py-manager"])
        c.put_user(cls.member, name="Member", email="m@example.org", companies=[cls.co], follower_id=cls.boss)
        c.put_user(cls.other, name="Other", email="o@example.org")

    def unread(self, user: str) -> int:
        total: int = self.client.counts(user)["total"]
        return total

    def test_every_route(self) -> None:
        c = self.client
        cases = [
            ("group_names", {"group_names": ["py-manager"]}, self.boss),
            ("user_ids", {"user_ids": [self.other]}, self.other),
            ("company_id", {"company_id": self.co}, self.member),
            ("follower_user_id", {"follower_user_id": self.member}, self.boss),
        ]
        for name, route, who in cases:
            with self.subTest(route=name):
                before = self.unread(who)
                res = c.notify("message:internal", f"By {name}", "Body", **route)
                self.assertEqual((res["status"], res["channel"]), ("published", "message"))
                self.assertEqual(res["reached"], {"message": 1})
                self.assertFalse(res["replayed"])
                self.assertEqual(self.unread(who), before + 1)

    def test_union_reaches_each_once_and_reports_unknown(self) -> None:
        res = self.client.notify(
            "message:internal", "Union", group_names=["py-manager", "nobody-here"],
            user_ids=[self.boss, self.other, "ghost"],
        )
        self.assertEqual(res["reached"], {"message": 2})
        self.assertEqual(res["unknown_user_ids"], ["ghost"])
        self.assertEqual(res["unknown_group_names"], ["nobody-here"])

    def test_force_channel_email_queues_deliveries(self) -> None:
        c = self.client
        res = c.notify("message:internal", "By mail", "Body", user_ids=[self.other], force_channel="email")
        self.assertEqual(res["channel"], "email")
        page = c.deliveries(event_id=res["event_id"])
        self.assertEqual(len(page["items"]), 1)
        d = page["items"][0]
        self.assertEqual(c.delivery(d["id"])["event_id"], res["event_id"])
        self.assertIn(d["id"], [x["id"] for x in c.iter_deliveries(status=d["state"])])
        self.assertGreaterEqual(c.event(res["event_id"])["deliveries"].get("queued", 0), 1)
        # Without a mail server it stays queued: retrying it is refused.
        with self.assertRaises(Conflict):
            c.retry_delivery(d["id"])

    def test_schedule_until_context_replace_cancel(self) -> None:
        c = self.client
        paris = zoneinfo.ZoneInfo("Europe/Paris")
        due = dt.datetime(2031, 3, 5, 9, 0)  # naive: in the client's zone
        until = dt.datetime(2031, 3, 5, 12, 0, tzinfo=dt.timezone.utc)
        cz = Client(self.srv.url, self.srv.api_key, time_zone=paris)
        ctx = ("activity", uid("a"))
        first = cz.notify("activity:reminder", "Appointment", user_ids=[self.other], due_datetime=due, until=until, context=ctx)
        self.assertEqual(first["status"], "pending")
        ev = c.event(first["event_id"])
        self.assertEqual(dt.datetime.fromisoformat(ev["due_datetime"].replace("Z", "+00:00")), due.replace(tzinfo=paris))
        self.assertEqual((ev["context_type"], ev["context_id"]), ctx)
        second = c.notify("activity:reminder", "Appointment moved", user_ids=[self.other],
                          due_datetime="2031-03-06 09:00", context=f"{ctx[0]}:{ctx[1]}")
        self.assertEqual(second["replaced"], [first["event_id"]])
        self.assertEqual(c.event(first["event_id"])["status"], "cancelled")
        pending = [e["id"] for e in c.iter_events(status="pending", context=f"{ctx[0]}:{ctx[1]}")]
        self.assertEqual(pending, [second["event_id"]])
        self.assertEqual(c.cancel_context({"type": ctx[0], "id": ctx[1]}, key="activity:reminder"), [second["event_id"]])
        third = c.notify("activity:reminder", "Again", user_ids=[self.other], due_datetime=due, context=ctx)
        self.assertEqual(c.cancel_event(third["event_id"]), [third["event_id"]])
        with self.assertRaises(Conflict) as cm:
            c.cancel_event(third["event_id"])
        self.assertEqual(cm.exception.code, "conflict")
        self.assertEqual(len(c.events(key="activity:reminder", limit=1)["items"]), 1)

    def test_check_url_is_kept(self) -> None:
        res = self.client.notify("message:internal", "Checked", user_ids=[self.other],
                                 due_datetime="2031-01-01T00:00:00Z", check_url="https://host.example/check?x=1")
        self.assertEqual(self.client.event(res["event_id"])["check_url"], "https://host.example/check?x=1")
        self.client.cancel_event(res["event_id"])

    def test_idempotency_key(self) -> None:
        c = self.client
        key = uid("idem-")
        a = c.notify("message:internal", "Once", user_ids=[self.other], idempotency_key=key)
        b = c.notify("message:internal", "Once", user_ids=[self.other], idempotency_key=key)
        self.assertEqual((a["event_id"], a["replayed"], b["replayed"]), (b["event_id"], False, True))
        self.assertEqual(b["idempotency_key"], key)
        with self.assertRaises(InvalidField) as cm:
            c.notify("message:internal", "Another body", user_ids=[self.other], idempotency_key=key)
        self.assertEqual(cm.exception.status, 422)

    def test_attachments(self) -> None:
        res = self.client.notify("message:internal", "Invoice", user_ids=[self.other], force_channel="email",
                                 attachments=[Attachment("invoice.pdf", b"%PDF-1.4 ...", "application/pdf"),
                                              ("note.txt", b"hello")])
        self.assertEqual(res["channel"], "email")
        # Bad files are refused naming the file and field, as from curl.
        with self.assertRaises(InvalidField) as cm:
            self.client.notify("message:internal", "Invoice", user_ids=[self.other],
                               attachments=[("ok.txt", b"x"), ("../etc/passwd", b"x")])
        self.assertEqual(cm.exception.field, "attachments[1].name")

    def test_account_type_route(self) -> None:
        res = self.client.notify("message:internal", "Entrepreneurs", account_type="entrepreneur")
        self.assertEqual(res["status"], "published")
        # A host's own account type: exactly its active people.
        kind, a, b, off = uid("type"), uid(), uid(), uid()
        self.client.put_user(a, name="A", account_type=kind)
        self.client.put_user(b, name="B", account_type=kind)
        self.client.put_user(off, name="Off", account_type=kind, active=False)
        res = self.client.notify("message:internal", "Interns", account_type=kind)
        self.assertEqual(res["reached"], {"message": 2})
        res = self.client.notify("message:internal", "Nobody", account_type=uid("ghost"))
        self.assertEqual(res["unreachable"][0]["kind"], "account_type")

    def test_field_errors_as_from_curl(self) -> None:
        c = self.client
        with self.assertRaises(InvalidField) as cm:
            c.notify("message:internal", "T", user_ids=[self.other], due_datetime="next week")
        e = cm.exception
        self.assertEqual((e.status, e.code, e.field), (422, "invalid_field", "due_datetime"))
        self.assertIn("next week", e.message)
        self.assertTrue(e.request_id)
        self.assertIn("due_datetime", str(e))
        with self.assertRaises(InvalidField) as cm:
            c.notify("message:internal", "", user_ids=[self.other], force_channel="pigeon")
        fields = {d["field"] for d in cm.exception.details}
        self.assertEqual(fields, {"title", "force_channel"}, cm.exception.details)
        with self.assertRaises(InvalidField) as cm:
            c.notify("nope:nope", "T", user_ids=[self.other])
        self.assertEqual(cm.exception.field, "key")
        self.assertIn("cloche types set", cm.exception.message)
        with self.assertRaises(InvalidField) as cm:
            c.notify("message:internal", "Nobody")
        self.assertTrue(cm.exception.field)

    def test_bad_parameter_and_credentials(self) -> None:
        with self.assertRaises(BadRequest) as cm:
            self.client.request("GET", "/api/v1/events", query={"limit": "many"})
        self.assertEqual(cm.exception.field, "limit")
        with self.assertRaises(Unauthorized) as cm2:
            Client(self.srv.url, "ck_wrong", retries=0).types()
        self.assertEqual(cm2.exception.code, "unauthorized")
        token = self.client.user_token(self.other)["token"]
        with self.assertRaises(Forbidden):
            Client(self.srv.url, token).types()


class InboxTest(ServerCase):
    def test_inbox_with_an_api_key_and_a_user_token(self) -> None:
        c = self.client
        u = uid()
        c.put_user(u, name="Reader")
        for i in range(3):
            c.notify("message:internal", f"N{i}", f"<p>Body {i}</p>", user_ids=[u])
        c.notify("message:internal", "Banner", user_ids=[u], force_channel="header_message")
        page = c.inbox(u, channel="message", limit=2)
        self.assertEqual([n["title"] for n in page["items"]], ["N2", "N1"])
        self.assertEqual([n["title"] for n in c.inbox(u, channel="message", cursor=page["next"])["items"]], ["N0"])
        self.assertEqual(c.counts(u)["unread"], {"alert": 0, "header_message": 1, "message": 3})

        tok = c.user_token(u, ttl=600)
        self.assertEqual((tok["user_id"], tok["token_type"]), (u, "Bearer"))
        self.assertLessEqual(tok["expires_in"], 600)
        me = Client(self.srv.url, tok["token"])
        first = me.inbox(channel="message", unread=True)["items"][0]
        self.assertEqual(me.notification(None, first["id"])["title"], "N2")
        me.mark_read(None, first["id"])
        self.assertIsNotNone(c.notification(u, first["id"]).get("read_at"))
        me.mark_unread(None, first["id"])
        self.assertEqual(me.counts()["unread"]["message"], 3)
        until = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=2)
        self.assertIn("visible_at", me.postpone(None, first["id"], until=until))
        self.assertEqual(me.counts()["unread"]["message"], 2)
        self.assertEqual(me.mark_all_read(channel="message")["marked"], 2)
        c.postpone(u, page["items"][1]["id"])
        c.mark_read(u, page["items"][1]["id"])
        c.mark_unread(u, page["items"][1]["id"])
        self.assertEqual(c.mark_all_read(u)["marked"], 1)
        with self.assertRaises(NotFound):
            me.notification(None, 10**9)
        self.assertEqual(c.health(), {"status": "ok"})
        self.assertTrue(c.ready())


def _closed_port() -> str:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return str(port)


class FailedDeliveryTest(ServerCase):
    # A mail server that cannot be reached, and one attempt: e-mails fail.
    server_env = {
        "CLOCHE_SMTP__HOST": "127.0.0.1",
        "CLOCHE_SMTP__PORT": _closed_port(),
        "CLOCHE_SMTP__TLS": "none",
        "CLOCHE_SMTP__FROM": "cloche@example.org",
        "CLOCHE_EMAIL__MAX_ATTEMPTS": "1",
    }

    def test_retry_a_failed_delivery(self) -> None:
        c = self.client
        u = uid()
        c.put_user(u, name="Mailed", email="mailed@example.org")
        res = c.notify("message:internal", "By mail", user_ids=[u], force_channel="email")

        def failed() -> Any:
            items = c.deliveries(event_id=res["event_id"], status="failed")["items"]
            return items[0] if items else None

        d = self.wait_for("the delivery fails", failed)
        self.assertTrue(d.get("last_error") or d.get("last_message") or d.get("attempts"), d)
        again = c.retry_delivery(d["id"])
        self.assertEqual(again["id"], d["id"])
        self.assertIn(again["state"], ("queued", "sending", "retrying", "failed"))
        self.assertEqual(again["attempts"], 0)
