"""Node settings: declared once, each documented; read from the environment, then the
node's settings file (``DIR/hotline.toml``), then the default.

The settings file is written by ``hotline init`` and is meant to be read and edited by
the operator. Environment variables (``HOTLINE_<NAME>``) override it, which is how a
production deployment points a node at PostgreSQL (``HOTLINE_DATABASE_URL``).
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from hotline.errors import ConfigError

SETTINGS_FILE = "hotline.toml"
KEY_FILE = "node.key"


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str


#: Every setting a node reads, with its default and what it is for. ``docs/operator-guide.md``
#: lists the same table; ``tests/test_docs.py`` proves the two agree.
SETTINGS: tuple[Setting, ...] = (
    Setting("party", None, "This node's party id, e.g. `us` (lowercase letters, digits, -)."),
    Setting("name_en", None, "The party's display name in English."),
    Setting("name_ru", None, "The party's display name in Russian."),
    Setting("lang", "en", "The language this node's people write in: `en` or `ru`."),
    Setting("endpoints", [], "Base URLs where peers reach this node (printed on the card)."),
    Setting("database_url", "", "SQLAlchemy URL; empty means SQLite at `DIR/hotline.db`."),
    Setting("clock_skew_s", 300, "How far in the future a peer's `created` may be, seconds."),
    Setting("max_age_s", 7 * 86400, "How old an envelope may be when it first arrives, seconds."),
    Setting("max_envelope_bytes", 262_144, "Largest envelope accepted, in bytes of JSON."),
    Setting("batch_size", 64, "Most envelopes sent to a peer in one HTTP request."),
    Setting("retry_base_s", 0.5, "First retry delay after a failed delivery, seconds."),
    Setting(
        "retry_cap_s", 30.0, "Longest retry delay (capped, jittered backoff), seconds; at most 60."
    ),
    Setting("request_timeout_s", 10.0, "HTTP timeout for one delivery request, seconds."),
    Setting("token_ttl_s", 12 * 3600, "How long an operator's bearer token lives, seconds."),
    Setting("link_test_interval_s", 3600, "Seconds between link tests to each peer."),
    Setting("link_test_times", "", "Fixed UTC times for link tests, e.g. `06:00,18:00` (wins)."),
    Setting("link_test_timeout_s", 120, "Seconds a link test may wait for its answer."),
    Setting(
        "link_test_peers",
        "",
        "Own schedules for some peers, e.g. `ru=06:00,18:00; ua=1800` (UTC times or seconds).",
    ),
    Setting("ack_flash_s", 600, "Acknowledgement deadline of a FLASH message, seconds."),
    Setting("ack_immediate_s", 1800, "Acknowledgement deadline of an IMMEDIATE message, seconds."),
    Setting("ack_priority_s", 10800, "Acknowledgement deadline of a PRIORITY message, seconds."),
    Setting("ack_routine_s", 21600, "Acknowledgement deadline of a ROUTINE message, seconds."),
    Setting("tick_s", 1.0, "How often the scheduler looks for due tests and deadlines, seconds."),
    Setting("login_max_failures", 5, "Wrong passwords for one user name before a pause."),
    Setting("login_lockout_s", 300, "How long logging in is paused after too many, seconds."),
    Setting(
        "flash_two_person", True, "A FLASH message is sent only once a second person approves."
    ),
    Setting("track_ttl_s", 60, "A track not reported for this long leaves the picture, seconds."),
    Setting(
        "track_share_s",
        0,
        "Send this party's own tracks to each peer every this many seconds (0: never).",
    ),
    Setting("track_rpz_m", 9260.0, "Tactical horizontal protection radius, metres (5 NM)."),
    Setting("track_hpz_m", 304.8, "Tactical vertical half-height, metres (1,000 ft)."),
    Setting("track_lookahead_s", 300.0, "Tactical and incursion look-ahead, seconds."),
    Setting("phrasebook", "", "Phrasebook file for coded messages; empty means the packaged one."),
    Setting("rules_dir", "", "Folder of agreement-rule files; empty means the packaged ones."),
    Setting(
        "checkpoint_interval_s", 300, "Seconds between checkpoint exchanges with peers; 0: off."
    ),
)

_NAMES = {s.name for s in SETTINGS}


@dataclass(frozen=True)
class NodeSettings:
    """The resolved settings of one node (see :data:`SETTINGS` for each field)."""

    directory: Path
    party: str
    name_en: str
    name_ru: str
    lang: str = "en"
    endpoints: tuple[str, ...] = ()
    database_url: str = ""
    clock_skew_s: int = 300
    max_age_s: int = 7 * 86400
    max_envelope_bytes: int = 262_144
    batch_size: int = 64
    retry_base_s: float = 0.5
    retry_cap_s: float = 30.0
    request_timeout_s: float = 10.0
    token_ttl_s: int = 12 * 3600
    phrasebook: str = ""
    rules_dir: str = ""
    checkpoint_interval_s: int = 300
    link_test_interval_s: int = 3600
    link_test_times: str = ""
    link_test_timeout_s: int = 120
    link_test_peers: str = ""
    ack_flash_s: int = 600
    ack_immediate_s: int = 1800
    ack_priority_s: int = 10800
    ack_routine_s: int = 21600
    tick_s: float = 1.0
    flash_two_person: bool = True
    login_max_failures: int = 5
    login_lockout_s: int = 300
    track_ttl_s: int = 60
    track_share_s: int = 0
    track_rpz_m: float = 9260.0
    track_hpz_m: float = 304.8
    track_lookahead_s: float = 300.0

    def ack_deadline_s(self, precedence: str) -> int:
        """Seconds the receiver has to acknowledge a message of ``precedence``."""
        return int(getattr(self, f"ack_{precedence.lower()}_s"))

    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key_path(self) -> Path:
        return self.directory / KEY_FILE

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.directory / 'hotline.db'}"


def load_settings(directory: Path | str, environ: Mapping[str, str] | None = None) -> NodeSettings:
    """Read a node's settings: environment first, then ``DIR/hotline.toml``, then defaults."""
    env = os.environ if environ is None else environ
    directory = Path(directory).expanduser().resolve()
    path = directory / SETTINGS_FILE
    if not path.exists():
        raise ConfigError(
            f"no node at {directory}: {SETTINGS_FILE} is missing",
            hint="create one with `hotline init --party P --name NAME --dir DIR`",
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    unknown = set(data) - _NAMES
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = env.get(f"HOTLINE_{setting.name.upper()}")
        if raw is not None:
            values[setting.name] = _from_env(setting, raw)
        elif setting.name in data:
            values[setting.name] = data[setting.name]
        elif setting.default is not None:
            values[setting.name] = setting.default
        else:
            raise ConfigError(f"{path}: setting {setting.name!r} is required")
    return _build(directory, values)


def _from_env(setting: Setting, raw: str) -> Any:
    if isinstance(setting.default, list):
        return [part for part in raw.split(",") if part]
    if isinstance(setting.default, bool):
        return raw.lower() in {"1", "true", "yes"}
    if isinstance(setting.default, int):
        return int(raw)
    if isinstance(setting.default, float):
        return float(raw)
    return raw


def _build(directory: Path, values: dict[str, Any]) -> NodeSettings:
    known = {f.name for f in fields(NodeSettings)}
    kwargs = {k: v for k, v in values.items() if k in known}
    kwargs["endpoints"] = tuple(kwargs.get("endpoints", ()))
    if kwargs.get("lang") not in {"en", "ru"}:
        raise ConfigError(f"setting lang must be 'en' or 'ru', not {kwargs.get('lang')!r}")
    retry_cap_s = kwargs.get("retry_cap_s", 30.0)
    if not 0 < float(retry_cap_s) <= 60:
        raise ConfigError(
            f"setting retry_cap_s must be more than 0 and at most 60 seconds, not {retry_cap_s}"
        )
    return NodeSettings(directory=directory, **kwargs)


def write_settings(directory: Path, values: Mapping[str, Any]) -> Path:
    """Write a fresh, commented settings file (used by ``hotline init``)."""
    lines = ["# Hotline node settings. HOTLINE_<NAME> environment variables override these.", ""]
    for setting in SETTINGS:
        if setting.name not in values:
            continue
        lines.append(f"# {setting.help}")
        lines.append(f"{setting.name} = {_toml_value(values[setting.name])}")
        lines.append("")
    path = directory / SETTINGS_FILE
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _toml_value(value: Any) -> str:
    # JSON strings, numbers and arrays of strings are valid TOML values as they stand.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        value = list(value)
    return json.dumps(value, ensure_ascii=False)
