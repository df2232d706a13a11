"""Keeping Cloche's directory in step with the host's: :func:`sync`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, List, Mapping, Optional, Tuple, Union

if TYPE_CHECKING:  # pragma: no cover
    from .client import ID, Client, JSONObject

__all__ = ["sync", "GroupLike"]

#: A group of a snapshot: ``{"name": "admin", "members": [1, 2]}`` or
#: ``("admin", [1, 2])``.
GroupLike = Union[Mapping[str, Any], Tuple[str, Iterable["ID"]]]


def sync(
    client: "Client",
    users: Optional[Iterable[Mapping[str, Any]]] = None,
    companies: Optional[Iterable[Mapping[str, Any]]] = None,
    groups: Optional[Iterable[GroupLike]] = None,
) -> "JSONObject":
    """Bring Cloche's directory to exactly this state, in one transaction.

    ``users`` are every person of the host, as mappings with the import's
    fields (``id``, ``email``, ``name``, ``locale``, ``active``, ``groups``,
    ``companies``, ``follower_id``, ``account_type``, and any field the
    server knows, such as ``time_zone``); ``companies`` every company
    (``id``, ``name``, ``email``, ``active``); ``groups`` groups listing
    their members, added to the people's own ``groups``. Any iterable
    does, generators included (a query's rows); fields that are None are
    left out.

    Cloche compares the snapshot with what it holds (in its database, in
    bulk) and writes only the differences; people and companies it holds
    beyond a section given are deactivated, never deleted (their history
    stays). A section left as None is left alone; an empty one deactivates
    every row of its kind. Sending the same snapshot again changes nothing,
    so a failed sync is simply run again (the client retries it on 429,
    503 and lost connections).

    Returns what changed: ``{"created": n, "updated": n, "deactivated": n,
    "unchanged": n, "companies": {…the same…}}`` (people at the top level).
    One bad row refuses it all, as :class:`InvalidField` naming it
    (``users[3].follower_id``).
    """
    return client.sync_directory(users=users, companies=companies, groups=groups)


def snapshot(
    users: Optional[Iterable[Mapping[str, Any]]],
    companies: Optional[Iterable[Mapping[str, Any]]],
    groups: Optional[Iterable[GroupLike]],
) -> "JSONObject":
    """The body of ``PUT /api/v1/directory``."""
    body: "JSONObject" = {}
    if companies is not None:
        body["companies"] = [_row(c, "companies", i) for i, c in enumerate(companies)]
    if users is not None:
        body["users"] = [_row(u, "users", i) for i, u in enumerate(users)]
    if groups is not None:
        body["groups"] = [_group(g, i) for i, g in enumerate(groups)]
    return body


def _row(row: Mapping[str, Any], section: str, i: int) -> "JSONObject":
    if not isinstance(row, Mapping):
        raise TypeError(f"{section}[{i}]: a mapping of fields, not {type(row).__name__}")
    return {k: v for k, v in row.items() if v is not None}


def _group(g: GroupLike, i: int) -> "JSONObject":
    if isinstance(g, Mapping):
        out = _row(g, "groups", i)
        if "members" in out:
            out["members"] = _members(out["members"], i)
        return out
    if isinstance(g, tuple) and len(g) == 2:
        return {"name": g[0], "members": _members(g[1], i)}
    raise TypeError(f"groups[{i}]: {{'name': …, 'members': […]}} or (name, members), not {type(g).__name__}")


def _members(members: Iterable[Any], i: int) -> List[str]:
    out = []
    for j, m in enumerate(members):
        if isinstance(m, bool) or not isinstance(m, (str, int)):
            raise TypeError(f"groups[{i}].members[{j}]: a user id (str or int), not {type(m).__name__}")
        out.append(str(m))
    return out
