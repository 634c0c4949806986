"""The shift (issue 17): the handover page, its sign-off, and CSV export of the queue.

``/console/handover`` lists what the incoming officer takes over: received messages not
yet acknowledged (overdue ones counted apart), our messages the other side has not
acknowledged, FLASH messages held for a second person's approval, and open alarms. It is
a page to read together and print (the browser's print). ``/console/queue.csv`` is the
same queue as CSV for a watch log, its first line the line's classification marking
(setting ``marking``): a cell that a spreadsheet would take for a formula
(``= + - @``, tab, carriage return) is written with a leading apostrophe, since subjects
come from the other side. So is every part of a cell after a separator or a line break
(``, ; tab CR LF``): a spreadsheet under a locale whose list separator is ``;`` (Russian)
splits ``x;=HYPERLINK(…)`` into two cells whatever the quoting (the quotes of a comma CSV
are not where it looks for them), and the second would be a formula.

The sign-off (``services/handover.py``): the outgoing officer writes a note and signs
(``POST /console/handover``, the open items stored with it); the incoming officer, logged
in as themselves, reads the note and signs (``POST /console/handover/{id}/take-over``);
the outgoing officer may withdraw a sign-off nobody has taken over. The page lists the
handover history.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from hotline.services.search import MessageFilter
from hotline.web.auth import Session, node_of
from hotline.web.pages import ConsoleRoute, now_of, render, require_session
from hotline.web.views import messages as views

router = APIRouter(route_class=ConsoleRoute)
SessionDep = Annotated[Session, Depends(require_session)]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: A separator some spreadsheet may split a cell on (or a line break), followed by what
#: would start a formula there (after spaces or quotes).
_INNER_FORMULA = re.compile(r"([,;\t\r\n])(?=[\s\"']*[=+\-@])")
CSV_COLUMNS = (
    "direction", "precedence", "created", "peer", "type", "subject",
    "deadline", "seconds_left", "state", "escalations", "message_id",
)  # fmt: skip


@router.get("/handover")
def handover(request: Request, session: SessionDep) -> Response:
    node, now = node_of(request), now_of(request)
    waiting, _handled = views.inbox(node, session.lang, now)
    sent = [r for r in views.outbox(node, session.lang, now) if r.countdown]
    return render(
        request,
        "handover.html",
        session,
        waiting=waiting,
        overdue=views.own_overdue(waiting),
        sent=sent,
        held=views.held(node, session.lang),
        alarms=node.alarms.listing("open"),
        awaiting=node.handovers.awaiting(),
        history=node.handovers.history(),
    )


NoteField = Annotated[str, Form(max_length=8000)]


@router.post("/handover")
def sign_off(request: Request, session: SessionDep, note: NoteField = "") -> Response:
    """The outgoing officer signs off; what is open now is stored with the note."""
    node, now = node_of(request), now_of(request)
    waiting, _handled = views.inbox(node, session.lang, now)
    sent = [r for r in views.outbox(node, session.lang, now) if r.countdown]
    summary = {
        "unacknowledged": [r.message["id"] for r in waiting],
        "overdue": len(views.own_overdue(waiting)),
        "sent": [r.message["id"] for r in sent],
        "held": len(views.held(node, session.lang)),
        "alarms": len(node.alarms.listing("open")),
    }
    node.handovers.sign_off(session.user.name, note, summary)
    return RedirectResponse("/console/handover#signoff", status_code=303)


@router.post("/handover/{handover_id}/take-over")
def take_over(
    request: Request, handover_id: str, session: SessionDep, note: NoteField = ""
) -> Response:
    node_of(request).handovers.take_over(handover_id, session.user.name, note)
    return RedirectResponse("/console/handover#signoff", status_code=303)


@router.post("/handover/{handover_id}/withdraw")
def withdraw(request: Request, handover_id: str, session: SessionDep) -> Response:
    node_of(request).handovers.withdraw(handover_id, session.user.name)
    return RedirectResponse("/console/handover#signoff", status_code=303)


def safe_cell(value: object) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula: an apostrophe before
    a formula's start, at the cell's start and after each separator inside it.

    >>> safe_cell("x;=HYPERLINK(1)")
    "x;'=HYPERLINK(1)"
    >>> safe_cell("-5, then @ noon")
    "'-5, then @ noon"
    """
    if isinstance(value, int | float):  # a number (seconds left) stays a number
        return str(value)
    text = _INNER_FORMULA.sub(r"\1'", "" if value is None else str(value))
    return "'" + text if text.startswith(FORMULA_START) else text


@router.get("/queue.csv")
def queue_csv(request: Request, session: SessionDep) -> Response:
    """What needs action (received, then sent awaiting the other side), in queue order;
    under a search (the Watch page's query string), every matching message as the page
    lists it: the queue, sent, then received and acknowledged."""
    node, now = node_of(request), now_of(request)
    found = MessageFilter.parse(request.query_params)
    if found.active():
        hits = views.search(node, session.lang, now, found)
        rows = [*hits.waiting, *hits.sent, *hits.handled]
    else:
        waiting, _handled = views.inbox(node, session.lang, now)
        rows = [*waiting, *(r for r in views.outbox(node, session.lang, now) if r.countdown)]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(node.settings.marking)])  # the line's marking, first
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        m = row.message
        cells = [
            m["direction"], m["precedence"], m["created"], m["peer"], m["type"], row.subject,
            m["deadline"], row.seconds_left if row.countdown else "", m["state"],
            "; ".join(row.escalations), m["id"],
        ]  # fmt: skip
        writer.writerow([safe_cell(c) for c in cells])
    stamp = now.strftime("%Y%m%dT%H%MZ")
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="hotline-queue-{stamp}.csv"'},
    )
