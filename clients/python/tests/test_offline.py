"""What the client does before any request: argument checks, the forms of
contexts, datetimes and attachments, error decoding; and its packaging."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import importlib.util
import os
import subprocess
import sys
import tempfile
import unittest
import zipfile
import zoneinfo

from cloche_client import Attachment, Client, ClocheError, InvalidField, ServerError, context_of
from cloche_client.client import _attachment
from cloche_client.errors import error_from_response

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class ArgumentsTest(unittest.TestCase):
    def test_client_arguments(self) -> None:
        for url in ("127.0.0.1:8080", "ftp://x", ""):
            with self.subTest(url=url), self.assertRaisesRegex(ValueError, "url"):
                Client(url, "ck_x")
        with self.assertRaisesRegex(ValueError, "timeout"):
            Client("http://x", "k", timeout=0)
        with self.assertRaisesRegex(ValueError, "retries"):
            Client("http://x", "k", retries=-1)

    def test_contexts(self) -> None:
        self.assertEqual(context_of("invoice:42"), "invoice:42")
        self.assertEqual(context_of(("invoice", 42)), {"type": "invoice", "id": "42"})
        self.assertEqual(context_of({"type": "task", "id": "7"}), {"type": "task", "id": "7"})
        with self.assertRaises(TypeError):
            context_of(("invoice",))  # type: ignore[arg-type]
        with self.assertRaises(TypeError):
            context_of(("invoice", 4.2))  # type: ignore[arg-type]

    def test_datetimes(self) -> None:
        paris = Client("http://x", "k", time_zone=zoneinfo.ZoneInfo("Europe/Paris"))
        server = Client("http://x", "k")
        naive = dt.datetime(2030, 1, 2, 9, 0)
        self.assertEqual(paris._datetime(naive, "due"), "2030-01-02T09:00:00+01:00")
        self.assertEqual(server._datetime(naive, "due"), "2030-01-02T09:00:00")  # the server's time_zone
        self.assertEqual(server._datetime(dt.date(2030, 1, 2), "due"), "2030-01-02")
        self.assertEqual(server._datetime("2030-01-02 09:00", "due"), "2030-01-02 09:00")

    def test_ids_and_lists(self) -> None:
        c = Client("http://127.0.0.1:1", "k", retries=0)
        with self.assertRaisesRegex(TypeError, "user_ids"):
            c.notify("k", "t", user_ids="123")
        with self.assertRaisesRegex(TypeError, "group_names"):
            c.notify("k", "t", group_names="manager")
        with self.assertRaisesRegex(TypeError, "company_id"):
            c.notify("k", "t", company_id=True)

    def test_attachments(self) -> None:
        self.assertEqual(
            _attachment(Attachment("a.pdf", b"%PDF", "application/pdf")),
            {"name": "a.pdf", "content_type": "application/pdf", "data": base64.b64encode(b"%PDF").decode()},
        )
        self.assertEqual(_attachment(("n.txt", b"x"))["content_type"], "application/octet-stream")
        with self.assertRaisesRegex(TypeError, "bytes"):
            _attachment(("n.txt", "not bytes"))  # type: ignore[arg-type]

    def test_error_decoding(self) -> None:
        e = error_from_response(422, {"X-Request-Id": "r1"}, b'{"error": {"code": "invalid_field", "field": "title", '
                                b'"message": "must not be empty", "details": [{"field": "title", "message": "m"}]}}')
        self.assertIsInstance(e, InvalidField)
        self.assertEqual((e.code, e.field, e.request_id, len(e.details)), ("invalid_field", "title", "r1", 1))
        e = error_from_response(502, {"Retry-After": "3"}, b"<html>Bad gateway</html>")
        self.assertIsInstance(e, ServerError)
        self.assertEqual((e.code, e.retry_after), ("http_error", 3.0))
        self.assertIn("Bad gateway", str(e))
        self.assertIsInstance(error_from_response(418, {}, b""), ClocheError)


class PackagingTest(unittest.TestCase):
    def test_wheel_from_the_in_tree_backend(self) -> None:
        spec = importlib.util.spec_from_file_location("cloche_build", os.path.join(HERE, "_build", "cloche_build.py"))
        assert spec and spec.loader
        backend = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(backend)
        with tempfile.TemporaryDirectory() as d:
            name = backend.build_wheel(d)
            with zipfile.ZipFile(os.path.join(d, name)) as z:
                names = set(z.namelist())
                self.assertTrue({"cloche_client/__init__.py", "cloche_client/endi.py", "cloche_client/py.typed"} <= names)
                record = z.read(f"cloche_client-{backend._version()}.dist-info/RECORD").decode().splitlines()
                for line in record:
                    path, digest, size = line.rsplit(",", 2)
                    if digest:
                        data = z.read(path)
                        want = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
                        self.assertEqual((digest, int(size)), ("sha256=" + want, len(data)), path)
            self.assertTrue(backend.build_sdist(d).endswith(".tar.gz"))

    def test_pip_installs_it_offline(self) -> None:
        with tempfile.TemporaryDirectory() as d:
            venv = os.path.join(d, "venv")
            made = subprocess.run([sys.executable, "-m", "venv", venv], capture_output=True, text=True)
            if made.returncode != 0:
                if os.environ.get("CLOCHE_TEST_REQUIRE_ALL") == "1":
                    self.fail(f"{sys.executable} -m venv failed (apt-get install python3-venv): {made.stderr[-300:]}")
                self.skipTest(f"no venv with pip here ({sys.executable} -m venv: {made.stderr.strip()[-200:]})")
            py = os.path.join(venv, "bin", "python")
            env = dict(os.environ, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
            res = subprocess.run([py, "-m", "pip", "install", "--no-index", "-q", HERE], capture_output=True, text=True, env=env)
            self.assertEqual(res.returncode, 0, res.stderr)
            res = subprocess.run([py, "-c", "import cloche_client.endi, cloche_client; print(cloche_client.__file__)"],
                                 capture_output=True, text=True, cwd=d)
            self.assertEqual(res.returncode, 0, res.stderr)
            self.assertIn("site-packages", res.stdout)
