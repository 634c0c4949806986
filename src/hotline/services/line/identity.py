"""Who this node is: its party, names, endpoints, signing key and TLS certificate."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pydantic
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hotline.config import NodeSettings
from hotline.domain.line import Contact, PeerCard, Principal
from hotline.domain.notices.phrasebook import Phrasebook
from hotline.errors import ConfigError
from hotline.protocol import keys, tls
from hotline.protocol.canonical import parse_json
from hotline.protocol.envelope import describe, make_card

#: Optional files beside ``hotline.toml``: this party's principals and contact ladder.
PRINCIPALS_FILE = "principals.json"
CONTACTS_FILE = "contacts.json"


@dataclass(frozen=True)
class Identity:
    party: str
    name_en: str
    name_ru: str
    lang: str
    endpoints: tuple[str, ...]
    key: Ed25519PrivateKey
    phrasebook: Phrasebook
    principals: tuple[Principal, ...] = ()
    contacts: tuple[Contact, ...] = ()
    tls_cert_der: bytes | None = None  # the node's TLS certificate, once it has one

    @classmethod
    def from_settings(cls, settings: NodeSettings) -> Identity:
        problem = tls.plain_http_problem(settings.endpoints, settings.allow_plain_http)
        if problem:
            raise ConfigError(
                f"setting endpoints: {problem}",
                hint="use https:// endpoints; plain HTTP only for development on loopback, "
                "with allow_plain_http = true",
                setting="endpoints",
            )
        cert = tls.cert_path(settings.directory)
        return cls(
            party=settings.party,
            name_en=settings.name_en,
            name_ru=settings.name_ru,
            lang=settings.lang,
            endpoints=settings.endpoints,
            key=keys.load_private(settings.key_path),
            phrasebook=(
                Phrasebook.load(settings.phrasebook)
                if settings.phrasebook
                else Phrasebook.default()
            ),
            principals=tuple(_people(settings.directory / PRINCIPALS_FILE, Principal)),
            contacts=tuple(_people(settings.directory / CONTACTS_FILE, Contact)),
            tls_cert_der=tls.load_cert_der(cert) if cert.exists() else None,
        )

    @property
    def fingerprint(self) -> str:
        return keys.fingerprint(self.key.public_key())

    @property
    def tls_pin(self) -> str | None:
        return tls.pin(self.tls_cert_der) if self.tls_cert_der is not None else None

    @property
    def plain_http(self) -> bool:
        """Whether any endpoint is plain HTTP (development only)."""
        return any(url.lower().startswith("http://") for url in self.endpoints)

    def card(self) -> PeerCard:
        """The signed card; with https endpoints it must carry the TLS certificate."""
        if self.tls_cert_der is None and not all(
            url.lower().startswith("http://") for url in self.endpoints
        ):
            raise ConfigError(
                "this node has https endpoints but no TLS certificate to put on its card",
                hint="make one with `hotline tls init --dir DIR`",
            )
        return make_card(
            self.key,
            party=self.party,
            name_en=self.name_en,
            name_ru=self.name_ru,
            lang=self.lang,
            endpoints=list(self.endpoints),
            phrasebook_version=self.phrasebook.version,
            phrasebook_hash=self.phrasebook.hash,
            principals=[p.wire() for p in self.principals],
            contacts=[c.wire() for c in self.contacts],
            tls_cert_der=self.tls_cert_der,
        )


P = TypeVar("P", Principal, Contact)


def _people(path: Path, model: type[P]) -> list[P]:
    """Read ``principals.json`` / ``contacts.json`` (a JSON list) beside the settings."""
    if not path.exists():
        return []
    data = parse_json(path.read_bytes(), str(path))
    if not isinstance(data, list):
        raise ConfigError(f"{path} must hold a JSON list")
    try:
        return [model.model_validate(item) for item in data]
    except pydantic.ValidationError as exc:
        raise ConfigError(f"{path}: {describe(exc)}") from exc
