"""Build, sign, hash and verify envelopes, receipts and peer cards.

What is signed is the RFC 8785 canonical JSON of the object without its ``sig``
member; the hash that names an envelope (and that the next envelope's ``prev``
carries) is SHA-256 over the canonical JSON of the whole envelope, ``sig`` included,
so a chain link commits to the signature too.
"""

from __future__ import annotations

from typing import Any, TypeVar

import pydantic
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from hotline.domain.line import Envelope, PeerCard, Receipt
from hotline.errors import BadSignature, MalformedMessage
from hotline.protocol import keys, tls
from hotline.protocol.canonical import canonical, refuse_floats, sha256_hex

M = TypeVar("M", Envelope, Receipt, PeerCard)


def signing_bytes(obj: dict[str, Any]) -> bytes:
    return canonical({k: v for k, v in obj.items() if k != "sig"})


def object_hash(obj: dict[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of a whole signed object."""
    return sha256_hex(canonical(obj))


def seal(unsigned: dict[str, Any], key: Ed25519PrivateKey, model: type[M]) -> M:
    """Sign ``unsigned`` (which must not hold ``sig``) and return the validated model."""
    signed = dict(unsigned)
    signed["sig"] = keys.sign(key, signing_bytes(unsigned))
    return parse(signed, model)


def parse(obj: Any, model: type[M]) -> M:
    """Check the shape of a wire object; errors name the field that is wrong."""
    if not isinstance(obj, dict):
        raise MalformedMessage(f"a {model.__name__.lower()} must be a JSON object")
    refuse_floats(obj)  # before pydantic could coerce them
    try:
        return model.model_validate(obj)
    except pydantic.ValidationError as exc:
        raise MalformedMessage(
            f"malformed {model.__name__.lower()}: {describe(exc)}",
            hint="see docs/protocol.md for the fields and their formats",
        ) from exc


def describe(exc: pydantic.ValidationError) -> str:
    """One line per problem: ``field.path: what is wrong``."""
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error["loc"]) or "(root)"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def verify_signature(obj: Envelope | Receipt | PeerCard, key: Ed25519PublicKey) -> None:
    wire = obj.wire()
    if not keys.verify(key, wire["sig"], signing_bytes(wire)):
        kind = {"PeerCard": "peer card"}.get(type(obj).__name__, type(obj).__name__.lower())
        whose = "the key it carries" if isinstance(obj, PeerCard) else f"the pinned key {obj.key}"
        raise BadSignature(
            f"the {kind}'s signature does not verify with {whose}",
            hint="the content was changed after signing, or it was signed by another key",
        )


def envelope_hash(envelope: Envelope) -> str:
    return object_hash(envelope.wire())


def make_card(
    key: Ed25519PrivateKey,
    *,
    party: str,
    name_en: str,
    name_ru: str,
    lang: str,
    endpoints: list[str],
    phrasebook_version: str,
    phrasebook_hash: str,
    principals: list[dict[str, str]] | None = None,
    contacts: list[dict[str, str]] | None = None,
    tls_cert_der: bytes | None = None,
) -> PeerCard:
    """Sign a card; ``tls_cert_der`` (the node's TLS certificate) goes on it with its pin."""
    public = key.public_key()
    unsigned = {
        "v": 1,
        "party": party,
        "name_en": name_en,
        "name_ru": name_ru,
        "lang": lang,
        "endpoints": endpoints,
        "public_key": keys.public_b64(public),
        "fingerprint": keys.fingerprint(public),
        "phrasebook_version": phrasebook_version,
        "phrasebook_hash": phrasebook_hash,
        "principals": principals or [],
        "contacts": contacts or [],
    }
    if tls_cert_der is not None:
        unsigned["tls_cert"] = tls.cert_b64(tls_cert_der)
        unsigned["tls_pin"] = tls.pin(tls_cert_der)
    return seal(unsigned, key, PeerCard)


def open_card(obj: Any) -> tuple[PeerCard, Ed25519PublicKey]:
    """Parse a card and check that it is self-consistent and self-signed.

    Self-consistent: the fingerprint is its key's; the TLS certificate, when there is
    one, parses and its pin is the certificate's; a card with an ``https://`` endpoint
    carries a certificate (nothing else could be trusted there).
    """
    card = parse(obj, PeerCard)
    public = keys.public_from_b64(card.public_key)
    if keys.fingerprint(public) != card.fingerprint:
        raise BadSignature("the card's fingerprint does not match its public key")
    verify_signature(card, public)
    card_tls_der(card)
    return card, public


def card_tls_der(card: PeerCard) -> bytes | None:
    """The card's TLS certificate (DER), checked against its pin; None on a card without."""
    if (card.tls_cert is None) != (card.tls_pin is None):
        raise MalformedMessage(
            "the card carries only one of tls_cert and tls_pin",
            hint="a card names its TLS certificate with both, or neither",
        )
    https = [url for url in card.endpoints if url.lower().startswith("https://")]
    if card.tls_cert is None:
        if https:
            raise MalformedMessage(
                f"the card names the https endpoint {https[0]!r} but carries no TLS certificate",
                hint="the peer makes a new card with `hotline card` after `hotline tls init`",
            )
        return None
    der = tls.cert_from_b64(card.tls_cert)
    if tls.pin(der) != card.tls_pin:
        raise BadSignature(
            "the card's tls_pin is not the pin of its TLS certificate",
            hint="the card was changed after it was made; ask the peer for its card again",
        )
    tls.check_leaf(der)
    return der
