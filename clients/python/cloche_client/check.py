"""Signed check URLs: a due event asks the host whether it still applies,
without Cloche ever holding a query the host would run unsigned.

enDI keeps a raw SQL ``check_query`` on a scheduled notification and runs it
at due time: the notification is sent when its first column is truthy. With
Cloche, the query stays the host's: :func:`signed_check_url` puts it, with an
HMAC-SHA256 signature under a secret only the host knows, in a ``check_url``
on the host. At due time Cloche POSTs ``{"event": {...}}`` to that URL; the
check view (:class:`CheckApp` for any WSGI server, :func:`check_answer` for
a framework's view) verifies the signature, runs the query only when it is
the host's own, and answers ``{"send": true}`` or ``{"send": false}``. A
forged or altered URL is refused with 403 and nothing runs: Cloche retries,
then marks the event failed with the reason ("check_url answered 403").
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import urllib.parse
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple, Union

__all__ = [
    "signed_check_url",
    "verify_check_query",
    "check_answer",
    "CheckApp",
    "dbapi_runner",
    "MIN_SECRET_LEN",
]

#: The shortest secret accepted, in bytes.
MIN_SECRET_LEN = 32

_DOMAIN = b"cloche-check-query-v1\x00"

QueryRunner = Callable[[str], Any]


def _key(secret: Union[str, bytes]) -> bytes:
    key = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
    if len(key) < MIN_SECRET_LEN:
        raise ValueError(
            f"cloche.check_secret: {len(key)} bytes; give at least {MIN_SECRET_LEN} "
            "(e.g. python3 -c 'import secrets; print(secrets.token_hex(32))')"
        )
    return key


def _sign(key: bytes, query: str) -> str:
    return hmac.new(key, _DOMAIN + query.encode("utf-8"), hashlib.sha256).hexdigest()


def signed_check_url(base_url: str, secret: Union[str, bytes], query: str) -> str:
    """The check URL of ``query`` under the host's check view at
    ``base_url`` (absolute, http or https): the query, base64url-encoded
    in ``q``, and its signature in ``sig``."""
    parts = urllib.parse.urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"cloche.check_url: {base_url!r} is not an absolute http(s) URL of the check view")
    if not query.strip():
        raise ValueError("check_query: empty")
    key = _key(secret)
    q = base64.urlsafe_b64encode(query.encode("utf-8")).rstrip(b"=").decode("ascii")
    params = urllib.parse.urlencode([("q", q), ("sig", _sign(key, query))])
    sep = "&" if parts.query else "?"
    return base_url + sep + params


class ForgedQuery(Exception):
    """A check URL that the host did not sign, or that was altered."""


def verify_check_query(secret: Union[str, bytes], query_string: str) -> str:
    """The query of a check URL's query string, when its signature is the
    host's; :class:`ForgedQuery` otherwise."""
    key = _key(secret)
    params = urllib.parse.parse_qs(query_string, keep_blank_values=True)
    qs, sigs = params.get("q", []), params.get("sig", [])
    if len(qs) != 1 or len(sigs) != 1:
        raise ForgedQuery("the check URL needs exactly one q and one sig")
    try:
        q = qs[0]
        query = base64.urlsafe_b64decode(q + "=" * (-len(q) % 4)).decode("utf-8")
    except (binascii.Error, ValueError):
        raise ForgedQuery("q is not base64url-encoded UTF-8") from None
    if not hmac.compare_digest(_sign(key, query), sigs[0]):
        raise ForgedQuery("the signature does not match the query")
    return query


def check_answer(secret: Union[str, bytes], query_string: str, run_query: QueryRunner) -> Tuple[int, Dict[str, Any]]:
    """The status and JSON body a check view answers: 200 ``{"send": bool}``
    for a signed query (whose result's truth decides), 403 with an error
    for a forged or altered one (the query is not run). An exception of
    ``run_query`` propagates: the view's framework answers 500, and Cloche
    asks again later."""
    try:
        query = verify_check_query(secret, query_string)
    except ForgedQuery as e:
        return 403, {"error": {"code": "forbidden", "message": f"check URL refused: {e}"}}
    return 200, {"send": bool(run_query(query))}


def dbapi_runner(connect: Callable[[], Any]) -> QueryRunner:
    """A query runner over a DB-API connection factory (``sqlite3``,
    ``psycopg``...): the first column of the first row, None when no row."""

    def run(query: str) -> Any:
        conn = connect()
        try:
            cur = conn.cursor()
            cur.execute(query)
            row = cur.fetchone()
            return row[0] if row else None
        finally:
            conn.close()

    return run


def sqlalchemy_runner(session: Any) -> QueryRunner:
    """A query runner over a SQLAlchemy session (enDI's ``request.dbsession``):
    ``session.execute(text(query)).scalar()``, as enDI's ``check_query``."""

    def run(query: str) -> Any:
        from sqlalchemy import text  # the host's dependency, not ours

        return session.execute(text(query)).scalar()

    return run


StartResponse = Callable[[str, List[Tuple[str, str]]], Any]


class CheckApp:
    """The check view as a WSGI application: mount it at the path of
    ``cloche.check_url`` (e.g. with :mod:`wsgiref`, or under a Pyramid
    route with ``pyramid.wsgi.wsgiapp``). Only POST is answered."""

    def __init__(self, secret: Union[str, bytes], run_query: QueryRunner) -> None:
        _key(secret)  # a short secret is refused at once, not at due time
        self.secret = secret
        self.run_query = run_query

    def __call__(self, environ: Dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            return _json(start_response, 405, {"error": {"code": "method_not_allowed", "message": "POST only"}}, [("Allow", "POST")])
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length:
            environ["wsgi.input"].read(min(length, 1 << 20))  # the event: not needed to answer
        try:
            status, body = check_answer(self.secret, environ.get("QUERY_STRING", ""), self.run_query)
        except Exception as e:  # the query failed: Cloche retries
            return _json(start_response, 500, {"error": {"code": "internal", "message": f"check query failed: {type(e).__name__}"}})
        return _json(start_response, status, body)


_REASONS = {200: "OK", 403: "Forbidden", 405: "Method Not Allowed", 500: "Internal Server Error"}


def _json(start_response: StartResponse, status: int, body: Dict[str, Any], extra: Optional[List[Tuple[str, str]]] = None) -> List[bytes]:
    data = json.dumps(body).encode("utf-8")
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(data)))] + (extra or [])
    start_response(f"{status} {_REASONS.get(status, '')}", headers)
    return [data]
