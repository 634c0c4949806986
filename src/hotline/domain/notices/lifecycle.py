"""The life of every volume on a line, folded from the notices both sides hold.

Both nodes hold the same messages (each side's, in both directions), so folding them in
the same order gives both the same state: no state of its own is stored or exchanged.
Messages apply in the order they were created (in the same second: as stored).

A volume's id on the line is its *key*, ``<message id>/<volume id>`` of the notice that
first declared it; its owner is that notice's sender. Each amendment makes a new
*version* (1, 2, …). States::

    proposed   in a deconfliction request (``proposed``) or a counter-proposal
    declared   in an activity notice, or a new version by amendment
    agreed     both sides concurred (an answer ``concur``, or a concurrence)
    withdrawn  cancelled, left out of an amendment, or a proposal not taken up
    expired    its time window has ended (computed against the clock: :meth:`Volumes.state`)

A volume quoted in a request is a reference to its version (``concerns``), never a new
declaration; the older form (``volumes`` copied into a request) is kept as quoted only.

A negotiation starts with a request; an answer ``counter_proposal`` and a further request
referring to that answer are its next rounds. When it ends agreed, the volumes it named
(the concerned ones and the adopted proposals) form an *agreement*: a conflict between two
of them, at the versions agreed, is accepted by both sides for the agreement's reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from hotline.domain.notices.geometry import Volume
from hotline.domain.notices.models import (
    ActivityNotice,
    DeconflictionAnswer,
    DeconflictionConcurrence,
    DeconflictionRequest,
    ExerciseNotification,
    NoticeAmendment,
    NoticeBody,
    NoticeCancellation,
    ProtectedAreas,
)

IN_FORCE = ("declared", "agreed")
"""The states in which a volume counts for conflicts."""

STATES = ("proposed", "declared", "agreed", "withdrawn", "expired")


@dataclass(frozen=True)
class Sent:
    """One notice on the line: who sent it, its message id, when, the parsed body."""

    party: str
    message_id: str
    created: str
    body: NoticeBody


@dataclass(frozen=True)
class VolumeState:
    """One version of one volume and its state (a proposal is a version not yet in force)."""

    key: str
    owner: str
    version: int
    message_id: str
    volume: Volume
    state: str
    since: str
    reason: str | None = None
    changed_by: str | None = None
    negotiation: str | None = None
    step: int = 0  # which message (in folding order) last changed it

    def state_at(self, now: datetime) -> str:
        """The state at ``now``: a volume whose window has ended is ``expired``."""
        if self.state in ("proposed", *IN_FORCE) and self.volume.properties.end <= now:
            return "expired"
        return self.state

    def to_json(self, now: datetime) -> dict[str, Any]:
        origin, _, vid = self.key.partition("/")
        out: dict[str, Any] = {
            "key": self.key,
            "message_id": origin,
            "volume_id": vid,
            "owner": self.owner,
            "version": self.version,
            "version_message_id": self.message_id,
            "state": self.state_at(now),
            "since": self.since,
        }
        for name in ("reason", "changed_by", "negotiation"):  # not step: local to a fold
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        return out


@dataclass(frozen=True)
class Agreement:
    """Volumes (key, version) both sides agreed together, with the reason given."""

    members: frozenset[tuple[str, int]]
    reason: str
    message_id: str
    at: str


@dataclass
class Negotiation:
    """One negotiation: its rounds, what it concerns, its pending proposals, its state."""

    id: str
    requester: str
    state: str = "requested"
    concerns: list[tuple[str, int]] = field(default_factory=list)
    quoted: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    proposals: list[str] = field(default_factory=list)
    rounds: list[dict[str, Any]] = field(default_factory=list)
    reason: str | None = None
    asker: str = ""  # who sent the latest request: the other side answers it


@dataclass
class Volumes:
    """The fold: every volume line, every proposal, every negotiation and agreement."""

    lines: dict[str, VolumeState] = field(default_factory=dict)
    versions: dict[str, list[VolumeState]] = field(default_factory=dict)
    proposals: dict[str, VolumeState] = field(default_factory=dict)
    negotiations: dict[str, Negotiation] = field(default_factory=dict)
    agreements: list[Agreement] = field(default_factory=list)
    notices: dict[str, Sent] = field(default_factory=dict)  # amendable notices, as amended
    rounds: dict[str, str] = field(default_factory=dict)  # request/answer id -> negotiation
    step: int = 0  # messages applied so far

    def in_force(self, now: datetime) -> list[VolumeState]:
        """The current version of every volume declared or agreed, not expired at ``now``."""
        return [v for v in self.lines.values() if v.state_at(now) in IN_FORCE]

    def proposed(self, now: datetime) -> list[VolumeState]:
        """The proposals still open at ``now``."""
        return [p for p in self.proposals.values() if p.state_at(now) == "proposed"]

    def accepted(self, a: tuple[str, int], b: tuple[str, int]) -> Agreement | None:
        """The agreement accepting a conflict between these two versions, if any."""
        for agreement in reversed(self.agreements):
            if a in agreement.members and b in agreement.members:
                return agreement
        return None

    def owner(self, message_id: str) -> str | None:
        sent = self.notices.get(message_id)
        return sent.party if sent else None

    # -- applying messages ----------------------------------------------------------------

    def apply(self, sent: Sent) -> None:
        self.step += 1
        body = sent.body
        if isinstance(body, ActivityNotice):
            self.notices[sent.message_id] = sent
            for v in body.volumes:
                self._set(f"{sent.message_id}/{v.properties.id}", sent, v, "declared")
        elif isinstance(body, ExerciseNotification | ProtectedAreas):
            self.notices[sent.message_id] = sent
        elif isinstance(body, DeconflictionRequest):
            self._request(sent, body)
        elif isinstance(body, DeconflictionAnswer):
            self._answer(sent, body)
        elif isinstance(body, DeconflictionConcurrence):
            self._concurrence(sent, body)
        elif isinstance(body, NoticeAmendment):
            self._amend(sent, body)
        elif isinstance(body, NoticeCancellation):
            self._cancel(sent, body)

    def _set(
        self, key: str, sent: Sent, volume: Volume, state: str, reason: str | None = None
    ) -> None:
        """A new version of volume ``key`` in ``state``, carried by ``sent``."""
        before = self.lines.get(key)
        now = VolumeState(
            key,
            before.owner if before else sent.party,
            before.version + 1 if before else 1,
            sent.message_id,
            volume,
            state,
            sent.created,
            reason,
            sent.message_id,
            step=self.step,
        )
        self.lines[key] = now
        self.versions.setdefault(key, []).append(now)

    def _change(self, key: str, sent: Sent, state: str, reason: str | None) -> None:
        """Volume ``key`` (current version) moves to ``state``."""
        old = self.lines[key]
        self.lines[key] = replace(
            old,
            state=state,
            since=sent.created,
            reason=reason,
            changed_by=sent.message_id,
            step=self.step,
        )
        self.versions[key][-1] = self.lines[key]

    def _round(self, neg: Negotiation, sent: Sent, kind: str, **detail: Any) -> None:
        neg.rounds.append(
            {"message_id": sent.message_id, "type": kind, "party": sent.party, "at": sent.created}
            | detail
        )
        self.rounds[sent.message_id] = neg.id

    def _drop_pending(self, neg: Negotiation, sent: Sent, reason: str) -> None:
        for pid in neg.pending:
            p = self.proposals[pid]
            self.proposals[pid] = replace(
                p, state="withdrawn", since=sent.created, reason=reason, changed_by=sent.message_id
            )
        neg.pending = []

    def _propose(self, neg: Negotiation, sent: Sent, volumes: Iterable[Volume]) -> None:
        """The sender's proposals: a new version of its own concerned volume, or a new one."""
        own = {
            k.partition("/")[2]: k
            for k, _v in neg.concerns
            if k in self.lines and self.lines[k].owner == sent.party
        }
        for volume in volumes:
            vid = volume.properties.id
            key = own.get(vid, f"{sent.message_id}/{vid}")
            before = self.lines.get(key)
            pid = f"{sent.message_id}/{vid}"
            self.proposals[pid] = VolumeState(
                key,
                before.owner if before else sent.party,
                before.version + 1 if before else 1,
                sent.message_id,
                volume,
                "proposed",
                sent.created,
                changed_by=sent.message_id,
                negotiation=neg.id,
            )
            neg.pending.append(pid)
            neg.proposals.append(pid)

    def _request(self, sent: Sent, body: DeconflictionRequest) -> None:
        root = self.rounds.get(body.refers_to, sent.message_id)
        neg = self.negotiations.get(root)
        if neg is None:
            neg = self.negotiations[root] = Negotiation(root, sent.party)
        self._drop_pending(neg, sent, "superseded by a new round")
        for ref in body.concerns or ():
            if (ref.key, ref.version) not in neg.concerns:
                neg.concerns.append((ref.key, ref.version))
        neg.quoted += [f"{sent.message_id}/{v.properties.id}" for v in body.volumes or ()]
        self._propose(neg, sent, body.proposed or ())
        neg.state, neg.asker = "requested", sent.party
        self._round(neg, sent, "request", concern=body.concern)

    def _answer(self, sent: Sent, body: DeconflictionAnswer) -> None:
        neg = self.negotiations.get(self.rounds.get(body.refers_to, ""))
        if neg is None or neg.state != "requested" or sent.party == neg.asker:
            return  # to no request held, to a round answered or closed, or to one's own
        self._round(neg, sent, "answer", answer=body.answer, reason=body.reason)
        if body.answer == "concur":
            self._adopt(neg, sent, body.reason)
        elif body.answer == "do_not_concur":
            self._drop_pending(neg, sent, f"not concurred: {body.reason}")
            neg.state, neg.reason = "denied", body.reason
        else:
            self._drop_pending(neg, sent, "superseded by a counter-proposal")
            self._propose(neg, sent, body.volumes or ())
            neg.state = "counter_proposed"

    def _concurrence(self, sent: Sent, body: DeconflictionConcurrence) -> None:
        neg = self.negotiations.get(self.rounds.get(body.refers_to, ""))
        if neg is None or neg.state != "counter_proposed" or sent.party != neg.asker:
            return  # only the side that asked concurs with the answer it was given
        if neg.rounds[-1]["message_id"] != body.refers_to:
            return  # concurs with a counter-proposal a later round replaced
        self._round(neg, sent, "concurrence", reason=body.reason)
        self._adopt(neg, sent, body.reason)

    def _adopt(self, neg: Negotiation, sent: Sent, reason: str | None) -> None:
        """The pending proposals become agreed versions; the concerned volumes agreed."""
        why = reason or f"agreed in negotiation {neg.id}"
        members: set[tuple[str, int]] = set()
        for pid in neg.pending:
            p = self.proposals[pid]
            agreed = replace(
                p, state="agreed", since=sent.created, changed_by=sent.message_id, step=self.step
            )
            self.proposals[pid] = agreed
            self.lines[p.key] = agreed
            self.versions.setdefault(p.key, []).append(agreed)
            members.add((p.key, p.version))
        neg.pending = []
        for key, version in neg.concerns:
            line = self.lines.get(key)
            if line is not None and line.version == version and line.state in IN_FORCE:
                self._change(key, sent, "agreed", why)
                members.add((key, version))
        neg.state, neg.reason = "agreed", reason
        self.agreements.append(Agreement(frozenset(members), why, sent.message_id, sent.created))

    def _origin(self, sent: Sent, refers_to: str) -> Sent | None:
        """The notice amended or cancelled, if it is the sender's own."""
        origin = self.notices.get(refers_to)
        return origin if origin is not None and origin.party == sent.party else None

    def _amend(self, sent: Sent, body: NoticeAmendment) -> None:
        origin = self._origin(sent, body.refers_to)
        if origin is None or origin.body.type != body.notice.type:
            return
        self.notices[body.refers_to] = replace(origin, body=body.notice)
        if not isinstance(body.notice, ActivityNotice):
            return
        why = f"amended: {body.reason}"
        kept = {v.properties.id: v for v in body.notice.volumes}
        for key, line in list(self.lines.items()):
            origin_id, _, vid = key.partition("/")
            if origin_id == body.refers_to and vid not in kept and line.state != "withdrawn":
                self._change(key, sent, "withdrawn", why)
        for vid, volume in kept.items():
            now = self.lines.get(f"{body.refers_to}/{vid}")
            if now is None or now.volume != volume or now.state not in IN_FORCE:
                self._set(f"{body.refers_to}/{vid}", sent, volume, "declared", why)

    def _cancel(self, sent: Sent, body: NoticeCancellation) -> None:
        if self._origin(sent, body.refers_to) is None:
            return
        named = set(body.volumes) if body.volumes else None
        for key, line in list(self.lines.items()):
            origin_id, _, vid = key.partition("/")
            if origin_id != body.refers_to or line.state == "withdrawn":
                continue
            if named is None or vid in named:
                self._change(key, sent, "withdrawn", f"cancelled: {body.reason}")


def fold(messages: Iterable[Sent]) -> Volumes:
    """The state of every volume after ``messages``, applied oldest first (messages created
    in the same second keep the order given: the order they were stored in)."""
    out = Volumes()
    for sent in sorted(messages, key=lambda s: s.created):
        out.apply(sent)
    return out


def area_declarations(messages: Iterable[Sent]) -> list[tuple[str, str, str, dict[str, Any]]]:
    """Protected-area declarations, amendments and cancellations as plain declarations.

    An amendment of a ``protected_areas`` notice declares its areas and withdraws the
    ones it leaves out; a cancellation withdraws the notice's areas (or those named).
    Returned as ``(party, message id, created, protected_areas body)``, oldest first.
    """
    current: dict[str, Sent] = {}
    out: list[tuple[str, str, str, dict[str, Any]]] = []
    for sent in sorted(messages, key=lambda s: s.created):
        body = sent.body
        if isinstance(body, ProtectedAreas):
            current[sent.message_id] = sent
            out.append((sent.party, sent.message_id, sent.created, _wire(body)))
            continue
        if not isinstance(body, NoticeAmendment | NoticeCancellation):
            continue
        origin = current.get(body.refers_to)
        if origin is None or origin.party != sent.party:
            continue
        assert isinstance(origin.body, ProtectedAreas)
        before = {a.id for a in origin.body.areas or ()}
        if isinstance(body, NoticeAmendment):
            if not isinstance(body.notice, ProtectedAreas):
                continue
            current[body.refers_to] = replace(origin, body=body.notice)
            after = {a.id for a in body.notice.areas or ()}
            gone = sorted((before | set(body.notice.withdrawn or ())) - after)
            declared = {"areas": _wire(body.notice).get("areas", [])}
        else:
            gone = sorted(before & set(body.volumes)) if body.volumes else sorted(before)
            declared = {}
        decl = {"type": "protected_areas", **declared, "withdrawn": gone}
        decl = {k: v for k, v in decl.items() if v != []}
        if len(decl) > 1:
            out.append((sent.party, sent.message_id, sent.created, decl))
    return out


def _wire(body: ProtectedAreas) -> dict[str, Any]:
    return body.model_dump(mode="json", exclude_none=True)
