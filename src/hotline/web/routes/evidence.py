"""The evidence page: the log's state, checkpoints exchanged, forks kept, and bundles.

The state and the forks come from ``node.evidence`` as ``GET /api/v1/log`` shows them;
a bundle is built by the very function ``hotline evidence export`` uses
(:func:`~hotline.services.evidence.bundle.export_bundle`), which verifies it before it
hands it out, so the file downloaded here is byte for byte what the CLI would write at
the same moment. Any logged-in person may read the page and download bundles — an
``auditor`` included; **Exchange now** asks the peers to co-sign, as the API does.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from hotline.node import Node
from hotline.render.i18n import N_
from hotline.services.evidence.bundle import export_bundle
from hotline.web.auth import Session, node_of
from hotline.web.pages import ConsoleRoute, render, require_session

router = APIRouter(route_class=ConsoleRoute)
SessionDep = Annotated[Session, Depends(require_session)]

#: Without a schedule, a co-signature older than this looks stale (seconds).
STALE_WITHOUT_SCHEDULE_S = 3600
RECENT = 10

#: Kinds of fork evidence (``docs/evidence.md``), as the page names them.
FORK_LABELS = {
    "rollback": N_("rollback"),
    "fork": N_("fork"),
    "damaged": N_("damaged (this node's own log)"),
    "refused": N_("refused by the other side"),
}


def stale_after_s(node: Node) -> int:
    """Age past which the last co-signed checkpoint is shown as a warning: three missed
    exchanges (``checkpoint_interval_s``), or an hour when the schedule is off."""
    interval = node.settings.checkpoint_interval_s
    return 3 * interval if interval > 0 else STALE_WITHOUT_SCHEDULE_S


def exchanged(node: Node) -> dict[str, Any]:
    """Checkpoints of both sides' logs with two signatures, and our latest signed ones."""
    return node.evidence.exchanged(RECENT)


def _page(request: Request, session: Session, results: list[dict[str, Any]] | None) -> Response:
    node = node_of(request)
    state = node.evidence.state()
    last = state["last_cosigned"]
    alarms = [a for a in node.alarms.listing() if a["kind"] == "log_fork"]
    return render(
        request,
        "evidence.html",
        session,
        state=state,
        stale=last is None or last["age_s"] > stale_after_s(node),
        stale_after_s=stale_after_s(node),
        exchanged=exchanged(node),
        forks=node.evidence.forks(50),
        alarms=sorted(alarms, key=lambda a: a["state"] != "open"),
        results=results,
        fork_labels=FORK_LABELS,
    )


@router.get("/evidence")
def evidence_page(request: Request, session: SessionDep) -> Response:
    return _page(request, session, None)


@router.post("/evidence/exchange")
def exchange_now(request: Request, session: SessionDep) -> Response:
    """Sign a checkpoint now and have every peer co-sign it; the page shows each answer."""
    return _page(request, session, node_of(request).evidence.exchange())


def _bundle(node: Node, message_id: str, allow_uncosigned: bool) -> Response:
    raw = export_bundle(node.evidence, message_id, allow_uncosigned=allow_uncosigned)
    name = f"evidence-{node.identity.party}-{message_id}.json"
    return Response(
        raw,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/messages/{message_id}/evidence")
def download_bundle(request: Request, message_id: str, session: SessionDep) -> Response:
    """The bundle, proven by a checkpoint the peer co-signed (refused, with a hint, if none
    covers the message yet)."""
    return _bundle(node_of(request), message_id, False)


@router.post("/evidence/bundle")
def export_any(
    request: Request,
    session: SessionDep,
    message_id: Annotated[str, Form(max_length=100)],
    allow_uncosigned: Annotated[str, Form()] = "",
) -> Response:
    """From the evidence page: any message by id, optionally signed by this node only
    (which signs a fresh checkpoint, hence a POST)."""
    if allow_uncosigned != "on":
        target = quote(message_id.strip(), safe="")
        return RedirectResponse(f"/console/messages/{target}/evidence", status_code=303)
    return _bundle(node_of(request), message_id.strip(), True)
