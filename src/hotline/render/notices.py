"""Every notice type as formatted-message text, in English or Russian.

:func:`render` is the one entry point: the same structured body gives both texts, so
they cannot say different things. Labels come from the gettext catalogs
(:mod:`hotline.render.i18n`); the layout is :mod:`hotline.render.layout`. A coded
message shows the agreed text in *both* languages whichever language is asked for,
so the receiver reads the sender's exact words at once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from hotline.domain.notices.cases import AccountEvent, IncidentAccount, Narrative
from hotline.domain.notices.models import (
    ActivityNotice,
    CodedMessage,
    DeconflictionAnswer,
    DeconflictionConcurrence,
    DeconflictionRequest,
    ExerciseNotification,
    IncidentReport,
    NoticeAmendment,
    NoticeBody,
    NoticeCancellation,
    ObserverAnswer,
    ObserverInvitation,
    ProtectedAreas,
    VolumeRef,
)
from hotline.domain.notices.phrasebook import Phrasebook
from hotline.render.coords import format_position
from hotline.render.dtg import format_dtg
from hotline.render.i18n import N_, check_lang, gettext, t
from hotline.render.layout import (
    Item,
    Para,
    altitude_at,
    altitude_band,
    area_lines,
    header,
    labelled,
    layout,
    optional_text,
    time_window,
    units_para,
    volumes_para,
)

SUBJECTS = {
    "activity_notice": N_("ACTIVITY NOTICE"),
    "incident_report": N_("INCIDENT REPORT"),
    "deconfliction_request": N_("DECONFLICTION REQUEST"),
    "deconfliction_answer": N_("DECONFLICTION ANSWER"),
    "exercise_notification": N_("EXERCISE NOTIFICATION"),
    "observer_invitation": N_("OBSERVER INVITATION"),
    "coded_message": N_("CODED MESSAGE"),
    "protected_areas": N_("PROTECTED AREAS"),
    "observer_answer": N_("ANSWER TO OBSERVER INVITATION"),
    "deconfliction_concurrence": N_("DECONFLICTION CONCURRENCE"),
    "notice_amendment": N_("NOTICE AMENDMENT"),
    "notice_cancellation": N_("NOTICE CANCELLATION"),
    "incident_account": N_("INCIDENT ACCOUNT"),
}
EVENT_KINDS = {
    "first_contact": N_("FIRST CONTACT"),
    "closest_approach": N_("CLOSEST APPROACH"),
    "warning_issued": N_("WARNING ISSUED"),
    "weapons_employed": N_("WEAPONS EMPLOYED"),
    "separation": N_("SEPARATION"),
    "other": N_("OTHER"),
}
ORIGINS = {
    "incident_report": N_("INCIDENT REPORT"),
    "conflict": N_("CONFLICT"),
    "incursion": N_("INCURSION"),
    "alarm": N_("ALARM"),
}
ACTIVITIES = {
    "air_operations": N_("AIR OPERATIONS"),
    "naval_transit": N_("NAVAL TRANSIT"),
    "naval_exercise": N_("NAVAL EXERCISE"),
    "ground_exercise": N_("GROUND EXERCISE"),
    "missile_launch": N_("MISSILE LAUNCH"),
    "hazardous_activity": N_("HAZARDOUS ACTIVITY"),
}
CATEGORIES = {
    "unsafe_intercept": N_("UNSAFE INTERCEPT"),
    "unsafe_approach_at_sea": N_("UNSAFE APPROACH AT SEA"),
    "airspace_violation": N_("AIRSPACE VIOLATION"),
    "weapon_or_fire_control_radar_aimed": N_("WEAPON OR FIRE-CONTROL RADAR AIMED"),
    "laser_or_light_at_bridge": N_("LASER OR LIGHT AIMED AT BRIDGE"),
    "other": N_("OTHER"),
}
ANSWERS = {
    "concur": N_("CONCUR"),
    "do_not_concur": N_("DO NOT CONCUR"),
    "counter_proposal": N_("COUNTER-PROPOSAL"),
}
OBSERVER_ANSWERS = {
    "accept": N_("INVITATION ACCEPTED"),
    "decline": N_("INVITATION DECLINED"),
}
# Vienna Document figures beyond troops and equipment, shown when the sender gives them
FORCES = {
    "air_sorties": N_("AIR SORTIES"),
    "amphibious_troops": N_("AMPHIBIOUS LANDING TROOPS"),
    "airborne_troops": N_("PARACHUTE ASSAULT TROOPS"),
}
EQUIPMENT = {
    "tanks": N_("TANKS"),
    "armoured_combat_vehicles": N_("ARMOURED COMBAT VEHICLES"),
    "artillery": N_("ARTILLERY PIECES"),
    "aircraft": N_("AIRCRAFT"),
    "helicopters": N_("HELICOPTERS"),
    "ships": N_("SHIPS"),
}


def _activity(body: ActivityNotice, lang: str) -> list[Para]:
    frequency = body.contact_frequency or gettext(lang, "NONE")
    paras = [
        Para(labelled(lang, "ACTIVITY", gettext(lang, ACTIVITIES[body.activity]))),
        volumes_para("VOLUMES", body.volumes, lang),
        units_para("UNITS", body.units, lang),
        Para(labelled(lang, "CONTACT FREQUENCY", frequency)),
        optional_text(lang, "REMARKS", body.remarks),
    ]
    if body.launch_area is not None:
        paras.append(Para(gettext(lang, "LAUNCH AREA"), area_lines(body.launch_area, lang)))
    if body.impact_area is not None:
        paras.append(Para(gettext(lang, "IMPACT AREA"), area_lines(body.impact_area, lang)))
    return paras


def _incident(body: IncidentReport, lang: str) -> list[Para]:
    altitude = (
        altitude_at(body.altitude_m, body.datum, lang)
        if body.altitude_m is not None and body.datum is not None
        else gettext(lang, "NOT STATED")
    )
    return [
        Para(labelled(lang, "TIME OF INCIDENT", format_dtg(body.time, lang))),
        Para(labelled(lang, "POSITION", format_position(body.position, lang))),
        Para(labelled(lang, "ALTITUDE", altitude)),
        Para(labelled(lang, "CATEGORY", gettext(lang, CATEGORIES[body.category]))),
        units_para("SENDER'S UNITS", body.own_units, lang),
        units_para("OTHER SIDE'S UNITS", body.other_units, lang),
        Para(labelled(lang, "DESCRIPTION", body.description)),
    ]


def _narrative(narrative: Narrative | None, lang: str) -> list[str]:
    """The narrative as written, English first, each under its language's label."""
    if narrative is None:
        return [gettext(lang, "NONE")]
    texts = [("EN", narrative.en), ("RU", narrative.ru)]
    return [f"{code}: {text}" for code, text in texts if text is not None]


def _event(event: AccountEvent, lang: str) -> Item:
    kind = gettext(lang, EVENT_KINDS[event.kind])
    if event.label:
        kind = f"{kind} ({event.label})"
    if event.altitude_m is not None and event.datum is not None:
        height = altitude_at(event.altitude_m, event.datum, lang)
    elif event.depth_m is not None:
        height = t(lang, "DEPTH {metres} m", metres=event.depth_m)
    else:
        height = gettext(lang, "NOT STATED")
    units = "; ".join(f"{u.designation} ({u.count})" for u in event.units)
    details = [
        labelled(lang, "TIME", format_dtg(event.time, lang)),
        labelled(lang, "POSITION", format_position(event.position, lang)),
        labelled(lang, "ALTITUDE", height),
        labelled(lang, "UNITS", units),
        *(labelled(lang, "NARRATIVE", line) for line in _narrative(event.narrative, lang)),
    ]
    return Item(kind, details)


def _account(body: IncidentAccount, lang: str) -> list[Para]:
    origin = f"{gettext(lang, ORIGINS[body.opened_from.kind])} {body.opened_from.ref}"
    return [
        Para(labelled(lang, "CASE", body.case)),
        Para(labelled(lang, "OPENED FROM", origin)),
        Para(labelled(lang, "TITLE", body.title or gettext(lang, "NONE"))),
        Para(
            labelled(lang, "EVENTS", len(body.events)),
            items=[_event(e, lang) for e in sorted(body.events, key=lambda e: e.time)],
        ),
        Para(gettext(lang, "NARRATIVE"), _narrative(body.narrative, lang)),
    ]


def _reference(lang: str, msgid: str, ref: str) -> Para:
    return Para(labelled(lang, msgid, t(lang, "MSG ID {id}", id=ref)))


def _volume_ref(ref: VolumeRef, lang: str) -> Item:
    """``VOLUME R1 OF MSG ID …, VERSION 1``: a volume named by reference, not copied."""
    return Item(
        t(
            lang,
            "VOLUME {id} OF MSG ID {message}, VERSION {version}",
            id=ref.volume_id,
            message=ref.message_id,
            version=ref.version,
        )
    )


def _request(body: DeconflictionRequest, lang: str) -> list[Para]:
    paras = [_reference(lang, "REFERENCE", body.refers_to)]
    if body.volumes is not None:  # the older form: copies of the volumes of concern
        paras.append(volumes_para("VOLUMES", body.volumes, lang))
    if body.concerns is not None:
        refs = [_volume_ref(r, lang) for r in body.concerns]
        paras.append(Para(labelled(lang, "VOLUMES OF CONCERN", len(refs)), items=refs))
        paras.append(volumes_para("PROPOSED VOLUMES", body.proposed, lang))
    paras.append(Para(labelled(lang, "CONCERN", body.concern)))
    return paras


def _answer(body: DeconflictionAnswer, lang: str) -> list[Para]:
    return [
        _reference(lang, "REFERENCE", body.refers_to),
        Para(labelled(lang, "ANSWER", gettext(lang, ANSWERS[body.answer]))),
        optional_text(lang, "REASON", body.reason),
        volumes_para("PROPOSED VOLUMES", body.volumes, lang),
    ]


def _concurrence(body: DeconflictionConcurrence, lang: str) -> list[Para]:
    return [
        _reference(lang, "REFERENCE", body.refers_to),
        Para(labelled(lang, "ANSWER", gettext(lang, "CONCUR WITH THE COUNTER-PROPOSAL"))),
        optional_text(lang, "REASON", body.reason),
    ]


def _amendment(body: NoticeAmendment, lang: str) -> list[Para]:
    return [
        _reference(lang, "AMENDED NOTICE", body.refers_to),
        Para(labelled(lang, "REASON", body.reason)),
        Para(labelled(lang, "NEW VERSION", summary(body.notice, lang))),
        *_RENDERERS[type(body.notice)](body.notice, lang),
    ]


def _cancellation(body: NoticeCancellation, lang: str) -> list[Para]:
    if body.volumes:
        what = t(lang, "VOLUMES {ids} WITHDRAWN", ids=", ".join(body.volumes))
    else:
        what = gettext(lang, "THE WHOLE NOTICE")
    return [
        _reference(lang, "CANCELLED NOTICE", body.refers_to),
        Para(labelled(lang, "CANCELLED", what)),
        Para(labelled(lang, "REASON", body.reason)),
    ]


def _equipment(body: ExerciseNotification, lang: str) -> Para:
    stated = [(msgid, getattr(body, name)) for name, msgid in EQUIPMENT.items()]
    lines = [labelled(lang, msgid, count) for msgid, count in stated if count is not None]
    if not lines:
        return Para(labelled(lang, "EQUIPMENT", gettext(lang, "NOT STATED")))
    return Para(f"{gettext(lang, 'EQUIPMENT')}:", lines)


def _exercise(body: ExerciseNotification, lang: str) -> list[Para]:
    invited = gettext(lang, "YES") if body.observers_invited else gettext(lang, "NO")
    return [
        Para(labelled(lang, "EXERCISE", body.name)),
        Para(labelled(lang, "TIME", time_window(body.start, body.end, lang))),
        Para(gettext(lang, "AREA"), area_lines(body.area, lang)),
        Para(labelled(lang, "TROOPS", body.troops)),
        _equipment(body, lang),
        Para(labelled(lang, "OBSERVERS INVITED", invited)),
        units_para("UNITS", body.units, lang),
        optional_text(lang, "REMARKS", body.remarks),
        *_forces(body, lang),  # last, so the paragraphs above keep their numbers
    ]


def _forces(body: ExerciseNotification, lang: str) -> list[Para]:
    """Sorties, landing troops and the alert flag: lines only for what the sender gave."""
    paras = [
        Para(labelled(lang, msgid, getattr(body, name)))
        for name, msgid in FORCES.items()
        if getattr(body, name) is not None
    ]
    if body.alert is not None:
        alert = gettext(lang, "YES") if body.alert else gettext(lang, "NO")
        paras.append(Para(labelled(lang, "ALERT ACTIVITY", alert)))
    return paras


def _observer_answer(body: ObserverAnswer, lang: str) -> list[Para]:
    point = body.arrival_point
    if body.observers is not None:
        names = [Item(name) for name in body.observers]
        observers = Para(labelled(lang, "OBSERVERS", len(names)), items=names)
    else:
        observers = Para(labelled(lang, "OBSERVERS", gettext(lang, "NONE")))
    arrival = (
        Para(labelled(lang, "ARRIVAL POINT", point.name), [format_position(point.position, lang)])
        if point is not None
        else Para(labelled(lang, "ARRIVAL POINT", gettext(lang, "NONE")))
    )
    when = format_dtg(body.arrival_time, lang) if body.arrival_time else gettext(lang, "NONE")
    return [
        _reference(lang, "INVITATION REFERENCE", body.invitation_ref),
        Para(labelled(lang, "ANSWER", gettext(lang, OBSERVER_ANSWERS[body.answer]))),
        observers,
        arrival,
        Para(labelled(lang, "ARRIVAL TIME", when)),
        optional_text(lang, "REASON", body.reason),
    ]


def _invitation(body: ObserverInvitation, lang: str) -> list[Para]:
    point = body.arrival_point
    programme = [Item(f"{format_dtg(i.time, lang)}: {i.activity}") for i in body.programme]
    return [
        _reference(lang, "EXERCISE REFERENCE", body.exercise_ref),
        Para(labelled(lang, "NUMBER OF OBSERVERS", body.observers)),
        Para(labelled(lang, "ARRIVAL POINT", point.name), [format_position(point.position, lang)]),
        Para(labelled(lang, "ARRIVAL TIME", format_dtg(body.arrival_time, lang))),
        Para(labelled(lang, "PROGRAMME", len(programme)), items=programme),
    ]


def _coded(body: CodedMessage, lang: str, phrasebook: Phrasebook) -> list[Para]:
    entry = phrasebook.check_message(body)
    book = t(
        lang,
        "VERSION {version}, SHA-256 {hash}",
        version=body.phrasebook_version,
        hash=body.phrasebook_hash,
    )
    return [
        Para(labelled(lang, "CODE", body.code)),
        Para(labelled(lang, "PHRASEBOOK", book)),
        Para(labelled(lang, "TEXT (ENGLISH)", entry.en)),
        Para(labelled(lang, "TEXT (RUSSIAN)", entry.ru)),
    ]


def _protected(body: ProtectedAreas, lang: str) -> list[Para]:
    items = []
    for area in body.areas or ():
        details = [labelled(lang, "NAME", area.name), *area_lines(area.area, lang)]
        if area.alt_lower_m is not None and area.alt_upper_m is not None and area.datum:
            band = altitude_band(area.alt_lower_m, area.alt_upper_m, area.datum, lang)
        else:
            band = gettext(lang, "ALL ALTITUDES")
        details.append(labelled(lang, "ALTITUDE", band))
        items.append(Item(t(lang, "AREA {id}", id=area.id), details))
    declared = (
        Para(labelled(lang, "AREAS IN FORCE", len(body.areas)), items=items)
        if body.areas
        else Para(labelled(lang, "AREAS IN FORCE", gettext(lang, "NONE")))
    )
    withdrawn = ", ".join(body.withdrawn) if body.withdrawn else gettext(lang, "NONE")
    return [
        declared,
        Para(labelled(lang, "AREAS WITHDRAWN", withdrawn)),
        optional_text(lang, "REMARKS", body.remarks),
    ]


_RENDERERS: dict[type[Any], Callable[[Any, str], list[Para]]] = {
    ActivityNotice: _activity,
    IncidentReport: _incident,
    DeconflictionRequest: _request,
    DeconflictionAnswer: _answer,
    ExerciseNotification: _exercise,
    ObserverInvitation: _invitation,
    ProtectedAreas: _protected,
    ObserverAnswer: _observer_answer,
    DeconflictionConcurrence: _concurrence,
    NoticeAmendment: _amendment,
    NoticeCancellation: _cancellation,
    IncidentAccount: _account,
}


def summary(notice: NoticeBody, lang: str) -> str:
    """One line naming a notice, e.g. ``ACTIVITY NOTICE: MISSILE LAUNCH``, for references."""
    check_lang(lang)
    subject = gettext(lang, SUBJECTS[notice.type])
    if isinstance(notice, ActivityNotice):
        return f"{subject}: {gettext(lang, ACTIVITIES[notice.activity])}"
    if isinstance(notice, DeconflictionAnswer):
        return f"{subject}: {gettext(lang, ANSWERS[notice.answer])}"
    if isinstance(notice, ExerciseNotification):
        return f"{subject}: {notice.name}"
    if isinstance(notice, ObserverAnswer):
        return f"{subject}: {gettext(lang, OBSERVER_ANSWERS[notice.answer])}"
    return subject


def free_texts(notice: NoticeBody, lang: str) -> list[tuple[str, str]]:
    """The free text a notice carries, as ``(label in lang, text)``, in rendering order.

    Renderings leave free text in the sender's language; these are the parts a
    translator (or a machine draft) has to translate.
    """
    check_lang(lang)
    named = {
        ActivityNotice: ("remarks", N_("REMARKS")),
        IncidentReport: ("description", N_("DESCRIPTION")),
        DeconflictionRequest: ("concern", N_("CONCERN")),
        DeconflictionAnswer: ("reason", N_("REASON")),
        ExerciseNotification: ("remarks", N_("REMARKS")),
        ProtectedAreas: ("remarks", N_("REMARKS")),
        ObserverAnswer: ("reason", N_("REASON")),
        DeconflictionConcurrence: ("reason", N_("REASON")),
        NoticeAmendment: ("reason", N_("REASON")),
        NoticeCancellation: ("reason", N_("REASON")),
    }
    if isinstance(notice, IncidentAccount):
        return _account_texts(notice, lang)
    if isinstance(notice, ObserverInvitation):
        label = gettext(lang, "PROGRAMME")
        return [(f"{label}, {format_dtg(i.time, lang)}", i.activity) for i in notice.programme]
    field, msgid = named.get(type(notice), ("", ""))
    text = getattr(notice, field, None) if field else None
    return [(gettext(lang, msgid), text)] if text else []


def _account_texts(notice: IncidentAccount, lang: str) -> list[tuple[str, str]]:
    """An account's narratives in the other language than ``lang``'s, to translate."""
    label = gettext(lang, "NARRATIVE")
    narratives = [(label, notice.narrative)]
    for event in notice.events:
        kind = gettext(lang, EVENT_KINDS[event.kind])
        narratives.append((f"{label}, {kind}", event.narrative))
    out = []
    for name, narrative in narratives:
        if narrative is None:
            continue
        text = narrative.en if narrative.en is not None else narrative.ru
        if text is not None:
            out.append((name, text))
    return out


def render(
    notice: NoticeBody,
    lang: str,
    *,
    sender: str | None = None,
    receiver: str | None = None,
    message_id: str | None = None,
    sent_at: datetime | None = None,
    phrasebook: Phrasebook | None = None,
) -> str:
    """The formatted-message text of ``notice`` in ``lang`` (``en`` or ``ru``).

    Envelope facts (``sender``, ``receiver``, ``message_id``, ``sent_at``) fill the
    header; any not given shows as ``—``. A coded message is looked up in
    ``phrasebook`` (default: the packaged one) and refused if it was sent with another.
    """
    check_lang(lang)
    if isinstance(notice, CodedMessage):
        paras = _coded(notice, lang, phrasebook or Phrasebook.default())
    else:
        paras = _RENDERERS[type(notice)](notice, lang)
    head = header(
        lang,
        SUBJECTS[notice.type],
        sender=sender,
        receiver=receiver,
        message_id=message_id,
        sent_at=sent_at,
    )
    return layout(head, paras, lang)
