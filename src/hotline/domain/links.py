"""Bodies of the machine messages that keep the line honest: link tests and their
answers, and escalations of unacknowledged messages. No person sends these directly.
Also the record of an out-of-band attempt to reach the peer (:class:`OobAttempt`), which
is logged, never sent."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from hotline.domain.line import (
    FINGERPRINT_PATTERN,
    HASH_PATTERN,
    PARTY_PATTERN,
    TIME_PATTERN,
    UUID_PATTERN,
    ChannelKind,
)

#: Every letter of each alphabet and every digit, as on the Moscow–Washington hotline.
PANGRAM_EN = "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG"
PANGRAM_RU = "СЪЕШЬ ЖЕ ЕЩЁ ЭТИХ МЯГКИХ ФРАНЦУЗСКИХ БУЛОК, ДА ВЫПЕЙ ЧАЮ"
DIGITS = "0123456789"


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class LinkTestBody(_Body):
    """A scheduled or on-demand test; the peer node answers it without a person."""

    test_id: str = Field(pattern=UUID_PATTERN)
    pangram_en: str = Field(max_length=200)
    pangram_ru: str = Field(max_length=200)
    digits: str = Field(max_length=20)


class LinkTestReplyBody(_Body):
    """The automatic answer: which test, its envelope's hash, and whether the texts
    arrived intact (a garbled pangram is a failed test)."""

    test_id: str = Field(pattern=UUID_PATTERN)
    test_hash: str = Field(pattern=HASH_PATTERN)
    intact: bool


class EscalationBody(_Body):
    """An unacknowledged message re-addressed to the next contact on the peer's ladder."""

    of_message: str = Field(pattern=UUID_PATTERN)
    of_hash: str = Field(pattern=HASH_PATTERN)
    step: int = Field(ge=1, le=20)
    contact_id: str = Field(pattern=r"^[a-z][a-z0-9-]{0,31}$")
    contact_role_en: str = Field(min_length=1, max_length=200)
    contact_role_ru: str = Field(min_length=1, max_length=200)


class OperatorTestBody(_Body):
    """A test a PERSON must answer by ``answer_by``: the alphabet and digits of the
    sender's language (``lang``), read by the officer on the other side."""

    test_id: str = Field(pattern=UUID_PATTERN)
    lang: Literal["en", "ru"]
    text: str = Field(min_length=1, max_length=200)
    digits: str = Field(max_length=20)
    answer_by: str = Field(pattern=TIME_PATTERN)


class OperatorTestAnswerBody(_Body):
    """An officer's answer to an operator test: which test, its hash, who answered."""

    test_id: str = Field(pattern=UUID_PATTERN)
    test_hash: str = Field(pattern=HASH_PATTERN)
    officer: str = Field(min_length=1, max_length=100)


#: The operator test and its answer: no acknowledgement asked (the answer is the test's
#: own), shown to officers (not system messages).
OPERATOR_TEST_TYPES = frozenset({"operator_test", "operator_test_answer"})

LINK_MODELS: dict[str, type[BaseModel]] = {
    "link_test": LinkTestBody,
    "link_test_reply": LinkTestReplyBody,
    "escalation": EscalationBody,
    "operator_test": OperatorTestBody,
    "operator_test_answer": OperatorTestAnswerBody,
}


AttemptResult = Literal["reached", "no_answer", "busy", "failed"]


class OobAttempt(_Body):
    """An officer's try to reach the peer off the line (a phone, a fax …) about one of our
    messages, and its result: signed by this node and appended to its Merkle log (kind
    ``oob_attempt``, ref the message id), so that the message's evidence bundle proves
    who tried what, when, by this node's word. It never travels to the peer."""

    v: Literal[1]
    type: Literal["oob_attempt"]
    message_id: str = Field(pattern=UUID_PATTERN)
    message_hash: str = Field(pattern=HASH_PATTERN)
    party: str = Field(pattern=PARTY_PATTERN)  # who tried (this node's party)
    peer: str = Field(pattern=PARTY_PATTERN)  # whom
    officer: str = Field(min_length=1, max_length=100)
    rung: str = Field(pattern=r"^[a-z][a-z0-9-]{0,31}$")  # the peer's contact
    channel: str = Field(pattern=r"^[a-z][a-z0-9-]{0,31}$")
    kind: ChannelKind
    value: str = Field(min_length=1, max_length=200)  # the number or address tried
    result: AttemptResult
    note: str | None = Field(default=None, min_length=1, max_length=2000)
    at: str = Field(pattern=TIME_PATTERN)
    key: str = Field(pattern=FINGERPRINT_PATTERN)
    sig: str = Field(min_length=1, max_length=200)


#: The text of an operator test in the sender's language.
OPERATOR_TEXTS = {"en": PANGRAM_EN, "ru": PANGRAM_RU}
