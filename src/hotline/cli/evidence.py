"""``hotline evidence …`` and ``hotline verify``: export evidence, exchange checkpoints, check.

``export`` works on the node's folder and database directly (the node need not run);
``exchange``, ``status`` and ``forks`` talk to the running node's operator API;
``verify`` needs the bundle file only — no node, no database, no network.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hotline.cli.common import (
    DirOpt,
    JsonOpt,
    UrlOpt,
    UserOpt,
    echo,
    friendly,
    node_client,
    opened_node,
    print_json,
)
from hotline.client import ApiError
from hotline.errors import HotlineError

if TYPE_CHECKING:
    from hotline.services.evidence.verify import Verdict

evidence_app = typer.Typer(
    help="Evidence: checkpoints co-signed by peers, bundles anyone can verify offline."
)


def _api(directory: Path, url: str | None, user: str | None, method: str, path: str) -> Any:
    with node_client(directory, url, user) as client:
        return client.request(method, path)


@evidence_app.command("export")
@friendly
def export(
    out: Annotated[Path, typer.Option("--out", help="File to write the bundle to")],
    directory: DirOpt,
    message: Annotated[
        str | None,
        typer.Option("--message", help="Id of the message to prove (or its first 8 characters)"),
    ] = None,
    case: Annotated[
        str | None,
        typer.Option("--case", help="Prove every message of this incident case (one set)"),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option("--from", help="Prove every message created from this time (with --to)"),
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="... to this time, inclusive (RFC 3339 UTC)")
    ] = None,
    allow_uncosigned: Annotated[
        bool,
        typer.Option(
            "--allow-uncosigned",
            help="No co-signed checkpoint covers it yet: sign one with this node's key only "
            "(the bundle says so, and verify refuses it unless told to accept that)",
        ),
    ] = False,
) -> None:
    """Write evidence from the node's database (node need not run): one message's bundle
    (--message), or one set proving every message of a case (--case) or a window
    (--from/--to)."""
    from hotline.services.evidence.bundle import export_bundle
    from hotline.services.evidence.sets import export_set, window
    from hotline.storage import messages as message_store

    chosen = [message is not None, case is not None, start is not None or end is not None]
    if sum(chosen) != 1 or (chosen[2] and (start is None or end is None)):
        echo("error: give one of --message ID, --case ID, or --from T --to T", err=True)
        raise typer.Exit(2)
    with opened_node(directory) as node:
        if message is not None:
            with node.db.read() as conn:
                message = message_store.resolve(conn, message) or message
            raw = export_bundle(node.evidence, message, allow_uncosigned=allow_uncosigned)
        else:
            if case is not None:
                ids, scope = node.cases.message_ids(case), {"case": case}
            else:
                assert start is not None and end is not None
                ids, scope = window(node.evidence, start, end)
            raw = export_set(node.evidence, ids, scope, allow_uncosigned=allow_uncosigned)
    _write(out, raw)
    bundle = json.loads(raw)
    if message is None:
        what = f"case {case}" if case else f"{bundle['scope']['from']} to {bundle['scope']['to']}"
        echo(f"wrote {out}: {len(bundle['bundles'])} messages of {what}, one bundle each")
    else:
        how = "co-signed by both nodes" if bundle["cosigned"] else "signed by this node ONLY"
        echo(
            f"wrote {out}: message {message}, {len(bundle['entries'])} log entries, "
            f"checkpoint {how}"
        )
    echo(f"check it anywhere with: hotline verify {out}")


def _write(out: Path, raw: bytes) -> None:
    partial = out.with_name(out.name + ".partial")
    try:
        partial.write_bytes(raw)
        partial.replace(out)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        echo(f"error: cannot write {out}: {exc.strerror}", err=True)
        echo("hint: check that the folder exists and is writable", err=True)
        raise typer.Exit(2) from None


@evidence_app.command("exchange")
@friendly
def exchange(
    directory: DirOpt,
    peer: Annotated[str | None, typer.Option(help="Only this peer (default: every peer)")] = None,
    json_: JsonOpt = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Sign a checkpoint now and have every peer co-sign it (exit 1 if any refuses).

    With ``--json`` a failure of the exchange as a whole (this node's own log is damaged,
    the node cannot be reached) is printed on stdout too, as
    ``{"ok": false, "results": [], "error": {"code", "message", "hint"}}``.
    """
    path = "/api/v1/log/checkpoint/exchange" + (f"?peer={peer}" if peer else "")
    try:
        answer = _api(directory, url, user, "POST", path)
    except HotlineError as exc:
        if not json_:
            raise
        code = exc.error_code if isinstance(exc, ApiError) else exc.code
        error = {"code": code, "message": exc.message, "hint": exc.hint}
        print_json({"ok": False, "results": [], "error": error})
        raise typer.Exit(1) from None
    if json_:
        print_json(answer)
    else:
        for result in answer["results"]:
            if result["ok"]:
                echo(f"{result['peer']}: co-signed size {result['size']}")
            else:
                error = result["error"] or {}
                echo(f"{result['peer']}: FAILED [{error.get('code')}] {error.get('message')}")
    if not answer["ok"]:
        raise typer.Exit(1)


@evidence_app.command("status")
@friendly
def status(
    directory: DirOpt, json_: JsonOpt = False, user: UserOpt = None, url: UrlOpt = None
) -> None:
    """The log: size, root, the last co-signed checkpoint and its age."""
    state = _api(directory, url, user, "GET", "/api/v1/log")
    if json_:
        print_json(state)
        return
    echo(f"log {state['origin']}: {state['size']} entries, root {state['root']}")
    for row in state["cosigned_by"]:
        echo(
            f"co-signed by {row['cosigner']}: size {row['size']} at {row['cosigned_at']} "
            f"({row['age_s']} s ago)"
        )
    if not state["cosigned_by"]:
        echo("no checkpoint of this log is co-signed yet")
    if state["forks"]:
        echo(f"{state['forks']} fork/rollback evidence record(s): hotline evidence forks")


@evidence_app.command("forks")
@friendly
def forks(
    directory: DirOpt, json_: JsonOpt = False, user: UserOpt = None, url: UrlOpt = None
) -> None:
    """Rollbacks and forks this node has seen, with the evidence kept."""
    rows = _api(directory, url, user, "GET", "/api/v1/log/forks")
    if json_:
        print_json(rows)
        return
    for row in rows:
        echo(f"#{row['id']} {row['detected_at']} {row['kind']} in {row['log']}'s log")
        echo(f"    {row['detail']}")
    if not rows:
        echo("no fork or rollback seen")


@friendly
def verify_command(
    file: Annotated[Path, typer.Argument(help="An evidence bundle (hotline evidence export)")],
    trust: Annotated[
        list[str] | None,
        typer.Option(help="A key fingerprint you trust (ed25519:…); repeat for each party"),
    ] = None,
    allow_uncosigned: Annotated[
        bool, typer.Option("--allow-uncosigned", help="Accept a checkpoint signed by one node")
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Check an evidence bundle offline and say what it proves.

    Exit 0: VERIFIED, every record the message should have is there; 3: INCOMPLETE, what
    is there verifies but a receipt or an acknowledgement is missing (named); 1: NOT
    VERIFIED, naming every check that failed; 2: the file cannot be read."""
    from hotline.services.evidence.verify import verify_bundle
    from hotline.services.evidence.verify_set import is_set

    try:
        raw = file.read_bytes()
    except OSError as exc:
        echo(f"error: cannot read {file}: {exc.strerror}", err=True)
        raise typer.Exit(2) from None
    if is_set(raw):
        _verify_set(file, raw, allow_uncosigned, trust or [], json_)
        return
    verdict = verify_bundle(raw, allow_uncosigned=allow_uncosigned, trusted=trust or ())
    if json_:
        print_json(verdict.to_dict())
    else:
        echo(_report(file, verdict))
    if not verdict.ok:
        raise typer.Exit(1)
    if not verdict.complete:
        raise typer.Exit(3)


def _verify_set(file: Path, raw: bytes, uncosigned: bool, trust: list[str], json_: bool) -> None:
    """A set: its own checks, then each message's verdict; exit as for one bundle."""
    from hotline.services.evidence.verify_set import verify_set

    verdict = verify_set(raw, allow_uncosigned=uncosigned, trusted=trust)
    if json_:
        print_json(verdict.to_dict())
    else:
        word = "VERIFIED" if verdict.complete else "INCOMPLETE" if verdict.ok else "NOT VERIFIED"
        scope = verdict.scope
        what = (
            f"case {scope['case']}"
            if "case" in scope
            else f"{scope.get('from')} to {scope.get('to')}"
        )
        lines = [f"{word}: {file}: evidence set of {what}, {len(verdict.messages)} messages"]
        lines += [f"  - {failure}" for failure in verdict.failed]
        if verdict.missing:
            lines += ["It lacks messages its own messages name:"]
            lines += [f"  - {missing}" for missing in verdict.missing]
        for message_id, one in verdict.messages:
            status = "VERIFIED" if one.complete else "INCOMPLETE" if one.ok else "NOT VERIFIED"
            lines += ["", f"message {message_id}: {status}", *_report(file, one).splitlines()[1:]]
        echo("\n".join(lines))
    if not verdict.ok:
        raise typer.Exit(1)
    if not verdict.complete:
        raise typer.Exit(3)


def _report(file: Path, verdict: Verdict) -> str:
    if not verdict.ok:
        lines = [f"NOT VERIFIED: {file}", f"{len(verdict.failed)} check(s) failed:"]
        lines += [f"  - {failure}" for failure in verdict.failed]
        lines.append("Nothing in this bundle should be relied on.")
        return "\n".join(lines)
    lines = [f"VERIFIED: {file}"]
    if verdict.missing:
        lines = [f"INCOMPLETE: {file}: what it holds verifies, but it lacks:"]
        lines += [f"  - {missing}" for missing in verdict.missing]
    lines += ["", "What it proves:"]
    lines += ["  " + line for sentence in verdict.proven for line in sentence.splitlines()]
    lines += ["", "What it does not prove:"]
    lines += [f"  - {caveat}" for caveat in verdict.caveats]
    return "\n".join(lines)
