"""cloche_client.sync against a real `cloche serve`: a directory of 2,000
people, then 1 % changed; the counts and the final state are exact."""

from __future__ import annotations

from typing import Any, Dict, Iterator, List

import cloche_client
from cloche_client import InvalidField

from .support import ServerCase

N = 2000


def people(n: int) -> Iterator[Dict[str, Any]]:
    """The host's rows, as a query would yield them (a generator)."""
    for i in range(n):
        yield {
            "id": i,  # integer ids, as enDI's
            "name": f"Person {i}",
            "email": f"p{i}@example.org" if i % 3 else None,  # None: left out
            "locale": "fr",
            "groups": ["staff"] if i % 2 else [],
            "companies": [f"c{i % 10}"],
            "follower_id": i - 1 if i % 10 == 1 else None,
            "account_type": ["entrepreneur", "equipe_appui", "hybride"][i % 3],
        }


class SyncTest(ServerCase):
    def test_sync(self) -> None:
        c = self.client
        companies = [{"id": f"c{k}", "name": f"Company {k}"} for k in range(10)]
        got = cloche_client.sync(c, users=people(N), companies=companies, groups=[("board", [0, 1])])
        self.assertEqual({k: got[k] for k in ("created", "updated", "deactivated", "unchanged")},
                         {"created": N, "updated": 0, "deactivated": 0, "unchanged": 0})
        self.assertEqual(got["companies"], {"created": 10, "updated": 0, "deactivated": 0, "unchanged": 0})

        # 1 %: 10 renamed, 5 moved out of their group, 5 gone; 5 new.
        rows: List[Dict[str, Any]] = list(people(N))
        for i in range(100, 110):
            rows[i]["name"] += " (renamed)"
        for i in range(200, 205):
            rows[i]["groups"] = ["elsewhere"]
        gone = {str(r["id"]) for r in rows[N - 5:]}
        rows = rows[: N - 5] + [{"id": f"new{k}", "name": "New", "account_type": "stagiaire"} for k in range(5)]
        got = cloche_client.sync(c, users=iter(rows), companies=companies, groups=[{"name": "board", "members": [0, 1]}])
        self.assertEqual({k: got[k] for k in ("created", "updated", "deactivated", "unchanged")},
                         {"created": 5, "updated": 15, "deactivated": 5, "unchanged": N - 5 - 15})

        # The exact final state.
        held = {u["id"]: u for u in c.iter_users()}
        self.assertEqual(len(held), N + 5)
        for r in rows:
            u = held[str(r["id"])]
            groups = sorted(set(r.get("groups") or []) | ({"board"} if r["id"] in (0, 1) else set()))
            want = (r["name"], r.get("email") or "", groups, [str(x) for x in r.get("companies") or []],
                    str(r["follower_id"]) if r.get("follower_id") is not None else "", r.get("account_type", ""), True)
            have = (u["name"], u.get("email", ""), u["groups"], u["companies"], u.get("follower_id", ""),
                    u.get("account_type", ""), u["active"])
            self.assertEqual(have, want, r["id"])
        for i in gone:
            self.assertFalse(held[i]["active"], i)

        # The same again changes nothing; a section left out is left alone.
        got = c.sync_directory(users=rows, groups=[("board", ["0", "1"])])
        self.assertEqual((got["updated"], got["created"], got["deactivated"], got["unchanged"]), (0, 0, 0, N))
        self.assertEqual(got["companies"]["deactivated"], 0)

        # A bad row refuses it all, naming it, as from curl.
        with self.assertRaises(InvalidField) as cm:
            cloche_client.sync(c, users=[{"id": 1, "name": "A"}, {"id": 2, "follower_id": "nobody"}])
        self.assertEqual(cm.exception.field, "users[1].follower_id")
        self.assertTrue(c.user(5)["active"])
        with self.assertRaises(TypeError):
            cloche_client.sync(c, users=[{"id": 1}], groups=[("board", [None])])
