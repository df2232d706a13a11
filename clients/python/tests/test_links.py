"""Links, callback actions and the archive against a real `cloche serve`:
the host's callback view receives Cloche's signed POST, checks both
signatures, and its answer comes back to the caller."""

from __future__ import annotations

import json
import threading
import unittest
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Dict, List

from cloche_client import InvalidField
from cloche_client.callbacks import (
    ForgedCallback,
    signed_callback_url,
    verify_callback_url,
    verify_cloche_signature,
)

from .support import ServerCase, uid

HOST_SECRET = "the host's own callback secret, 32 bytes or more"
CLOCHE_SECRET = "cloche's signing secret for host calls, 32+ bytes"


class LinksTest(ServerCase):
    server_env = {"CLOCHE_CHECK__SIGNING_SECRET": CLOCHE_SECRET}
    calls: ClassVar[List[Dict[str, Any]]]

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.calls = []
        calls = cls.calls

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                query = urllib.parse.urlsplit(self.path).query
                try:
                    verify_cloche_signature(CLOCHE_SECRET, dict(self.headers.items()), body)
                    params = verify_callback_url(HOST_SECRET, query)
                except ForgedCallback as e:
                    self.send_response(403)
                    self.end_headers()
                    self.wfile.write(json.dumps({"message": str(e)}).encode())
                    return
                calls.append({"params": params, "body": json.loads(body)})
                out = json.dumps({"message": f"invoice {params['invoice']} paid"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        cls.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=cls.httpd.serve_forever, daemon=True).start()
        cls.base = "http://127.0.0.1:%d/cloche/callback" % cls.httpd.server_port
        cls.user = uid()
        cls.client.put_user(cls.user, name="Linked")

    @classmethod
    def tearDownClass(cls) -> None:
        cls.httpd.shutdown()
        cls.httpd.server_close()
        super().tearDownClass()

    def test_links_and_callback(self) -> None:
        pay = signed_callback_url(self.base, HOST_SECRET, {"invoice": 42, "do": "pay"})
        res = self.client.notify(
            "message:internal", "Invoice 42", user_ids=[self.user],
            url="https://erp.example.org/invoices/42",
            actions=[{"label": "Voir", "url": "https://erp.example.org/invoices/42"},
                     {"label": "Payer", "callback": pay}],
        )
        ev = self.client.event(res["event_id"])
        self.assertEqual(ev["url"], "https://erp.example.org/invoices/42")
        self.assertEqual(ev["actions"][1]["callback"], pay)
        item = self.client.inbox(self.user)["items"][0]
        self.assertEqual(item["url"], "https://erp.example.org/invoices/42")
        self.assertEqual(item["actions"], [{"label": "Voir", "url": "https://erp.example.org/invoices/42"},
                                           {"label": "Payer", "callback": True}])
        out = self.client.run_action(self.user, item["id"], 1)
        self.assertEqual(out, {"ok": True, "status": 200, "message": "invoice 42 paid"})
        self.assertEqual(self.calls[-1]["params"], {"invoice": 42, "do": "pay"})
        self.assertEqual(self.calls[-1]["body"]["action"], {"index": 1, "label": "Payer"})

        # A URL the host did not sign is refused by its own view.
        forged = pay.replace("sig=", "sig=0")
        self.client.notify("message:internal", "Forged", user_ids=[self.user],
                           actions=[{"label": "Payer", "callback": forged}])
        item = self.client.inbox(self.user)["items"][0]
        out = self.client.run_action(self.user, item["id"], 0)
        self.assertFalse(out["ok"])
        self.assertEqual(out["status"], 403)

    def test_bad_links_name_the_field(self) -> None:
        with self.assertRaises(InvalidField) as cm:
            self.client.notify("message:internal", "t", user_ids=[self.user], url="javascript:alert(1)")
        self.assertEqual(cm.exception.field, "url")
        with self.assertRaises(InvalidField) as cm:
            self.client.notify("message:internal", "t", user_ids=[self.user],
                               actions=[{"label": "x" * 101, "url": "https://x.example"}])
        self.assertEqual(cm.exception.field, "actions[0].label")

    def test_archive(self) -> None:
        user = uid()
        self.client.put_user(user, name="Archivist")
        self.client.notify("message:internal", "Keep me", user_ids=[user])
        item = self.client.inbox(user)["items"][0]
        self.client.archive(user, item["id"])
        self.assertEqual(self.client.inbox(user)["items"], [])
        self.assertEqual(self.client.counts(user)["total"], 0)
        archived = self.client.inbox(user, archived=True)["items"]
        self.assertEqual([a["id"] for a in archived], [item["id"]])
        self.assertIn("archived_at", archived[0])
        self.client.unarchive(user, item["id"])
        self.assertEqual(len(self.client.inbox(user)["items"]), 1)


if __name__ == "__main__":
    unittest.main()
