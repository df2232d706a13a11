"""The HTTP client of Cloche's API (``/api/v1``), standard library only."""

from __future__ import annotations

import base64
import datetime as _dt
import http.client
import json
import random
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import (
    Any,
    Callable,
    Dict,
    Iterable,
    Iterator,
    List,
    Mapping,
    NamedTuple,
    Optional,
    Sequence,
    Tuple,
    Union,
)

from .errors import (
    ClocheError,
    ConnectionFailed,
    RateLimited,
    Unavailable,
    error_from_response,
)

__all__ = ["Client", "Attachment", "JSONObject", "ID", "ContextLike", "DatetimeLike"]

#: A JSON object as the API answers it.
JSONObject = Dict[str, Any]
#: An id of the host's objects: Cloche keeps them as strings.
ID = Union[str, int]
#: The object a notification is about: ``"invoice:42"``, ``("invoice", 42)``
#: or ``{"type": "invoice", "id": 42}``.
ContextLike = Union[str, Tuple[str, ID], Mapping[str, Any]]
#: A datetime: aware (sent with its offset), naive (in the client's
#: ``time_zone``, else the server's ``time_zone``), a date, or a string the
#: API reads (RFC 3339, or ``YYYY-MM-DD HH:MM[:SS]``).
DatetimeLike = Union[_dt.datetime, _dt.date, str]

_CHANNELS = ("email", "message", "header_message", "alert", "push")


class Attachment(NamedTuple):
    """A file sent with every e-mail of an event (in-app channels ignore it)."""

    name: str
    data: bytes
    content_type: str = "application/octet-stream"


AttachmentLike = Union[Attachment, Tuple[str, bytes], Tuple[str, bytes, str]]


def _id(value: ID, field: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TypeError(f"{field}: {value!r} is not an id (a string or an integer)")
    return str(value)


def _ids(values: Iterable[ID], field: str) -> List[str]:
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{field}: give a list of ids, not the string {values!r}")
    return [_id(v, field) for v in values]


def _names(values: Iterable[str], field: str) -> List[str]:
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{field}: give a list of names, not the string {values!r}")
    return [str(v) for v in values]


def context_of(value: ContextLike) -> Union[str, Dict[str, str]]:
    """The API's form of a context (see :data:`ContextLike`)."""
    if isinstance(value, str):
        return value
    if isinstance(value, tuple):
        if len(value) != 2:
            raise TypeError(f"context: {value!r} is not a (type, id) pair")
        return {"type": str(value[0]), "id": _id(value[1], "context.id")}
    if isinstance(value, Mapping):
        return {"type": str(value["type"]), "id": _id(value["id"], "context.id")}
    raise TypeError(f"context: {value!r} is not 'TYPE:ID', (type, id) or a mapping")


class Client:
    """A client of one Cloche server, with one credential.

    ``credential`` is an API key (``ck_...``, for a host application) or a
    user token (for the ``/me`` routes only). Every call has a ``timeout``
    (seconds, per attempt). Answers 429 and 503, and connection errors, are
    retried ``retries`` times with exponential backoff and jitter (from
    ``backoff`` seconds, at most ``max_backoff``; a ``Retry-After`` is
    honoured up to ``max_backoff``). Calls that would act twice if a lost
    answer were retried (cancelling an event by id, retrying a delivery)
    are retried on 429 and 503 only; a notify is retried on connection
    errors too, always with the same ``Idempotency-Key`` (one is generated
    when the caller gives none), so that a retry never sends twice.

    Naive datetimes are taken in ``time_zone`` (a :class:`datetime.tzinfo`,
    e.g. ``zoneinfo.ZoneInfo("Europe/Paris")``) when it is given, else in
    the server's ``time_zone``.
    """

    def __init__(
        self,
        url: str,
        credential: Optional[str] = None,
        *,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 10.0,
        time_zone: Optional[_dt.tzinfo] = None,
        user_agent: str = "cloche-python-client",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"url: {url!r} is not an http(s) URL (e.g. http://127.0.0.1:8080)")
        if timeout <= 0:
            raise ValueError(f"timeout: {timeout}; give a positive number of seconds")
        if retries < 0:
            raise ValueError(f"retries: {retries}; give 0 or more")
        self.url = url.rstrip("/")
        self.credential = credential
        self.timeout = float(timeout)
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.time_zone = time_zone
        self.user_agent = user_agent
        self._sleep = sleep
        self._opener = urllib.request.build_opener()

    # ------------------------------------------------------------------
    # Transport

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Optional[Mapping[str, Any]] = None,
        body: Any = None,
        headers: Optional[Mapping[str, str]] = None,
        retry_connection: bool = True,
    ) -> Tuple[Any, Mapping[str, str]]:
        """Send one call (with its retries) and return the decoded JSON
        answer (None when empty) and the answer's headers. ``path`` starts
        with ``/`` and has its segments escaped already."""
        attempt = 0
        while True:
            try:
                return self._once(method, path, query, body, headers)
            except ClocheError as err:
                retryable = isinstance(err, (RateLimited, Unavailable)) or (
                    retry_connection and isinstance(err, ConnectionFailed)
                )
                if not retryable or attempt >= self.retries:
                    raise
                self._sleep(self._delay(attempt, err.retry_after))
                attempt += 1

    def _delay(self, attempt: int, retry_after: Optional[float]) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_backoff)
        base = min(self.max_backoff, self.backoff * (2**attempt))
        return base * random.uniform(0.5, 1.0)

    def _once(
        self,
        method: str,
        path: str,
        query: Optional[Mapping[str, Any]],
        body: Any,
        headers: Optional[Mapping[str, str]],
    ) -> Tuple[Any, Mapping[str, str]]:
        url = self.url + path
        if query:
            pairs = [(k, _query_value(v)) for k, v in query.items() if v is not None]
            if pairs:
                url += "?" + urllib.parse.urlencode(pairs)
        data: Optional[bytes] = None
        hdrs = {"Accept": "application/json", "User-Agent": self.user_agent}
        if body is not None:
            data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            hdrs["Content-Type"] = "application/json"
        elif method in ("POST", "PUT"):
            data = b""
        if self.credential:
            hdrs["Authorization"] = "Bearer " + self.credential
        if headers:
            hdrs.update(headers)
        req = urllib.request.Request(url, data=data, headers=hdrs, method=method)
        try:
            with self._opener.open(req, timeout=self.timeout) as resp:
                raw = resp.read()
                resp_headers: Mapping[str, str] = resp.headers
        except urllib.error.HTTPError as e:
            try:
                raw = e.read()
            except (OSError, http.client.HTTPException):
                raw = b""
            raise error_from_response(e.code, e.headers, raw) from None
        except (urllib.error.URLError, http.client.HTTPException, OSError) as e:
            reason: Any = getattr(e, "reason", e)
            kind = "timed out" if isinstance(reason, (socket.timeout, TimeoutError)) else "failed"
            raise ConnectionFailed(
                f"{method} {path} {kind} after {self.timeout:g}s timeout: {reason}"
                if kind == "timed out"
                else f"{method} {path}: {reason!r}",
                code="timeout" if kind == "timed out" else "connection_failed",
            ) from e
        if not raw:
            return None, resp_headers
        try:
            return json.loads(raw.decode("utf-8")), resp_headers
        except (ValueError, UnicodeDecodeError) as e:
            raise ClocheError(f"{method} {path}: the answer is not JSON: {e}", code="invalid_answer") from e

    def _get(self, path: str, query: Optional[Mapping[str, Any]] = None) -> Any:
        return self.request("GET", path, query=query)[0]

    def _pages(self, path: str, query: Dict[str, Any]) -> Iterator[JSONObject]:
        cursor: Optional[str] = None
        while True:
            page = self._get(path, dict(query, cursor=cursor))
            yield from page.get("items") or []
            cursor = page.get("next")
            if not cursor:
                return

    def _datetime(self, value: DatetimeLike, field: str) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, _dt.datetime):
            if value.tzinfo is None and self.time_zone is not None:
                value = value.replace(tzinfo=self.time_zone)
            return value.isoformat()
        if isinstance(value, _dt.date):
            return value.isoformat()
        raise TypeError(f"{field}: {value!r} is not a datetime")

    # ------------------------------------------------------------------
    # Health

    def health(self) -> JSONObject:
        """GET /healthz: the process answers."""
        out: JSONObject = self._get("/healthz") or {}
        return out

    def ready(self) -> JSONObject:
        """GET /readyz: the database answers and is migrated (else
        :class:`Unavailable`)."""
        out: JSONObject = self._get("/readyz") or {}
        return out

    # ------------------------------------------------------------------
    # Events

    def notify(
        self,
        key: str,
        title: str,
        body: str = "",
        *,
        group_names: Optional[Iterable[str]] = None,
        user_ids: Optional[Iterable[ID]] = None,
        company_id: Optional[ID] = None,
        follower_user_id: Optional[ID] = None,
        account_type: Optional[str] = None,
        force_channel: Optional[str] = None,
        due_datetime: Optional[DatetimeLike] = None,
        until: Optional[DatetimeLike] = None,
        context: Optional[ContextLike] = None,
        check_url: Optional[str] = None,
        url: Optional[str] = None,
        actions: Optional[Sequence[Mapping[str, str]]] = None,
        attachments: Optional[Sequence[AttachmentLike]] = None,
        idempotency_key: Optional[str] = None,
    ) -> JSONObject:
        """POST /api/v1/events: send now, or at ``due_datetime``.

        Recipients are the union of the routes given (each person reached
        once). The answer is the API's (``event_id``, ``status``,
        ``channel``, ``reached``, ``unknown_user_ids``...) plus
        ``idempotency_key`` (the one sent) and ``replayed`` (True when the
        server answered an earlier request with that key instead of
        notifying again).

        ``url`` is what the notification leads to (the widget opens it
        when the person clicks the item; the e-mail links to it).
        ``actions`` are up to three buttons, each ``{"label": ..., "url":
        ...}`` (opened by the person) or ``{"label": ..., "callback": ...}``
        (Cloche POSTs to the host, signed, when it is pressed; see
        :mod:`cloche_client.callbacks`).
        """
        req: JSONObject = {"key": key, "title": title}
        if body:
            req["body"] = body
        if group_names is not None:
            req["group_names"] = _names(group_names, "group_names")
        if user_ids is not None:
            req["user_ids"] = _ids(user_ids, "user_ids")
        if company_id is not None:
            req["company_id"] = _id(company_id, "company_id")
        if follower_user_id is not None:
            req["follower_user_id"] = _id(follower_user_id, "follower_user_id")
        if account_type is not None:
            req["account_type"] = account_type
        if force_channel is not None:
            req["force_channel"] = force_channel
        if due_datetime is not None:
            req["due_datetime"] = self._datetime(due_datetime, "due_datetime")
        if until is not None:
            req["until"] = self._datetime(until, "until")
        if context is not None:
            req["context"] = context_of(context)
        if check_url is not None:
            req["check_url"] = check_url
        if url is not None:
            req["url"] = url
        if actions is not None:
            req["actions"] = [_action(a) for a in actions]
        if attachments:
            req["attachments"] = [_attachment(a) for a in attachments]
        ikey = idempotency_key or "py-" + uuid.uuid4().hex
        out, headers = self.request("POST", "/api/v1/events", body=req, headers={"Idempotency-Key": ikey})
        result: JSONObject = dict(out or {})
        result["idempotency_key"] = ikey
        result["replayed"] = headers.get("Idempotent-Replayed") == "true"
        return result

    def events(
        self,
        *,
        status: Optional[str] = None,
        key: Optional[str] = None,
        context: Optional[str] = None,
        cursor: Optional[str] = None,
        limit: Optional[int] = None,
    ) -> JSONObject:
        """GET /api/v1/events: one page (``items``, ``next``). ``context`` is
        ``"invoice"`` or ``"invoice:42"``."""
        out: JSONObject = self._get(
            "/api/v1/events", {"status": status, "key": key, "context": context, "cursor": cursor, "limit": limit}
        )
        return out

    def iter_events(
        self, *, status: Optional[str] = None, key: Optional[str] = None, context: Optional[str] = None
    ) -> Iterator[JSONObject]:
        """Every event matching, page after page."""
        return self._pages("/api/v1/events", {"status": status, "key": key, "context": context})

    def event(self, event_id: int) -> JSONObject:
        """GET /api/v1/events/{id}: the event, its counts and deliveries."""
        out: JSONObject = self._get(f"/api/v1/events/{int(event_id)}")
        return out

    def cancel_event(self, event_id: int) -> List[int]:
        """POST /api/v1/events/{id}/cancel: cancel a pending event
        (:class:`Conflict` when it is not pending). Returns the ids
        cancelled."""
        out, _ = self.request("POST", f"/api/v1/events/{int(event_id)}/cancel", retry_connection=False)
        return list(out.get("cancelled") or [])

    def cancel_context(self, context: ContextLike, *, key: Optional[str] = None) -> List[int]:
        """POST /api/v1/events/cancel: cancel the pending events about
        ``context`` (of type ``key`` only, when given). Returns their ids."""
        req: JSONObject = {"context": context_of(context)}
        if key is not None:
            req["key"] = key
        out, _ = self.request("POST", "/api/v1/events/cancel", body=req)
        return list(out.get("cancelled") or [])

    # ------------------------------------------------------------------
    # Notification types

    def types(self) -> List[JSONObject]:
        """GET /api/v1/types: every notification type."""
        return list(self._get("/api/v1/types").get("items") or [])

    def get_type(self, key: str) -> JSONObject:
        """GET /api/v1/types/{key}."""
        out: JSONObject = self._get("/api/v1/types/" + _seg(key))
        return out

    def set_type(
        self,
        key: str,
        *,
        label: Optional[str] = None,
        default_channel: Optional[str] = None,
        status_type: Optional[str] = None,
    ) -> JSONObject:
        """PUT /api/v1/types/{key}: create a type (``default_channel`` is then
        required) or change it."""
        req = {k: v for k, v in (("label", label), ("default_channel", default_channel), ("status_type", status_type)) if v is not None}
        out, _ = self.request("PUT", "/api/v1/types/" + _seg(key), body=req)
        result: JSONObject = out
        return result

    def delete_type(self, key: str) -> None:
        """DELETE /api/v1/types/{key} (:class:`Conflict` while events use it)."""
        self.request("DELETE", "/api/v1/types/" + _seg(key))

    # ------------------------------------------------------------------
    # Directory

    def users(
        self,
        *,
        group: Optional[str] = None,
        company_id: Optional[ID] = None,
        cursor: Optional[str] = None,
        limit: Optional[int] = None,
    ) -> JSONObject:
        """GET /api/v1/users: one page of people."""
        out: JSONObject = self._get(
            "/api/v1/users", {"group": group, "company_id": company_id, "cursor": cursor, "limit": limit}
        )
        return out

    def iter_users(self, *, group: Optional[str] = None, company_id: Optional[ID] = None) -> Iterator[JSONObject]:
        """Every person (of ``group``, of ``company_id``), page after page."""
        return self._pages("/api/v1/users", {"group": group, "company_id": company_id})

    def user(self, user_id: ID) -> JSONObject:
        """GET /api/v1/users/{id}."""
        out: JSONObject = self._get("/api/v1/users/" + _seg(_id(user_id, "user_id")))
        return out

    def put_user(
        self,
        user_id: ID,
        *,
        email: Optional[str] = None,
        name: Optional[str] = None,
        locale: Optional[str] = None,
        active: Optional[bool] = None,
        groups: Optional[Iterable[str]] = None,
        companies: Optional[Iterable[ID]] = None,
        follower_id: Optional[ID] = None,
        account_type: Optional[str] = None,
        **more: Any,
    ) -> JSONObject:
        """PUT /api/v1/users/{id}: create or replace a person. ``more`` passes
        fields this client does not know yet through to the server."""
        req: JSONObject = {}
        for k, v in (("email", email), ("name", name), ("locale", locale), ("active", active), ("account_type", account_type)):
            if v is not None:
                req[k] = v
        if groups is not None:
            req["groups"] = _names(groups, "groups")
        if companies is not None:
            req["companies"] = _ids(companies, "companies")
        if follower_id is not None:
            req["follower_id"] = _id(follower_id, "follower_id")
        req.update(more)
        out, _ = self.request("PUT", "/api/v1/users/" + _seg(_id(user_id, "user_id")), body=req)
        result: JSONObject = out
        return result

    def delete_user(self, user_id: ID) -> None:
        """DELETE /api/v1/users/{id}."""
        self.request("DELETE", "/api/v1/users/" + _seg(_id(user_id, "user_id")))

    def groups(self) -> List[JSONObject]:
        """GET /api/v1/groups: every group with its member count."""
        return list(self._get("/api/v1/groups").get("items") or [])

    def group_members(self, name: str, *, cursor: Optional[str] = None, limit: Optional[int] = None) -> JSONObject:
        """GET /api/v1/groups/{name}/members: one page of its people."""
        out: JSONObject = self._get(f"/api/v1/groups/{_seg(name)}/members", {"cursor": cursor, "limit": limit})
        return out

    def set_group_members(self, name: str, user_ids: Iterable[ID]) -> JSONObject:
        """PUT /api/v1/groups/{name}/members: exactly these people are in it."""
        out, _ = self.request("PUT", f"/api/v1/groups/{_seg(name)}/members", body={"user_ids": _ids(user_ids, "user_ids")})
        result: JSONObject = out
        return result

    def delete_group(self, name: str) -> JSONObject:
        """DELETE /api/v1/groups/{name}: nobody is in it any more."""
        out, _ = self.request("DELETE", f"/api/v1/groups/{_seg(name)}")
        result: JSONObject = out or {}
        return result

    def company(self, company_id: ID) -> JSONObject:
        """GET /api/v1/companies/{id}."""
        out: JSONObject = self._get("/api/v1/companies/" + _seg(_id(company_id, "company_id")))
        return out

    def put_company(
        self, company_id: ID, *, name: str, email: Optional[str] = None, active: Optional[bool] = None
    ) -> JSONObject:
        """PUT /api/v1/companies/{id}: create or replace a company."""
        req: JSONObject = {"name": name}
        if email is not None:
            req["email"] = email
        if active is not None:
            req["active"] = active
        out, _ = self.request("PUT", "/api/v1/companies/" + _seg(_id(company_id, "company_id")), body=req)
        result: JSONObject = out
        return result

    def delete_company(self, company_id: ID) -> None:
        """DELETE /api/v1/companies/{id}."""
        self.request("DELETE", "/api/v1/companies/" + _seg(_id(company_id, "company_id")))

    def import_directory(
        self,
        *,
        users: Optional[Iterable[Mapping[str, Any]]] = None,
        companies: Optional[Iterable[Mapping[str, Any]]] = None,
    ) -> JSONObject:
        """POST /api/v1/directory/import: the command line's import file, in
        one transaction (one bad row refuses it all, naming row and
        field). Fields that are None are left out (Cloche's defaults
        apply). Returns ``{"companies": n, "users": n}``."""
        req: JSONObject = {}
        if companies is not None:
            req["companies"] = [_row(c) for c in companies]
        if users is not None:
            req["users"] = [_row(u) for u in users]
        out, _ = self.request("POST", "/api/v1/directory/import", body=req)
        result: JSONObject = out
        return result

    def sync_directory(
        self,
        *,
        users: Optional[Iterable[Mapping[str, Any]]] = None,
        companies: Optional[Iterable[Mapping[str, Any]]] = None,
        groups: Optional[Iterable[Any]] = None,
    ) -> JSONObject:
        """PUT /api/v1/directory: bring the directory to exactly this
        snapshot (see :func:`cloche_client.sync`). Returns ``{"created",
        "updated", "deactivated", "unchanged", "companies": {…}}``."""
        from .directory import snapshot

        out, _ = self.request("PUT", "/api/v1/directory", body=snapshot(users, companies, groups))
        result: JSONObject = out
        return result

    # ------------------------------------------------------------------
    # Deliveries

    def deliveries(
        self,
        *,
        status: Optional[str] = None,
        event_id: Optional[int] = None,
        cursor: Optional[str] = None,
        limit: Optional[int] = None,
    ) -> JSONObject:
        """GET /api/v1/deliveries: one page of e-mail deliveries."""
        out: JSONObject = self._get(
            "/api/v1/deliveries", {"status": status, "event_id": event_id, "cursor": cursor, "limit": limit}
        )
        return out

    def iter_deliveries(self, *, status: Optional[str] = None, event_id: Optional[int] = None) -> Iterator[JSONObject]:
        """Every delivery matching, page after page."""
        return self._pages("/api/v1/deliveries", {"status": status, "event_id": event_id})

    def delivery(self, delivery_id: int) -> JSONObject:
        """GET /api/v1/deliveries/{id}."""
        out: JSONObject = self._get(f"/api/v1/deliveries/{int(delivery_id)}")
        return out

    def retry_delivery(self, delivery_id: int) -> JSONObject:
        """POST /api/v1/deliveries/{id}/retry: queue a failed e-mail again."""
        out, _ = self.request("POST", f"/api/v1/deliveries/{int(delivery_id)}/retry", retry_connection=False)
        result: JSONObject = out
        return result

    # ------------------------------------------------------------------
    # User tokens

    def user_token(self, user_id: ID, *, ttl: Optional[int] = None) -> JSONObject:
        """POST /api/v1/users/{id}/token: a token for the user's page
        (``token``, ``expires_at``, ``expires_in``). ``ttl`` in seconds
        (60 to ``auth.token_max_ttl``; default ``auth.token_ttl``)."""
        req: JSONObject = {} if ttl is None else {"ttl_seconds": int(ttl)}
        out, _ = self.request("POST", f"/api/v1/users/{_seg(_id(user_id, 'user_id'))}/token", body=req)
        result: JSONObject = out
        return result

    # ------------------------------------------------------------------
    # A user's inbox: user_id with an API key, None (/me) with a user token.

    def _inbox_base(self, user_id: Optional[ID]) -> str:
        if user_id is None:
            return "/api/v1/me"
        return "/api/v1/users/" + _seg(_id(user_id, "user_id"))

    def inbox(
        self,
        user_id: Optional[ID] = None,
        *,
        channel: Optional[str] = None,
        unread: Optional[bool] = None,
        archived: Optional[bool] = None,
        cursor: Optional[str] = None,
        limit: Optional[int] = None,
    ) -> JSONObject:
        """A page of the user's in-app notifications, newest first
        (``items``, ``next``), e.g. to render the bell's menu on the
        server; ``archived=True`` pages through the archive instead."""
        out: JSONObject = self._get(
            self._inbox_base(user_id) + "/notifications",
            {"channel": channel, "unread": unread, "archived": archived, "cursor": cursor, "limit": limit},
        )
        return out

    def notification(self, user_id: Optional[ID], notification_id: int) -> JSONObject:
        """One notification of the user."""
        out: JSONObject = self._get(f"{self._inbox_base(user_id)}/notifications/{int(notification_id)}")
        return out

    def counts(self, user_id: Optional[ID] = None) -> JSONObject:
        """The user's unread counts per channel (``unread``, ``total``)."""
        out: JSONObject = self._get(self._inbox_base(user_id) + "/counts")
        return out

    def mark_read(self, user_id: Optional[ID], notification_id: int) -> None:
        """Mark one notification read."""
        self.request("POST", f"{self._inbox_base(user_id)}/notifications/{int(notification_id)}/read")

    def mark_unread(self, user_id: Optional[ID], notification_id: int) -> None:
        """Mark one notification unread again."""
        self.request("POST", f"{self._inbox_base(user_id)}/notifications/{int(notification_id)}/unread")

    def postpone(
        self, user_id: Optional[ID], notification_id: int, *, until: Optional[DatetimeLike] = None
    ) -> JSONObject:
        """Hide a notification until ``until`` (default: ``postpone_default``
        from now)."""
        req: JSONObject = {} if until is None else {"until": self._datetime(until, "until")}
        out, _ = self.request(
            "POST", f"{self._inbox_base(user_id)}/notifications/{int(notification_id)}/postpone", body=req
        )
        result: JSONObject = out
        return result

    def archive(self, user_id: Optional[ID], notification_id: int) -> None:
        """Move one notification to the archive: it leaves the inbox and
        the unread counts, and is kept."""
        self.request("POST", f"{self._inbox_base(user_id)}/notifications/{int(notification_id)}/archive")

    def unarchive(self, user_id: Optional[ID], notification_id: int) -> None:
        """Bring an archived notification back to the inbox."""
        self.request("POST", f"{self._inbox_base(user_id)}/notifications/{int(notification_id)}/unarchive")

    def run_action(self, user_id: Optional[ID], notification_id: int, index: int) -> JSONObject:
        """Run action ``index`` (from 0), one with a callback: Cloche POSTs
        to the host, signed, and answers what the host said (``ok``,
        ``status``, ``message``, ``reason``)."""
        out, _ = self.request(
            "POST", f"{self._inbox_base(user_id)}/notifications/{int(notification_id)}/actions/{int(index)}"
        )
        result: JSONObject = out
        return result

    def mark_all_read(self, user_id: Optional[ID] = None, *, channel: Optional[str] = None) -> JSONObject:
        """Mark every unread notification (of ``channel``) read."""
        req: JSONObject = {} if channel is None else {"channel": channel}
        out, _ = self.request("POST", self._inbox_base(user_id) + "/notifications/read-all", body=req)
        result: JSONObject = out
        return result


def _action(a: Mapping[str, str]) -> JSONObject:
    if not isinstance(a, Mapping):
        raise TypeError(f"actions: {a!r} is not a mapping {{'label': ..., 'url' or 'callback': ...}}")
    return {k: v for k, v in a.items() if v is not None}


def _row(row: Mapping[str, Any]) -> JSONObject:
    return {k: v for k, v in row.items() if v is not None}


def _seg(value: str) -> str:
    return urllib.parse.quote(value, safe=":@")


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _attachment(a: AttachmentLike) -> JSONObject:
    att = a if isinstance(a, Attachment) else Attachment(*a)
    if not isinstance(att.data, (bytes, bytearray)):
        raise TypeError(f"attachments: the data of {att.name!r} must be bytes")
    return {
        "name": att.name,
        "content_type": att.content_type,
        "data": base64.b64encode(bytes(att.data)).decode("ascii"),
    }
