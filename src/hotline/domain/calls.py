"""Calls between leaders, their readouts and watch levels: the bodies that travel.

Seven message types carry this capability (see ``docs/calls.md``):

- ``call_request``: a principal asks the peer's principal for a call (topics, proposed UTC
  slots, a deadline for the answer);
- ``call_answer``: accept one slot, decline with a reason, or propose other slots with a
  new deadline; sent by whichever side the request is waiting on;
- ``call_withdrawal``: the requesting side withdraws its request (or cancels the call);
- ``call_record``: the call was held: when, how long, who took part, who interpreted;
- ``call_privacy``: one side asks (or stops asking) to keep the call's details private;
  the details are private *by mutual agreement* when both sides have asked;
- ``call_readout``: a side's own shared or public readout of a held call;
- ``watch_level``: a party tells the peer its watch level changed.

Internal readouts and internal notes have no body here on purpose: they never leave the
node, so no message type can carry them. Every body is strict (no floats, no extra
members); times are RFC 3339 UTC strings ending in ``Z``, which the sending service
normalises to milliseconds so both nodes store the same text.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from hotline.clock import parse_rfc3339
from hotline.domain.line import PARTY_PATTERN, TIME_PATTERN, UUID_PATTERN, Principal

ID_PATTERN = r"^[a-z][a-z0-9-]{0,31}$"
OPEN_STATES: tuple[str, ...] = ("requested", "proposed")
"""States in which a request waits for an answer (and so has a running deadline)."""
Answer = Literal["accept", "decline", "propose"]
SentVisibility = Literal["shared", "public"]

MAX_CALL_MINUTES = 24 * 60


def _real_time(value: str) -> str:
    parse_rfc3339(value)  # the pattern admits 2026-13-45; this does not
    return value


UtcTime = Annotated[str, Field(pattern=TIME_PATTERN), AfterValidator(_real_time)]
RequestId = Annotated[str, Field(pattern=UUID_PATTERN)]
ShortText = Annotated[str, Field(min_length=1, max_length=300)]
Reason = Annotated[str, Field(min_length=1, max_length=2000)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Slot(_Body):
    """A proposed time for a call: its UTC start and how many minutes it is planned for."""

    start: UtcTime
    minutes: int = Field(ge=5, le=MAX_CALL_MINUTES)


class Person(_Body):
    """Someone on a call (a participant or an interpreter) and the party they are with."""

    party: str = Field(pattern=PARTY_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    role: str | None = Field(None, min_length=1, max_length=200)


class WatchLevel(_Body):
    """One rung of a party's watch-level ladder, named in both languages."""

    id: str = Field(pattern=ID_PATTERN)
    name_en: str = Field(min_length=1, max_length=100)
    name_ru: str = Field(min_length=1, max_length=100)


# -- the bodies ----------------------------------------------------------------------------


class CallRequestBody(_Body):
    """Body of ``call_request``: who asks whom, about what, when, and until when to answer."""

    request_id: RequestId
    requester: Principal
    counterpart: str = Field(pattern=ID_PATTERN)
    topics: list[ShortText] = Field(min_length=1, max_length=20)
    slots: list[Slot] = Field(min_length=1, max_length=10)
    answer_by: UtcTime
    message: str | None = Field(None, min_length=1, max_length=4000)


class CallAnswerBody(_Body):
    """Body of ``call_answer``: accept (one slot), decline (a reason) or propose slots."""

    request_id: RequestId
    answer: Answer
    slot: Slot | None = None
    reason: Reason | None = None
    slots: list[Slot] | None = Field(None, min_length=1, max_length=10)
    answer_by: UtcTime | None = None

    @model_validator(mode="after")
    def _fits_the_answer(self) -> Self:
        given = {
            name
            for name in ("slot", "reason", "slots", "answer_by")
            if getattr(self, name) is not None
        }
        needed = {"accept": {"slot"}, "decline": {"reason"}, "propose": {"slots", "answer_by"}}
        allowed = needed[self.answer] | ({"reason"} if self.answer != "accept" else set())
        missing = needed[self.answer] - given
        extra = given - allowed
        if missing or extra:
            raise ValueError(
                f"'{self.answer}' needs {', '.join(sorted(needed[self.answer]))}"
                + (f"; missing {', '.join(sorted(missing))}" if missing else "")
                + (f"; not allowed: {', '.join(sorted(extra))}" if extra else "")
            )
        return self


class CallWithdrawalBody(_Body):
    """Body of ``call_withdrawal``: the requester withdraws its request or cancels the call."""

    request_id: RequestId
    reason: Reason | None = None


class CallRecordBody(_Body):
    """Body of ``call_record``: the call was held."""

    call_id: RequestId
    requested_by: str = Field(pattern=PARTY_PATTERN)
    held_at: UtcTime
    minutes: int = Field(ge=1, le=MAX_CALL_MINUTES)
    participants: list[Person] = Field(min_length=2, max_length=50)
    interpreters: list[Person] = Field(default_factory=list, max_length=20)


class CallPrivacyBody(_Body):
    """Body of ``call_privacy``: the sender asks to keep the call's details private (or not)."""

    call_id: RequestId
    details_private: bool


class CallReadoutBody(_Body):
    """Body of ``call_readout``: one side's own readout, shared with the peer or public."""

    readout_id: RequestId
    call_id: RequestId
    visibility: SentVisibility
    title: ShortText
    text: str = Field(min_length=1, max_length=20_000)
    issued_by: str | None = Field(None, min_length=1, max_length=200)
    published_at: UtcTime


class WatchLevelBody(_Body):
    """Body of ``watch_level``: the sender's watch level changed (two people approved it)."""

    level: WatchLevel
    rank: int = Field(ge=0, le=20)
    of_levels: int = Field(ge=1, le=21)
    previous: WatchLevel | None = None
    effective_at: UtcTime
    message: str | None = Field(None, min_length=1, max_length=4000)

    @model_validator(mode="after")
    def _rank_on_the_ladder(self) -> Self:
        if self.rank >= self.of_levels:
            raise ValueError(f"rank {self.rank} is not on a ladder of {self.of_levels} levels")
        return self


CALL_MODELS: dict[str, type[BaseModel]] = {
    "call_request": CallRequestBody,
    "call_answer": CallAnswerBody,
    "call_withdrawal": CallWithdrawalBody,
    "call_record": CallRecordBody,
    "call_privacy": CallPrivacyBody,
    "call_readout": CallReadoutBody,
    "watch_level": WatchLevelBody,
}
"""The message types of this capability, merged into ``domain.bodies.BODY_MODELS``."""

#: The default ladder, lowest first, when ``watch_levels.json`` is absent.
DEFAULT_LADDER: tuple[WatchLevel, ...] = (
    WatchLevel(id="normal", name_en="NORMAL", name_ru="ОБЫЧНЫЙ"),
    WatchLevel(id="possible-crisis", name_en="POSSIBLE CRISIS", name_ru="ВОЗМОЖНЫЙ КРИЗИС"),
    WatchLevel(
        id="potential-imminent-crisis",
        name_en="POTENTIAL IMMINENT CRISIS",
        name_ru="ВЕРОЯТНЫЙ НЕМИНУЕМЫЙ КРИЗИС",
    ),
)
