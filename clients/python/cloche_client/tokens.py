"""User tokens minted by the host itself, with the secret it shares with
Cloche (``auth.token_secret``; ``cloche token secret`` prints it).

A user token is a JWT signed with HS256 whose claims are ``sub`` (the user's
id in the host, a string), ``iat`` and ``exp`` (seconds since 1970). Cloche
refuses tokens whose ``exp`` is more than ``auth.token_max_ttl`` (24 hours by
default) away, and tolerates 30 seconds of clock difference. No JWT library
is needed: this is HMAC-SHA256 over two base64url-encoded JSON objects.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Optional, Union

__all__ = ["mint_user_token", "MAX_TTL"]

#: The longest life Cloche accepts by default (``auth.token_max_ttl``).
MAX_TTL = 24 * 3600


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def mint_user_token(
    secret: Union[str, bytes],
    user_id: Union[str, int],
    ttl: int = 900,
    *,
    now: Optional[float] = None,
) -> str:
    """A token for ``user_id``, valid ``ttl`` seconds (15 minutes by default).

    ``secret`` is Cloche's ``auth.token_secret``: the string itself (its
    UTF-8 bytes are the HMAC key), or bytes.
    """
    uid = str(user_id)
    if not uid:
        raise ValueError("user_id: empty; a token names a user")
    if ttl <= 0:
        raise ValueError(f"ttl: {ttl} seconds; a token must live a positive time")
    key = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
    if not key:
        raise ValueError("secret: empty; give Cloche's auth.token_secret")
    issued = int(time.time() if now is None else now)
    header = {"alg": "HS256", "typ": "JWT"}
    claims = {"sub": uid, "iat": issued, "exp": issued + int(ttl)}
    signing_input = (
        _b64url(json.dumps(header, separators=(",", ":")).encode("utf-8"))
        + "."
        + _b64url(json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    )
    sig = hmac.new(key, signing_input.encode("ascii"), hashlib.sha256).digest()
    return signing_input + "." + _b64url(sig)
