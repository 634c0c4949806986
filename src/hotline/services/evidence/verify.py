"""Check an evidence bundle with nothing but the file: no database, no network.

:func:`verify_bundle` reads the bytes ``hotline evidence export`` wrote and checks, in
order, that the file is the canonical JSON its exporter signed; that both peer cards are
self-signed and match their fingerprints; the exporter's signature over the bundle; the
checkpoint's two signatures (the exporting node's and its peer's); and for every log
entry — the envelope, its receipt, the acknowledgement, the receipt for that — that the
leaf hash is ``SHA-256(0x00 || entry)``, the inclusion proof leads to the checkpoint's
root, the entry is canonical JSON signed by the right party, and that it names the
others by their exact hashes. It never stops at the first failure: the verdict lists
every check that failed, and in plain words what the bundle proves.

A bundle whose every entry checks out may still lack a record the message should have:
no receipt (delivery not proven; worse if the acknowledgement is there, since a
message is acknowledged only once received), no acknowledgement of a message a person
must acknowledge, or no receipt for the acknowledgement. Those are not failures — what
is there is genuine — but the verdict names each in :attr:`Verdict.missing`, and
``hotline verify`` says INCOMPLETE (exit 3), never a bare VERIFIED.

Imports only pure modules (``protocol``, ``domain``, ``render``): the check must run
anywhere. What a message says is printed rendered in English and Russian for every type
(``render.bodies.render_message``), a text as its sender wrote it.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import pydantic
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field

from hotline.clock import parse_rfc3339
from hotline.domain.bodies import NO_ACK_TYPES, check_body
from hotline.domain.line import (
    HASH_PATTERN,
    PARTY_PATTERN,
    TIME_PATTERN,
    UUID_PATTERN,
    Envelope,
    Officer,
    Receipt,
)
from hotline.domain.links import OobAttempt
from hotline.errors import HotlineError, UnknownKey
from hotline.protocol import keychange, keys, merkle
from hotline.protocol.canonical import canonical, parse_json, sha256_hex
from hotline.protocol.checkpoint import Checkpoint, open_checkpoint
from hotline.protocol.envelope import describe, open_card, parse, signing_bytes, verify_signature
from hotline.protocol.keychange import KeyPeriod
from hotline.render.bodies import render_message
from hotline.services.evidence.attempts import MAX_ATTEMPTS, AttemptEntry, check_attempt
from hotline.services.evidence.attempts import narrate as narrate_attempt
from hotline.services.evidence.files import BundleFile, check_files

FORMAT = "hotline-evidence/1"
ROLES = ("envelope", "receipt", "ack", "ack_receipt")
#: The log entry kind of each role, in the log of the message's sender / receiver.
KINDS = {
    "sender": ("envelope_out", "receipt_in", "envelope_in", "receipt_out"),
    "receiver": ("envelope_in", "receipt_out", "envelope_out", "receipt_in"),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class BundleEntry(_Strict):
    """One log entry with its position and inclusion proof."""

    role: Literal["envelope", "receipt", "ack", "ack_receipt"]
    kind: Literal["envelope_out", "envelope_in", "receipt_out", "receipt_in"]
    index: int = Field(ge=0)
    entry: str = Field(min_length=2, max_length=2_000_000)  # canonical JSON, as logged
    leaf_hash: str = Field(pattern=HASH_PATTERN)
    proof: list[Annotated[str, Field(pattern=HASH_PATTERN)]] = Field(max_length=64)


class Bundle(_Strict):
    """The whole evidence file (``docs/evidence.md``)."""

    format: Literal["hotline-evidence/1"]
    message_id: str = Field(pattern=UUID_PATTERN)
    exported_by: str = Field(pattern=PARTY_PATTERN)
    exported_at: str = Field(pattern=TIME_PATTERN)
    cosigned: bool
    cards: dict[str, dict[str, Any]] = Field(min_length=2, max_length=2)
    #: Per party, the signed key changes that chain its earlier keys to its card's key
    #: (``protocol/keychange.py``); absent when neither party ever changed its key.
    key_changes: dict[str, list[dict[str, Any]]] = Field(default_factory=dict, max_length=2)
    checkpoint: str = Field(max_length=8192)
    entries: list[BundleEntry] = Field(min_length=1, max_length=4)
    #: out-of-band attempts to reach the peer (``evidence/attempts.py``); absent if none
    attempts: list[AttemptEntry] = Field(default_factory=list, max_length=MAX_ATTEMPTS)
    #: the bytes of the message's attachments (``evidence/files.py``); absent if none
    attachments: list[BundleFile] = Field(default_factory=list, max_length=8)
    sig: str = Field(max_length=200)


@dataclass
class Verdict:
    """What a bundle proves, what failed, what it lacks, and what it cannot say."""

    proven: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)
    #: Records the message should have and the bundle does not hold (no receipt, no
    #: acknowledgement …), in words; only filled when every check passed.
    missing: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every check passed: what the bundle holds is genuine (it may be incomplete)."""
        return not self.failed

    @property
    def complete(self) -> bool:
        """Genuine, and it holds every record the message should have."""
        return self.ok and not self.missing

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "complete": self.complete,
            "proven": self.proven,
            "failed": self.failed,
            "missing": self.missing,
            "caveats": self.caveats,
        }


@dataclass
class _Opened:
    """What was checked so far: the parties' keys, the checkpoint, the parsed entries."""

    bundle: Bundle
    keys: dict[str, Ed25519PublicKey] = field(default_factory=dict)
    fingerprints: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    checkpoint: Checkpoint | None = None
    objects: dict[str, Envelope | Receipt] = field(default_factory=dict)
    hashes: dict[str, str] = field(default_factory=dict)
    #: Each party's keys, oldest first (its card's key last), and the key of each party
    #: that signed the checkpoint.
    periods: dict[str, list[KeyPeriod]] = field(default_factory=dict)
    checkpoint_keys: dict[str, KeyPeriod] = field(default_factory=dict)


def verify_bundle(
    raw: bytes, *, allow_uncosigned: bool = False, trusted: Collection[str] = ()
) -> Verdict:
    """Check every byte of an evidence bundle; see the module docstring for the list."""
    verdict = Verdict()
    read = _read(raw, verdict)
    if read is None:
        return verdict
    obj, bundle = read
    opened = _Opened(bundle)
    _check_cards(opened, verdict, trusted)
    _check_bundle_signature(opened, obj, verdict)
    _check_checkpoint(opened, verdict, allow_uncosigned)
    for item in bundle.entries:
        _check_entry(opened, item, verdict)
    _check_roles(opened, verdict)
    attempts = _check_attempts(opened, verdict)
    _check_checkpoint_keys(opened, verdict)
    envelope = opened.objects.get("envelope")
    files: tuple[list[str], list[str], list[str]] = ([], [], [])
    if isinstance(envelope, Envelope):
        files = check_files(envelope, bundle.attachments)
        verdict.failed.extend(files[1])
    if verdict.ok:
        _narrate(opened, verdict)
        verdict.proven.extend(narrate_attempt(a, i) for i, a in attempts)
        verdict.proven.extend(files[0])
        verdict.missing.extend(files[2])
    return verdict


def _check_attempts(opened: _Opened, verdict: Verdict) -> list[tuple[int, OobAttempt]]:
    """The out-of-band attempts, each checked; the good ones with their log index."""
    bundle, good = opened.bundle, []
    for item in bundle.attempts:
        attempt, failed = check_attempt(
            item,
            checkpoint=opened.checkpoint,
            exporter=bundle.exported_by,
            key=opened.keys.get(bundle.exported_by),
            message_id=bundle.message_id,
            message_hash=opened.hashes.get("envelope"),
            periods=opened.periods.get(bundle.exported_by),
        )
        verdict.failed.extend(failed)
        if attempt is not None:
            good.append((item.index, attempt))
    return good


def _read(raw: bytes, verdict: Verdict) -> tuple[dict[str, Any], Bundle] | None:
    try:
        obj = parse_json(raw, "the bundle")
        if canonical(obj) + b"\n" != raw:
            verdict.failed.append(
                "file: not byte for byte the canonical JSON (RFC 8785) its exporter wrote: "
                "it was edited or re-encoded"
            )
        return obj, Bundle.model_validate(obj)
    except HotlineError as exc:
        verdict.failed.append(f"file: {exc.message}")
    except pydantic.ValidationError as exc:
        verdict.failed.append(f"file: not an evidence bundle ({FORMAT}): {describe(exc)}")
    return None


def _check_cards(opened: _Opened, verdict: Verdict, trusted: Collection[str]) -> None:
    for party, obj in sorted(opened.bundle.cards.items()):
        try:
            card, public = open_card(obj)
        except HotlineError as exc:
            verdict.failed.append(f"card of {party}: {exc.message}")
            continue
        if card.party != party:
            verdict.failed.append(f"card of {party}: it is the card of {card.party!r}")
            continue
        opened.keys[party], opened.fingerprints[party] = public, card.fingerprint
        opened.names[party] = card.name_en
        opened.periods[party] = _history(opened, party, card.fingerprint, card.public_key, verdict)
        if trusted and not _trusted(opened.periods[party], trusted):
            verdict.failed.append(
                f"card of {party}: key {card.fingerprint} is not among the fingerprints you trust"
            )
    for party in sorted(set(opened.bundle.key_changes) - set(opened.bundle.cards)):
        verdict.failed.append(f"key history of {party}: {party} has no card in the bundle")


def _history(
    opened: _Opened, party: str, fingerprint: str, public: str, verdict: Verdict
) -> list[KeyPeriod]:
    """The party's keys, proven by the chain of its key changes back from its card's key."""
    current = [KeyPeriod(fingerprint, public, None, None)]
    try:
        return keychange.history(fingerprint, opened.bundle.key_changes.get(party, [])) or current
    except HotlineError as exc:
        verdict.failed.append(f"key history of {party}: {exc.message}")
        return current


def _trusted(periods: list[KeyPeriod], trusted: Collection[str]) -> bool:
    """A trusted fingerprint is the current key, or an earlier one that vouched (by
    rotations only, never a revocation) for every key after it."""
    for index, period in enumerate(periods):
        later = periods[index + 1 :]
        if period.fingerprint in trusted and all(
            p.introduced_by == keychange.ROTATION for p in later
        ):
            return True
    return False


def _check_bundle_signature(opened: _Opened, obj: dict[str, Any], verdict: Verdict) -> None:
    bundle = opened.bundle
    key = opened.keys.get(bundle.exported_by)
    if key is None:
        verdict.failed.append(f"bundle: no valid card for its exporter {bundle.exported_by!r}")
        return
    signature = _strict_b64(bundle.sig)
    try:
        key.verify(signature or b"", signing_bytes(obj))
    except InvalidSignature:  # also raised for a signature of the wrong size
        verdict.failed.append(
            f"bundle: the exporter's signature (by {bundle.exported_by}) does not verify: "
            "something in the file was changed after export"
        )


def _check_checkpoint(opened: _Opened, verdict: Verdict, allow_uncosigned: bool) -> None:
    bundle = opened.bundle
    verifiers = {f"hotline/{party}": key for party, key in opened.keys.items()}
    try:
        checkpoint, signers = _open_checkpoint(opened)
    except HotlineError as exc:
        verdict.failed.append(f"checkpoint: {exc.message}")
        return
    if checkpoint.origin != f"hotline/{bundle.exported_by}":
        verdict.failed.append(
            f"checkpoint: it is of the log {checkpoint.origin!r}, not of the exporter's log"
        )
        return
    opened.checkpoint = checkpoint
    others = sorted(set(verifiers) - {checkpoint.origin})
    if checkpoint.origin not in signers:
        verdict.failed.append(f"checkpoint: not signed by {checkpoint.origin}, whose log it is")
    cosigned = bool(others) and all(name in signers for name in others)
    if cosigned != bundle.cosigned:
        verdict.failed.append("checkpoint: the bundle's 'cosigned' flag does not match it")
    if not cosigned and not allow_uncosigned:
        verdict.failed.append(
            f"checkpoint: not co-signed by {', '.join(others) or 'the peer'}: only the "
            "exporting node vouches for its log (verify with --allow-uncosigned to accept that)"
        )


def _open_checkpoint(opened: _Opened) -> tuple[Checkpoint, list[str]]:
    """The checkpoint and who signed it: each party's signature is checked with the key of
    its history that made it (newest first); a signature that fails refuses it."""
    found: Checkpoint | None = None
    signers: list[str] = []
    for party, periods in sorted(opened.periods.items()):
        name = f"hotline/{party}"
        for period in reversed(periods):
            try:
                found, _ = open_checkpoint(
                    opened.bundle.checkpoint, {name: keys.public_from_b64(period.public_key)}
                )
            except UnknownKey:
                continue
            signers.append(name)
            opened.checkpoint_keys[party] = period
            break
    if found is None:
        raise UnknownKey("no signature on the checkpoint is by a key of either party")
    return found, signers


def _check_checkpoint_keys(opened: _Opened, verdict: Verdict) -> None:
    """A checkpoint signed by a revoked key is made after every record it covers: if one
    was signed at or after the revocation time, so was the checkpoint."""
    times = [o.created if isinstance(o, Envelope) else o.received for o in opened.objects.values()]
    try:
        latest = max(times, key=keychange.parse_time) if times else None
    except HotlineError as exc:
        verdict.failed.append(f"records: {exc.message}")
        return
    for party, period in sorted(opened.checkpoint_keys.items()):
        if period.revoked_from is None or latest is None:
            continue
        if keychange.parse_time(latest) >= keychange.parse_time(period.revoked_from):
            verdict.failed.append(
                f"checkpoint: signed by {party}'s key {period.fingerprint}, revoked from "
                f"{period.revoked_from}, yet it covers a record signed at {latest}: it may "
                "be forged"
            )


def _check_entry(opened: _Opened, item: BundleEntry, verdict: Verdict) -> None:
    entry = item.entry.encode("utf-8")
    leaf = merkle.leaf_hash(entry)
    where = f"{item.role} (entry {item.index})"
    if leaf.hex() != item.leaf_hash:
        verdict.failed.append(f"{where}: the leaf hash is not SHA-256(0x00 || entry bytes)")
    checkpoint = opened.checkpoint
    proof = [bytes.fromhex(h) for h in item.proof]
    if checkpoint is not None and not merkle.verify_inclusion_hash(
        leaf, item.index, checkpoint.size, proof, checkpoint.root
    ):
        verdict.failed.append(
            f"{where}: the inclusion proof does not lead to the checkpoint's root "
            f"(size {checkpoint.size})"
        )
    try:
        obj = parse_json(entry, f"{where}")
        if canonical(obj) != entry:
            verdict.failed.append(f"{where}: not canonical JSON, so not the bytes logged")
        parsed: Envelope | Receipt = (
            parse(obj, Envelope) if item.role in ("envelope", "ack") else parse(obj, Receipt)
        )
    except HotlineError as exc:
        verdict.failed.append(f"{where}: {exc.message}")
        return
    opened.objects[item.role] = parsed
    opened.hashes[item.role] = sha256_hex(entry)
    _check_signed_by(opened, item, parsed, verdict)


def _signer(opened: _Opened, role: str) -> str:
    """Who must have signed each role: the sender signs the envelope and the ack's receipt."""
    envelope = opened.objects.get("envelope")
    if not isinstance(envelope, Envelope):
        return ""
    return envelope.from_ if role in ("envelope", "ack_receipt") else envelope.to


def _check_signed_by(
    opened: _Opened, item: BundleEntry, parsed: Envelope | Receipt, verdict: Verdict
) -> None:
    where = f"{item.role} (entry {item.index})"
    signer = parsed.from_
    periods = opened.periods.get(signer)
    if periods is None:
        verdict.failed.append(f"{where}: signed as {signer!r}, who has no card in the bundle")
        return
    at = parsed.created if isinstance(parsed, Envelope) else parsed.received
    try:  # the key it names, valid when it was signed (after rotations: an earlier key)
        period = keychange.key_at(periods, parsed.key, at, where)
    except UnknownKey:
        verdict.failed.append(f"{where}: names key {parsed.key}, not one of {signer}'s keys")
        return
    except HotlineError as exc:  # signed by a revoked (or retired) key after its time
        verdict.failed.append(exc.message)
        return
    try:
        verify_signature(parsed, keys.public_from_b64(period.public_key))
    except HotlineError:
        verdict.failed.append(
            f"{where}: its signature does not verify with {signer}'s key: it was altered"
        )


def _check_roles(opened: _Opened, verdict: Verdict) -> None:
    """Each role once, in its order; the right signer, kind, and hashes linking them."""
    bundle, objects = opened.bundle, opened.objects
    roles = [item.role for item in bundle.entries]
    if roles != [r for r in ROLES if r in roles] or roles[0] != "envelope":
        verdict.failed.append(f"entries: roles {roles} are not envelope, receipt, ack, ack_receipt")
        return
    envelope = objects.get("envelope")
    if not isinstance(envelope, Envelope):
        return
    if envelope.id != bundle.message_id:
        verdict.failed.append(f"envelope: it is message {envelope.id}, not {bundle.message_id}")
    if bundle.exported_by not in (envelope.from_, envelope.to):
        verdict.failed.append(f"bundle: exported by {bundle.exported_by}, not a party to it")
        return
    side = "sender" if bundle.exported_by == envelope.from_ else "receiver"
    for item in bundle.entries:
        expected = KINDS[side][ROLES.index(item.role)]
        if item.kind != expected:
            verdict.failed.append(f"{item.role}: kind {item.kind}, expected {expected}")
        obj = objects.get(item.role)
        signer = _signer(opened, item.role)
        if obj is not None and obj.from_ != signer:
            verdict.failed.append(f"{item.role}: signed by {obj.from_}, expected {signer}")
    _check_links(opened, envelope, verdict)
    _check_own_receipts(opened, verdict)


def _check_links(opened: _Opened, envelope: Envelope, verdict: Verdict) -> None:
    objects, hashes = opened.objects, opened.hashes
    receipt, ack, ack_receipt = (objects.get(r) for r in ROLES[1:])
    if isinstance(receipt, Receipt):
        _check_receipt(receipt, envelope, hashes["envelope"], "receipt", verdict)
    if isinstance(ack, Envelope):
        body = ack.body
        if ack.type != "ack" or ack.to != envelope.from_ or not _is_ack_body(body):
            verdict.failed.append("ack: not an acknowledgement sent back to the sender")
            objects.pop("ack")  # nothing to narrate from it
        elif body["ack_of"] != envelope.id or body["ack_hash"] != hashes["envelope"]:
            verdict.failed.append("ack: it does not name the envelope's id and exact hash")
    if isinstance(ack_receipt, Receipt) and isinstance(ack, Envelope):
        _check_receipt(ack_receipt, ack, hashes["ack"], "ack_receipt", verdict)


def _check_own_receipts(opened: _Opened, verdict: Verdict) -> None:
    """A receipt the exporter issued names the log position of what it receipts."""
    at = {item.role: item.index for item in opened.bundle.entries}
    for role, of in (("receipt", "envelope"), ("ack_receipt", "ack")):
        receipt = opened.objects.get(role)
        if not isinstance(receipt, Receipt) or receipt.from_ != opened.bundle.exported_by:
            continue
        if of in at and receipt.log_index != at[of]:
            verdict.failed.append(
                f"{role}: it puts the {of} at entry {receipt.log_index} of "
                f"{receipt.from_}'s log, but the bundle proves entry {at[of]}"
            )


def _check_receipt(
    receipt: Receipt, envelope: Envelope, digest: str, role: str, verdict: Verdict
) -> None:
    if receipt.envelope_id != envelope.id or receipt.envelope_hash != digest:
        verdict.failed.append(f"{role}: it does not name its envelope's id and exact hash")
    if (receipt.from_, receipt.to, receipt.seq) != (envelope.to, envelope.from_, envelope.seq):
        verdict.failed.append(f"{role}: its parties or seq differ from the envelope's")


def _is_ack_body(body: dict[str, Any]) -> bool:
    try:
        check_body("ack", body)
    except HotlineError:
        return False
    return True


def _strict_b64(text: str) -> bytes | None:
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        return None
    return raw if base64.b64encode(raw).decode() == text else None


# -- what it proves, in words -------------------------------------------------------------


def _narrate(opened: _Opened, verdict: Verdict) -> None:
    """Only called when every check passed: each sentence rests on a verified signature."""
    objects, checkpoint = opened.objects, opened.checkpoint
    envelope = objects["envelope"]
    assert isinstance(envelope, Envelope) and checkpoint is not None  # checked before
    sender, receiver = envelope.from_, envelope.to
    say = verdict.proven.append
    say(
        f"SENT: {sender} signed message {envelope.id} to {receiver} — created "
        f"{envelope.created} by {sender}'s clock, seq {envelope.seq} of the {sender}→"
        f"{receiver} channel, {envelope.precedence}, type {envelope.type}, in {envelope.lang}:"
    )
    say("    " + _content(envelope))
    _narrate_who(envelope, verdict)
    receipt, ack, ack_receipt = (objects.get(r) for r in ROLES[1:])
    if isinstance(receipt, Receipt):
        say(
            f"RECEIVED: {receiver} signed a receipt for this exact message (SHA-256 "
            f"{opened.hashes['envelope'][:16]}…) at {receipt.received} by {receiver}'s clock, "
            f"as entry {receipt.log_index} of its own log (then of size {receipt.log_size})."
        )
    if isinstance(ack, Envelope):
        say(
            f"ACKNOWLEDGED: {receiver} signed that its officer {ack.body['acked_by']!r} read "
            f"it at {ack.body['acked_at']} by {receiver}'s clock (acknowledgement {ack.id})."
        )
    if isinstance(ack_receipt, Receipt):
        say(
            f"ACK RECEIVED: {sender} signed a receipt for that acknowledgement at "
            f"{ack_receipt.received} by {sender}'s clock."
        )
    _narrate_log(opened, verdict, checkpoint)
    _missing(envelope, verdict, receipt, ack, ack_receipt)
    _caveats(opened, verdict)


#: How each basis of an approval reads in the verdict.
APPROVALS = {
    "two_person": "approved it under the two-person rule for FLASH",
    "watch_level": "approved the watch-level change it notifies",
    "preauthorised": "authorised it in advance (a pre-authorised safety warning)",
}


def _narrate_who(envelope: Envelope, verdict: Verdict) -> None:
    """Who sent and who approved, as signed in the envelope (absent on older envelopes)."""
    sender, approver = envelope.sender, envelope.approver
    party = envelope.from_
    if sender is None:  # sent by the node itself, or before envelopes named officers
        verdict.caveats.append(
            f"The envelope names no officer of {party}: who sent it is not proven."
        )
    else:
        verdict.proven.append(
            f"SENT BY: {party} signed that its officer {_officer(sender)} sent it."
        )
    if approver is not None:
        verdict.proven.append(
            f"APPROVED BY: {party} signed that its officer {_officer(approver)} "
            f"{APPROVALS[approver.basis]}."
        )


def _officer(officer: Officer) -> str:
    """``'duty1' (Lt. Anna Alpha)``: the account, and the display name when signed."""
    return f"{officer.user!r}" + (f" ({officer.name})" if officer.name else "")


def _narrate_log(opened: _Opened, verdict: Verdict, checkpoint: Checkpoint) -> None:
    bundle = opened.bundle
    other = next(p for p in sorted(opened.keys) if p != bundle.exported_by)
    positions = ", ".join(str(item.index) for item in bundle.entries)
    agreed = (
        f"signed by {bundle.exported_by} and co-signed by {other}: both nodes agree"
        if bundle.cosigned
        else f"signed by {bundle.exported_by} ONLY (not co-signed): {bundle.exported_by} states"
    )
    verdict.proven.append(
        f"LOGGED: these {len(bundle.entries)} records are entries {positions} of "
        f"{bundle.exported_by}'s log; its checkpoint at size {checkpoint.size} (root "
        f"{checkpoint.root.hex()[:16]}…) is {agreed} that the log held them, in this order."
    )
    for party in sorted(opened.keys):
        verdict.proven.append(
            f"KEY of {party} ({opened.names[party]}): "
            f"{keys.spoken_fingerprint(opened.fingerprints[party])}"
        )
        for period in opened.periods[party][:-1]:  # earlier keys, chained to the current
            revoked = f", REVOKED from {period.revoked_from}" if period.revoked_from else ""
            verdict.proven.append(
                f"EARLIER KEY of {party}: {period.fingerprint}, valid until "
                f"{period.valid_to}{revoked} (its key changes are in the bundle)"
            )


def _missing(
    envelope: Envelope, verdict: Verdict, receipt: object, ack: object, ack_receipt: object
) -> None:
    """Name each record the message should have and the bundle lacks, plainly."""
    sender, receiver = envelope.from_, envelope.to
    lack = verdict.missing.append
    if receipt is None:
        said = f"no receipt from {receiver}: delivery NOT PROVEN"
        if ack is not None:
            said += (
                f", although {receiver} acknowledged it: the exporter's log lacks the receipt "
                "it should hold"
            )
        lack(said)
    if ack is None and envelope.type not in NO_ACK_TYPES:
        lack(f"no acknowledgement from {receiver}: that a person read it is NOT PROVEN")
    if ack is not None and ack_receipt is None:
        lack(f"no receipt from {sender} for the acknowledgement: its arrival is NOT PROVEN")


def _caveats(opened: _Opened, verdict: Verdict) -> None:
    note = verdict.caveats.append
    note(
        "Who holds each key is not proven by the file: compare the KEY fingerprints above "
        "with the ones exchanged out of band (or verify with --trust FINGERPRINT)."
    )
    note("Times are each signer's own clock as it signed; the checkpoint itself carries no time.")


def _content(envelope: Envelope) -> str:
    """A text as written (quoted); every other type rendered in English and Russian from
    the signed body, never as raw JSON (a body no rendering accepts: named, then shown)."""
    text = envelope.body.get("text")
    if envelope.type == "text" and isinstance(text, str):
        return '"' + text.replace("\n", "\n    ") + '"'
    sent_at = parse_rfc3339(envelope.created)
    parts = []
    for lang in ("en", "ru"):
        try:
            rendered = render_message(
                envelope.type, envelope.body, lang, sender=envelope.from_,
                receiver=envelope.to, message_id=envelope.id, sent_at=sent_at,
            )  # fmt: skip
        except (HotlineError, KeyError, TypeError, ValueError) as exc:
            return (
                f"(type {envelope.type} cannot be rendered here: {exc}; as signed:) "
                + canonical(envelope.body).decode("utf-8")[:2000]
            )
        parts.append(f"— {lang} —\n" + rendered.rstrip("\n"))
    return "\n".join(parts).replace("\n", "\n    ")
