"""Errors of the Cloche API, as exceptions.

Every error answer of Cloche has one shape::

    {"error": {"code": "invalid_field", "field": "due_datetime",
               "message": "...", "details": [...], "request_id": "..."}}

:class:`ClocheError` carries those fields; its subclasses tell the status
apart, so that a caller can ``except NotFound``.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Type

__all__ = [
    "ClocheError",
    "BadRequest",
    "Unauthorized",
    "Forbidden",
    "NotFound",
    "Conflict",
    "TooLarge",
    "InvalidField",
    "RateLimited",
    "Unavailable",
    "ServerError",
    "ConnectionFailed",
    "error_from_response",
]


class ClocheError(Exception):
    """An error answer of Cloche, or a request that never got one.

    ``status`` is the HTTP status (0 when no answer came), ``code`` the
    API's machine-readable code (``invalid_field``, ``not_found``...),
    ``field`` the input that is wrong when one is, ``details`` every wrong
    field (a list of ``{"field", "message"}``), ``request_id`` the
    ``X-Request-Id`` under which the server logged the request, and
    ``retry_after`` the seconds of a ``Retry-After`` header.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int = 0,
        code: str = "",
        field: Optional[str] = None,
        details: Optional[List[Dict[str, str]]] = None,
        request_id: Optional[str] = None,
        retry_after: Optional[float] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.field = field
        self.details: List[Dict[str, str]] = details or []
        self.request_id = request_id
        self.retry_after = retry_after

    def __str__(self) -> str:
        head = f"cloche: {self.status} {self.code}" if self.status else f"cloche: {self.code}"
        if self.field:
            head += f": {self.field}"
        tail = f" (request {self.request_id})" if self.request_id else ""
        return f"{head}: {self.message}{tail}"


class BadRequest(ClocheError):
    """400: the body is not JSON, or a path or query parameter is malformed."""


class Unauthorized(ClocheError):
    """401: no credential, or an unknown, revoked, expired or badly signed one."""


class Forbidden(ClocheError):
    """403: a valid credential of the wrong kind, or a refused origin."""


class NotFound(ClocheError):
    """404: no such object (or not the token user's)."""


class Conflict(ClocheError):
    """409: e.g. cancelling an event that is not pending; a type in use."""


class TooLarge(ClocheError):
    """413: the body is over the server's limit."""


class InvalidField(ClocheError):
    """422: a field is wrong; ``field`` names it, ``details`` lists every one."""


class RateLimited(ClocheError):
    """429: too many requests; ``retry_after`` says when to come back."""


class Unavailable(ClocheError):
    """503: the database is out of reach, or the request timed out."""


class ServerError(ClocheError):
    """Any other 5xx answer."""


class ConnectionFailed(ClocheError):
    """No answer: the server could not be reached, the connection broke, or
    the call ran past its timeout (after the retries, when they apply)."""


_BY_STATUS: Dict[int, Type[ClocheError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    405: BadRequest,
    409: Conflict,
    413: TooLarge,
    422: InvalidField,
    429: RateLimited,
    503: Unavailable,
}


def _retry_after(headers: Mapping[str, str]) -> Optional[float]:
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def error_from_response(status: int, headers: Mapping[str, str], raw: bytes) -> ClocheError:
    """The exception for an error answer of status ``status``."""
    import json

    cls = _BY_STATUS.get(status, ServerError if status >= 500 else ClocheError)
    body: Any = None
    try:
        body = json.loads(raw.decode("utf-8")) if raw else None
    except (ValueError, UnicodeDecodeError):
        body = None
    err = body.get("error") if isinstance(body, dict) else None
    request_id = headers.get("X-Request-Id")
    if isinstance(err, dict) and isinstance(err.get("code"), str):
        details = err.get("details")
        return cls(
            str(err.get("message", "")),
            status=status,
            code=str(err["code"]),
            field=err.get("field") or None,
            details=[d for d in details if isinstance(d, dict)] if isinstance(details, list) else None,
            request_id=err.get("request_id") or request_id,
            retry_after=_retry_after(headers),
        )
    text = raw.decode("utf-8", "replace").strip()[:500] or f"HTTP {status}"
    return cls(text, status=status, code="http_error", request_id=request_id, retry_after=_retry_after(headers))
