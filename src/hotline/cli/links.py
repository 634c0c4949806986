"""``hotline link test``, ``hotline link report``, ``hotline link operator-test``,
``operator-tests`` and ``answer``, ``hotline alarms`` and ``hotline clear-alarm``: the
state of the links to the peers, through the running node."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Column, Table

from hotline.cli.common import (
    DirOpt,
    JsonOpt,
    UrlOpt,
    UserOpt,
    friendly,
    node_client,
    out,
    plain,
    print_json,
)
from hotline.cli.safety import alarm_summary

link_app = typer.Typer(help="Link tests: run one now, or report availability and round trips.")


@link_app.command("test")
@friendly
def link_test(
    directory: DirOpt,
    peer: Annotated[str | None, typer.Option(help="Only this peer (default: every peer)")] = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait for the answer")] = 130.0,
    json_: JsonOpt = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Send a link test now and print its result (exit 1 if any fails)."""
    import time

    with node_client(directory, url, user) as client:
        parties = [peer] if peer else [p["party"] for p in client.get("/api/v1/peers")]
        tests = [client.post(f"/api/v1/links/{p}/test") for p in parties]
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and any(t["state"] == "pending" for t in tests):
            time.sleep(0.25)
            tests = [client.get(f"/api/v1/links/{t['peer']}/tests/{t['id']}") for t in tests]
    if json_:
        print_json(tests)
    for test in tests:
        if not json_:
            rtt = f"{test['rtt_ms']} ms" if test["rtt_ms"] is not None else "-"
            out.print(
                plain(f"{test['peer']}: {test['state']}  round trip {rtt}  {test['reason'] or ''}")
            )
    if any(t["state"] != "passed" for t in tests):
        raise typer.Exit(1)


@link_app.command("report")
@friendly
def link_report(
    directory: DirOpt,
    peer: Annotated[str | None, typer.Option(help="Only this peer")] = None,
    since: Annotated[str, typer.Option(help="Window, e.g. 30d, 12h")] = "30d",
    json_: JsonOpt = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """State (from every signal), availability (time up over time observed, from signed
    evidence), tests sent and passed, round trips, longest outage."""
    with node_client(directory, url, user) as client:
        rows = client.get("/api/v1/links", peer=peer, since=since)
    if json_:
        print_json(rows)
        return
    table = Table(
        "peer",
        "state",
        "sent",
        "passed",
        "availability",
        "rtt p50/p95/max ms",
        "longest outage",
        "down since / last error",
        title=f"links, last {since}",
    )
    for row in rows:
        rtts = [row["rtt_ms"][k] for k in ("p50", "p95", "max")]
        rtt = "/".join("-" if v is None else str(v) for v in rtts)
        avail = "-" if row["availability_pct"] is None else f"{row['availability_pct']}%"
        down = row["availability"]["down_s"]
        trouble = f"{row['since']}: {row['last_error']}" if row.get("since") else ""
        table.add_row(
            row["peer"],
            row["state"],
            str(row["sent"]),
            str(row["passed"]),
            f"{avail} ({down} s down)",
            rtt,
            f"{row['longest_outage_s']} s",
            plain(trouble),
        )
    out.print(table)


@friendly
def alarms(
    directory: DirOpt,
    state: Annotated[str | None, typer.Option(help="open or cleared")] = None,
    json_: JsonOpt = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Alarms, newest first: kind, subject, raised, state (history kept)."""
    with node_client(directory, url, user) as client:
        rows = client.get("/api/v1/alarms", state=state)
    if json_:
        print_json(rows)
        return
    table = Table(
        "id", "kind", "subject", Column("raised", no_wrap=True), "state", "cleared by / reason"
    )
    for row in rows:
        cleared = f"{row['cleared_by']}: {row['clear_reason']}" if row["cleared_by"] else ""
        summary = alarm_summary(row)  # the picture's alarms say when, where, how far
        alert = row["detail"].get("alert_role_en") if row["kind"] == "ack_overdue" else None
        subject = row["subject"] + (f"\n{summary}" if summary else "")
        subject += f"\nalert: {alert}" if alert else ""  # our rung to call
        table.add_row(
            str(row["id"]), row["kind"], plain(subject), row["raised_at"], row["state"],
            plain(cleared),
        )  # fmt: skip
    out.print(table)


@friendly
def clear_alarm(
    alarm_id: Annotated[int, typer.Argument(help="Alarm id")],
    reason: Annotated[str, typer.Option(help="Why it is cleared (kept in the history)")],
    directory: DirOpt,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Clear an alarm, saying why."""
    with node_client(directory, url, user) as client:
        row = client.post(f"/api/v1/alarms/{alarm_id}/clear", {"reason": reason})
    out.print(f"alarm {row['id']} cleared by {row['cleared_by']} after {row['duration_s']} s")


@link_app.command("operator-test")
@friendly
def operator_test(
    directory: DirOpt,
    peer: Annotated[str, typer.Option(help="The peer whose officer must answer")],
    json_: JsonOpt = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Send an operator test now: a person on the other side must answer it in time."""
    with node_client(directory, url, user) as client:
        test = client.post(f"/api/v1/links/{peer}/operator-test")
    if json_:
        print_json(test)
        return
    out.print(plain(f"operator test {test['id']} to {test['peer']}: answer by {test['answer_by']}"))


@link_app.command("operator-tests")
@friendly
def operator_tests(
    directory: DirOpt,
    direction: Annotated[
        str | None, typer.Option(help="in: the peers' tests for us to answer; out: ours")
    ] = None,
    state: Annotated[str | None, typer.Option(help="pending, answered, unanswered …")] = None,
    json_: JsonOpt = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Operator tests, newest first, with their deadlines and who answered."""
    with node_client(directory, url, user) as client:
        rows = client.get("/api/v1/operator-tests", direction=direction, state=state)
    if json_:
        print_json(rows)
        return
    table = Table(
        Column("id", no_wrap=True), "direction", "peer", Column("answer by", no_wrap=True),
        "state", "answered by",
    )  # fmt: skip
    for row in rows:
        table.add_row(
            row["id"], row["direction"], row["peer"], row["answer_by"], row["state"],
            plain(row["answered_by"] or ""),
        )  # fmt: skip
    out.print(table)


@link_app.command("answer")
@friendly
def answer(
    test_id: Annotated[str, typer.Argument(help="The peer's operator test (its id)")],
    directory: DirOpt,
    json_: JsonOpt = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Answer the peer's operator test: you, a person, are on the line."""
    with node_client(directory, url, user) as client:
        test = client.post(f"/api/v1/operator-tests/{test_id}/answer")
    if json_:
        print_json(test)
        return
    out.print(
        plain(f"operator test {test['id']} from {test['peer']} answered by {test['answered_by']}")
    )
