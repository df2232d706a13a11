"""User tokens minted locally with the shared secret, accepted by Cloche."""

from __future__ import annotations

import base64
import json
import time
import unittest

from cloche_client import Client, Unauthorized, mint_user_token

from . import server
from .support import ServerCase, uid


def claims(token: str) -> dict:  # type: ignore[type-arg]
    part = token.split(".")[1]
    out: dict = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))  # type: ignore[type-arg]
    return out


def altered(token: str, **change: object) -> str:
    """The token with its claims changed and its signature kept."""
    head, _, sig = token.split(".")
    body = dict(claims(token), **change)
    part = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
    return f"{head}.{part}.{sig}"


class MintTest(unittest.TestCase):
    def test_shape(self) -> None:
        tok = mint_user_token("s" * 32, 42, ttl=600, now=1_700_000_000)
        head = tok.split(".")[0]
        self.assertEqual(json.loads(base64.urlsafe_b64decode(head + "==")), {"alg": "HS256", "typ": "JWT"})
        self.assertEqual(claims(tok), {"sub": "42", "iat": 1_700_000_000, "exp": 1_700_000_600})
        self.assertNotIn("=", tok)

    def test_refuses_bad_input(self) -> None:
        for args, field in [(("", 1), "secret"), (("s" * 32, ""), "user_id")]:
            with self.subTest(field=field), self.assertRaisesRegex(ValueError, field):
                mint_user_token(*args)
        with self.assertRaisesRegex(ValueError, "ttl"):
            mint_user_token("s" * 32, 1, ttl=0)


class AcceptedTest(ServerCase):
    def test_local_token_is_accepted(self) -> None:
        u = uid("é")  # a non-ASCII id survives the claims
        self.client.put_user(u, name="Local")
        self.client.notify("message:internal", "For the page", user_ids=[u])
        me = Client(self.srv.url, mint_user_token(server.TOKEN_SECRET, u))
        self.assertEqual(me.counts()["unread"]["message"], 1)
        self.assertEqual(me.inbox()["items"][0]["title"], "For the page")
        # The server's own token has the same claims.
        theirs = claims(self.client.user_token(u, ttl=900)["token"])
        self.assertEqual(sorted(theirs), ["exp", "iat", "sub"])
        self.assertEqual(theirs["sub"], u)

    def test_refused_tokens(self) -> None:
        u = uid()
        self.client.put_user(u, name="Refused")
        now = time.time()
        cases = {
            "another secret": mint_user_token("another secret, 32 bytes or more!!", u),
            "expired": mint_user_token(server.TOKEN_SECRET, u, ttl=60, now=now - 3600),
            "beyond token_max_ttl": mint_user_token(server.TOKEN_SECRET, u, ttl=48 * 3600),
            "altered": altered(mint_user_token(server.TOKEN_SECRET, u), sub="someone else"),
        }
        for name, tok in cases.items():
            with self.subTest(name), self.assertRaises(Unauthorized) as cm:
                Client(self.srv.url, tok, retries=0).counts()
            self.assertEqual(cm.exception.code, "unauthorized")
