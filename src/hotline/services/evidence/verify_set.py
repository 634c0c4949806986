"""Check an evidence set — one file proving many messages — with nothing but the file.

A set (``hotline evidence export --case ID`` or ``--from T --to T``) holds one ordinary
single-message bundle per message, exactly as :mod:`~hotline.services.evidence.bundle`
makes it (so whatever a single bundle carries, a set carries too), wrapped with its
scope (the case, or the time window), the list of message ids, and the exporting node's
signature over the whole. :func:`verify_set` checks, never stopping at the first failure:

- the file is the canonical JSON its exporter signed, and the exporter's signature over
  it, with the key on the exporter's card that every inner bundle carries (the same card
  in each);
- every inner bundle, with :func:`~hotline.services.evidence.verify.verify_bundle`, as
  if it were its own file (its bytes are its canonical JSON and a newline);
- the list of message ids is the list of bundles, with no id twice;
- every message is in the scope: an account of the case (or the incident report the
  case was opened from), or a message created inside the window;
- a case's set holds what its own accounts name: the account each of them ``joins`` and
  the incident report each names as the case's origin. One left out makes the set
  *incomplete* (named in :attr:`SetVerdict.missing`), as a missing receipt does a bundle.

It reports per message. It cannot prove that the exporter left out no message that none
of the others names (a later version of an account, say; docs/evidence.md, "Evidence
sets").

Imports only pure modules and the single-bundle check: it must run anywhere.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from hotline.errors import HotlineError
from hotline.protocol import keys
from hotline.protocol.canonical import canonical, parse_json
from hotline.protocol.envelope import open_card, signing_bytes
from hotline.services.evidence.verify import Verdict, verify_bundle

SET_FORMAT = "hotline-evidence-set/1"
MAX_MESSAGES = 2000
"""The most messages one set holds (a window wider than that is refused on export)."""


@dataclass
class SetVerdict:
    """The set's own checks, and each message's verdict in the set's order."""

    failed: list[str] = field(default_factory=list)
    scope: dict[str, Any] = field(default_factory=dict)
    messages: list[tuple[str, Verdict]] = field(default_factory=list)
    #: messages the set's own messages name and it does not hold (a case's opening account
    #: that the others join, its origin report), in words
    missing: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed and all(v.ok for _, v in self.messages)

    @property
    def complete(self) -> bool:
        return self.ok and not self.missing and all(v.complete for _, v in self.messages)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "complete": self.complete,
            "scope": self.scope,
            "failed": self.failed,
            "missing": self.missing,
            "messages": [{"message_id": m, **v.to_dict()} for m, v in self.messages],
        }


def is_set(raw: bytes) -> bool:
    """Whether the bytes are a set rather than a single bundle (by the format they name;
    a file that does not parse is left to the single bundle's check to describe)."""
    try:
        obj = parse_json(raw, "the evidence file")
    except HotlineError:
        return False
    return isinstance(obj, dict) and obj.get("format") == SET_FORMAT


def verify_set(
    raw: bytes, *, allow_uncosigned: bool = False, trusted: tuple[str, ...] | list[str] = ()
) -> SetVerdict:
    """Check every byte of an evidence set; see the module docstring for the list."""
    verdict = SetVerdict()
    try:
        obj = parse_json(raw, "the evidence set")
    except HotlineError as exc:
        verdict.failed.append(f"file: {exc.message}")
        return verdict
    if not isinstance(obj, dict) or obj.get("format") != SET_FORMAT:
        verdict.failed.append(f"file: not an evidence set ({SET_FORMAT})")
        return verdict
    if canonical(obj) + b"\n" != raw:
        verdict.failed.append(
            "file: not byte for byte the canonical JSON (RFC 8785) its exporter wrote: "
            "it was edited or re-encoded"
        )
    bundles, ids = obj.get("bundles"), obj.get("message_ids")
    scope = obj.get("scope")
    if not isinstance(bundles, list) or not isinstance(ids, list) or not isinstance(scope, dict):
        verdict.failed.append("file: an evidence set needs scope, message_ids and bundles")
        return verdict
    verdict.scope = scope
    _check_signature(obj, bundles, verdict)
    if ids != [b.get("message_id") if isinstance(b, dict) else None for b in bundles]:
        verdict.failed.append("message_ids: not the ids of the bundles, in their order")
    if len(set(map(str, ids))) != len(ids):
        verdict.failed.append("message_ids: a message is named twice")
    envelopes = []
    for i, inner in enumerate(bundles):
        if not isinstance(inner, dict):
            verdict.failed.append(f"bundles[{i}]: not a bundle")
            continue
        found = verify_bundle(
            canonical(inner) + b"\n", allow_uncosigned=allow_uncosigned, trusted=trusted
        )
        verdict.messages.append((str(inner.get("message_id")), found))
        envelopes.append(_envelope(inner))
    _check_scope(scope, [e for e in envelopes if e is not None], verdict)
    return verdict


def _check_signature(obj: dict[str, Any], bundles: list[Any], verdict: SetVerdict) -> None:
    """The exporter's signature, by the card every inner bundle carries for it."""
    exporter = obj.get("exported_by")
    cards = {
        json.dumps(b.get("cards", {}).get(exporter), sort_keys=True)
        for b in bundles
        if isinstance(b, dict)
    }
    if len(cards) != 1 or any(
        isinstance(b, dict) and b.get("exported_by") != exporter for b in bundles
    ):
        verdict.failed.append(f"bundles: not all exported by {exporter} with one card")
        return
    try:
        _card, public = open_card(json.loads(cards.pop()))
        good = keys.verify(public, str(obj.get("sig", "")), signing_bytes(obj))
    except (HotlineError, TypeError, ValueError):
        good = False
    if not good:
        verdict.failed.append(f"sig: the set is not signed by {exporter}'s key on its card")


def _envelope(bundle: dict[str, Any]) -> dict[str, Any] | None:
    for entry in bundle.get("entries", []):
        if isinstance(entry, dict) and entry.get("role") == "envelope":
            try:
                found = json.loads(str(entry.get("entry")))
            except ValueError:
                return None
            return found if isinstance(found, dict) else None
    return None


def _check_scope(
    scope: dict[str, Any], envelopes: list[dict[str, Any]], verdict: SetVerdict
) -> None:
    """Every message is of the case, or inside the window."""
    if "case" in scope:
        case = scope["case"]
        accounts = [e for e in envelopes if e.get("type") == "incident_account"]
        origins = {
            (a["body"].get("opened_from") or {}).get("ref")
            for a in accounts
            if a["body"].get("case") == case
        }
        for e in envelopes:
            body = e.get("body") or {}
            of_case = e.get("type") == "incident_account" and body.get("case") == case
            origin = e.get("type") == "incident_report" and e.get("id") in origins
            if not (of_case or origin):
                verdict.failed.append(f"message {e.get('id')}: not an account of case {case}")
        _check_named(case, accounts, {str(e.get("id")) for e in envelopes}, verdict)
    elif "from" in scope and "to" in scope:
        start, end = str(scope["from"]), str(scope["to"])
        for e in envelopes:
            if not start <= str(e.get("created")) <= end:
                verdict.failed.append(
                    f"message {e.get('id')}: created {e.get('created')}, outside the window "
                    f"{start} to {end}"
                )
    else:
        verdict.failed.append("scope: names neither a case nor a time window")


def _check_named(
    case: str, accounts: list[dict[str, Any]], held: set[str], verdict: SetVerdict
) -> None:
    """The opening account each account joins and the origin report it names are here."""
    wanted: dict[str, str] = {}
    for a in accounts:
        body = a.get("body") or {}
        if body.get("case") != case:
            continue
        joins = body.get("joins")
        if isinstance(joins, str):
            wanted.setdefault(
                joins,
                f"message {joins}: the account that opened case {case} (joined by {a.get('id')})",
            )
        origin = body.get("opened_from") or {}
        if origin.get("kind") == "incident_report" and isinstance(origin.get("ref"), str):
            wanted.setdefault(
                origin["ref"],
                f"message {origin['ref']}: the incident report case {case} was opened from "
                f"(named by {a.get('id')})",
            )
    verdict.missing += [what for ref, what in sorted(wanted.items()) if ref not in held]
