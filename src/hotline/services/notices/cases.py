"""Incident cases on a node: accounts sent through the notice service, cases folded.

An account is an ``incident_account`` notice (``domain/notices/cases.py``), sent like any
notice (rules, renderings, FLASH held for a second person) by :class:`Notices`; this
service adds what only a case can check before it is sent — the origin exists (an
incident report on the line with that peer, or one of this node's conflicts, incursions
or alarms), an account joining or amending a case names the case's own origin and line,
and no event is stated after now — and it folds and shows the cases.

The case view is built from the signed envelopes only (sender, receiver, id, seq,
created, body), never from this node's own state (delivery, acknowledgement), so both
nodes give the same JSON for a case: ``tests/e2e/test_case_life.py`` compares them.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from datetime import timedelta
from typing import Any

from hotline.domain.notices.cases import (
    MAX_SKEW_S,
    Account,
    Case,
    IncidentAccount,
    fold_case,
)
from hotline.domain.notices.models import NoticeBody, parse_notice
from hotline.errors import NotFound, ValidationError
from hotline.geo.cases import compare
from hotline.services.notices.service import Notices
from hotline.storage import alarms, conflicts
from hotline.storage import messages as store
from hotline.storage.db import Connection

TYPE = "incident_account"


def _account(row: tuple[str, str, str, str, str]) -> Account:
    _mid, _direction, _peer, _created, raw = row
    envelope = json.loads(raw)
    body = parse_notice(envelope["body"])
    assert isinstance(body, IncidentAccount)  # stored: checked when sent or received
    return Account(
        party=envelope["from"],
        to=envelope["to"],
        message_id=envelope["id"],
        seq=int(envelope["seq"]),
        created=envelope["created"],
        body=body,
        attachments=tuple(envelope.get("attachments", ())),
    )


def _version(number: int, account: Account) -> dict[str, Any]:
    return {
        "version": number,
        "message_id": account.message_id,
        "created": account.created,
        "body": account.body.model_dump(mode="json", exclude_none=True),
        "attachments": [dict(ref) for ref in account.attachments],
    }


def case_view(case: Case) -> dict[str, Any]:
    """A case as JSON: the same on both nodes (built from signed envelopes only)."""
    first, second = case.current(case.opened_by), case.current(case.other)
    differences = None
    if first is not None and second is not None:
        differences = compare(case.opened_by, first.body.events, case.other, second.body.events)
    return {
        "id": case.id,
        "title": case.title,
        "opened_by": case.opened_by,
        "other": case.other,
        "opened_at": case.opened_at,
        "opened_from": case.opened_from.model_dump(mode="json"),
        "opening_message": case.openings[case.opened_by].message_id,
        "contested": case.contested,
        "openings": {party: a.message_id for party, a in sorted(case.openings.items())},
        "accounts": {
            party: {
                "current": len(case.versions.get(party, [])),
                "versions": [
                    _version(n, a) for n, a in enumerate(case.versions.get(party, []), start=1)
                ],
            }
            for party in (case.opened_by, case.other)
        },
        "differences": differences,
        "rejected": [
            {
                "message_id": r.account.message_id,
                "from": r.account.party,
                "created": r.account.created,
                "reason": r.reason,
            }
            for r in case.rejected
        ],
        "message_ids": case_message_ids(case),
    }


def case_message_ids(case: Case) -> list[str]:
    """The messages of a case: the origin report (if on the line), then every account."""
    ids = [a.message_id for versions in case.versions.values() for a in versions]
    ids += [r.account.message_id for r in case.rejected]
    ids.sort()
    reports = sorted(
        {
            a.body.opened_from.ref
            for a in case.openings.values()
            if a.body.opened_from.kind == "incident_report"
        }
    )
    return reports + ids


class Cases:
    """The node's incident cases; checks accounts before the notice service sends them."""

    def __init__(self, notices: Notices) -> None:
        self.notices = notices
        self.line = notices.line
        notices.checks[TYPE] = self._check

    # -- reading ------------------------------------------------------------------------

    def _accounts(self, conn: Connection) -> dict[str, list[Account]]:
        by_case: dict[str, list[Account]] = defaultdict(list)
        for row in store.of_types(conn, (TYPE,)):
            account = _account(row)
            by_case[account.body.case].append(account)
        return by_case

    def fold(self, case_id: str) -> Case | None:
        with self.line.db.read() as conn:
            accounts = self._accounts(conn).get(case_id, [])
        return fold_case(accounts)

    def show(self, case_id: str) -> dict[str, Any]:
        case = self.fold(case_id)
        if case is None:
            raise NotFound(
                f"no case {case_id!r} on this node",
                hint="`hotline case list` (GET /api/v1/cases) lists the cases",
            )
        return case_view(case)

    def listing(self) -> list[dict[str, Any]]:
        """Every case, newest first: who opened it, from what, each side's version."""
        with self.line.db.read() as conn:
            found = self._accounts(conn)
        out = []
        for accounts in found.values():
            case = fold_case(accounts)
            if case is None:
                continue
            out.append(
                {
                    "id": case.id,
                    "title": case.title,
                    "opened_by": case.opened_by,
                    "other": case.other,
                    "opened_at": case.opened_at,
                    "opened_from": case.opened_from.model_dump(mode="json"),
                    "versions": {
                        p: len(case.versions.get(p, [])) for p in (case.opened_by, case.other)
                    },
                    "rejected": len(case.rejected),
                    "contested": case.contested,
                }
            )
        out.sort(key=lambda c: (c["opened_at"], c["id"]), reverse=True)
        return out

    def join_fields(self, case: dict[str, Any]) -> dict[str, Any]:
        """What an account of this node for ``case`` must carry: id, origin, ``joins``."""
        me = self.line.identity.party
        openings = case["openings"]
        fields: dict[str, Any] = {"case": case["id"], "opened_from": case["opened_from"]}
        if me in openings:  # we opened it (both did, if contested): our own origin
            ours = case["accounts"][me]["versions"][0]
            fields["opened_from"] = ours["body"]["opened_from"]
        else:
            fields["joins"] = openings[case["opened_by"]]
        return fields

    def message_ids(self, case_id: str) -> list[str]:
        """The ids of every message of the case this node holds (for evidence)."""
        case = self.fold(case_id)
        if case is None:
            raise NotFound(f"no case {case_id!r} on this node")
        with self.line.db.read() as conn:
            return [m for m in case_message_ids(case) if store.get(conn, m) is not None]

    # -- sending ------------------------------------------------------------------------

    @staticmethod
    def new_account(**fields: Any) -> dict[str, Any]:
        """An account body for a new case: ``fields`` with a fresh case id."""
        return {"type": TYPE, "case": str(uuid.uuid4()), **fields}

    def _check(self, to: str, notice: NoticeBody) -> None:
        """What a case refuses before the account is sent (ValidationError, nothing sent)."""
        assert isinstance(notice, IncidentAccount)
        now = self.line.clock.now()
        limit = now + timedelta(seconds=MAX_SKEW_S)
        for i, event in enumerate(notice.events):
            if event.time > limit:
                raise ValidationError(
                    f"events[{i}].time: {event.time:%Y-%m-%dT%H:%M:%SZ} is in the future "
                    f"(now {now:%Y-%m-%dT%H:%M:%SZ}): an account states what has happened",
                    field=f"events[{i}].time",
                )
        me = self.line.identity.party
        case = self.fold(notice.case)
        if case is None:
            if notice.joins is not None:
                raise ValidationError(
                    f"joins: no case {notice.case} on this node to join",
                    hint="a new case is opened by an account without joins",
                    field="joins",
                )
            self._check_origin(to, notice)
            return
        if {me, to} != {case.opened_by, case.other}:
            raise ValidationError(
                f"case: case {case.id} is between {case.opened_by} and {case.other}, "
                f"not {me} and {to}",
                hint="send the account to the other party of the case",
                field="case",
            )
        wanted, origin = case.expected(me)
        if notice.joins != wanted:
            if wanted is None:
                ours = case.openings[me].message_id
                why = f"leave joins out ({me} opened case {case.id} with {ours})"
            else:
                why = f"give joins: {wanted} (the account that opened case {case.id})"
            raise ValidationError(
                f"joins: {why}",
                hint="`hotline case account` fills it in for you",
                field="joins",
            )
        if notice.opened_from != origin:
            raise ValidationError(
                f"opened_from: case {case.id} was opened from {origin.kind} {origin.ref}; "
                f"this account says {notice.opened_from.kind} {notice.opened_from.ref}",
                hint="`hotline case account` fills the case's origin in for you",
                field="opened_from",
            )

    def _check_origin(self, to: str, notice: IncidentAccount) -> None:
        """A new case's origin is there: a report on the line, or this node's record."""
        origin = notice.opened_from
        with self.line.db.read() as conn:
            if origin.kind == "incident_report":
                row = store.get(conn, origin.ref)
                if row is None or row["peer"] != to or row["type"] != "incident_report":
                    raise ValidationError(
                        f"opened_from.ref: no incident report {origin.ref} on the line with {to}",
                        hint="give the id of an incident report either side sent on that line",
                        field="opened_from.ref",
                    )
                return
            found = _local_origin(conn, origin.kind, origin.ref)
        if not found:
            raise ValidationError(
                f"opened_from.ref: this node has no {origin.kind} {origin.ref}",
                hint="`hotline conflicts` and `hotline alarms` list them with their ids",
                field="opened_from.ref",
            )


def _local_origin(conn: Connection, kind: str, ref: str) -> bool:
    """Whether this node holds the conflict, incursion or alarm ``ref``."""
    if not ref.isdigit():
        return False
    if kind == "conflict":
        return conflicts.get(conn, int(ref)) is not None
    row = alarms.get(conn, int(ref))
    return row is not None and (kind == "alarm" or row["kind"] == "incursion")
