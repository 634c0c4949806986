"""Formatted notices, coded messages and translations on the line.

The notice library (``domain/notices/``, ``render/``, ``services/notices/rules.py``) is
pure; this service puts it to work for one node: checks the agreement rules before a notice is
sent, checks that a notice referring to an earlier message (a deconfliction answer to
its request, say) names a message of the right type on the same line, renders every
notice in English and Russian for both sides, refuses coded messages between
mismatched phrasebooks, and records human translations with a second person's
certification.

The node's rules files are all loaded when the service is built, so a node with a
broken rules file does not start; a pair with no rules file simply has no rules.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from hotline.clock import parse_rfc3339
from hotline.domain.bodies import check_body, is_notice
from hotline.domain.notices.models import (
    LINKS,
    CodedMessage,
    DeconflictionConcurrence,
    DeconflictionRequest,
    NoticeAmendment,
    NoticeBody,
    ObserverAnswer,
    parse_notice,
)
from hotline.errors import (
    ConfigError,
    Conflict,
    Forbidden,
    NotFound,
    PhrasebookMismatch,
    ValidationError,
    VolumeConflict,
)
from hotline.render.bodies import RENDERERS, render_body
from hotline.render.conflicts import conflict_line
from hotline.render.i18n import gettext
from hotline.render.machine import (
    DRAFT_LABEL,
    NO_DRAFT,
    Translator,
    default_translator,
    machine_draft,
)
from hotline.render.notices import free_texts, render, summary
from hotline.services.line.service import Line
from hotline.services.notices.rules import check, check_rules_dir, find_rules
from hotline.services.picture.conflicts import Conflicts
from hotline.services.policy import CERTIFY
from hotline.storage import messages as store
from hotline.storage import peers, users
from hotline.storage import translations as store_tr
from hotline.storage.messages import IN, OUT

#: Types shown as their sender wrote them (the console and ``hotline show`` have their own
#: view of these): a text, and an escalation (which points at its original).
READ_AS_WRITTEN = frozenset({"text", "escalation"})


def _one_of(types: tuple[str, ...]) -> str:
    """``("activity_notice", "deconfliction_answer")`` -> "an activity_notice or a ..."."""
    named = [f"{'an' if t[0] in 'aeiou' else 'a'} {t}" for t in types]
    return " or ".join([", ".join(named[:-1]), named[-1]] if len(named) > 1 else named)


MAX_REASON = 500
"""The longest reason for sending a notice in conflict, in characters."""

NEEDS_REASON_IN_CONFLICT = frozenset({"activity_notice", "protected_areas", "notice_amendment"})
"""Types that declare the sender's own activity or areas (or a new version of them): sent
in conflict with the other side's volumes only with a reason. A deconfliction request or
answer is about a conflict, so its conflicts are shown but never stop it."""


def _refuse_unaccepted(conflicts: list[dict[str, Any]], reason: str | None) -> None:
    """Refuse a notice in conflict with the other side's volumes unless a reason is given."""
    if reason is not None and (not reason.strip() or len(reason) > MAX_REASON):
        raise ValidationError(
            f"accept_conflict: give the reason in 1 to {MAX_REASON} characters",
            field="accept_conflict",
        )
    if not conflicts or reason:
        return
    lines = "; ".join(conflict_line(c) for c in conflicts)
    raise VolumeConflict(
        f"this notice conflicts with the other side's volumes, so it was not sent: {lines}",
        hint="change the volumes or times, or send it anyway with the reason recorded: "
        "--accept-conflict REASON (API: accept_conflict)",
        conflicts=json.dumps(conflicts, ensure_ascii=False),
    )


@dataclass(frozen=True)
class Prepared:
    """A notice checked and rendered, ready to send (or to show before sending)."""

    type: str
    body: dict[str, Any]
    findings: list[dict[str, Any]]
    rendering: dict[str, str]
    conflicts: list[dict[str, Any]]

    @property
    def blocked(self) -> bool:
        return any(f["blocks_sending"] for f in self.findings)

    @property
    def needs_reason(self) -> bool:
        """It conflicts with the other side's volumes: sent only with a reason."""
        return bool(self.conflicts) and self.type in NEEDS_REASON_IN_CONFLICT


class Notices:
    def __init__(
        self, line: Line, translator: Translator | None = None, conflicts: Conflicts | None = None
    ) -> None:
        self.line = line
        self.conflicts = conflicts
        self.phrasebook = line.identity.phrasebook
        rules_dir = line.settings.rules_dir
        self.rules_dir = Path(rules_dir) if rules_dir else None
        check_rules_dir(self.rules_dir)  # a broken rules file stops the node here
        self.translator = translator or default_translator()
        #: Further checks by notice type, run before sending (the cases register theirs);
        #: each raises a ValidationError to refuse, given the receiver and the notice.
        self.checks: dict[str, Callable[[str, NoticeBody], None]] = {}

    # -- before sending --------------------------------------------------------------------

    def prepare(self, to: str, notice: Any) -> Prepared:
        """Validate, check the rules and render a notice addressed to ``to``."""
        if not isinstance(notice, dict) or not isinstance(notice.get("type"), str):
            raise ValidationError("a notice is a JSON object with a 'type'", field="type")
        type_ = notice["type"]
        if not is_notice(type_):
            raise ValidationError(f"{type_!r} is not a notice type", field="type")
        body = check_body(type_, notice)
        parsed = parse_notice(body)
        if isinstance(parsed, CodedMessage):
            self._check_peer_phrasebook(to)
            self.phrasebook.check_message(parsed)
        self._check_link(to, parsed)
        self._check_observer_count(parsed)
        if type_ in self.checks:
            self.checks[type_](to, parsed)
        sent_at = self.line.clock.now()
        me = self.line.identity.party
        return Prepared(
            type=type_,
            body=body,
            findings=self.findings(parsed, sent_at=sent_at, sender=me, receiver=to),
            rendering=self._render(parsed, sender=me, receiver=to, message_id=None, at=None),
            conflicts=self.conflicts.check_notice(body, to) if self.conflicts else [],
        )

    def sendable(self, to: str, notice: Any, accept_conflict: str | None = None) -> Prepared:
        """``prepare``, refusing a notice whose rule findings block sending, or whose
        volumes conflict with the other side's unless ``accept_conflict`` gives a reason."""
        prepared = self.prepare(to, notice)
        _refuse_unaccepted(prepared.conflicts if prepared.needs_reason else [], accept_conflict)
        if prepared.blocked:
            rules = "; ".join(
                f"{f['rule_id']} ({f['title_en']}): {f['detail_en']}"
                for f in prepared.findings
                if f["blocks_sending"]
            )
            raise Conflict(
                f"the agreement rules block sending this notice: {rules}",
                hint="correct the notice and send again; `hotline notice check FILE` "
                "lists every finding",
                findings=json.dumps(prepared.findings, ensure_ascii=False),
            )
        return prepared

    def send(
        self,
        to: str,
        notice: Any,
        *,
        precedence: str,
        lang: str | None,
        user: str,
        client_ref: str | None = None,
        accept_conflict: str | None = None,
        attachments: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Send a notice; ``attachments``: the references of files stored whole here
        (``Attachments.refs``), signed into the envelope as for a text message."""
        prepared = self.sendable(to, notice, accept_conflict)
        message = self.line.send(
            to=to,
            body=prepared.body,
            type_=prepared.type,
            precedence=precedence,
            lang=lang,
            user=user,
            client_ref=client_ref,
            attachments=attachments,
        )
        if self.conflicts is not None:
            self.conflicts.record_sent(message["id"], prepared.body, message.get("created"))
        if prepared.conflicts and accept_conflict:
            self._record_acceptance(message["id"], prepared.conflicts, accept_conflict, user)
        # rendered again now the message has its id and time, as the receiver will see it
        rendering = self._render(
            parse_notice(message["body"]),
            sender=self.line.identity.party,
            receiver=to,
            message_id=message["id"],
            at=message["created"],
        )
        return {
            "message": message,
            "findings": prepared.findings,
            "rendering": rendering,
            "conflicts": prepared.conflicts,
            "accepted_conflict": accept_conflict.strip()
            if prepared.conflicts and accept_conflict
            else None,
        }

    def _record_acceptance(
        self, message_id: str, conflicts: list[dict[str, Any]], reason: str, user: str
    ) -> None:
        """Keep, in the message's trail, who sent it in conflict, why, and with what."""
        with self.line.db.write() as conn:
            store.add_event(
                conn,
                message_id,
                self.line.now(),
                "conflict_accepted",
                by=user,
                reason=reason.strip(),
                conflicts=json.dumps(conflicts, ensure_ascii=False),
            )

    def send_code(
        self, to: str, code: int, *, precedence: str, user: str, client_ref: str | None = None
    ) -> dict[str, Any]:
        body = self.phrasebook.coded_message(code).model_dump(mode="json")
        return self.send(
            to, body, precedence=precedence, lang=None, user=user, client_ref=client_ref
        )

    def _check_link(self, to: str, notice: NoticeBody) -> None:
        """Refuse a notice whose reference names no fitting message on the line with ``to``."""
        link = LINKS.get(notice.type)
        if link is None:
            return
        ref = str(getattr(notice, link.field))
        with self.line.db.read() as conn:
            row = store.get(conn, ref)
        wanted = _one_of(link.types)
        if row is None or row["peer"] != to:
            raise ValidationError(
                f"{link.field}: no message {ref} on the line with {to}",
                hint=f"give the id of {wanted} on that line, as the inbox or outbox lists it",
                field=link.field,
            )
        if row["type"] not in link.types:
            raise ValidationError(
                f"{link.field}: message {ref} is {_one_of((row['type'],))}, not {wanted}",
                field=link.field,
            )
        direction = {"sender": OUT, "receiver": IN}.get(link.sent_by, row["direction"])
        if row["direction"] != direction:
            whose = "this node" if direction == OUT else to
            raise ValidationError(
                f"{link.field}: {_one_of((notice.type,))} refers to {wanted} sent by {whose}; "
                f"message {ref} was sent by the other side",
                field=link.field,
            )
        self._check_change(notice, row)
        self._check_concerns(to, notice)

    def _check_change(self, notice: NoticeBody, row: dict[str, Any]) -> None:
        """An amendment keeps its notice's type; a concurrence answers a counter-proposal."""
        referred = json.loads(row["envelope"])["body"]
        if isinstance(notice, NoticeAmendment) and notice.notice.type != row["type"]:
            raise ValidationError(
                f"notice.type: message {row['id']} is {_one_of((row['type'],))}; its "
                f"amendment must be one too, not {_one_of((notice.notice.type,))}",
                hint="send the whole new version of the notice as 'notice'",
                field="notice.type",
            )
        if isinstance(notice, DeconflictionConcurrence) and referred.get("answer") != (
            "counter_proposal"
        ):
            raise ValidationError(
                f"refers_to: answer {row['id']} is {referred.get('answer')}, not a "
                "counter_proposal: there is nothing to concur with",
                field="refers_to",
            )

    def _check_concerns(self, to: str, notice: NoticeBody) -> None:
        """Each volume a request concerns is on the line with ``to`` at that version."""
        if not isinstance(notice, DeconflictionRequest) or self.conflicts is None:
            return
        lines = self.conflicts.picture().volumes.lines
        for i, ref in enumerate(notice.concerns or ()):
            line = lines.get(ref.key)
            with self.line.db.read() as conn:
                row = store.get(conn, ref.message_id)
            if line is None or row is None or row["peer"] != to:
                raise ValidationError(
                    f"concerns[{i}]: no volume {ref.volume_id} of message {ref.message_id} "
                    f"on the line with {to}",
                    hint="`hotline notice volumes` lists the volumes and their versions",
                    field=f"concerns[{i}]",
                )
            if ref.version > line.version:
                raise ValidationError(
                    f"concerns[{i}]: volume {ref.key} has no version {ref.version} "
                    f"(its latest is {line.version})",
                    field=f"concerns[{i}]",
                )

    def _check_observer_count(self, notice: NoticeBody) -> None:
        """An acceptance names no more observers than the invitation it answers asks for."""
        if not isinstance(notice, ObserverAnswer) or notice.observers is None:
            return
        with self.line.db.read() as conn:
            row = store.get(conn, notice.invitation_ref)
        invited = json.loads(row["envelope"])["body"].get("observers") if row else None
        if isinstance(invited, int) and len(notice.observers) > invited:
            raise ValidationError(
                f"observers: the invitation {notice.invitation_ref} asks for {invited} "
                f"observers; this answer names {len(notice.observers)}",
                hint="name at most as many observers as invited",
                field="observers",
            )

    def link(self, body: dict[str, Any], peer: str) -> dict[str, Any] | None:
        """The message a shown notice refers to: its id, type and a line in both languages.

        ``found`` is false when this node holds no such message on the line with ``peer``.
        """
        link = LINKS.get(str(body.get("type")))
        if link is None or not isinstance(body.get(link.field), str):
            return None
        ref = body[link.field]
        with self.line.db.read() as conn:
            row = store.get(conn, ref)
        if row is None or row["peer"] != peer:
            return {"field": link.field, "id": ref, "found": False}
        out = {
            "field": link.field,
            "id": ref,
            "found": True,
            "type": row["type"],
            "direction": row["direction"],
            "created": row["created"],
        }
        if is_notice(row["type"]):
            referred = parse_notice(json.loads(row["envelope"])["body"])
            out["summary"] = {lang: summary(referred, lang) for lang in ("en", "ru")}
        return out

    def _check_peer_phrasebook(self, to: str) -> None:
        with self.line.db.read() as conn:
            peer = peers.get(conn, to)
        if peer is None:
            raise NotFound(f"no peer {to!r} is pinned on this node")
        card = json.loads(peer.card)
        if card.get("phrasebook_hash") != self.phrasebook.hash:
            raise PhrasebookMismatch(
                f"{to} holds phrasebook version {card.get('phrasebook_version')} "
                f"(hash {str(card.get('phrasebook_hash'))[:12]}…), this node holds version "
                f"{self.phrasebook.version} (hash {self.phrasebook.hash[:12]}…)",
                hint="both sides must load the same phrasebook and exchange cards again",
            )

    # -- both sides ------------------------------------------------------------------------

    def findings(
        self, notice: NoticeBody, *, sent_at: datetime, sender: str, receiver: str
    ) -> list[dict[str, Any]]:
        """The rule findings for ``notice``; none when the pair has no rules file.

        A rules file that is there but broken raises :class:`ConfigError`: it must never
        read as "no rules", which would let a notice through that a rule blocks.
        """
        ruleset = find_rules(sender, receiver, self.rules_dir)
        if ruleset is None:
            return []
        found = check(notice, sent_at=sent_at, sender=sender, receiver=receiver, rules=ruleset)
        return [f.model_dump(mode="json") for f in found]

    def _render(
        self,
        notice: NoticeBody,
        *,
        sender: str,
        receiver: str,
        message_id: str | None,
        at: str | None,
    ) -> dict[str, str]:
        sent_at = parse_rfc3339(at) if at else None
        return {
            lang: render(
                notice,
                lang,
                sender=sender,
                receiver=receiver,
                message_id=message_id,
                sent_at=sent_at,
                phrasebook=self.phrasebook,
            )
            for lang in ("en", "ru")
        }

    def decorate(self, shown: dict[str, Any]) -> dict[str, Any]:
        """Add renderings, rule findings and translations to a shown message."""
        me = self.line.identity.party
        sender, receiver = (
            (me, shown["peer"]) if shown["direction"] == "out" else (shown["peer"], me)
        )
        if is_notice(shown["type"]):
            notice = parse_notice(shown["body"])
            shown["rendering"] = self._render(
                notice,
                sender=sender,
                receiver=receiver,
                message_id=shown["id"],
                at=shown["created"],
            )
            try:
                shown["findings"] = self.findings(
                    notice,
                    sent_at=parse_rfc3339(shown["created"]),
                    sender=sender,
                    receiver=receiver,
                )
            except ConfigError as exc:
                # the message is still shown; the broken rules file is named beside it
                shown["findings"] = []
                shown["findings_error"] = exc.to_dict()
            shown["link"] = self.link(shown["body"], shown["peer"])
        elif shown["type"] in RENDERERS and shown["type"] not in READ_AS_WRITTEN:
            # a watch level, a call's step, a test …: in words, never as raw JSON
            sent_at = parse_rfc3339(shown["created"])
            shown["rendering"] = {
                lang: render_body(
                    shown["type"], shown["body"], lang, sender=sender, receiver=receiver,
                    message_id=shown["id"], sent_at=sent_at,
                )
                for lang in ("en", "ru")
            }  # fmt: skip
        with self.line.db.read() as conn:
            shown["translations"] = store_tr.for_message(conn, shown["id"])
        return shown

    # -- translation -----------------------------------------------------------------------

    def translate(self, message_id: str, lang: str, text: str, user: str) -> dict[str, Any]:
        """Record ``user``'s translation of a message into ``lang`` (uncertified)."""
        if lang not in ("en", "ru"):
            raise ValidationError(f"lang must be 'en' or 'ru', not {lang!r}", field="lang")
        if not text.strip():
            raise ValidationError("text: a translation cannot be empty", field="text")
        with self.line.db.write() as conn:
            row = store.get(conn, message_id)
            if row is None:
                raise NotFound(f"no message {message_id!r}")
            now = self.line.now()
            tid = store_tr.add(conn, message_id, lang, text, user, now)
            store.add_event(
                conn, message_id, now, "translated", by=user, lang=lang, translation=tid
            )
            out = store_tr.get(conn, tid)
        assert out is not None
        return out

    def certify(self, translation_id: int, user: str) -> dict[str, Any]:
        """A translator certifies another person's translation (never their own): the
        edges check the role too (``services/policy.py``); checked here as well, so that
        no path certifies without it."""
        with self.line.db.write() as conn:
            account = users.get(conn, user)
            if account is None or account.disabled or not set(account.roles) & CERTIFY:
                raise Forbidden(
                    f"{user} may not certify translations: it takes the translator role",
                    hint="a translator reviews and certifies it",
                )
            row = store_tr.get(conn, translation_id)
            if row is None:
                raise NotFound(f"no translation {translation_id}")
            if row["machine"]:
                raise Conflict("a machine draft cannot be certified; a person must translate")
            if row["translator"] == user:
                raise Forbidden(
                    "the translator cannot certify their own translation",
                    hint="another translator must review and certify it",
                )
            if row["certified_by"]:
                raise Conflict(f"already certified by {row['certified_by']}")
            now = self.line.now()
            store_tr.certify(conn, translation_id, user, now)
            store.add_event(
                conn, row["message_id"], now, "certified", by=user, translation=translation_id
            )
            out = store_tr.get(conn, translation_id)
        assert out is not None
        return out

    def draft(self, message_id: str, target: str, user: str) -> dict[str, Any]:
        """A machine draft of a message's free text, stored and marked; or say none is
        available.

        A notice's renderings are in both languages already, but its remarks, description
        or reasons stay as the sender wrote them: those are drafted, each under its label.
        """
        with self.line.db.read() as conn:
            row = store.get(conn, message_id)
        if row is None:
            raise NotFound(f"no message {message_id!r}")
        if row["lang"] == target:
            raise ValidationError(
                f"message {message_id} is written in {target} already: nothing to translate",
                hint="ask for a draft in the other language",
                field="lang",
            )
        parts = self._free_texts(json.loads(row["envelope"])["body"], row["type"], target)
        drafts = [machine_draft(text, row["lang"], target, self.translator) for _, text in parts]
        if any(d is None for d in drafts):
            raise Conflict(gettext(target, NO_DRAFT), hint="install Argos Translate and a model")
        lines = [
            f"{label}: {d.text}" if label else d.text
            for (label, _), d in zip(parts, drafts, strict=True)
            if d is not None
        ]
        text = f"[{gettext(target, DRAFT_LABEL)}] " + "\n".join(lines)
        with self.line.db.write() as conn:
            tid = store_tr.add(conn, message_id, target, text, user, self.line.now(), machine=True)
            out = store_tr.get(conn, tid)
        assert out is not None
        return out

    @staticmethod
    def _free_texts(body: dict[str, Any], type_: str, lang: str) -> list[tuple[str, str]]:
        """``(label, text)`` of each free text in a body; a text message has no label."""
        if is_notice(type_) and type_ != "coded_message":
            parts = free_texts(parse_notice(body), lang)
            if not parts:
                raise ValidationError(
                    "this notice has no free text to translate: its renderings are in "
                    "both languages already",
                    field="message_id",
                )
            return parts
        if isinstance(body.get("text"), str):
            return [("", body["text"])]
        raise ValidationError(
            f"a {type_} message has no free text to translate", field="message_id"
        )
