"""Formatted notice bodies: one pydantic model per message type, and their union.

Each body is the ``body`` of an envelope whose ``type`` is the body's ``type``. The
models hold what the sender states; whether it satisfies the agreements between the
parties is for :mod:`hotline.services.notices.rules`, and how it reads in English or Russian is for
:mod:`hotline.render.notices`.

Types::

    activity_notice         air operations, naval transit/exercise, ground exercise,
                            missile launch (+ launch and impact areas), hazardous activity
    incident_report         what happened, when, where, who on both sides
    deconfliction_request   a concern about a notice: the volumes it concerns (references
                            to their versions) and the requester's proposed volumes
    deconfliction_answer    concur / do not concur / counter-proposal (changed volumes)
    deconfliction_concurrence  the requester concurs with a counter-proposal: agreed
    exercise_notification   troops and equipment, dates, area, observers
    observer_invitation     observers invited to a notified exercise
    coded_message           a pre-agreed phrase, sent as its code (see domain.phrasebook)
    protected_areas         areas the sender protects (declared, replaced or withdrawn);
                            the other side's tracks are checked for incursions into them
    observer_answer         an observer invitation accepted (names, arrival time and
                            place) or declined (reason)
    notice_amendment        a sender's notice replaced by a new version (with a reason)
    notice_cancellation     a sender's notice cancelled, or some of its volumes withdrawn
    incident_account        one side's account of an incident, for a case both fold
                            (see domain.notices.cases)

The life of each volume (proposed, declared, agreed, withdrawn, expired; a version per
amendment) is folded from these messages by :mod:`hotline.domain.notices.lifecycle`.

Absent optional fields are left out of the wire form (:func:`to_wire`), never ``null``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import pydantic
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    TypeAdapter,
    model_validator,
)

from hotline.domain.notices.base import (
    Count,
    Frequency,
    MessageRef,
    ShortText,
    Text,
    Unit,
    UtcTime,
    field_error,
    to_validation_error,
)
from hotline.domain.notices.cases import IncidentAccount
from hotline.domain.notices.geometry import (
    GEOMETRY_TYPES,
    Altitude,
    Area,
    Datum,
    Position,
    Volume,
    VolumeId,
    unique_volume_ids,
)

Activity = Literal[
    "air_operations",
    "naval_transit",
    "naval_exercise",
    "ground_exercise",
    "missile_launch",
    "hazardous_activity",
]
IncidentCategory = Literal[
    "unsafe_intercept",
    "unsafe_approach_at_sea",
    "airspace_violation",
    "weapon_or_fire_control_radar_aimed",
    "laser_or_light_at_bridge",
    "other",
]
Answer = Literal["concur", "do_not_concur", "counter_proposal"]

Volumes = Annotated[tuple[Volume, ...], Field(min_length=1, max_length=100)]
Units = Annotated[tuple[Unit, ...], Field(min_length=1, max_length=200)]


class ActivityNotice(BaseModel):
    """Notice of an activity the other side should know about, in one or more volumes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["activity_notice"]
    activity: Activity
    volumes: Volumes
    units: Units
    contact_frequency: Frequency | None = None
    remarks: Text | None = None
    launch_area: Area | None = None
    impact_area: Area | None = None

    @model_validator(mode="after")
    def _areas_for_launches_only(self) -> ActivityNotice:
        unique_volume_ids(self.volumes)
        if self.activity == "missile_launch":
            for name in ("launch_area", "impact_area"):
                if getattr(self, name) is None:
                    raise field_error(
                        name,
                        f"a missile launch needs its {name.replace('_', ' ')} "
                        "(boundary points, or centre + radius)",
                    )
        else:
            for name in ("launch_area", "impact_area"):
                if getattr(self, name) is not None:
                    raise field_error(name, f"{name} is only given for a missile_launch")
        return self


class IncidentReport(BaseModel):
    """Report of an incident: when, where, which units on each side, what happened."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["incident_report"]
    time: UtcTime
    position: Position
    altitude_m: Altitude | None = None
    datum: Datum | None = None
    category: IncidentCategory
    own_units: Units
    other_units: Units
    description: Text

    @model_validator(mode="after")
    def _altitude_has_datum(self) -> IncidentReport:
        if (self.altitude_m is None) != (self.datum is None):
            raise field_error("datum", "altitude_m and datum are given together or not at all")
        return self


class VolumeRef(BaseModel):
    """A reference to one version of a volume on the line, never a copy of it.

    ``message_id`` is the notice that first declared the volume (its owner is that
    notice's sender), ``volume_id`` its id there, ``version`` the version quoted: 1 as
    first declared, one more for each amendment (see ``domain/notices/lifecycle.py``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    message_id: MessageRef
    volume_id: VolumeId
    version: Annotated[StrictInt, Field(ge=1, le=100_000)]

    @property
    def key(self) -> str:
        """The volume's id on the line: ``<message id>/<volume id>``."""
        return f"{self.message_id}/{self.volume_id}"


VolumeRefs = Annotated[tuple[VolumeRef, ...], Field(min_length=1, max_length=100)]


class DeconflictionRequest(BaseModel):
    """A request to deconflict: the notice it concerns, the volumes, the concern.

    ``concerns`` refers to the volumes of concern (either side's) by version;
    ``proposed`` are the requester's proposals: a proposed volume whose id is that of a
    concerned volume of the requester's own is a new version of it, any other is a new
    volume. ``volumes`` is the older form: copies of the volumes of concern, shown as
    quoted and never taken as the requester's declaration.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["deconfliction_request"]
    refers_to: MessageRef
    volumes: Volumes | None = None
    concerns: VolumeRefs | None = None
    proposed: Volumes | None = None
    concern: Text

    @model_validator(mode="after")
    def _distinct_volumes(self) -> DeconflictionRequest:
        if self.volumes is None and self.concerns is None:
            raise field_error("concerns", "name the volumes of concern (concerns)")
        unique_volume_ids(self.volumes or ())
        unique_volume_ids(self.proposed or (), "proposed")
        keys = [(r.message_id, r.volume_id) for r in self.concerns or ()]
        for key in sorted({k for k in keys if keys.count(k) > 1}):
            raise field_error("concerns", f"volume {key[0]}/{key[1]} is named twice")
        return self


class DeconflictionAnswer(BaseModel):
    """The answer to a deconfliction request; a counter-proposal carries changed volumes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["deconfliction_answer"]
    refers_to: MessageRef
    answer: Answer
    volumes: Volumes | None = None
    reason: Text | None = None

    @model_validator(mode="after")
    def _volumes_with_counter_proposal(self) -> DeconflictionAnswer:
        if self.answer == "counter_proposal":
            if self.volumes is None:
                raise field_error("volumes", "a counter_proposal needs the changed volumes")
            unique_volume_ids(self.volumes)
        elif self.volumes is not None:
            raise field_error("volumes", "volumes are only sent with a counter_proposal")
        if self.answer != "concur" and self.reason is None:
            raise field_error("reason", f"an answer of {self.answer} needs a reason")
        return self


class DeconflictionConcurrence(BaseModel):
    """The requester concurs with a counter-proposal: its volumes are agreed by both sides.

    Conflicts left between the agreed volumes are accepted by both sides for ``reason``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["deconfliction_concurrence"]
    refers_to: MessageRef
    reason: Text | None = None


class ExerciseNotification(BaseModel):
    """Prior notification of a military exercise (Vienna Document style)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["exercise_notification"]
    name: ShortText
    start: UtcTime
    end: UtcTime
    area: Area
    troops: Count
    tanks: Count | None = None
    armoured_combat_vehicles: Count | None = None
    artillery: Count | None = None
    aircraft: Count | None = None
    helicopters: Count | None = None
    ships: Count | None = None
    observers_invited: StrictBool
    units: Units | None = None
    remarks: Text | None = None
    # Vienna Document thresholds beyond troops and equipment (all optional: older bodies
    # without them stay valid): air sorties foreseen, troops landed from the sea or by
    # parachute, and whether it is an alert activity carried out without advance notice.
    air_sorties: Count | None = None
    amphibious_troops: Count | None = None
    airborne_troops: Count | None = None
    alert: StrictBool | None = None

    @model_validator(mode="after")
    def _ends_after_start(self) -> ExerciseNotification:
        if self.end <= self.start:
            raise field_error("end", "the exercise ends before it starts")
        return self


class ArrivalPoint(BaseModel):
    """Where invited observers are received: a name and a position."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: ShortText
    position: Position


class ProgrammeItem(BaseModel):
    """One item of the observation programme."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    time: UtcTime
    activity: Text


class ObserverInvitation(BaseModel):
    """Invitation to observe a notified exercise."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["observer_invitation"]
    exercise_ref: MessageRef
    observers: Annotated[StrictInt, Field(ge=1, le=1000)]
    arrival_point: ArrivalPoint
    arrival_time: UtcTime
    programme: Annotated[tuple[ProgrammeItem, ...], Field(min_length=1, max_length=200)]


ObserverDecision = Literal["accept", "decline"]
ObserverNames = Annotated[tuple[ShortText, ...], Field(min_length=1, max_length=1000)]


class ObserverAnswer(BaseModel):
    """The answer to an observer invitation: accepted (who comes, when and where they
    arrive) or declined (why)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["observer_answer"]
    invitation_ref: MessageRef
    answer: ObserverDecision
    observers: ObserverNames | None = None
    arrival_point: ArrivalPoint | None = None
    arrival_time: UtcTime | None = None
    reason: Text | None = None

    @model_validator(mode="after")
    def _accept_names_who_and_where(self) -> ObserverAnswer:
        arrival = ("observers", "arrival_point", "arrival_time")
        if self.answer == "accept":
            for name in arrival:
                if getattr(self, name) is None:
                    raise field_error(name, f"an accepted invitation needs {name}")
        else:
            for name in arrival:
                if getattr(self, name) is not None:
                    raise field_error(name, f"{name} is only given when accepting")
            if self.reason is None:
                raise field_error("reason", "a declined invitation needs a reason")
        return self


class CodedMessage(BaseModel):
    """A pre-agreed phrase sent by its code; both sides hold the phrasebook in full.

    The version and SHA-256 hash name the exact phrasebook the sender used; the
    receiver refuses a code from a phrasebook it does not hold (see
    :meth:`hotline.domain.notices.phrasebook.Phrasebook.check_message`).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["coded_message"]
    code: Annotated[StrictInt, Field(ge=1, le=9999)]
    phrasebook_version: ShortText
    phrasebook_hash: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class ProtectedArea(BaseModel):
    """One area the sender protects: its shape and, optionally, the altitudes protected.

    Without an altitude band the area is protected at every altitude.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: VolumeId
    name: ShortText
    area: Area
    alt_lower_m: Altitude | None = None
    alt_upper_m: Altitude | None = None
    datum: Datum | None = None

    @model_validator(mode="after")
    def _band_complete(self) -> ProtectedArea:
        band = (self.alt_lower_m, self.alt_upper_m, self.datum)
        if any(v is None for v in band) and any(v is not None for v in band):
            raise field_error(
                "datum", "alt_lower_m, alt_upper_m and datum are given together or not at all"
            )
        if (
            self.alt_lower_m is not None
            and self.alt_upper_m is not None
            and self.alt_upper_m < self.alt_lower_m
        ):
            raise field_error(
                "alt_upper_m",
                f"altitude band is upside down: alt_upper_m {self.alt_upper_m} m is below "
                f"alt_lower_m {self.alt_lower_m} m",
            )
        return self


class ProtectedAreas(BaseModel):
    """The sender's protected areas: new or replaced ones (same id) and withdrawn ones.

    Areas stay in force until withdrawn or replaced by a later declaration.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["protected_areas"]
    areas: Annotated[tuple[ProtectedArea, ...], Field(max_length=200)] | None = None
    withdrawn: Annotated[tuple[VolumeId, ...], Field(max_length=200)] | None = None
    remarks: Text | None = None

    @model_validator(mode="after")
    def _something_declared(self) -> ProtectedAreas:
        if not self.areas and not self.withdrawn:
            raise field_error("areas", "declare at least one area or withdraw at least one")
        ids = [a.id for a in self.areas or ()]
        for name in sorted({i for i in ids if ids.count(i) > 1}):
            raise field_error("areas", f"area id {name!r} is used twice")
        both = sorted(set(ids) & set(self.withdrawn or ()))
        if both:
            raise field_error("withdrawn", f"area {both[0]!r} is both declared and withdrawn")
        return self


AMENDABLE_TYPES = (
    "activity_notice",
    "exercise_notification",
    "protected_areas",
)
"""The notices a sender may amend or cancel (launches, exercises, hazardous activity, areas)."""


class NoticeAmendment(BaseModel):
    """A new version of one of the sender's notices: ``notice`` replaces it whole.

    A volume of ``notice`` with the id of one in force is its next version, a new id is a
    new volume, and a volume left out is withdrawn. ``refers_to`` names the notice as
    first sent; amendments of it apply in the order they were sent.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["notice_amendment"]
    refers_to: MessageRef
    notice: ActivityNotice | ExerciseNotification | ProtectedAreas = Field(discriminator="type")
    reason: Text


class NoticeCancellation(BaseModel):
    """One of the sender's notices cancelled, or (``volumes``) some of its volumes withdrawn."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["notice_cancellation"]
    refers_to: MessageRef
    volumes: Annotated[tuple[VolumeId, ...], Field(min_length=1, max_length=100)] | None = None
    reason: Text

    @model_validator(mode="after")
    def _distinct(self) -> NoticeCancellation:
        ids = list(self.volumes or ())
        for name in sorted({i for i in ids if ids.count(i) > 1}):
            raise field_error("volumes", f"volume id {name!r} is named twice")
        return self


NoticeBody = Annotated[
    ActivityNotice
    | IncidentReport
    | DeconflictionRequest
    | DeconflictionAnswer
    | ExerciseNotification
    | ObserverInvitation
    | ObserverAnswer
    | CodedMessage
    | ProtectedAreas
    | DeconflictionConcurrence
    | NoticeAmendment
    | NoticeCancellation
    | IncidentAccount,
    Field(discriminator="type"),
]
"""Any notice body, told apart by its ``type``."""

NOTICE_MODELS: dict[str, type[BaseModel]] = {
    "activity_notice": ActivityNotice,
    "incident_report": IncidentReport,
    "deconfliction_request": DeconflictionRequest,
    "deconfliction_answer": DeconflictionAnswer,
    "exercise_notification": ExerciseNotification,
    "observer_invitation": ObserverInvitation,
    "coded_message": CodedMessage,
    "protected_areas": ProtectedAreas,
    "observer_answer": ObserverAnswer,
    "deconfliction_concurrence": DeconflictionConcurrence,
    "notice_amendment": NoticeAmendment,
    "notice_cancellation": NoticeCancellation,
    "incident_account": IncidentAccount,
}
"""Each body ``type`` and its model, in the order the docs list them."""

NOTICE_TYPES = tuple(NOTICE_MODELS)


@dataclass(frozen=True)
class Link:
    """A notice's reference to an earlier message on the same line.

    ``field`` holds the message id; the message must be one of ``types`` and, unless
    ``sent_by`` is ``"either"``, sent by that side of the new notice: an answer answers
    a request the receiver sent, and a party invites observers to its own exercise.
    """

    field: str
    types: tuple[str, ...]
    sent_by: Literal["either", "sender", "receiver"]


LINKS: dict[str, Link] = {
    "deconfliction_request": Link(
        "refers_to", ("activity_notice", "exercise_notification", "deconfliction_answer"), "either"
    ),
    "deconfliction_answer": Link("refers_to", ("deconfliction_request",), "receiver"),
    "observer_invitation": Link("exercise_ref", ("exercise_notification",), "sender"),
    "observer_answer": Link("invitation_ref", ("observer_invitation",), "receiver"),
    "deconfliction_concurrence": Link("refers_to", ("deconfliction_answer",), "receiver"),
    "notice_amendment": Link("refers_to", AMENDABLE_TYPES, "sender"),
    "notice_cancellation": Link("refers_to", AMENDABLE_TYPES, "sender"),
}
"""The types that refer to an earlier message, and what that message must be."""

_ADAPTER: TypeAdapter[NoticeBody] = TypeAdapter(NoticeBody)


def parse_notice(data: Mapping[str, Any]) -> NoticeBody:
    """Validate a notice body (parsed JSON) into its model.

    Raises :class:`hotline.errors.ValidationError` naming each offending field path.
    """
    try:
        return _ADAPTER.validate_python(data)
    except pydantic.ValidationError as exc:
        raise to_validation_error(exc, tags=NOTICE_TYPES + GEOMETRY_TYPES) from None


def to_wire(body: NoticeBody) -> dict[str, Any]:
    """The JSON form of a body for signing: strings and integers only, no ``null``."""
    return body.model_dump(mode="json", exclude_none=True)


def _present(*names: str) -> dict[str, Any]:
    """Schema: each named property is given and not null."""
    return {"required": list(names), "properties": {n: {"not": {"type": "null"}} for n in names}}


def _absent(*names: str) -> dict[str, Any]:
    """Schema: each named property is left out (or null, which the models also accept)."""
    return {"properties": {n: {"type": "null"} for n in names}}


def _when(field: str, value: str, then: dict[str, Any], otherwise: dict[str, Any]) -> Any:
    """Schema: ``then`` applies when ``field`` equals ``value``, ``otherwise`` when not."""
    test = {"required": [field], "properties": {field: {"const": value}}}
    return {"if": test, "then": then, "else": otherwise}


def _nested_when(kind: str, path: str, then: dict[str, Any], otherwise: dict[str, Any]) -> Any:
    """Like :func:`_when` for ``geometry.type`` == ``kind``, constraining object ``path``."""
    test = {"properties": {"geometry": {"properties": {"type": {"const": kind}}}}}
    wrap = (lambda s: {"properties": {path: s}}) if path else (lambda s: s)
    return {"if": test, "then": wrap(then), "else": wrap(otherwise)}


# What the model validators check, as far as JSON Schema can say it (``allOf`` of
# conditions) and, for what it cannot (comparing two values), in the description.
_CONDITIONS: dict[str, list[Any]] = {
    "ActivityNotice": [
        _when("activity", "missile_launch", _present("launch_area", "impact_area"),
              _absent("launch_area", "impact_area")),
    ],
    "DeconflictionAnswer": [
        _when("answer", "counter_proposal", _present("volumes"), _absent("volumes")),
        _when("answer", "concur", {}, _present("reason")),
    ],
    "IncidentReport": [{"dependentRequired": {"altitude_m": ["datum"], "datum": ["altitude_m"]}}],
    "ProtectedArea": [
        {"dependentRequired": {
            "alt_lower_m": ["alt_upper_m", "datum"],
            "alt_upper_m": ["alt_lower_m", "datum"],
            "datum": ["alt_lower_m", "alt_upper_m"],
        }},
    ],
    "ProtectedAreas": [{"anyOf": [_present("areas"), _present("withdrawn")]}],
    "ObserverAnswer": [
        _when("answer", "accept", _present("observers", "arrival_point", "arrival_time"),
              _absent("observers", "arrival_point", "arrival_time")),
        _when("answer", "decline", _present("reason"), {}),
    ],
    "DeconflictionRequest": [{"anyOf": [_present("volumes"), _present("concerns")]}],
    "Volume": [
        _nested_when("Point", "properties", _present("radius_m"), _absent("radius_m")),
        _nested_when("LineString", "properties", _present("width_m"), _absent("width_m")),
    ],
    "Area": [_nested_when("Point", "", _present("radius_m"), _absent("radius_m"))],
}  # fmt: skip
_NOTES = {
    "ActivityNotice": "A missile_launch needs launch_area and impact_area; other activities "
    "give neither. Volume ids are unique within the notice.",
    "DeconflictionAnswer": "volumes are given with a counter_proposal and only then; reason "
    "is required unless the answer is concur. Volume ids are unique within the answer.",
    "DeconflictionRequest": "concerns (references to volume versions) or the older volumes "
    "(quoted copies) is given; volume ids are unique within volumes and within proposed.",
    "NoticeAmendment": "notice is the whole new version, of the type of the notice amended.",
    "NoticeCancellation": "Without volumes the whole notice is cancelled.",
    "ExerciseNotification": "end is after start.",
    "IncidentAccount": "Event kinds are unique within the account (events of kind other by "
    "their label); the case's origin is the one its first account gave.",
    "AccountEvent": "A kind other needs a label; altitude_m and datum come together; "
    "altitude_m and depth_m are not both given.",
    "Narrative": "At least one of en and ru.",
    "ObserverAnswer": "accept gives observers, arrival_point and arrival_time; decline gives "
    "none of them and a reason.",
    "IncidentReport": "altitude_m and datum are given together or not at all.",
    "ProtectedArea": "alt_lower_m, alt_upper_m and datum are given together or not at all, "
    "and alt_upper_m is not below alt_lower_m.",
    "ProtectedAreas": "At least one area is declared or withdrawn; area ids are unique, and "
    "no id is both declared and withdrawn.",
    "VolumeProperties": "alt_upper_m is not below alt_lower_m (the band is the right way up), "
    "and end is after start.",
    "Volume": "A Point (circle) needs properties.radius_m, a LineString (corridor) "
    "properties.width_m; no other shape takes either.",
    "Area": "A Point (centre) needs radius_m; a Polygon takes none.",
    "PolygonGeometry": "The ring is closed: its last position equals its first.",
}


def _constrain(schema: dict[str, Any]) -> None:
    """Add the models' cross-field checks to one schema and each definition it holds."""
    for node in (schema, *schema.get("$defs", {}).values()):
        name = node.get("title", "")
        if name in _CONDITIONS:
            node["allOf"] = copy.deepcopy(_CONDITIONS[name])
        if name in _NOTES:
            node["description"] = f"{node.get('description', '')}\n\n{_NOTES[name]}".strip()
        if name == "PolygonGeometry":  # one ring (no holes) of at least 4 positions
            rings = node["properties"]["coordinates"]
            rings.update(minItems=1, maxItems=1)
            rings["items"]["minItems"] = 4


def json_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schema of each body type, keyed by type (published in ``docs/schemas``).

    Pydantic's schemas say nothing of the model validators, so what JSON Schema can
    express is added (e.g. a missile launch requires its launch and impact areas); what
    it cannot, such as an altitude band's order, is said in the ``description``.
    """
    out: dict[str, dict[str, Any]] = {}
    for name, model in NOTICE_MODELS.items():
        schema = model.model_json_schema()
        _constrain(schema)
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        out[name] = schema
    return out
