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
    message: Annotated[
        str,
        typer.Option("--message", help="Id of the message to prove (or its first 8 characters)"),
    ],
    out: Annotated[Path, typer.Option("--out", help="File to write the bundle to")],
    directory: DirOpt,
    allow_uncosigned: Annotated[
        bool,
        typer.Option(
            "--allow-uncosigned",
            help="No co-signed checkpoint covers it yet: sign one with this node's key only "
            "(the bundle says so, and verify refuses it unless told to accept that)",
        ),
    ] = False,
) -> None:
    """Write one message's evidence bundle, from the node's database (node need not run)."""
    from hotline.services.evidence.bundle import export_bundle
    from hotline.storage import messages as message_store

    with opened_node(directory) as node:
        with node.db.read() as conn:
            message = message_store.resolve(conn, message) or message
        raw = export_bundle(node.evidence, message, allow_uncosigned=allow_uncosigned)
    partial = out.with_name(out.name + ".partial")
    try:
        partial.write_bytes(raw)
        partial.replace(out)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        echo(f"error: cannot write {out}: {exc.strerror}", err=True)
        echo("hint: check that the folder exists and is writable", err=True)
        raise typer.Exit(2) from None
    bundle = json.loads(raw)
    how = "co-signed by both nodes" if bundle["cosigned"] else "signed by this node ONLY"
    echo(f"wrote {out}: message {message}, {len(bundle['entries'])} log entries, checkpoint {how}")
    echo(f"check it anywhere with: hotline verify {out}")


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

    try:
        raw = file.read_bytes()
    except OSError as exc:
        echo(f"error: cannot read {file}: {exc.strerror}", err=True)
        raise typer.Exit(2) from None
    verdict = verify_bundle(raw, allow_uncosigned=allow_uncosigned, trusted=trust or ())
    if json_:
        print_json(verdict.to_dict())
    else:
        echo(_report(file, verdict))
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
