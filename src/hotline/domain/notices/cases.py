"""Incident cases: each side's signed account of an incident, and the case both fold.

After the Su-24 (2015) and the MQ-9 over the Black Sea (2023) each side's times and
positions disagreed and nothing both had signed could settle it. A *case* puts the two
sides' accounts side by side. Each account is an ``incident_account`` message: the
case's id (a UUID the opener chose), what the case was opened from (an incident report
on the line, a conflict, an incursion or an alarm, by reference), and the sender's
statements: events of a fixed list of kinds, each with its time, position, optional
altitude or depth, the units involved and a narrative in English and/or Russian.

The case is never stored or exchanged as such: like the volumes' life
(:mod:`hotline.domain.notices.lifecycle`), :func:`fold_case` derives it from the signed
accounts both nodes hold, so both derive the same. Each side's accounts are taken in
the order it sent them (the signed channel sequence, never a clock): its first account
without ``joins`` opens the case and fixes its line (the two parties) and its origin; the
other side *joins* with its own account, naming that opening; a later account from the
same side *amends* — a new version, every earlier one kept. An account that gets
something wrong itself (an event after it was signed, a ``joins`` that names anything
but the other side's opening, a line, role or origin other than its own side's earlier
versions) is kept aside as *rejected*, with the reason, never folded in: both nodes
reject the same ones, the line is not blocked by a peer's bad statement, and nothing one
side signs sets aside the other side's accounts. If both sides opened the same case id,
the case is *contested*: both openings stand and are shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints, model_validator

from hotline.domain.notices.base import MessageRef, ShortText, Text, Unit, UtcTime, field_error
from hotline.domain.notices.geometry import Altitude, Datum, Position

EVENT_KINDS = (
    "first_contact",
    "closest_approach",
    "warning_issued",
    "weapons_employed",
    "separation",
    "other",
)
"""What an event of an account may be; ``other`` needs a ``label`` saying what."""

EventKind = Literal[
    "first_contact", "closest_approach", "warning_issued", "weapons_employed", "separation", "other"
]
OriginKind = Literal["incident_report", "conflict", "incursion", "alarm"]
"""What a case is opened from: an incident report on the line (its message id), or one of
this node's conflicts, incursions or alarms (their id, as the opener's node names it)."""

CaseId = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"),
]
Depth = Annotated[StrictInt, Field(ge=0, le=11_000)]
"""Metres below the sea surface (a submarine's depth)."""

MAX_SKEW_S = 300
"""An event may be stated at most this many seconds after its account was signed (clock
skew between the ship's log and the node); later is an impossible time."""


class Narrative(BaseModel):
    """Free text in English and/or Russian, each as written (at least one)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    en: Text | None = None
    ru: Text | None = None

    @model_validator(mode="after")
    def _one_at_least(self) -> Narrative:
        if self.en is None and self.ru is None:
            raise field_error("en", "give the narrative in English (en), Russian (ru) or both")
        return self


class CaseOrigin(BaseModel):
    """What the case was opened from, by reference."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: OriginKind
    ref: MessageRef


class AccountEvent(BaseModel):
    """One stated event: what, when, where, who; altitude or depth when known."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: EventKind
    label: ShortText | None = None
    time: UtcTime
    position: Position
    altitude_m: Altitude | None = None
    datum: Datum | None = None
    depth_m: Depth | None = None
    units: Annotated[tuple[Unit, ...], Field(min_length=1, max_length=50)]
    narrative: Narrative | None = None

    @model_validator(mode="after")
    def _consistent(self) -> AccountEvent:
        if self.kind == "other" and self.label is None:
            raise field_error("label", "an event of kind other needs a label saying what it was")
        if (self.altitude_m is None) != (self.datum is None):
            raise field_error("datum", "altitude_m and datum are given together or not at all")
        if self.altitude_m is not None and self.depth_m is not None:
            raise field_error("depth_m", "give altitude_m or depth_m, not both")
        return self

    @property
    def key(self) -> str:
        """What the event is compared by: its kind, or ``other:<label>``."""
        return f"other:{self.label}" if self.kind == "other" else self.kind


class IncidentAccount(BaseModel):
    """One side's signed account of an incident, for one case.

    ``joins`` is given by the side that did not open the case: the message id of the
    account that opened it. So which account opened the case is signed, not inferred
    from two clocks.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["incident_account"]
    case: CaseId
    opened_from: CaseOrigin
    title: ShortText | None = None
    joins: MessageRef | None = None
    events: Annotated[tuple[AccountEvent, ...], Field(min_length=1, max_length=100)]
    narrative: Narrative | None = None

    @model_validator(mode="after")
    def _distinct_events(self) -> IncidentAccount:
        keys = [e.key for e in self.events]
        for key in sorted({k for k in keys if keys.count(k) > 1}):
            raise field_error(
                "events", f"event {key} is stated twice (give other events a distinct label)"
            )
        return self


# --- the fold ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    """One account on the line: its envelope's facts and the parsed body."""

    party: str
    to: str
    message_id: str
    seq: int
    created: str
    body: IncidentAccount
    #: the files the envelope signs (``{sha256, name, content_type, size}``), in order
    attachments: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class Rejected:
    account: Account
    reason: str


@dataclass
class Case:
    """A case as folded: opener, origin, each side's versions (oldest first), rejections.

    ``openings`` holds, per side that opened the case (an account without ``joins`` as its
    first version), that opening account. Two entries mean a *contested* opening: both
    sides opened the same case id; both accounts stand, and ``opened_by`` is then only
    the first of the two party names in alphabetical order (a rule neither side can move).
    """

    id: str
    opened_by: str
    other: str
    opened_at: str
    opened_from: CaseOrigin
    versions: dict[str, list[Account]] = field(default_factory=dict)
    rejected: list[Rejected] = field(default_factory=list)
    openings: dict[str, Account] = field(default_factory=dict)

    def current(self, party: str) -> Account | None:
        """The party's latest version, or None if it has not stated its account."""
        found = self.versions.get(party)
        return found[-1] if found else None

    @property
    def contested(self) -> bool:
        """Whether both sides sent an opening account (neither joined the other's)."""
        return len(self.openings) > 1

    def expected(self, party: str) -> tuple[str | None, CaseOrigin]:
        """What ``party``'s next account must carry: its ``joins`` and its origin.

        A side that opened the case joins nothing and keeps its own origin; a side that
        did not names the other side's opening account and its origin.
        """
        own = self.openings.get(party)
        if own is not None:
            return None, own.body.opened_from
        opening = self.openings[self.opened_by]
        return opening.message_id, opening.body.opened_from

    @property
    def title(self) -> str | None:
        """The latest title either side gave, the opener's first."""
        for party in (self.opened_by, self.other):
            for account in reversed(self.versions.get(party, [])):
                if account.body.title:
                    return account.body.title
        return None


def _order(account: Account) -> tuple[str, int, str, str]:
    """A side's accounts in the order it sent them: party, then channel sequence.

    The sequence is signed and grows by one per message on a sender→receiver channel,
    whatever the sender's clock says; ``created`` is what the sender claims and is never
    used to order anything.
    """
    return (account.party, account.seq, account.to, account.message_id)


def _impossible_time(account: Account) -> str | None:
    """Why an event's time cannot be, given when the account was signed; None if fine."""
    signed = datetime.strptime(account.created[:19], "%Y-%m-%dT%H:%M:%S")
    limit = signed + timedelta(seconds=MAX_SKEW_S)
    for i, event in enumerate(account.body.events):
        if event.time.replace(tzinfo=None) > limit:
            return (
                f"events[{i}].time: {event.time:%Y-%m-%dT%H:%M:%SZ} is after the account was "
                f"signed ({account.created}): an account states what has happened"
            )
    return None


def fold_case(accounts: Iterable[Account]) -> Case | None:
    """The case the accounts of one case id make; None when none of them stands.

    Each side's accounts are taken in its channel order (signed sequence, never the
    sender's clock). An account is set aside only for what it gets wrong itself: an
    impossible time, a ``joins`` that does not name the other side's opening account (or
    an origin other than that account's), a line or role or origin other than its own
    side's first version. A side whose first standing account joins nothing *opened*
    the case; when both sides did, the case is contested and both openings stand.
    Nothing one side signs can set aside the other side's accounts, and the result is
    the same on both nodes, which hold the same envelopes.
    """
    chains: dict[str, list[Account]] = {}
    rejected: list[Rejected] = []
    for account in sorted(accounts, key=_order):
        reason = _impossible_time(account)
        if reason is not None:
            rejected.append(Rejected(account, reason))
        else:
            chains.setdefault(account.party, []).append(account)
    openings = {p: chain[0] for p, chain in chains.items() if chain[0].body.joins is None}
    if not openings:  # nothing stands, or only accounts joining an opening not held here
        return None
    opened_by = min(openings)  # the only opener, or the first name of a contested pair
    first = openings[opened_by]
    case = Case(
        id=first.body.case,
        opened_by=opened_by,
        other=first.to,
        opened_at=first.created,
        opened_from=first.body.opened_from,
    )
    for party in sorted(chains):
        standing: list[Account] = []
        for account in chains[party]:
            if standing:
                reason = _contradicts_own(standing[0], account)
            else:
                reason = _contradicts_case(case, openings, account)
            if reason is not None:
                rejected.append(Rejected(account, reason))
            else:
                standing.append(account)
        if standing:
            case.versions[party] = standing
            if standing[0].body.joins is None:
                case.openings[party] = standing[0]
    case.rejected = sorted(rejected, key=lambda r: _order(r.account))
    return case


def _contradicts_case(case: Case, openings: dict[str, Account], account: Account) -> str | None:
    """Why a side's first account cannot belong to ``case``; None when it can."""
    if {account.party, account.to} != {case.opened_by, case.other}:
        return (
            f"case {case.id} is between {case.opened_by} and {case.other}; this account is "
            f"from {account.party} to {account.to}"
        )
    joins = account.body.joins
    if joins is None:
        return None  # this side opened the case (contested when the other did too)
    opening = openings.get(account.to)
    if opening is None or joins != opening.message_id:
        named = opening.message_id if opening is not None else "none held"
        return (
            f"joins: an account joining case {case.id} names the account {account.to} "
            f"opened it with ({named}), not {joins}"
        )
    origin, theirs = account.body.opened_from, opening.body.opened_from
    if origin != theirs:
        return (
            f"opened_from: case {case.id} was opened from {theirs.kind} {theirs.ref} by "
            f"{account.to}; this account says {origin.kind} {origin.ref}"
        )
    return None


def _contradicts_own(first: Account, account: Account) -> str | None:
    """Why a later account of a side cannot be its next version; None when it can."""
    if account.to != first.to:
        return (
            f"case {account.body.case}: {account.party} stated its account to {first.to} "
            f"({first.message_id}); this account is to {account.to}"
        )
    joins, wanted = account.body.joins, first.body.joins
    if joins != wanted:
        if wanted is None:
            return (
                f"joins: {account.party} opened case {account.body.case} with "
                f"{first.message_id}; its own account joins nothing"
            )
        return (
            f"joins: {account.party} joined case {account.body.case} by naming {wanted} "
            f"({first.message_id}); this account names {joins or 'nothing'}"
        )
    origin, own = account.body.opened_from, first.body.opened_from
    if origin != own:
        return (
            f"opened_from: {account.party}'s account of case {account.body.case} "
            f"({first.message_id}) says {own.kind} {own.ref}; this one says "
            f"{origin.kind} {origin.ref}"
        )
    return None
