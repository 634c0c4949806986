"""The phrasebook: pre-agreed short messages, each held in full in English and Russian.

Since 1976 the Moscow–Washington hotline has carried agreed messages as a code number
that both sides hold in both languages. A phrasebook file (JSON) holds a ``version``
and numbered ``entries`` ``{code, en, ru}``. Its identity is the SHA-256 of its RFC 8785
canonical JSON, so whitespace and key order do not matter but every word does; each
node's card carries this hash, and a coded message names the version and hash it was
sent with. A receiver holding another phrasebook refuses the message rather than show
a different text than the sender meant.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import pydantic
import rfc8785
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from hotline.domain.notices.base import ShortText, Text, to_validation_error
from hotline.domain.notices.models import CodedMessage
from hotline.errors import ValidationError


class PhraseEntry(BaseModel):
    """One agreed message: its code and its full text in both languages."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: Annotated[StrictInt, Field(ge=1, le=9999)]
    en: Text
    ru: Text

    def text(self, lang: str) -> str:
        """The text in ``lang`` (``en`` or ``ru``)."""
        if lang not in ("en", "ru"):
            raise ValidationError(f"no phrasebook text in {lang!r}", hint="use en or ru")
        return self.en if lang == "en" else self.ru


class _Title(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    en: ShortText
    ru: ShortText


class _PhrasebookFile(BaseModel):
    """The shape of a phrasebook file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: ShortText
    title: _Title | None = None
    entries: Annotated[tuple[PhraseEntry, ...], Field(min_length=1, max_length=9999)]


class Phrasebook:
    """A loaded phrasebook: look codes up, and check another node's hash against ours."""

    def __init__(self, data: dict[str, Any]) -> None:
        try:
            parsed = _PhrasebookFile.model_validate(data)
        except pydantic.ValidationError as exc:
            raise to_validation_error(exc) from None
        self._entries: dict[int, PhraseEntry] = {}
        for entry in parsed.entries:
            if entry.code in self._entries:
                raise ValidationError(
                    f"phrasebook code {entry.code} appears twice", field="entries"
                )
            self._entries[entry.code] = entry
        self.version: str = parsed.version
        self.hash: str = hashlib.sha256(rfc8785.dumps(data)).hexdigest()
        """SHA-256 (hex) of the file's RFC 8785 canonical JSON: the phrasebook's identity."""

    @classmethod
    def load(cls, path: str | Path) -> Phrasebook:
        """Read a phrasebook file (UTF-8 JSON)."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ValidationError(f"cannot read phrasebook {path}: {exc}") from None
        if not isinstance(data, dict):
            raise ValidationError(f"phrasebook {path} is not a JSON object")
        return cls(data)

    @classmethod
    def default(cls) -> Phrasebook:
        """The phrasebook shipped with hotline (``hotline/data/phrasebook/default.json``)."""
        return _default_phrasebook()

    @property
    def entries(self) -> tuple[PhraseEntry, ...]:
        """All entries, by code."""
        return tuple(self._entries[code] for code in sorted(self._entries))

    def lookup(self, code: int) -> PhraseEntry:
        """The entry for ``code``; an unknown code is a :class:`ValidationError`."""
        entry = self._entries.get(code)
        if entry is None:
            raise ValidationError(
                f"code: unknown code {code} in phrasebook version {self.version}",
                hint=f"known codes are {min(self._entries)}–{max(self._entries)}",
                field="code",
            )
        return entry

    def check_compatible(self, their_hash: str) -> None:
        """Refuse a peer whose phrasebook differs from ours (compared by hash)."""
        if their_hash != self.hash:
            raise ValidationError(
                f"phrasebook_hash: phrasebook mismatch: the other side's phrasebook has hash "
                f"{their_hash}, ours (version {self.version}) has {self.hash}",
                hint="both nodes must load the same phrasebook file before sending codes",
                field="phrasebook_hash",
            )

    def check_message(self, body: CodedMessage) -> PhraseEntry:
        """The entry a coded message means, after checking it was sent with this phrasebook."""
        self.check_compatible(body.phrasebook_hash)
        if body.phrasebook_version != self.version:
            raise ValidationError(
                f"phrasebook_version: the message names version {body.phrasebook_version} "
                f"but the phrasebook with its hash is version {self.version}",
                field="phrasebook_version",
            )
        return self.lookup(body.code)

    def coded_message(self, code: int) -> CodedMessage:
        """A body sending ``code`` from this phrasebook (the code must exist)."""
        self.lookup(code)
        return CodedMessage(
            type="coded_message",
            code=code,
            phrasebook_version=self.version,
            phrasebook_hash=self.hash,
        )


@cache
def _default_phrasebook() -> Phrasebook:
    source = resources.files("hotline").joinpath("data", "phrasebook", "default.json")
    return Phrasebook(json.loads(source.read_text(encoding="utf-8")))
