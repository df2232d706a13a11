"""enDI's notification module, on Cloche.

An enDI fork replaces::

    from caerp.utils.notification import AbstractNotification, notify

with::

    from cloche_client.endi import AbstractNotification, notify

and its callers stay as they are::

    notify(request, AbstractNotification(key="message:internal", title="Title", body="Body"),
           group_names=["manager", "admin"], force_channel="email")

Settings (the Pyramid ``.ini``, read from ``request.registry.settings``), each
of which an argument of :func:`notify` may give instead:

``cloche.url``           Cloche's address, e.g. ``http://127.0.0.1:8080`` (``url=``)
``cloche.api_key``       an API key, ``cloche apikey create endi`` (``api_key=``)
``cloche.time_zone``     the zone of naive datetimes, e.g. ``Europe/Paris``
                         (``time_zone=``; default: the machine's local zone)
``cloche.timeout``       seconds per call (default 10)
``cloche.check_url``     the absolute URL of the host's check view
                         (``check_url=``), needed for ``check_query``
``cloche.check_secret``  the secret check URLs are signed with, 32 bytes or
                         more (``check_secret=``), known to the host only
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from typing import Any, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from .check import check_answer, signed_check_url, sqlalchemy_runner
from .client import AttachmentLike, Client, DatetimeLike, ID, JSONObject

__all__ = [
    "AbstractNotification",
    "notify",
    "cancel_notifications",
    "get_client",
    "check_view",
    "includeme",
]


@dataclasses.dataclass
class AbstractNotification:
    """What a sender builds, in enDI's shape.

    ``check_query``: SQL run by the host at due time; the notification is
    sent only when its first column is truthy. ``due_datetime``: send then
    (naive: in ``cloche.time_zone``). ``context_tablename``/``context_id``:
    the object it is about; a new notification of the same key about the
    same object replaces a pending one, and :func:`cancel_notifications`
    cancels them. ``link``: what the notification leads to, the page enDI
    puts behind "Voir" (absolute, e.g. ``request.route_url(...)``): the
    widget opens it when the person clicks the item and the e-mail shows
    it as a button. ``actions``: up to three more buttons,
    ``{"label": "Voir le devis", "url": ...}`` or ``{"label": "Valider",
    "callback": ...}`` (see :mod:`cloche_client.callbacks`).
    """

    key: str
    title: str
    body: str
    check_query: Optional[str] = None
    due_datetime: Optional[_dt.datetime] = None
    context_tablename: Optional[str] = None
    context_id: Optional[ID] = None
    link: Optional[str] = None
    actions: Optional[Sequence[Mapping[str, str]]] = None


def _settings(request: Any) -> Mapping[str, Any]:
    registry = getattr(request, "registry", None)
    settings = getattr(registry, "settings", None)
    return settings if isinstance(settings, Mapping) else {}


def _setting(request: Any, kw: Mapping[str, Any], arg: str, name: str) -> Any:
    value = kw.get(arg)
    if value is None:
        value = _settings(request).get(name)
    return value


def _zone(request: Any, kw: Mapping[str, Any]) -> Optional[_dt.tzinfo]:
    zone = _setting(request, kw, "time_zone", "cloche.time_zone")
    if zone is None or isinstance(zone, _dt.tzinfo):
        return zone
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(str(zone))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"cloche.time_zone: {zone!r} is not a time zone (e.g. Europe/Paris)") from None


def _aware(value: Optional[DatetimeLike], zone: Optional[_dt.tzinfo]) -> Optional[DatetimeLike]:
    """A naive datetime in ``zone`` (or the machine's local zone), made aware,
    so that Cloche's own ``time_zone`` does not matter."""
    if isinstance(value, _dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=zone) if zone is not None else value.astimezone()
    return value


def get_client(request: Any = None, **kw: Any) -> Client:
    """The client of the settings (or of ``client=``, ``url=``, ``api_key=``,
    ``timeout=``, ``time_zone=``)."""
    client = kw.get("client")
    if isinstance(client, Client):
        return client
    url = _setting(request, kw, "url", "cloche.url")
    api_key = _setting(request, kw, "api_key", "cloche.api_key")
    if not url:
        raise ValueError("cloche.url: not set; give Cloche's address in the settings (cloche.url) or url=")
    if not api_key:
        raise ValueError("cloche.api_key: not set; give an API key (cloche apikey create endi) in the settings or api_key=")
    timeout = _setting(request, kw, "timeout", "cloche.timeout")
    return Client(str(url), str(api_key), timeout=float(timeout or 10.0), time_zone=_zone(request, kw))


def _context(n: AbstractNotification) -> Optional[Tuple[str, ID]]:
    if n.context_tablename is None and n.context_id is None:
        return None
    if not n.context_tablename:
        raise ValueError("context_tablename: missing while context_id is given")
    if n.context_id is None or n.context_id == "":
        raise ValueError("context_id: missing while context_tablename is given")
    return (n.context_tablename, n.context_id)


def notify(
    request: Any,
    notification: AbstractNotification,
    group_names: Optional[Iterable[str]] = None,
    user_ids: Optional[Iterable[ID]] = None,
    company_id: Optional[ID] = None,
    follower_user_id: Optional[ID] = None,
    force_channel: Optional[str] = None,
    account_type: Optional[str] = None,
    **kw: Any,
) -> JSONObject:
    """Send ``notification`` to the union of the routes given, now or at
    its ``due_datetime``; returns Cloche's answer (``event_id``,
    ``status``, ``reached``, ``unknown_user_ids``...).

    ``kw`` may give ``until`` (not shown nor sent after it),
    ``attachments`` (e-mail files: ``(name, bytes[, content_type])``),
    ``idempotency_key``, and the settings' ``url``, ``api_key``,
    ``time_zone``, ``timeout``, ``check_url``, ``check_secret`` (or a
    ready ``client``).
    """
    known = {"until", "attachments", "idempotency_key", "client", "url", "api_key", "time_zone", "timeout", "check_url", "check_secret"}
    unknown = sorted(set(kw) - known)
    if unknown:
        raise TypeError(f"notify: unknown argument(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    client = get_client(request, **kw)
    zone = _zone(request, kw)
    check_url: Optional[str] = None
    if notification.check_query:
        base = _setting(request, kw, "check_url", "cloche.check_url")
        secret = _setting(request, kw, "check_secret", "cloche.check_secret")
        if not base or not secret:
            raise ValueError(
                "check_query needs cloche.check_url (the URL of the host's check view) "
                "and cloche.check_secret in the settings"
            )
        check_url = signed_check_url(str(base), secret, notification.check_query)
    attachments: Optional[Sequence[AttachmentLike]] = kw.get("attachments")
    return client.notify(
        notification.key,
        notification.title,
        notification.body or "",
        group_names=list(group_names) if group_names is not None else None,
        user_ids=list(user_ids) if user_ids is not None else None,
        company_id=company_id,
        follower_user_id=follower_user_id,
        account_type=account_type,
        force_channel=force_channel,
        due_datetime=_aware(notification.due_datetime, zone),
        until=_aware(kw.get("until"), zone),
        context=_context(notification),
        check_url=check_url,
        url=notification.link,
        actions=notification.actions,
        attachments=attachments,
        idempotency_key=kw.get("idempotency_key"),
    )


def cancel_notifications(
    request: Any, context_tablename: str, context_id: ID, key: Optional[str] = None, **kw: Any
) -> List[int]:
    """Cancel the pending notifications about an object (of type ``key``
    only, when given); returns the ids of the events cancelled."""
    return get_client(request, **kw).cancel_context((context_tablename, context_id), key=key)


def check_view(request: Any) -> Any:
    """The check view for Pyramid: register it with :func:`includeme`, or
    ``config.add_view(check_view, route_name=..., request_method="POST",
    renderer="json", require_csrf=False)``. Runs signed queries with
    ``request.dbsession`` (SQLAlchemy), as enDI's ``check_query``."""
    secret = _settings(request).get("cloche.check_secret")
    if not secret:
        raise ValueError("cloche.check_secret: not set")
    status, body = check_answer(secret, request.query_string, sqlalchemy_runner(request.dbsession))
    request.response.status_int = status
    return body


def includeme(config: Any) -> None:
    """``config.include("cloche_client.endi")``: the check view at
    ``cloche.check_path`` (default ``/cloche/check``), without CSRF (Cloche
    posts to it; the signature is its protection)."""
    path = config.get_settings().get("cloche.check_path", "/cloche/check")
    config.add_route("cloche_check", path)
    config.add_view(check_view, route_name="cloche_check", request_method="POST", renderer="json", require_csrf=False)
