"""Which message types the line carries, and the check each body must pass.

A type missing here is refused on sending and on receiving alike, so both nodes must
know a type before it can travel. Notice bodies carry their own ``type`` member, which
must equal the envelope's ``type``.
"""

from __future__ import annotations

from typing import Any

import pydantic
from pydantic import BaseModel

from hotline.domain.calls import CALL_MODELS
from hotline.domain.keys import KeyChange
from hotline.domain.line import AckBody, TextBody
from hotline.domain.links import LINK_MODELS, OPERATOR_TEST_TYPES
from hotline.domain.notices.models import NOTICE_MODELS, parse_notice, to_wire
from hotline.domain.tracks import TrackReportBody
from hotline.errors import ValidationError

BODY_MODELS: dict[str, type[BaseModel]] = {
    "text": TextBody,
    "ack": AckBody,
    **NOTICE_MODELS,
    **LINK_MODELS,
    **CALL_MODELS,
    "track_report": TrackReportBody,
    "key_change": KeyChange,  # a node's key rotated or revoked (protocol/keychange.py)
}

#: Types the nodes make and answer themselves; no person acknowledges them.
SYSTEM_TYPES = frozenset({"ack", "link_test", "link_test_reply", "track_report", "key_change"})

#: Steps of a call that wait on a person at the peer: acknowledged like any message, with
#: a deadline (``ack_by``) by precedence, escalating when it passes. An IMMEDIATE call
#: request nobody answers must raise the alarm (issue 15).
ANSWERED_CALL_TYPES = frozenset({"call_request", "call_answer", "watch_level"})

#: Types no person is asked to acknowledge (no deadline, no escalation): the nodes' own
#: messages, and the other steps of a call (a withdrawal, a record, a readout …).
NO_ACK_TYPES = SYSTEM_TYPES | (frozenset(CALL_MODELS) - ANSWERED_CALL_TYPES) | {"escalation"}
NO_ACK_TYPES |= OPERATOR_TEST_TYPES  # an operator test's answer is its own

#: Types a person may send through ``Line.send``; the calls service sends its own.
OPERATOR_TYPES = frozenset(BODY_MODELS) - NO_ACK_TYPES - frozenset(CALL_MODELS)


def check_body(type_: str, body: Any) -> dict[str, Any]:
    """Validate ``body`` for ``type_``; return it as the plain JSON that gets signed."""
    model = BODY_MODELS.get(type_)
    if model is None:
        known = ", ".join(sorted(BODY_MODELS))
        raise ValidationError(f"unknown message type {type_!r}", hint=f"known types: {known}")
    if type_ in NOTICE_MODELS:
        return _check_notice(type_, body)
    try:
        return model.model_validate(body).model_dump(mode="json")
    except pydantic.ValidationError as exc:
        problems = "; ".join(
            f"body.{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}"
            for e in exc.errors()[:5]
        )
        raise ValidationError(f"invalid {type_} body: {problems}") from exc


def _check_notice(type_: str, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ValidationError(f"a {type_} body must be a JSON object")
    if body.get("type", type_) != type_:
        raise ValidationError(
            f"body.type is {body.get('type')!r} but the message type is {type_!r}",
            field="type",
        )
    try:
        return to_wire(parse_notice({**body, "type": type_}))
    except ValidationError as exc:
        raise ValidationError(f"invalid {type_}: {exc.message}", hint=exc.hint) from exc


def is_notice(type_: str) -> bool:
    return type_ in NOTICE_MODELS
