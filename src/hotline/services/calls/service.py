"""Calls between leaders, readouts and watch levels: the capability, wired for one node.

``Calls`` gathers the parts and adds what spans them:

- ``requests`` (``calls_requests.py``): call requests, answers, withdrawals, deadlines;
- ``records`` (``calls_records.py``): held calls, their privacy, both sides' readouts;
- ``watch`` (``calls_watch.py``): the watch-level ladder and its two-person changes;
- here: the principals of both sides, the contact history of a pair of principals (and
  of every pair at once), the Markdown export of public readouts, and ``tick`` for the
  node's scheduler.

A *contact* is a held call. Days are whole calendar days in UTC, as the press counts
them ("the first call in 84 days": 18 February to 13 May).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hotline.clock import parse_rfc3339, rfc3339
from hotline.errors import NotFound, ValidationError
from hotline.render.calls import readouts_markdown, render_request
from hotline.services.calls import common
from hotline.services.calls.records import CallRecords
from hotline.services.calls.requests import CallRequests
from hotline.services.calls.watch import WatchLevels
from hotline.services.line.service import Line
from hotline.storage import calls as store
from hotline.storage import peers


class Calls:
    def __init__(self, line: Line) -> None:
        self.line = line
        self.requests = CallRequests(line)
        self.records = CallRecords(line)
        self.watch = WatchLevels(line)

    def tick(self) -> None:
        """The scheduler's job: record requests whose deadline has come as unanswered."""
        self.requests.check_deadlines()

    # -- principals -----------------------------------------------------------------------

    def principals(self) -> dict[str, Any]:
        """This party's principals (``principals.json``) and those on each peer's card."""
        identity = self.line.identity
        with self.line.db.read() as conn:
            parties = [p.party for p in peers.all_peers(conn)]
            theirs = {
                party: [p.wire() for p in common.peer_principals(conn, party)] for party in parties
            }
        return {
            "party": identity.party,
            "ours": [p.wire() for p in identity.principals],
            "peers": theirs,
        }

    def show_request(self, request_id: str) -> dict[str, Any]:
        """One request with its timeline and its rendering in both languages."""
        return rendered(self.requests.get(request_id))

    # -- readouts in Markdown -------------------------------------------------------------

    def readouts_markdown(self, call_id: str, lang: str = "en") -> str:
        """Both sides' public readouts of a call, side by side, as Markdown in ``lang``."""
        view = self.records.readouts(call_id, "public")
        names = self._party_names(lang)
        return readouts_markdown(view["call"], view["sides"], names, lang)

    def _party_names(self, lang: str) -> dict[str, str]:
        identity = self.line.identity
        names = {identity.party: identity.name_ru if lang == "ru" else identity.name_en}
        with self.line.db.read() as conn:
            for peer in peers.all_peers(conn):
                names[peer.party] = peer.name_ru if lang == "ru" else peer.name_en
        return names

    # -- contact history ------------------------------------------------------------------

    def history(
        self, *, peer: str, principal: str | None = None, counterpart: str | None = None
    ) -> dict[str, Any]:
        """The contact history between our ``principal`` and ``peer``'s ``counterpart``.

        Either may be left out when that side has exactly one principal.
        """
        identity = self.line.identity
        ours = _only(principal, [p.id for p in identity.principals], "principal", identity.party)
        with self.line.db.read() as conn:
            known = [p.id for p in common.peer_principals(conn, peer)]
            theirs = _only(counterpart, known, "counterpart", peer)
            requests = store.pair_requests(conn, (identity.party, ours), (peer, theirs))
            ids = [r["id"] for r in requests]
            events = common.timeline(store.events(conn, ids))
            held = store.list_calls(conn, ids)
        return _history(
            requests,
            events,
            held,
            now=self.line.clock.now(),
            pair={"principal": ours, "peer": peer, "counterpart": theirs},
        )

    def histories(self, peer: str | None = None) -> list[dict[str, Any]]:
        """The contact history of every pair of principals that has exchanged a request.

        With ``peer``, only pairs with that peer's principals.
        """
        return self.pair_histories(self.requests.listing(peer=peer))

    def pair_histories(self, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The contact history of every pair of principals that appears in ``requests``.

        Each history (:meth:`history`) gets ``ours`` and ``theirs``: the two principals'
        records, for their names and titles. Pairs whose last contact is oldest come first
        (never in contact before any): the longest silence is what a reader looks for.
        """
        me = self.line.identity.party
        pairs: dict[tuple[str, str, str], tuple[dict[str, Any], dict[str, Any]]] = {}
        for request in requests:
            sides = (request["requester"], request["counterpart"])
            ours, theirs = sides if sides[0]["party"] == me else sides[::-1]
            pairs.setdefault((theirs["party"], ours["id"], theirs["id"]), (ours, theirs))
        out = []
        for (peer, principal, counterpart), (ours, theirs) in pairs.items():
            history = self.history(peer=peer, principal=principal, counterpart=counterpart)
            out.append({**history, "ours": ours, "theirs": theirs})
        out.sort(key=lambda h: (h["last_contact"] or "", h["peer"], h["principal"]))
        return out


def rendered(request: dict[str, Any]) -> dict[str, Any]:
    """``request`` (as the API shows it) with its rendering in English and Russian."""
    return {**request, "rendering": {lang: render_request(request, lang) for lang in ("en", "ru")}}


def _only(given: str | None, known: list[str], what: str, party: str) -> str:
    if given is not None:
        if given not in known:
            raise NotFound(
                f"{party} has no principal {given!r} (known: {', '.join(known) or 'none'})"
            )
        return given
    if len(known) == 1:
        return known[0]
    raise ValidationError(
        f"name the {what}: {party} has {len(known)} principals",
        hint="one of "
        + (", ".join(known) or "none (see principals.json)")
        + "; or leave both out for every pair (`hotline calls history`, GET /calls/histories)",
        field=what,
    )


def _days(earlier: str, later: datetime) -> int:
    return (later.date() - parse_rfc3339(earlier).date()).days


def _history(
    requests: list[dict[str, Any]],
    events: list[dict[str, Any]],
    held: list[dict[str, Any]],
    *,
    now: datetime,
    pair: dict[str, str],
) -> dict[str, Any]:
    calls = []
    previous: str | None = None
    for call in held:  # oldest first
        gap = None if previous is None else _days(previous, parse_rfc3339(call["held_at"]))
        calls.append(
            {
                "call_id": call["id"],
                "held_at": call["held_at"],
                "minutes": call["minutes"],
                "days_since_previous": gap,
            }
        )
        previous = call["held_at"]
    by_state: dict[str, int] = {}
    for request in requests:
        by_state[request["state"]] = by_state.get(request["state"], 0) + 1
    return {
        **pair,
        "now": rfc3339(now),
        "timeline": [
            {k: e[k] for k in ("at", "kind", "party", "detail", "request_id")} for e in events
        ],
        "calls": calls,
        "last_contact": previous,
        "days_since_last_contact": None if previous is None else _days(previous, now),
        "requests": len(requests),
        "by_state": by_state,
        "declined": [_closed(r) for r in requests if r["state"] == "declined"],
        "unanswered": [_closed(r) for r in requests if r["state"] == "unanswered"],
    }


def _closed(request: dict[str, Any]) -> dict[str, Any]:
    return {
        "request_id": request["id"],
        "requested_at": request["requested_at"],
        "requester_party": request["requester_party"],
        "answer_by": request["answer_by"],
        "reason": request["reason"],
        "topics": request["topics"],
    }
