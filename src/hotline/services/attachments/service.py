"""Attachments on this node: upload, attach to a send, serve to peers, note what arrives.

A file is stored once, by its SHA-256, in chunks of ``attachment_chunk_bytes`` (a table
row each): uploading the same bytes twice, or receiving them in two messages, stores them
once. A message names its files in the signed envelope (``attachments``); this node
serves a file to a peer only if a message it sent carries it. What a peer sends is
fetched by :mod:`hotline.services.attachments.pull`.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any

import pydantic

from hotline.config import NodeSettings
from hotline.domain.attachments import (
    MAX_ATTACHMENTS,
    AttachmentRef,
    check_refs,
    content_type_of,
)
from hotline.domain.line import Envelope
from hotline.errors import (
    Conflict,
    MessageTooLarge,
    NotFound,
    UnsupportedContent,
    ValidationError,
)
from hotline.protocol.envelope import describe
from hotline.services.alarms import raise_alarm
from hotline.services.line.service import Line
from hotline.storage import attachments as store
from hotline.storage import messages
from hotline.storage.db import Connection


@dataclass
class Attachments:
    """The node's attachments (both directions)."""

    line: Line
    settings: NodeSettings

    def __post_init__(self) -> None:
        self.line.on_attach = self._record_sent
        self.line.attachment_hooks.append(self._on_received)

    # -- upload ----------------------------------------------------------------------------

    def upload(self, data: bytes, *, name: str, declared: str | None = None) -> dict[str, Any]:
        """Store ``data`` (checked by content), once; returns its reference and whether the
        same bytes were already here (``deduplicated``)."""
        limit = self.settings.max_attachment_bytes
        if len(data) > limit:
            raise MessageTooLarge(
                f"the file is {len(data)} bytes; the limit is {limit}",
                hint="raise max_attachment_bytes, or send a smaller file",
            )
        if not data:
            raise ValidationError("the file is empty", field="body")
        try:
            content_type = content_type_of(data, declared)
        except ValueError as exc:
            raise UnsupportedContent(
                f"{name}: {exc}", hint="attach a PNG, JPEG, PDF, text, CSV, JSON, GeoJSON or KML"
            ) from None
        digest = hashlib.sha256(data).hexdigest()
        ref = _ref(
            {"sha256": digest, "name": name, "content_type": content_type, "size": len(data)}
        )

        def work(conn: Connection) -> bool:
            row = store.get(conn, digest, lock=True)  # the puller waits, and finds it whole
            if row is not None and row["state"] == "complete":
                if row["peer"] is not None:  # received whole; uploaded here too: ours now
                    store.update_blob(conn, digest, peer=None)
                return True
            now = self.line.now()
            # Being fetched from a peer (or refused): these bytes are verified by their
            # hash, and what was checked here is what this node will sign (not the type
            # and size the peer claimed); the file no longer counts against its quota.
            if row is not None:
                store.drop_chunks(conn, digest)
            self._write_chunks(conn, digest, data)
            values = ref | {
                "state": "complete",
                "peer": None,
                "chunk_size": self.settings.attachment_chunk_bytes,
                "chunks": None,
                "detail": None,
                "completed_at": now,
            }
            if row is None:
                store.add(conn, **values, created_at=now)
                return False
            store.update_blob(conn, **values, failures=0, retry_at=None)
            for message_id in store.messages_with(conn, digest):
                messages.add_event(conn, message_id, now, "attachment_complete", sha256=digest)
            return False

        deduplicated = self.line.db.transaction(work)
        return ref | {"deduplicated": deduplicated}

    def _write_chunks(self, conn: Connection, digest: str, data: bytes) -> None:
        size = self.settings.attachment_chunk_bytes
        for idx in range(max(1, math.ceil(len(data) / size))):
            part = data[idx * size : (idx + 1) * size]
            store.put_chunk(conn, digest, idx, hashlib.sha256(part).hexdigest(), part)

    # -- sending ---------------------------------------------------------------------------

    def refs(self, chosen: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The references to sign for the files chosen (``{sha256, name?}`` each, uploaded
        before): refused if one is unknown or not whole here."""
        if len(chosen) > MAX_ATTACHMENTS:
            raise ValidationError(
                f"a message may carry at most {MAX_ATTACHMENTS} attachments, not {len(chosen)}",
                field="attachments",
            )
        refs = []
        with self.line.db.read() as conn:
            for choice in chosen:
                digest = str(choice.get("sha256", "")).lower()
                row = store.get(conn, digest)
                if row is None or row["state"] != "complete":
                    raise NotFound(
                        f"no attachment {digest!r} is stored whole on this node",
                        hint="upload it first: POST /api/v1/attachments",
                        field="attachments",
                    )
                name = choice.get("name") or row["name"]
                refs.append(
                    {
                        "sha256": digest,
                        "name": name,
                        "content_type": row["content_type"],
                        "size": row["size"],
                    }
                )
        try:
            check_refs([AttachmentRef.model_validate(r) for r in refs])
        except (ValueError, pydantic.ValidationError) as exc:
            detail = describe(exc) if isinstance(exc, pydantic.ValidationError) else str(exc)
            raise ValidationError(f"attachments: {detail}", field="attachments") from None
        return refs

    def _record_sent(self, conn: Connection, message_id: str, refs: list[dict[str, Any]]) -> None:
        for position, ref in enumerate(refs):
            store.attach(conn, message_id, position, ref["sha256"], "out", ref["name"])

    # -- receiving -------------------------------------------------------------------------

    def _on_received(self, conn: Connection, envelope: Envelope, now: str) -> None:
        """In the receiving transaction: note the message's files; each one not here yet
        is wanted from the sender (``pull.py``), unless it passes a limit (refused, alarm).
        The envelope is stored and receipted whatever its files: the line never stops."""
        for position, ref in enumerate(envelope.attachments or ()):
            store.attach(conn, envelope.id, position, ref.sha256, "in", ref.name)
            if store.get(conn, ref.sha256) is not None:
                continue  # stored once: here already, or on its way
            reason = self._over_limit(conn, envelope.from_, ref.size)
            store.add(
                conn,
                sha256=ref.sha256,
                size=ref.size,
                content_type=ref.content_type,
                name=ref.name,
                state="refused" if reason else "partial",
                peer=envelope.from_,
                detail=reason,
                created_at=now,
            )
            if reason:
                raise_alarm(
                    conn,
                    "attachment_refused",
                    ref.sha256,
                    now,
                    peer=envelope.from_,
                    message=envelope.id,
                    reason=reason,
                )

    def _over_limit(self, conn: Connection, peer: str, size: int) -> str | None:
        limit = self.settings.max_attachment_bytes
        if size > limit:
            return f"{size} bytes is over max_attachment_bytes ({limit})"
        quota = self.settings.attachment_peer_quota_bytes
        held = store.peer_bytes(conn, peer)
        if held + size > quota:
            return (
                f"{peer}'s attachments would take {held + size} bytes, over "
                f"attachment_peer_quota_bytes ({quota})"
            )
        return None

    # -- serving and reading ---------------------------------------------------------------

    def manifest(self, digest: str) -> dict[str, Any]:
        """What a peer needs to fetch a file this node sent: its chunks' sizes and hashes."""
        with self.line.db.read() as conn:
            row = self._served(conn, digest)
            hashes = store.chunk_hashes(conn, digest)
        return {
            "sha256": digest,
            "size": row["size"],
            "chunk_size": row["chunk_size"],
            "chunks": [hashes[i] for i in sorted(hashes)],
        }

    def chunk(self, digest: str, idx: int) -> bytes:
        with self.line.db.read() as conn:
            self._served(conn, digest)
            data = store.chunk(conn, digest, idx)
        if data is None:
            raise NotFound(f"attachment {digest} has no chunk {idx}")
        return data

    def _served(self, conn: Connection, digest: str) -> dict[str, Any]:
        row = store.get(conn, digest)
        if row is None or row["state"] != "complete" or not store.sent(conn, digest):
            raise NotFound(f"no attachment {digest} was sent from this node")
        return row

    def info(self, digest: str) -> dict[str, Any]:
        """A file's row (state, size, type, name, the messages that carry it)."""
        with self.line.db.read() as conn:
            row = store.get(conn, digest)
            if row is None:
                raise NotFound(f"no attachment {digest!r} on this node")
            row["messages"] = store.messages_with(conn, digest)
            row["stored"] = len(store.chunk_hashes(conn, digest))
        del row["chunks"]
        return row

    def read(self, digest: str) -> tuple[dict[str, Any], bytes]:
        """A whole file's row and its bytes; refused until it is here whole."""
        info = self.info(digest)
        if info["state"] != "complete":
            raise Conflict(
                f"attachment {digest} is not here whole yet ({info['state']}: "
                f"{info['stored']} chunks stored)",
                hint="it is being fetched from the peer; try again later",
            )
        with self.line.db.read() as conn:
            return info, b"".join(store.chunks(conn, digest))

    def of_message(self, message_id: str) -> list[dict[str, Any]]:
        """A message's attachments, in order, each with its state here."""
        with self.line.db.read() as conn:
            return store.of_message(conn, message_id)


def _ref(obj: dict[str, Any]) -> dict[str, Any]:
    try:
        return AttachmentRef.model_validate(obj).model_dump()
    except pydantic.ValidationError as exc:
        raise ValidationError(f"attachment: {describe(exc)}", field="name") from None


def complete(attachments: list[dict[str, Any]]) -> bool:
    """Whether every file of a message is here whole (a message without files is)."""
    return all(a["state"] == "complete" for a in attachments)
