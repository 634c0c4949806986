"""The operator API's shared response models (messages, renderings, held items).

They are built on :class:`hotline.responses.Out` and never reshape what the services
build; ``docs/api.md`` says how.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from hotline.responses import (
    ErrorDetail,
    JsonObject,
    Out,
)


class Ok(Out):
    ok: bool


class Rendering(Out):
    """A text as each language renders it (``en``, ``ru``)."""

    en: str | None = None
    ru: str | None = None


class Message(Out):
    """A message as listings show it: its state, its deadline and its body."""

    id: str
    direction: Literal["in", "out"]
    peer: str
    seq: int
    created: str = Field(description="UTC, RFC 3339")
    precedence: str
    type: str
    lang: str | None
    state: str
    created_by: str | None = Field(description="the operator who sent it (ours only)")
    received_at: str | None
    delivered_at: str | None
    acked_at: str | None
    acked_by: str | None
    ack_message_id: str | None
    attempts: int
    hash: str
    body: JsonObject = Field(description="the signed body, as sent")
    deadline: str | None = Field(description="acknowledge by (UTC); none for system messages")
    delivery: str | None = Field(
        None, description="ours only: queued | retrying | receipted (the peer's signed receipt)"
    )
    retrying_since: str | None = Field(
        None, description="retrying: the first failure that held it up (UTC)"
    )
    last_error: str | None = Field(None, description="retrying: the last failure, in words")
    rendering: Rendering | None = Field(None, description="coded and formatted messages")


class Translation(Out):
    id: int
    message_id: str
    lang: str
    text: str
    translator: str
    created_at: str
    machine: bool
    certified_by: str | None
    certified_at: str | None


class MessageShown(Message):
    """One message with its signed envelope and receipt, trail, findings, translations."""

    envelope: JsonObject = Field(description="the signed envelope, untouched")
    receipt: JsonObject | None = Field(description="the signed receipt, untouched")
    trail: list[JsonObject] = Field(description="what happened to it, oldest first")
    translations: list[Translation]
    findings: list[JsonObject] | None = None
    findings_error: ErrorDetail | None = None
    link: JsonObject | None = None
    attachments: list[JsonObject] = Field(
        default_factory=list,
        description="the files it carries, in order: sha256, name, content_type, size, "
        "state here (complete | partial | refused)",
    )
    attachments_complete: bool = Field(
        True, description="every file is here whole, verified against the signed SHA-256"
    )


class Held(Out):
    """A FLASH item held for a second person's approval (answered with HTTP 202)."""

    id: str
    kind: str = Field(description="text | code | notice | call …")
    peer: str
    precedence: str
    lang: str | None
    payload: JsonObject
    client_ref: str | None
    requested_by: str
    requested_at: str
    state: str = Field(description="held | approved | sent | rejected")
    decided_by: str | None
    decided_at: str | None
    reason: str | None
    message_id: str | None


HELD: dict[int | str, dict[str, Any]] = {
    202: {"model": Held, "description": "FLASH: held until a second person approves it"}
}
