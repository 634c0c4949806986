"""``hotline case …``: open an incident case, add this side's account, show and list cases.

The statements come from a JSON file: ``{"events": [...], "title": ..., "narrative":
{...}}`` (``docs/cases.md``); the command adds the case id and its origin and sends the
account as a notice through the running node's operator API (``POST /api/v1/notices``),
so the notice rules and the two-person rule for FLASH apply as to any notice.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated, Any

import typer

from hotline.cli.attachments import upload_file
from hotline.cli.common import (
    DirOpt,
    JsonOpt,
    UrlOpt,
    UserOpt,
    echo,
    friendly,
    node_client,
    print_json,
    read_json_file,
)
from hotline.cli.held import print_held
from hotline.client import NodeClient
from hotline.errors import ValidationError

case_app = typer.Typer(help="Incident cases: each side's account side by side, differences.")

PrecedenceOpt = Annotated[str, typer.Option(help="FLASH, IMMEDIATE, PRIORITY or ROUTINE")]
AttachOpt = Annotated[
    list[Path] | None,
    typer.Option("--attach", help="A file to carry with the account (repeatable)"),
]
STATEMENT_FIELDS = ("events", "title", "narrative")


def _statements(path: Path) -> dict[str, Any]:
    """The account's own statements from the file; nothing else may be in it."""
    found = read_json_file(path, "account file")
    if not isinstance(found, dict):
        raise ValidationError("the account file holds a JSON object with events")
    extra = sorted(set(found) - set(STATEMENT_FIELDS))
    if extra:
        raise ValidationError(
            f"the account file may hold {', '.join(STATEMENT_FIELDS)} only, not {', '.join(extra)}",
            hint="the case id and its origin are filled in by the command",
        )
    return found


def _send(
    client: NodeClient,
    to: str,
    body: dict[str, Any],
    precedence: str,
    json_: bool,
    attach: list[Path] | None = None,
) -> None:
    request: dict[str, Any] = {"to": to, "notice": body, "precedence": precedence.upper()}
    if attach:
        request["attachments"] = [upload_file(client, path) for path in attach]
    sent = client.post("/api/v1/notices", request)
    _sent(sent, body["case"], to, json_)


def _sent(sent: dict[str, Any], case_id: str, to: str, json_: bool) -> None:
    if json_:
        print_json(sent)
        return
    if sent.get("state") == "held":
        print_held(sent)
        return
    message = sent["message"]
    echo(f"case {case_id}: account queued as {message['id']} to {to}")
    for ref in message.get("attachments") or ():
        echo(f"  attached {ref['name']} (SHA-256 {ref['sha256']})")
    echo(f"see it with: hotline case show {case_id}")


@case_app.command("open")
@friendly
def case_open(
    account_file: Annotated[Path, typer.Argument(help="This side's statements (JSON)")],
    to: Annotated[str, typer.Option(help="The other party of the case")],
    directory: DirOpt,
    from_report: Annotated[
        str | None, typer.Option("--from-report", help="An incident report's message id")
    ] = None,
    from_conflict: Annotated[
        str | None, typer.Option("--from-conflict", help="A conflict id")
    ] = None,
    from_incursion: Annotated[
        str | None, typer.Option("--from-incursion", help="An incursion alarm's id")
    ] = None,
    from_alarm: Annotated[str | None, typer.Option("--from-alarm", help="An alarm's id")] = None,
    attach: AttachOpt = None,
    precedence: PrecedenceOpt = "IMMEDIATE",
    json_: JsonOpt = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Open a case with this side's account, from a report, conflict, incursion or alarm."""
    origins = {
        "incident_report": from_report,
        "conflict": from_conflict,
        "incursion": from_incursion,
        "alarm": from_alarm,
    }
    given = [(kind, ref) for kind, ref in origins.items() if ref is not None]
    if len(given) != 1:
        echo(
            "error: give one of --from-report, --from-conflict, --from-incursion, --from-alarm",
            err=True,
        )
        raise typer.Exit(2)
    kind, ref = given[0]
    body = {
        "type": "incident_account",
        "case": str(uuid.uuid4()),
        "opened_from": {"kind": kind, "ref": ref},
        **_statements(account_file),
    }
    with node_client(directory, url, user) as client:
        if kind == "incident_report":
            body["opened_from"]["ref"] = _whole_id(client, str(ref))
        _send(client, to, body, precedence, json_, attach)


def _whole_id(client: NodeClient, given: str) -> str:
    from hotline.cli.common import whole_message_id

    return whole_message_id(client, given)


@case_app.command("account")
@friendly
def case_account(
    case_id: Annotated[str, typer.Argument(help="The case")],
    account_file: Annotated[Path, typer.Argument(help="This side's statements (JSON)")],
    directory: DirOpt,
    attach: AttachOpt = None,
    precedence: PrecedenceOpt = "IMMEDIATE",
    json_: JsonOpt = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Join a case with this side's account, or amend it (a new version; earlier ones kept)."""
    with node_client(directory, url, user) as client:
        case = client.get(f"/api/v1/cases/{case_id}")
        me = client.get("/api/v1/status")["party"]
        to = case["other"] if case["opened_by"] == me else case["opened_by"]
        body = {
            "type": "incident_account",
            "case": case["id"],
            "opened_from": case["opened_from"],
            **_statements(account_file),
        }
        if me in case["openings"]:  # we opened it (both did, if contested): our origin
            body["opened_from"] = case["accounts"][me]["versions"][0]["body"]["opened_from"]
        else:  # joining: name the account that opened the case
            body["joins"] = case["opening_message"]
        _send(client, to, body, precedence, json_, attach)


@case_app.command("tracks")
@friendly
def case_tracks(
    case_id: Annotated[str, typer.Argument(help="The case")],
    directory: DirOpt,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the GeoJSON export here")
    ] = None,
    radius_nm: Annotated[float, typer.Option("--radius-nm", help="NM around each event")] = 20.0,
    minutes: Annotated[
        int, typer.Option(help="Minutes before the first and after the last event")
    ] = 15,
    attach: Annotated[
        bool, typer.Option("--attach", help="Attach it to our account (a new version)")
    ] = False,
    precedence: PrecedenceOpt = "IMMEDIATE",
    json_: JsonOpt = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Our recorded tracks around the case's events, as GeoJSON; --attach sends them."""
    if output is None and not attach:
        echo("error: give -o FILE, --attach, or both", err=True)
        raise typer.Exit(2)
    query = f"radius_nm={radius_nm}&minutes={minutes}"
    with node_client(directory, url, user) as client:
        if output is not None:
            data = client.download(f"/api/v1/cases/{case_id}/tracks?{query}")
            output.write_bytes(data)
            if not json_:
                echo(f"wrote {len(data)} bytes to {output}")
        if attach:
            sent = client.post(
                f"/api/v1/cases/{case_id}/tracks",
                {"radius_nm": radius_nm, "minutes": minutes, "precedence": precedence.upper()},
            )
            to = sent["message"]["peer"] if "message" in sent else sent.get("peer", "")
            _sent(sent, case_id, to, json_)


@case_app.command("show")
@friendly
def case_show(
    case_id: Annotated[str, typer.Argument(help="The case")],
    directory: DirOpt,
    json_: JsonOpt = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """A case: each side's current account, the differences, earlier versions, rejections."""
    with node_client(directory, url, user) as client:
        case = client.get(f"/api/v1/cases/{case_id}")
    if json_:
        print_json(case)
        return
    echo("\n".join(case_lines(case)))


def case_lines(case: dict[str, Any]) -> list[str]:
    """A case in plain lines, for the terminal."""
    origin = case["opened_from"]
    lines = [
        f"CASE {case['id']}" + (f": {case['title']}" if case["title"] else ""),
        f"opened by {case['opened_by']} at {case['opened_at']} "
        f"from {origin['kind']} {origin['ref']}",
    ]
    for party, accounts in case["accounts"].items():
        current = accounts["current"]
        lines.append(f"{party}: " + (f"version {current}" if current else "no account yet"))
        for version in accounts["versions"]:
            for e in version["body"]["events"]:
                where = f"{e['position'][1]} N/S, {e['position'][0]} E/W"
                lines.append(f"  v{version['version']} {e['time']} {_key(e)} at {where}")
    differences = case["differences"]
    if differences:
        first, second = differences["first"], differences["second"]
        lines.append(f"differences ({second} minus {first}):")
        for d in differences["both"]:
            lines.append(
                f"  {d['key']}: {d['time_delta_s']:+d} s, {d['distance_nm']:.3f} NM "
                f"({d['distance_m']:.1f} m)"
            )
        for e in differences["only"]:
            lines.append(f"  {_key(e)}: stated by {e['party']} only, at {e['time']}")
    for r in case["rejected"]:
        lines.append(f"REJECTED {r['message_id']} from {r['from']}: {r['reason']}")
    lines += file_lines(case)
    return lines


def file_lines(case: dict[str, Any]) -> list[str]:
    """Each side's files (current version first named), with their state here, and the
    comparison of the two sides' track histories."""
    lines = []
    for party, accounts in case["accounts"].items():
        for version in accounts["versions"]:
            for ref in version["attachments"]:
                state = case["files"].get(ref["sha256"], {}).get("state", "missing")
                lines.append(
                    f"FILE {party} v{version['version']}: {ref['name']} {ref['content_type']} "
                    f"{ref['size']} bytes SHA-256 {ref['sha256']} {state}"
                )
    compared = case.get("track_comparison")
    if compared:
        first, second = compared["first"], compared["second"]
        lines.append(f"tracks ({second} minus {first}, within {compared['tolerance_s']:g} s):")
        for t in compared["tracks"]:
            if not t["compared"]:
                lines.append(f"  {t['track']}: no times in common")
                continue
            lines.append(
                f"  {t['track']}: {t['compared']} times, max {t['max_nm']:.3f} NM "
                f"({t['max_m']:.1f} m), mean {t['mean_m']:.1f} m"
            )
        for o in compared["only"]:
            lines.append(f"  {o['track']}: in {o['party']}'s export only")
    return lines


def _key(event: dict[str, Any]) -> str:
    return f"other ({event['label']})" if event["kind"] == "other" else str(event["kind"])


@case_app.command("list")
@friendly
def case_list(
    directory: DirOpt, json_: JsonOpt = False, user: UserOpt = None, url: UrlOpt = None
) -> None:
    """Every case, newest first."""
    with node_client(directory, url, user) as client:
        cases = client.get("/api/v1/cases")
    if json_:
        print_json(cases)
        return
    if not cases:
        echo("no cases")
    for c in cases:
        versions = ", ".join(f"{p} v{n}" for p, n in c["versions"].items())
        echo(
            f"{c['id']}  {c['opened_at']}  {c['opened_by']}→{c['other']}  {versions}  "
            f"{c['title'] or ''}"
        )
