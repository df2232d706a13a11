"""Callback actions: a button of a notification that has Cloche POST to the
host when the person presses it.

Two signatures protect such a call, both HMAC-SHA256:

* the **URL**, signed by the host, as check URLs are
  (:func:`cloche_client.check.signed_check_url`): :func:`signed_callback_url`
  puts the parameters the host needs (``{"invoice": 42, "do": "pay"}``),
  base64url-encoded in ``p``, and their signature under a secret only the
  host knows in ``sig``; :func:`verify_callback_url` gives them back, or
  raises :class:`ForgedCallback` for a URL the host did not sign.
* the **request**, signed by Cloche: ``Cloche-Timestamp`` (seconds since
  1970) and ``Cloche-Signature: v1=HEX``, the HMAC-SHA256 of
  ``timestamp + "." + body`` keyed with Cloche's ``check.signing_secret``
  (else its user-token secret, which ``cloche token secret`` prints);
  :func:`verify_cloche_signature` checks it, and that the timestamp is
  recent.

The body is ``{"action": {"index", "label"}, "user_id", "notification",
"event"}``. The host answers 2xx when it did what the button says, with
an optional ``{"message": "..."}`` that the widget shows.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
import urllib.parse
from typing import Any, Dict, Mapping, Optional, Union

from .check import _key

__all__ = [
    "ForgedCallback",
    "signed_callback_url",
    "verify_callback_url",
    "verify_cloche_signature",
]

_DOMAIN = b"cloche-callback-v1\x00"


class ForgedCallback(Exception):
    """A callback the host did not sign, or one altered or stale."""


def _sign(key: bytes, payload: bytes) -> str:
    return hmac.new(key, _DOMAIN + payload, hashlib.sha256).hexdigest()


def signed_callback_url(base_url: str, secret: Union[str, bytes], params: Mapping[str, Any]) -> str:
    """A callback URL under the host's view at ``base_url`` (absolute,
    http or https) carrying ``params`` (JSON-encodable), signed."""
    parts = urllib.parse.urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"callback: {base_url!r} is not an absolute http(s) URL")
    key = _key(secret)
    payload = json.dumps(dict(params), sort_keys=True, separators=(",", ":")).encode("utf-8")
    p = base64.urlsafe_b64encode(payload).rstrip(b"=").decode("ascii")
    sep = "&" if parts.query else "?"
    return base_url + sep + urllib.parse.urlencode([("p", p), ("sig", _sign(key, payload))])


def verify_callback_url(secret: Union[str, bytes], query_string: str) -> Dict[str, Any]:
    """The parameters of a callback URL's query string, when the host
    signed it; :class:`ForgedCallback` otherwise."""
    key = _key(secret)
    params = urllib.parse.parse_qs(query_string, keep_blank_values=True)
    ps, sigs = params.get("p", []), params.get("sig", [])
    if len(ps) != 1 or len(sigs) != 1:
        raise ForgedCallback("the callback URL needs exactly one p and one sig")
    try:
        payload = base64.urlsafe_b64decode(ps[0] + "=" * (-len(ps[0]) % 4))
    except (binascii.Error, ValueError):
        raise ForgedCallback("p is not base64url-encoded") from None
    if not hmac.compare_digest(_sign(key, payload), sigs[0]):
        raise ForgedCallback("the signature does not match the parameters")
    out: Dict[str, Any] = json.loads(payload)
    return out


def verify_cloche_signature(
    secret: Union[str, bytes],
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: Optional[float] = None,
    tolerance: float = 300,
) -> None:
    """Check that Cloche sent this request: its ``Cloche-Signature`` is
    the HMAC of ``Cloche-Timestamp.body`` under ``secret``, and the
    timestamp is within ``tolerance`` seconds of ``now``. Header names are
    looked up case-insensitively (a WSGI environ's ``HTTP_CLOCHE_...``
    keys work too). Raises :class:`ForgedCallback`."""
    lower = {k.lower().replace("_", "-"): v for k, v in headers.items()}

    def get(name: str) -> str:
        return lower.get(name, lower.get("http-" + name, ""))

    ts, sig = get("cloche-timestamp"), get("cloche-signature")
    if not ts or not sig.startswith("v1="):
        raise ForgedCallback("the request is not signed by Cloche")
    key = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
    want = hmac.new(key, ts.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, sig[3:]):
        raise ForgedCallback("the Cloche signature does not match")
    try:
        at = int(ts)
    except ValueError:
        raise ForgedCallback("Cloche-Timestamp is not a number") from None
    if abs((time.time() if now is None else now) - at) > tolerance:
        raise ForgedCallback("Cloche-Timestamp is too far from now")
