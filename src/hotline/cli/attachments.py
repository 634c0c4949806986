"""``hotline attachment``: the files carried with messages (``hotline send --attach FILE``
uploads them); ``get`` writes one out once it is here whole, ``show`` says its state."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Annotated, Any

import typer

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
from hotline.client import NodeClient
from hotline.errors import ValidationError

attachment_app = typer.Typer(help="Files carried with messages: show their state, get them.")

#: Declared types for the extensions whose sniffed kind has several (CSV is text).
_EXTRA_TYPES = {".csv": "text/csv", ".geojson": "application/geo+json", ".kml": None}


def upload_file(client: NodeClient, path: Path) -> dict[str, Any]:
    """Upload ``path``; the ``{sha256, name}`` to name in a send."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValidationError(f"cannot read {path}: {exc.strerror}", field="attach") from exc
    suffix = path.suffix.lower()
    declared = _EXTRA_TYPES[suffix] if suffix in _EXTRA_TYPES else mimetypes.guess_type(path)[0]
    uploaded = client.upload(data, path.name, declared)
    return {"sha256": uploaded["sha256"], "name": uploaded["name"]}


@attachment_app.command("get")
@friendly
def get(
    sha256: Annotated[str, typer.Argument(help="The file's SHA-256 (hex), as `show` lists it")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Write the file here")],
    directory: DirOpt,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Write an attachment's bytes to a file (refused until it is here whole)."""
    with node_client(directory, url, user) as client:
        data = client.download(f"/api/v1/attachments/{sha256.lower()}/content")
    output.write_bytes(data)
    out.print(plain(f"wrote {len(data)} bytes to {output}"))


@attachment_app.command("show")
@friendly
def show(
    sha256: Annotated[str, typer.Argument(help="The file's SHA-256 (hex)")],
    directory: DirOpt,
    json_: JsonOpt = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """An attachment's state here: complete, partial (being fetched) or refused."""
    with node_client(directory, url, user) as client:
        row = client.get(f"/api/v1/attachments/{sha256.lower()}")
    if json_:
        print_json(row)
        return
    out.print(plain(f"{row['sha256']}  {row['name']}  {row['content_type']}  {row['size']} bytes"))
    out.print(plain(f"state: {row['state']} ({row['stored']} chunks stored)"))
    if row.get("detail"):
        out.print(plain(f"last problem: {row['detail']}"))
    for message_id in row["messages"]:
        out.print(plain(f"carried by {message_id}"))
