"""Operator API for link health and alarms, and the Prometheus ``/metrics`` page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel, ConfigDict, Field

from hotline.api.messages import NodeDep, UserDep, current_user
from hotline.api.metrics import render_metrics
from hotline.services.line.links import parse_since

router = APIRouter(prefix="/api/v1", tags=["links and alarms"])
metrics_router = APIRouter(tags=["metrics"])


class ClearRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=2000)


@router.post("/links/{peer}/test", status_code=201, summary="Send one link test now")
def link_test(peer: str, node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.links.send_test(peer)


@router.get("/links/{peer}/tests/{test_id}", summary="One link test and its result")
def link_test_result(peer: str, test_id: str, node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.links.get_test(peer, test_id)


@router.get("/links", summary="Link report per peer: tests, availability, round trips")
def link_report(
    node: NodeDep, user: UserDep, peer: str | None = None, since: str = "30d"
) -> list[dict[str, Any]]:
    return node.links.report(peer, parse_since(since))


@router.get("/alarms", summary="Alarms, newest first (state: open or cleared)")
def alarm_list(node: NodeDep, user: UserDep, state: str | None = None) -> list[dict[str, Any]]:
    return node.alarms.listing(state)


@router.post("/alarms/{alarm_id}/clear", summary="Clear an alarm, giving the reason")
def alarm_clear(alarm_id: int, body: ClearRequest, node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.alarms.clear(alarm_id, user.name, body.reason)


@metrics_router.get(
    "/metrics", summary="Prometheus metrics (bearer token)", dependencies=[Depends(current_user)]
)
def metrics(node: NodeDep) -> Response:
    return Response(render_metrics(node), media_type=CONTENT_TYPE_LATEST)
