"""Watch levels: this party's ladder, changes under the two-person rule, the peer's levels.

The ladder (lowest first) comes from ``watch_levels.json`` beside ``hotline.toml`` — a
JSON list of ``{"id", "name_en", "name_ru"}`` — or is the default NORMAL / POSSIBLE
CRISIS / POTENTIAL IMMINENT CRISIS. A change is *proposed* by one person with a reason
and takes effect only when a second person, a commander, *approves* it; the proposer
cannot approve their own. Until then the level does not move. An approved change may be
notified to a peer (``watch_level``); the reason stays on this node. Levels a peer
notifies are kept with their times, so both histories can be read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pydantic

from hotline.clock import parse_rfc3339
from hotline.domain.bodies import check_body
from hotline.domain.calls import DEFAULT_LADDER, WatchLevel
from hotline.domain.line import Envelope
from hotline.errors import ConfigError, Conflict, Forbidden, NotFound, ValidationError
from hotline.protocol.canonical import parse_json
from hotline.protocol.envelope import describe
from hotline.render.bodies import render_body
from hotline.services.auth import User
from hotline.services.calls.common import APPROVE_ROLES, WRITE_ROLES, precedence, require
from hotline.services.line.service import Line
from hotline.storage import calls as store
from hotline.storage import peers
from hotline.storage.db import Connection

WATCH_LEVELS_FILE = "watch_levels.json"


def load_ladder(directory: Path) -> tuple[WatchLevel, ...]:
    """The ladder in ``directory/watch_levels.json``, or the default one."""
    path = directory / WATCH_LEVELS_FILE
    if not path.exists():
        return DEFAULT_LADDER
    data = parse_json(path.read_bytes(), str(path))
    if not isinstance(data, list) or not 1 <= len(data) <= 21:
        raise ConfigError(f"{path} must hold a JSON list of 1 to 21 levels, lowest first")
    try:
        ladder = tuple(WatchLevel.model_validate(item) for item in data)
    except pydantic.ValidationError as exc:
        raise ConfigError(f"{path}: {describe(exc)}") from exc
    if len({level.id for level in ladder}) != len(ladder):
        raise ConfigError(f"{path}: two levels share an id")
    return ladder


class WatchLevels:
    """This party's watch level and the levels its peers notified."""

    def __init__(self, line: Line) -> None:
        self.line = line
        self.ladder = load_ladder(line.settings.directory)
        self._rank = {level.id: rank for rank, level in enumerate(self.ladder)}
        line.on_receive("watch_level", self._received)

    def propose(
        self,
        level: str,
        *,
        reason: str,
        user: User,
        notify: str | None = None,
        message: str | None = None,
    ) -> dict[str, Any]:
        """Propose a change to ``level``; nothing changes until a second person approves."""
        require(user, WRITE_ROLES, "propose a watch-level change")
        self._level(level)
        if not reason.strip():
            raise ValidationError("a watch-level change needs a reason", field="reason")
        with self.line.db.write() as conn:
            if notify is not None and peers.get(conn, notify) is None:
                raise NotFound(f"no peer {notify!r} is pinned on this node")
            current = self._current(conn)
            if current["level"]["id"] == level:
                raise Conflict(f"the watch level is already {level}")
            pending = store.watch_changes_in(conn, ["pending"])
            if pending:
                raise Conflict(
                    f"change {pending[0]['id']} is still waiting for approval",
                    hint="approve or reject it first",
                )
            change_id = store.insert_watch_change(
                conn,
                from_level=current["level"]["id"],
                to_level=level,
                reason=reason,
                notify_peer=notify,
                message=message,
                state="pending",
                proposed_by=user.name,
                proposed_at=self.line.now(),
            )
            return self._change(_must(conn, change_id), conn)

    def approve(self, change_id: int, *, user: User, note: str | None = None) -> dict[str, Any]:
        """A second person approves: the level changes now and the peer is told if asked."""
        require(user, APPROVE_ROLES, "approve a watch-level change")
        with self.line.db.write() as conn:
            change = self._pending(conn, change_id)
            if change["proposed_by"] == user.name:
                raise Forbidden(
                    "the person who proposed a watch-level change cannot approve it",
                    hint="another commander must approve it (two-person rule)",
                )
            if change["from_level"] != self._current(conn)["level"]["id"]:
                raise Conflict("the watch level moved since this change was proposed")
            now = self.line.now()
            values: dict[str, Any] = {
                "state": "approved",
                "decided_by": user.name,
                "decided_at": now,
                "decision_note": note,
            }
            if change["notify_peer"]:
                values["message_id"] = self._notify(conn, change, now, user)
            store.update_watch_change(conn, change_id, **values)
            view = self._change(_must(conn, change_id), conn)
        if change["notify_peer"]:
            self.line.on_queued(change["notify_peer"])
        return view

    def reject(self, change_id: int, *, user: User, note: str | None = None) -> dict[str, Any]:
        """Reject (or, by its proposer, withdraw) a pending change."""
        require(user, WRITE_ROLES, "reject a watch-level change")
        with self.line.db.write() as conn:
            self._pending(conn, change_id)
            store.update_watch_change(
                conn,
                change_id,
                state="rejected",
                decided_by=user.name,
                decided_at=self.line.now(),
                decision_note=note,
            )
            return self._change(_must(conn, change_id), conn)

    # -- reading --------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """The ladder, the current level, a pending change, and each peer's last level."""
        with self.line.db.read() as conn:
            current = self._current(conn)
            pending = [self._change(c, conn) for c in store.watch_changes_in(conn, ["pending"])]
            latest: dict[str, Any] = {}
            for row in store.peer_levels(conn):
                latest[row["peer"]] = _peer_level(row)
        return {
            "party": self.line.identity.party,
            "ladder": [self._rung(level) for level in self.ladder],
            "current": current,
            "pending": pending[0] if pending else None,
            "peers": latest,
        }

    def history(self) -> dict[str, Any]:
        """Every change of ours (proposed, approved, rejected) and every level peers sent."""
        with self.line.db.read() as conn:
            changes = [self._change(c, conn) for c in store.all_watch_changes(conn)]
            theirs = [_peer_level(row) for row in store.peer_levels(conn)]
        return {"party": self.line.identity.party, "changes": changes, "peers": theirs}

    # -- helpers --------------------------------------------------------------------------

    def _level(self, level_id: str) -> WatchLevel:
        for level in self.ladder:
            if level.id == level_id:
                return level
        raise ValidationError(
            f"{level_id!r} is not on this party's watch-level ladder",
            hint="one of " + ", ".join(level.id for level in self.ladder),
            field="level",
        )

    def _rung(self, level: WatchLevel) -> dict[str, Any]:
        return {**level.model_dump(), "rank": self._rank[level.id]}

    def _current(self, conn: Connection) -> dict[str, Any]:
        approved = store.watch_changes_in(conn, ["approved"])
        if not approved:
            return {"level": self._rung(self.ladder[0]), "since": None, "change_id": None}
        last = approved[-1]
        return {
            "level": self._rung(self._known(last["to_level"])),
            "since": last["decided_at"],
            "change_id": last["id"],
        }

    def _known(self, level_id: str) -> WatchLevel:
        try:
            return self._level(level_id)
        except ValidationError:  # a level since removed from watch_levels.json
            return WatchLevel(id=level_id, name_en=level_id.upper(), name_ru=level_id.upper())

    def _pending(self, conn: Connection, change_id: int) -> dict[str, Any]:
        change = store.get_watch_change(conn, change_id, lock=True)
        if change is None:
            raise NotFound(f"no watch-level change {change_id}")
        if change["state"] != "pending":
            raise Conflict(f"watch-level change {change_id} is already {change['state']}")
        return change

    def _notify(self, conn: Connection, change: dict[str, Any], now: str, user: User) -> str:
        return self.line.enqueue(
            conn,
            to=change["notify_peer"],
            type_="watch_level",
            body=self._body(conn, change, now),
            precedence=precedence("IMMEDIATE"),
            lang=self.line.identity.lang,
            user=change["proposed_by"],  # the envelope's sender; the commander approves it
            approver=(user.name, "watch_level"),
        )

    def _body(self, conn: Connection, change: dict[str, Any], now: str) -> dict[str, Any]:
        """The ``watch_level`` body a change sends. ``previous`` is the level last notified
        to the same peer, or the ladder's first rung (where every node starts) if none
        was: a change never notified to that peer is never revealed by a later one."""
        level = self._known(change["to_level"])
        body = {
            "level": level.model_dump(),
            "rank": self._rank.get(level.id, 0),
            "of_levels": len(self.ladder),
            "previous": self._last_notified(conn, change["notify_peer"], change["id"]),
            "effective_at": now,
            "message": change["message"],
        }
        return check_body("watch_level", body)

    def _last_notified(self, conn: Connection, peer: str, before: int) -> dict[str, Any]:
        notified = [
            c
            for c in store.watch_changes_in(conn, ["approved"])
            if c["notify_peer"] == peer and c["message_id"] and c["id"] != before
        ]
        if not notified:
            return self.ladder[0].model_dump()
        return self._known(notified[-1]["to_level"]).model_dump()

    def _outgoing(self, conn: Connection, row: dict[str, Any]) -> dict[str, Any] | None:
        """What approving a pending change sends, to whom, in both languages (its time is
        the approval's: shown here as now)."""
        if row["state"] != "pending" or not row["notify_peer"]:
            return None
        now = self.line.now()
        body = self._body(conn, row, now)
        me, peer = self.line.identity.party, row["notify_peer"]
        when = parse_rfc3339(now)
        return {
            "to": peer,
            "type": "watch_level",
            "body": body,
            "rendering": {
                lang: render_body("watch_level", body, lang, sender=me, receiver=peer, sent_at=when)
                for lang in ("en", "ru")
            },
        }

    def _change(self, row: dict[str, Any], conn: Connection) -> dict[str, Any]:
        return {
            **row,
            "from": self._rung(self._known(row["from_level"])),
            "to": self._rung(self._known(row["to_level"])),
            "in_effect": row["state"] == "approved",
            "outgoing": self._outgoing(conn, row),
        }

    def _received(self, conn: Connection, envelope: Envelope, now: str) -> None:
        store.insert_peer_level(
            conn,
            message_id=envelope.id,
            peer=envelope.from_,
            body=envelope.body,
            effective_at=envelope.body["effective_at"],
            received_at=now,
        )


def _must(conn: Connection, change_id: int) -> dict[str, Any]:
    change = store.get_watch_change(conn, change_id)
    if change is None:
        raise NotFound(f"no watch-level change {change_id}")
    return change


def _peer_level(row: dict[str, Any]) -> dict[str, Any]:
    body = row["body"]
    return {
        "peer": row["peer"],
        "level": body["level"],
        "rank": body["rank"],
        "of_levels": body["of_levels"],
        "previous": body["previous"],
        "message": body["message"],
        "effective_at": row["effective_at"],
        "received_at": row["received_at"],
        "message_id": row["message_id"],
    }
