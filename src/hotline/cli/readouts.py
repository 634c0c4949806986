"""``hotline readout``: readouts of held calls, written, approved, published, exported.

Every command talks to the running node's operator API. A call or readout id may be given
whole or by its start (6 or more characters); a start shared by several ids is refused.
Readouts are people's text: printed as written, never read as rich markup.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Column, Table
from rich.text import Text

from hotline.cli.calls import api, whole
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
    read_text_file,
    safe,
    say,
    write_text_file,
)
from hotline.errors import ValidationError

readout_app = typer.Typer(help="Readouts of held calls: write, approve, publish, export.")


def _markdown(directory: Path, url: str | None, user: str | None, call_id: str, lang: str) -> str:
    """GET a call's public readouts as Markdown (the JSON client would not pass it whole)."""
    with node_client(directory, url, user) as client:
        path = f"/api/v1/calls/{whole(client, 'call', call_id)}/readouts.md?lang={lang}"
        return client.text(path)


@readout_app.command("write")
@friendly
def readout_write(
    call_id: Annotated[str, typer.Argument(help="Call id")],
    title: Annotated[str, typer.Option(help="Title")],
    directory: DirOpt,
    text: Annotated[str | None, typer.Option(help="The readout (or --file)")] = None,
    file: Annotated[Path | None, typer.Option(help="Read the readout from a file")] = None,
    visibility: Annotated[str, typer.Option(help="internal, shared or public")] = "internal",
    issued_by: Annotated[str | None, typer.Option(help="e.g. Joint Staff Spokesman")] = None,
    lang: Annotated[str | None, typer.Option(help="en or ru (default: the node's)")] = None,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Write this side's readout; shared and public ones go to the peer."""
    if (text is None) == (file is None):
        raise ValidationError("give the readout as --text or --file (one of the two)")
    body = {
        "title": title,
        "text": text if text is not None else read_text_file(Path(str(file)), "readout file"),
        "visibility": visibility,
        "issued_by": issued_by,
        "lang": lang,
    }
    sent = {k: v for k, v in body.items() if v is not None}
    row = api(directory, url, user, "/api/v1/calls/{id}/readouts", sent, given=("call", call_id))
    say(f"readout {row['id']}: {row['visibility']}, {row['status']}")


@readout_app.command("show")
@friendly
def readout_show(
    call_id: Annotated[str, typer.Argument(help="Call id")],
    directory: DirOpt,
    visibility: Annotated[str, typer.Option(help="internal, shared or public")] = "public",
    json_: JsonOpt = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Both sides' readouts of a call, side by side."""
    path = "/api/v1/calls/{id}/readouts"
    data = api(directory, url, user, path, None, given=("call", call_id), visibility=visibility)
    if json_:
        print_json(data)
        return
    table = Table(*(Column(plain(party)) for party in data["sides"]))
    columns = [
        Text("\n\n").join(
            plain(f"{r['title']} [{r['visibility']}, {r['status']}]\n{r['text']}") for r in side
        )
        for side in data["sides"].values()
    ]
    table.add_row(*columns)
    out.print(table)


@readout_app.command("approve")
@friendly
def readout_approve(
    readout_id: Annotated[str, typer.Argument(help="Readout id")],
    directory: DirOpt,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Approve a public readout of a call kept private (not your own); it is sent."""
    path = "/api/v1/readouts/{id}/approve"
    row = api(directory, url, user, path, {}, given=("readout", readout_id))
    say(f"readout {row['id']}: {row['status']}, approved by {row['approved_by']}")


@readout_app.command("reject")
@friendly
def readout_reject(
    readout_id: Annotated[str, typer.Argument(help="Readout id")],
    reason: Annotated[str, typer.Option(help="Why (kept on this node)")],
    directory: DirOpt,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Reject a held public readout (not your own): it is not sent, and goes back to what
    it was (internal, or shared if it had gone out as shared)."""
    path = "/api/v1/readouts/{id}/reject"
    row = api(directory, url, user, path, {"reason": reason}, given=("readout", readout_id))
    say(f"readout {row['id']}: rejected, now {row['visibility']}, {row['status']}")


@readout_app.command("publish")
@friendly
def readout_publish(
    readout_id: Annotated[str, typer.Argument(help="Readout id")],
    visibility: Annotated[str, typer.Option(help="shared or public")],
    directory: DirOpt,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Widen one of our readouts (internal → shared → public)."""
    path = "/api/v1/readouts/{id}/publish"
    sent = {"visibility": visibility}
    row = api(directory, url, user, path, sent, given=("readout", readout_id))
    say(f"readout {row['id']}: {row['visibility']}, {row['status']}")


@readout_app.command("export")
@friendly
def readout_export(
    call_id: Annotated[str, typer.Argument(help="Call id")],
    directory: DirOpt,
    lang: Annotated[str, typer.Option(help="en or ru")] = "en",
    out_file: Annotated[Path | None, typer.Option("--out", help="Write it here")] = None,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Both sides' public readouts as Markdown."""
    text = _markdown(directory, url, user, call_id, lang)
    if out_file is None:
        sys.stdout.write(safe(text))  # the peer's words: nothing raw to a terminal
    else:
        write_text_file(out_file, text, "readouts file")
        say(f"written to {out_file}")
