"""Agreement rules kept as data, and the engine that checks a notice against them.

Each pair of parties has one rules file, ``hotline/data/rules/<a>-<b>.json`` (either
order), holding the rules their agreements impose: advance notice of missile launches,
the Vienna Document thresholds for exercises, the Incidents at Sea notice window. The
engine knows only a few *kinds* of check; which notices they apply to, the numbers,
the titles in both languages and whether a breach blocks sending are all in the file::

    {"id": "missile-launch-24h",
     "title": {"en": "...", "ru": "..."},
     "source": "1988 Ballistic Missile Launch Notification Agreement",
     "applies_to": {"type": "activity_notice", "match": {"activity": ["missile_launch"]}},
     "check": {"kind": "advance_notice", "min_ahead": "24h"},
     "severity": "error", "blocking": true}

Kinds of check:

- ``advance_notice``: the activity starts at least ``min_ahead`` (and at most
  ``max_ahead``) after the notice is sent. Durations are ``<n>d``, ``<n>h`` or
  ``<n>m``. Exactly on a bound is on time. The start is the earliest volume start of
  an activity notice or deconfliction message, the ``start`` of an exercise, the
  arrival time of an observer invitation.
- ``present``: the named fields are given.
- ``equals``: a field has the given value (e.g. ``observers_invited`` is ``true``).

``applies_to`` names the body ``type`` and optionally ``match`` (field -> allowed
values), ``unless`` (field -> values that exempt a notice, e.g. an alert activity),
``at_least`` (field -> threshold, inclusive: 9,000 troops *is* notifiable; every one
must be met) and ``at_least_any`` (field -> threshold; any one met is enough, as the
Vienna Document's troops OR tanks OR ACVs OR artillery; the finding names those met).
A rule that does not apply gives no finding. A finding carries the rule's ``source``
(the agreement and paragraph), and :func:`format_findings` prints it. Field names are
checked against the notice models when the file is loaded, so a typo is an error, not a
silent pass.

A pair with no rules file has no agreement to check (:func:`find_rules` gives ``None``);
a file that is there but cannot be read or validated is always a :class:`ConfigError`.
A node checks its whole folder when it starts (:func:`check_rules_dir`), so a broken
file stops the node rather than disabling every rule it holds.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, model_validator

from hotline.domain.notices.base import ShortText, to_validation_error
from hotline.domain.notices.models import (
    NOTICE_MODELS,
    ActivityNotice,
    DeconflictionAnswer,
    DeconflictionRequest,
    ExerciseNotification,
    NoticeBody,
    ObserverInvitation,
)
from hotline.errors import ConfigError, ValidationError
from hotline.render.i18n import N_, check_lang, gettext, t
from hotline.render.notices import EQUIPMENT, FORCES
from hotline.render.units import format_span

RULES_DIR = Path(__file__).parents[2] / "data" / "rules"
"""Where the rules files shipped with hotline live."""

Severity = Literal["info", "warning", "error"]
Duration = Annotated[str, Field(pattern=r"^\d{1,4}[dhm]$")]
_UNIT_SECONDS = {"d": 86_400, "h": 3_600, "m": 60}

# types whose notices have a start time, and how to find it
_HAS_START = frozenset(
    {
        "activity_notice",
        "deconfliction_request",
        "deconfliction_answer",
        "exercise_notification",
        "observer_invitation",
    }
)


def seconds(duration: str) -> int:
    """``"24h"`` -> 86400."""
    match = re.fullmatch(r"(\d+)([dhm])", duration)
    if match is None:
        raise ValidationError(f"bad duration {duration!r}", hint="write e.g. 24h, 42d, 90m")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


class Title(BaseModel):
    """A rule's title in both languages."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    en: ShortText
    ru: ShortText


MatchValue = StrictStr | StrictBool


class AppliesTo(BaseModel):
    """Which notices a rule concerns."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    type: str
    match: dict[str, tuple[MatchValue, ...]] = {}
    at_least: dict[str, StrictInt] = {}
    at_least_any: dict[str, StrictInt] = {}
    unless: dict[str, tuple[MatchValue, ...]] = {}

    @model_validator(mode="after")
    def _known_fields(self) -> AppliesTo:
        model = NOTICE_MODELS.get(self.type)
        if model is None:
            raise ValueError(f"unknown notice type {self.type!r}")
        for name in (*self.match, *self.at_least, *self.at_least_any, *self.unless):
            if name not in model.model_fields:
                raise ValueError(f"{self.type} has no field {name!r}")
        return self

    def applies(self, notice: NoticeBody) -> bool:
        """Whether ``notice`` is of this type and meets every condition."""
        if notice.type != self.type:
            return False
        if any(getattr(notice, f) not in allowed for f, allowed in self.match.items()):
            return False
        if any(getattr(notice, f) in values for f, values in self.unless.items()):
            return False
        for name, threshold in self.at_least.items():
            value = getattr(notice, name)
            if value is None or value < threshold:
                return False
        return not self.at_least_any or bool(self.reached(notice))

    def reached(self, notice: NoticeBody) -> list[tuple[str, int, int]]:
        """``(field, value, threshold)`` of each ``at_least_any`` threshold ``notice`` meets."""
        found = []
        for name, threshold in self.at_least_any.items():
            value = getattr(notice, name)
            if value is not None and value >= threshold:
                found.append((name, int(value), threshold))
        return found


class AdvanceNotice(BaseModel):
    """The activity must start between ``min_ahead`` and ``max_ahead`` after sending."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["advance_notice"]
    min_ahead: Duration
    max_ahead: Duration | None = None


class Present(BaseModel):
    """The named fields must be given."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["present"]
    fields: Annotated[tuple[str, ...], Field(min_length=1)]


class Equals(BaseModel):
    """A field must have a given value."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["equals"]
    field: str
    value: StrictBool | StrictInt | StrictStr


Check = Annotated[AdvanceNotice | Present | Equals, Field(discriminator="kind")]


class Rule(BaseModel):
    """One agreed rule: what it applies to, what it checks, how much a breach matters."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
    title: Title
    source: ShortText | None = None
    applies_to: AppliesTo
    check: Check
    severity: Severity
    blocking: StrictBool

    @model_validator(mode="after")
    def _check_fits_type(self) -> Rule:
        fields = NOTICE_MODELS[self.applies_to.type].model_fields
        if isinstance(self.check, AdvanceNotice) and self.applies_to.type not in _HAS_START:
            raise ValueError(f"{self.applies_to.type} has no start time to give notice of")
        named = self.check.fields if isinstance(self.check, Present) else ()
        named += (self.check.field,) if isinstance(self.check, Equals) else ()
        for name in named:
            if name not in fields:
                raise ValueError(f"{self.applies_to.type} has no field {name!r}")
        return self


class RuleSet(BaseModel):
    """The rules agreed between two parties (one rules file)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    parties: tuple[str, str]
    version: ShortText
    rules: tuple[Rule, ...]

    @model_validator(mode="after")
    def _unique_ids(self) -> RuleSet:
        ids = [rule.id for rule in self.rules]
        if len(ids) != len(set(ids)):
            raise ValueError("rule ids must be unique")
        return self


class Finding(BaseModel):
    """The outcome of one rule for one notice, in words for both sides."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    rule_id: str
    title_en: str
    title_ru: str
    satisfied: bool
    severity: Severity
    blocking: bool  # the rule's setting: a breach of it blocks sending
    blocks_sending: bool  # this finding, now: blocking and not satisfied
    margin_s: int | None  # advance notice: seconds to spare (>= 0) or short (< 0)
    detail_en: str
    detail_ru: str
    source: str | None = None  # the agreement and paragraph the rule comes from
    because_en: str | None = None  # thresholds met (``at_least_any`` rules only)
    because_ru: str | None = None


def load_rules(path: str | Path) -> RuleSet:
    """Read and validate a rules file; errors name the file and the field."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return RuleSet.model_validate(data)
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read rules file {path}: {exc}") from None
    except pydantic.ValidationError as exc:
        problem = to_validation_error(exc, tags=("advance_notice", "present", "equals"))
        raise ConfigError(
            f"rules file {path}: {problem.message}",
            hint="fix the named field; docs/notices.md (Agreement rules) describes each one",
        ) from None


def _load_pair(path: Path, parties: set[str]) -> RuleSet:
    rules = load_rules(path)
    if set(rules.parties) != parties:
        raise ConfigError(
            f"rules file {path} is for parties {list(rules.parties)}, "
            f"not {' and '.join(sorted(parties))}",
            hint="name the file after the two parties it holds: <a>-<b>.json",
        )
    return rules


def find_rules(sender: str, receiver: str, rules_dir: Path | None = None) -> RuleSet | None:
    """The rules between ``sender`` and ``receiver``, or ``None`` when the pair has no file.

    The file may name the parties in either order. Only a missing file means "no rules":
    a file that is there but broken raises :class:`ConfigError`.
    """
    folder = rules_dir or RULES_DIR
    for name in (f"{sender}-{receiver}.json", f"{receiver}-{sender}.json"):
        if (folder / name).exists():
            return _load_pair(folder / name, {sender, receiver})
    return None


def rules_for(sender: str, receiver: str, rules_dir: Path | None = None) -> RuleSet:
    """The rules between ``sender`` and ``receiver``; a pair without a file is an error."""
    rules = find_rules(sender, receiver, rules_dir)
    if rules is None:
        folder = rules_dir or RULES_DIR
        raise ConfigError(
            f"no agreement rules between {sender} and {receiver}",
            hint=f"add {folder / f'{sender}-{receiver}.json'} (it may hold an empty rules list)",
        )
    return rules


def check_rules_dir(rules_dir: Path | None = None) -> dict[str, RuleSet]:
    """Load every rules file in ``rules_dir`` (default: the packaged ones), by file stem.

    Run when a node starts so that a typo stops it with the file and field named,
    instead of surfacing only when a notice is checked. A missing folder, or a file
    whose name is not ``<a>-<b>.json`` for the parties it holds, is an error too.
    """
    folder = rules_dir or RULES_DIR
    if not folder.is_dir():
        raise ConfigError(
            f"rules_dir {folder} is not a folder",
            hint="point rules_dir (HOTLINE_RULES_DIR) at a folder of <a>-<b>.json rules files",
        )
    loaded: dict[str, RuleSet] = {}
    for path in sorted(folder.glob("*.json")):
        rules = load_rules(path)
        first, second = rules.parties
        if path.stem not in (f"{first}-{second}", f"{second}-{first}"):
            raise ConfigError(
                f"rules file {path} holds the rules of {first} and {second}",
                hint=f"name it {first}-{second}.json so the node finds it for that pair",
            )
        loaded[path.stem] = rules
    return loaded


def activity_start(notice: NoticeBody) -> datetime | None:
    """When the notified activity begins, if the notice has such a time."""
    if isinstance(notice, ExerciseNotification):
        return notice.start
    if isinstance(notice, ObserverInvitation):
        return notice.arrival_time
    volumes = (
        notice.volumes
        if isinstance(notice, ActivityNotice | DeconflictionRequest | DeconflictionAnswer)
        else None
    )
    return min(v.properties.start for v in volumes) if volumes else None


def _advance(check: AdvanceNotice, notice: NoticeBody, sent_at: datetime) -> tuple[int | None, str]:
    """(margin in seconds, outcome) of an advance-notice check."""
    start = activity_start(notice)
    if start is None:  # e.g. a concurring answer, which has no volumes
        return None, "no_start"
    ahead = int((start - sent_at).total_seconds())
    short = ahead - seconds(check.min_ahead)
    if short < 0:
        return short, "late"
    if check.max_ahead is not None:
        over = seconds(check.max_ahead) - ahead
        if over < 0:
            return over, "early"
        return min(short, over), "on_time"
    return short, "on_time"


_ADVANCE_TEXTS = {
    "on_time": N_("on time: {span} to spare"),
    "late": N_("late by {span}"),
    "early": N_("too early by {span}"),
    "no_start": N_("no start time to check"),
}


# The rendering's label of each field a rule may name, so a Russian finding says
# "район падения", not "impact_area"; English findings keep the field names, which are
# what the rules file and the schema use. A field not listed shows as its name.
_FIELD_LABELS = {
    "activity": N_("ACTIVITY"),
    "volumes": N_("VOLUMES"),
    "units": N_("UNITS"),
    "contact_frequency": N_("CONTACT FREQUENCY"),
    "remarks": N_("REMARKS"),
    "launch_area": N_("LAUNCH AREA"),
    "impact_area": N_("IMPACT AREA"),
    "time": N_("TIME OF INCIDENT"),
    "position": N_("POSITION"),
    "altitude_m": N_("ALTITUDE"),
    "category": N_("CATEGORY"),
    "own_units": N_("SENDER'S UNITS"),
    "other_units": N_("OTHER SIDE'S UNITS"),
    "description": N_("DESCRIPTION"),
    "refers_to": N_("REFERENCE"),
    "concern": N_("CONCERN"),
    "answer": N_("ANSWER"),
    "reason": N_("REASON"),
    "name": N_("EXERCISE"),
    "area": N_("AREA"),
    "troops": N_("TROOPS"),
    "observers_invited": N_("OBSERVERS INVITED"),
    "exercise_ref": N_("EXERCISE REFERENCE"),
    "observers": N_("NUMBER OF OBSERVERS"),
    "arrival_point": N_("ARRIVAL POINT"),
    "arrival_time": N_("ARRIVAL TIME"),
    "programme": N_("PROGRAMME"),
    "code": N_("CODE"),
    "areas": N_("AREAS IN FORCE"),
    "withdrawn": N_("AREAS WITHDRAWN"),
    "alert": N_("ALERT ACTIVITY"),
    "invitation_ref": N_("INVITATION REFERENCE"),
    **EQUIPMENT,
    **FORCES,
}


def _field(name: str, lang: str) -> str:
    """How a finding names a field in ``lang``."""
    if lang == "en" or name not in _FIELD_LABELS:
        return name
    return gettext(lang, _FIELD_LABELS[name]).lower()


def _value(value: Any, lang: str) -> str:
    """How a finding shows a field's value in ``lang`` (yes/no in words in Russian)."""
    if isinstance(value, bool) and lang != "en":
        return gettext(lang, N_("YES") if value else N_("NO")).lower()
    return json.dumps(value, default=str, ensure_ascii=False)


def _present(check: Present, notice: NoticeBody) -> tuple[bool, str, str]:
    missing = [f for f in check.fields if getattr(notice, f) is None]
    msgid = N_("missing: {fields}") if missing else N_("given: {fields}")
    en, ru = (
        t(lang, msgid, fields=", ".join(_field(f, lang) for f in missing or check.fields))
        for lang in ("en", "ru")
    )
    return not missing, en, ru


def _equals(check: Equals, notice: NoticeBody) -> tuple[bool, str, str]:
    actual = getattr(notice, check.field)
    ok = bool(actual == check.value)
    msgid = N_("{field} is {value}") if ok else N_("{field} must be {value}, is {actual}")
    en, ru = (
        t(
            lang,
            msgid,
            field=_field(check.field, lang),
            value=_value(check.value, lang),
            actual=_value(actual, lang),
        )
        for lang in ("en", "ru")
    )
    return ok, en, ru


def _evaluate(rule: Rule, notice: NoticeBody, sent_at: datetime) -> Finding:
    check = rule.check
    margin: int | None = None
    if isinstance(check, AdvanceNotice):
        margin, outcome = _advance(check, notice, sent_at)
        ok = outcome in ("on_time", "no_start")
        # lateness rounds up and slack rounds down: never overstate how well we did
        en, ru = (
            t(lang, _ADVANCE_TEXTS[outcome], span=format_span(margin or 0, lang, round_up=not ok))
            for lang in ("en", "ru")
        )
    elif isinstance(check, Present):
        ok, en, ru = _present(check, notice)
    else:
        ok, en, ru = _equals(check, notice)
    reached = rule.applies_to.reached(notice)
    because_en, because_ru = (
        ", ".join(
            t(lang, N_("{field} {value} (from {threshold})"), field=_field(f, lang), value=v,
              threshold=limit)
            for f, v, limit in reached
        )
        or None
        for lang in ("en", "ru")
    )  # fmt: skip
    return Finding(
        source=rule.source,
        because_en=because_en,
        because_ru=because_ru,
        rule_id=rule.id,
        title_en=rule.title.en,
        title_ru=rule.title.ru,
        satisfied=ok,
        severity=rule.severity,
        blocking=rule.blocking,
        blocks_sending=rule.blocking and not ok,
        margin_s=margin,
        detail_en=en,
        detail_ru=ru,
    )


def check(
    notice: NoticeBody,
    *,
    sent_at: datetime,
    sender: str,
    receiver: str,
    rules: RuleSet | None = None,
) -> list[Finding]:
    """Check ``notice`` sent at ``sent_at`` against the rules between the two parties.

    ``rules`` defaults to the packaged rules file for the pair. Returns one finding per
    rule that applies, in the file's order; an empty list when none applies.
    """
    if sent_at.tzinfo is None:
        raise ValidationError("sent_at must be timezone-aware (UTC)", field="sent_at")
    ruleset = rules if rules is not None else rules_for(sender, receiver)
    return [
        _evaluate(rule, notice, sent_at)
        for rule in ruleset.rules
        if rule.applies_to.applies(notice)
    ]


def format_findings(findings: list[Finding], lang: str) -> str:
    """Findings as numbered lines for people, in ``lang``.

    ``1. [MET] missile-launch-24h — <title>: on time: 1 d 00:00 to spare``
    """
    check_lang(lang)
    if not findings:
        return gettext(lang, "NO AGREEMENT RULE APPLIES") + "\n"
    lines = [t(lang, "AGREEMENT RULES: {n}", n=len(findings))]
    for number, f in enumerate(findings, start=1):
        if f.satisfied:
            status = gettext(lang, "MET")
        elif f.blocks_sending:
            status = gettext(lang, "NOT MET, BLOCKS SENDING")
        else:
            status = gettext(lang, "NOT MET")
        title, detail = (f.title_en, f.detail_en) if lang == "en" else (f.title_ru, f.detail_ru)
        because = f.because_en if lang == "en" else f.because_ru
        if because:
            detail = t(lang, N_("{detail}; applies: {reasons}"), detail=detail, reasons=because)
        if f.source:
            detail += " (" + t(lang, N_("source: {source}"), source=f.source) + ")"
        lines.append(f"{number}. [{status}] {f.rule_id} — {title}: {detail}")
    return "\n".join(lines) + "\n"
