"""Operator API for link health and alarms, and the Prometheus ``/metrics`` page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import Field

from hotline.api.deps import NodeDep, StrictBody, UserDep, current_user
from hotline.api.metrics import render_metrics
from hotline.api.schemas import Rendering
from hotline.responses import ERRORS, JsonObject, Out, RowId, TypedRouter, text_answer
from hotline.services.line.links import parse_since

router = TypedRouter(prefix="/api/v1", tags=["links and alarms"])
metrics_router = APIRouter(tags=["metrics"], responses=ERRORS)


class ClearRequest(StrictBody):
    reason: str = Field(min_length=1, max_length=2000)


class LinkTest(Out):
    id: str = Field(description="the test id carried in the message")
    peer: str
    message_id: str = Field(description="the link_test envelope")
    sent_at: str
    state: str = Field(description="pending | passed | failed")
    reply_at: str | None
    rtt_ms: int | None
    failed_at: str | None
    reason: str | None


class RoundTrips(Out):
    p50: int | None
    p95: int | None
    max: int | None


class RouteState(Out):
    state: str = Field(description="up | degraded | down | unknown")
    since: str | None = Field(description="the first failure of the outage, while not up")
    last_error: str | None
    last_success_at: str | None


class Availability(Out):
    observed_from: str | None = Field(description="the window's start or first message")
    observed_to: str
    observed_s: int
    down_s: int
    down: list[list[str]] = Field(description="[start, end] of each span down, merged")


class LinkReport(Out):
    peer: str
    sent: int
    passed: int
    failed: int
    availability_pct: int | float | None = Field(
        description="time up over time observed, from signed evidence (docs/operator-guide.md)"
    )
    availability: Availability
    tests_passed_pct: int | float | None = Field(description="share of decided tests passed")
    rtt_ms: RoundTrips
    last_rtt_ms: int | None
    longest_outage_s: int
    state: str = Field(description="up | degraded | down | unknown: the worst route's")
    since: str | None = Field(description="the first failure of the current outage")
    last_error: str | None
    routes: dict[str, RouteState] | None = Field(
        description="send (deliveries, checkpoints) and answer (link tests answered)"
    )
    last_test: str | None
    schedule: str = Field(description='"06:00, 18:00 UTC" or "every 3600 s"')
    next_test: str


class Alarm(Out):
    id: int
    kind: str = Field(description="link_down | ack_overdue | log_fork …")
    subject: str = Field(description="a peer, a message id …")
    raised_at: str
    state: str = Field(description="open | cleared")
    detail: JsonObject
    cleared_at: str | None
    cleared_by: str | None = Field(description='a user, or "auto"')
    clear_reason: str | None
    duration_s: int | None
    seen_by: str | None = Field(None, description="who acknowledged (silenced) it, if anyone")
    seen_at: str | None = None


@router.post(
    "/links/{peer}/test",
    status_code=201,
    summary="Send one link test now",
    response_model=LinkTest,
)
def link_test(peer: str, node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.links.send_test(peer)


@router.get(
    "/links/{peer}/tests/{test_id}",
    summary="One link test and its result",
    response_model=LinkTest,
)
def link_test_result(peer: str, test_id: str, node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.links.get_test(peer, test_id)


@router.get(
    "/links",
    summary="Link report per peer: state, availability (time up), tests, round trips",
    response_model=list[LinkReport],
)
def link_report(
    node: NodeDep, user: UserDep, peer: str | None = None, since: str = "30d"
) -> list[dict[str, Any]]:
    return node.links.report(peer, parse_since(since))


class OperatorTest(Out):
    id: str = Field(description="the test id carried in the message")
    direction: str = Field(description="out: ours to the peer; in: the peer's, for us to answer")
    peer: str
    message_id: str = Field(description="the operator_test envelope")
    sent_at: str
    answer_by: str = Field(description="the deadline the sender signed")
    state: str = Field(description="pending | answered | unanswered | answered_late")
    answered_at: str | None = Field(description="the answer's signed creation time")
    answered_by: str | None = Field(description="the officer who answered")
    answer_message_id: str | None
    text: str = Field(description="the alphabet of the sender's language, as sent")
    digits: str
    rendering: Rendering


@router.post(
    "/links/{peer}/operator-test",
    status_code=201,
    summary="Send an operator test now: a person on the other side must answer it",
    response_model=OperatorTest,
)
def operator_test(peer: str, node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.operator_tests.send(peer)


@router.get(
    "/operator-tests",
    summary="Operator tests, newest first (direction: in or out; state)",
    response_model=list[OperatorTest],
)
def operator_tests(
    node: NodeDep, user: UserDep, direction: str | None = None, state: str | None = None
) -> list[dict[str, Any]]:
    return node.operator_tests.listing(direction, state)


@router.post(
    "/operator-tests/{test_id}/answer",
    summary="Answer the peer's operator test (the officer is the logged-in user)",
    response_model=OperatorTest,
)
def operator_test_answer(test_id: str, node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.operator_tests.answer(test_id, user.name)


@router.get(
    "/alarms",
    summary="Alarms, newest first (state: open or cleared)",
    response_model=list[Alarm],
)
def alarm_list(node: NodeDep, user: UserDep, state: str | None = None) -> list[dict[str, Any]]:
    return node.alarms.listing(state)


@router.post(
    "/alarms/{alarm_id}/clear", summary="Clear an alarm, giving the reason", response_model=Alarm
)
def alarm_clear(
    alarm_id: RowId, body: ClearRequest, node: NodeDep, user: UserDep
) -> dict[str, Any]:
    return node.alarms.clear(alarm_id, user.name, body.reason)


@router.post(
    "/alarms/{alarm_id}/seen",
    summary="Acknowledge an alarm (seen by; its sound stops, it stays open)",
    response_model=Alarm,
)
def alarm_seen(alarm_id: RowId, node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.alarms.acknowledge(alarm_id, user.name)


@metrics_router.get(
    "/metrics",
    summary="Prometheus metrics (bearer token)",
    dependencies=[Depends(current_user)],
    response_class=Response,
    responses=text_answer(CONTENT_TYPE_LATEST.split(";")[0]),
)
def metrics(node: NodeDep) -> Response:
    return Response(render_metrics(node), media_type=CONTENT_TYPE_LATEST)
