"""Node settings: declared once, each with its type, default and help; read from the
environment, then the node's settings file (``DIR/hotline.toml``), then the default.

:class:`NodeSettings` is the one declaration (a ``pydantic-settings`` model):
``docs/operator-guide.md`` lists the same settings and ``tests/test_docs.py`` proves the two
agree. The settings file is written by ``hotline init`` (every setting with its help line)
and is meant to be read and edited by the operator. Environment variables
(``HOTLINE_<NAME>``) override it, which is how a production deployment points a node at
PostgreSQL (``HOTLINE_DATABASE_URL``); a list is written there comma separated
(``HOTLINE_ENDPOINTS=https://a:8443,https://b:8443``).

A wrong value — ``HOTLINE_FLASH_TWO_PERSON=ture``, ``tick_s = "abc"``, a string in the
file where a number goes, a value out of range (``batch_size = 0``, ``tick_s = inf``), an
unknown key in the file — stops the node with a
:class:`~hotline.errors.ConfigError` naming the setting and where the value came from.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import pydantic
from pydantic import Field, PrivateAttr, TypeAdapter, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from hotline.errors import ConfigError

SETTINGS_FILE = "hotline.toml"
KEY_FILE = "node.key"
ENV_PREFIX = "HOTLINE_"


class NodeSettings(BaseSettings):
    """The resolved settings of one node; each field's ``description`` is its help."""

    # No NaN or infinity anywhere: a scheduler told to wait ``inf`` seconds would die.
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        extra="forbid",
        frozen=True,
        validate_default=True,
        allow_inf_nan=False,
    )

    party: str = Field(
        description="This node's party id, e.g. `us` (lowercase letters, digits, -)."
    )
    name_en: str = Field(description="The party's display name in English.")
    name_ru: str = Field(description="The party's display name in Russian.")
    lang: Literal["en", "ru"] = Field(
        "en", description="The language this node's people write in: `en` or `ru`."
    )
    endpoints: tuple[str, ...] = Field(
        (), description="Base URLs where peers reach this node (printed on the card)."
    )
    database_url: str = Field(
        "", description="SQLAlchemy URL; empty means SQLite at `DIR/hotline.db`."
    )
    clock_skew_s: int = Field(
        300, ge=0, description="How far in the future a peer's `created` may be, seconds."
    )
    max_age_s: int = Field(
        7 * 86400, gt=0, description="How old an envelope may be when it first arrives, seconds."
    )
    max_envelope_bytes: int = Field(
        262_144, gt=0, le=4_194_304, description="Largest envelope accepted, in bytes of JSON."
    )
    batch_size: int = Field(
        64, ge=1, le=256, description="Most envelopes sent to a peer in one HTTP request."
    )
    max_batch_messages: int = Field(
        500,
        ge=1,
        le=10_000,
        description="Most messages in one `POST /api/v1/messages/batch` (its body is "
        "still bound by `max_body_bytes`).",
    )
    max_body_bytes: int = Field(
        1_048_576,
        ge=1024,
        le=67_108_864,
        description="Largest request body of the operator API, bytes (federation: "
        "`max_envelope_bytes` × `batch_size`).",
    )
    max_attachment_bytes: int = Field(
        20_971_520,
        ge=1024,
        le=1_073_741_824,
        description="Largest attachment, bytes: an upload over it is refused (413) as soon "
        "as it passes, and a peer's attachment over it is not fetched.",
    )
    attachment_chunk_bytes: int = Field(
        262_144,
        ge=1024,
        le=4_194_304,
        description="Size of the chunks this node stores attachments in and serves them "
        "by to peers, bytes.",
    )
    attachment_peer_quota_bytes: int = Field(
        2_147_483_648,
        ge=1024,
        le=1_099_511_627_776,
        description="Most bytes of attachments this node stores from one peer; an "
        "attachment that would pass it is not fetched (alarm `attachment_refused`).",
    )
    max_header_bytes: int = Field(
        16_384, ge=1024, le=1_048_576, description="Largest request line and headers, bytes."
    )
    header_timeout_s: float = Field(
        10.0,
        gt=0,
        le=300,
        description="A request's headers must arrive within this many seconds of the "
        "connection (or of its first byte), else the connection is closed.",
    )
    body_timeout_s: float = Field(
        30.0,
        gt=0,
        le=3600,
        description="A request's body must arrive within this many seconds of its "
        "headers, else the connection is closed.",
    )
    tls_handshake_timeout_s: float = Field(
        10.0, gt=0, le=300, description="A TLS handshake must finish within this many seconds."
    )
    write_timeout_s: float = Field(
        30.0,
        gt=0,
        le=3600,
        description="A client that reads nothing of its answer for this many seconds (the "
        "connection's send buffer full) has its connection aborted.",
    )
    max_connections: int = Field(
        1000,
        ge=1,
        le=100_000,
        description="Open connections per listener; over it, the one waiting longest for "
        "its headers is closed to make room, or else the new one gets 503.",
    )
    max_connections_per_source: int = Field(
        64,
        ge=1,
        le=100_000,
        description="Open connections from one address per listener; the one over it "
        "gets 429 and is closed.",
    )
    retry_base_s: float = Field(
        0.5, gt=0, description="First retry delay after a failed delivery, seconds."
    )
    retry_cap_s: float = Field(
        30.0,
        description="Longest retry delay (capped, jittered backoff), seconds; at most 60.",
    )
    request_timeout_s: float = Field(
        10.0, gt=0, description="HTTP timeout for one delivery request, seconds."
    )
    token_ttl_s: int = Field(
        12 * 3600, gt=0, description="How long an operator's bearer token lives, seconds."
    )
    link_test_interval_s: int = Field(
        3600, gt=0, description="Seconds between link tests to each peer."
    )
    link_test_times: str = Field(
        "", description="Fixed UTC times for link tests, e.g. `06:00,18:00` (wins)."
    )
    link_test_timeout_s: int = Field(
        120, gt=0, description="Seconds a link test may wait for its answer."
    )
    link_down_after_s: float = Field(
        60.0,
        gt=0,
        description="Seconds from the first failure (delivery, checkpoint exchange, link "
        "test) to `link_down`, unless something passes meanwhile.",
    )
    operator_test_times: str = Field(
        "",
        description="UTC times of day for operator tests (a person answers), e.g. "
        "`06:00,18:00`; empty: none scheduled.",
    )
    operator_test_answer_s: int = Field(
        600, gt=0, description="Seconds the peer's officer has to answer an operator test."
    )
    link_test_peers: str = Field(
        "",
        description="Own schedules for some peers, e.g. `ru=06:00,18:00; ua=1800` "
        "(UTC times or seconds).",
    )
    ack_flash_s: int = Field(
        600, gt=0, description="Acknowledgement deadline of a FLASH message, seconds."
    )
    ack_immediate_s: int = Field(
        1800, gt=0, description="Acknowledgement deadline of an IMMEDIATE message, seconds."
    )
    ack_priority_s: int = Field(
        10800, gt=0, description="Acknowledgement deadline of a PRIORITY message, seconds."
    )
    ack_routine_s: int = Field(
        21600, gt=0, description="Acknowledgement deadline of a ROUTINE message, seconds."
    )
    tick_s: float = Field(
        1.0,
        gt=0,
        le=3600,
        description="How often the scheduler looks for due tests and deadlines, seconds.",
    )
    login_max_failures: int = Field(
        5,
        ge=1,
        le=1000,
        description="Wrong passwords for one user name from one address before that "
        "address is paused for that name.",
    )
    login_lockout_s: int = Field(
        300,
        ge=0,
        le=86400,
        description="The window in which wrong passwords are counted, and the longest "
        "pause, seconds (0: no pauses).",
    )
    login_source_max_failures: int = Field(
        20,
        ge=1,
        le=100_000,
        description="Wrong passwords from one address (any names) before that address is "
        "paused for every name.",
    )
    login_user_max_failures: int = Field(
        20,
        ge=1,
        le=100_000,
        description="Wrong passwords for one name (any addresses) after which an address "
        "the user has not logged in from gets one guess for that name.",
    )
    login_concurrency: int = Field(
        2, ge=1, le=64, description="Password checks (Argon2) at once, per process."
    )
    login_busy_wait_s: float = Field(
        2.0,
        gt=0,
        le=60,
        description="How long a login waits for a free password check before `busy`, seconds.",
    )
    flash_two_person: bool = Field(
        True, description="A FLASH message is sent only once a second person approves."
    )
    map_theatre: str = Field(
        "",
        pattern=r"^$|^-?\d+(\.\d+)?(,-?\d+(\.\d+)?){3}$",
        description="The map's fallback area when nothing is in force: 'south,west,north,east' "
        "in degrees (e.g. '44,22,56,42'); empty for the default view.",
    )
    marking: str = Field(
        "UNCLASSIFIED",
        min_length=1,
        max_length=80,
        pattern=r"^[^\x00-\x1f\x7f]+$",
        description="The line's classification marking, agreed with the peer and set "
        "identically on both nodes: shown top and bottom of every console page, on printed "
        "messages and on the first line of CSV exports.",
    )
    track_ttl_s: int = Field(
        60, gt=0, description="A track not reported for this long leaves the picture, seconds."
    )
    track_share_s: int = Field(
        0,
        ge=0,
        description="Send this party's own tracks to each peer every this many seconds (0: never).",
    )
    track_rpz_m: float = Field(
        9260.0, gt=0, description="Tactical horizontal protection radius, metres (5 NM)."
    )
    track_hpz_m: float = Field(
        304.8, gt=0, description="Tactical vertical half-height, metres (1,000 ft)."
    )
    track_lookahead_s: float = Field(
        300.0, gt=0, description="Tactical and incursion look-ahead, seconds."
    )
    track_stale_s: int = Field(
        10,
        gt=0,
        description="A track not reported for this long has lost its feed: its alarms say "
        "'feed lost' and keep its last position and prediction, seconds.",
    )
    track_record_days: float = Field(
        7.0,
        ge=0,
        le=3660,
        description="Recorded position reports are kept this many days, then pruned "
        "(0: record none; the picture is then not rebuilt after a restart).",
    )
    conformance_margin_m: float = Field(
        500.0, ge=0, description="Own tracks may stray this far outside a volume, metres."
    )
    conformance_margin_alt_m: float = Field(
        150.0, ge=0, description="Own tracks may stray this far above or below a band, metres."
    )
    conformance_margin_s: int = Field(
        60, ge=0, description="Own tracks may fly this long before or after a window, seconds."
    )
    phrasebook: str = Field(
        "", description="Phrasebook file for coded messages; empty means the packaged one."
    )
    rules_dir: str = Field(
        "", description="Folder of agreement-rule files; empty means the packaged ones."
    )
    checkpoint_interval_s: int = Field(
        300, ge=0, description="Seconds between checkpoint exchanges with peers; 0: off."
    )
    security_log: str = Field(
        "security.log",
        max_length=4096,
        description="Security log (JSON lines): a file (in DIR unless absolute), `-` for "
        "stderr, empty for none.",
    )
    access_log: str = Field(
        "access.log",
        max_length=4096,
        description="Access log, one JSON line per request: a file (in DIR unless "
        "absolute), `-` for stderr, empty for none.",
    )
    federation_listen: str = Field(
        "",
        description="Where the federation listener (mutual TLS, for peers) binds, `host:port`; "
        "empty: the first endpoint's host and port.",
    )
    operator_listen: str = Field(
        "127.0.0.1:8400",
        description="Where the operator listener (API, console, metrics; TLS) binds, `host:port`.",
    )
    operator_cert_file: str = Field(
        "",
        description="Certificate (PEM) of the operator listener; empty: the node's `tls.crt`.",
    )
    operator_key_file: str = Field(
        "", description="Key (PEM) of `operator_cert_file`; empty: the node's `tls.key`."
    )
    allow_plain_http: bool = Field(
        False,
        description="Allow `http://` endpoints, on loopback only (development; never in use).",
    )

    # The node's folder is where the settings were read from, not a setting itself.
    _directory: Path = PrivateAttr(default_factory=Path.cwd)

    @field_validator("retry_cap_s")
    @classmethod
    def _retry_cap_at_most_a_minute(cls, value: float) -> float:
        if not 0 < value <= 60:
            raise ValueError(f"must be more than 0 and at most 60 seconds, not {value}")
        return value

    @field_validator("map_theatre")
    @classmethod
    def _theatre_box(cls, value: str) -> str:
        if value:
            south, west, north, east = (float(v) for v in value.split(","))
            if not (-90 <= south < north <= 90 and -180 <= west < east <= 180):
                raise ValueError(
                    "map_theatre is 'south,west,north,east' in degrees, south below north "
                    "and west of east (e.g. '44,22,56,42')"
                )
        return value

    @field_validator("federation_listen", "operator_listen")
    @classmethod
    def _listen_address(cls, value: str) -> str:
        if value:
            split_listen(value)  # ValueError names what is wrong
        return value

    @classmethod
    def at(cls, directory: Path, **values: Any) -> NodeSettings:
        """Settings of the node in ``directory`` from ``values`` alone (no file, no env)."""
        settings = cls(**values)
        settings._directory = directory
        return settings

    def replace(self, **changes: Any) -> NodeSettings:
        """A copy with ``changes`` applied, validated like the original."""
        return self.at(self.directory, **(self.model_dump() | changes))

    @property
    def directory(self) -> Path:
        return self._directory

    @property
    def key_path(self) -> Path:
        return self.directory / KEY_FILE

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.directory / 'hotline.db'}"

    def ack_deadline_s(self, precedence: str) -> int:
        """Seconds the receiver has to acknowledge a message of ``precedence``."""
        return int(getattr(self, f"ack_{precedence.lower()}_s"))

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Built from the arguments only: :func:`load_settings` reads the file and the
        # environment itself, so that a wrong value can be traced to where it came from.
        return (init_settings,)


def split_listen(value: str) -> tuple[str, int]:
    """``host:port`` (an IPv6 host in brackets) as its host and port; ValueError if not."""
    host, sep, port = value.rpartition(":")
    host = host.removeprefix("[").removesuffix("]") if host.startswith("[") else host
    if not sep or not host or any(c.isspace() for c in host) or not port.isdigit():
        raise ValueError(f"must be host:port, e.g. 127.0.0.1:8400, not {value!r}")
    if not 0 < int(port) < 65536:
        raise ValueError(f"must name a port from 1 to 65535, not {port}")
    return host, int(port)


#: Every setting, in the order of the model (and of the guide and the settings file).
SETTINGS: Mapping[str, FieldInfo] = NodeSettings.model_fields


def env_name(name: str) -> str:
    """The environment variable of setting ``name``."""
    return f"{ENV_PREFIX}{name.upper()}"


class _Environment(EnvSettingsSource):
    """``HOTLINE_*`` variables of a given mapping; a list is written comma separated."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(NodeSettings)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {key.lower(): value for key, value in self._environ.items()}  # case-insensitive

    def decode_complex_value(self, field_name: str, field: FieldInfo, value: Any) -> Any:
        return [part.strip() for part in str(value).split(",") if part.strip()]


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
    from_file = _read_file(path)
    from_env = _Environment(env)()
    try:
        return NodeSettings.at(directory, **(from_file | from_env))
    except pydantic.ValidationError as exc:
        raise _config_error(exc, path, from_env) from None


def _read_file(path: Path) -> dict[str, Any]:
    """The settings file's values, each of exactly its setting's type (no coercion)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    unknown = sorted(set(data) - set(SETTINGS))
    if unknown:
        raise ConfigError(
            f"{path}: unknown setting(s) {', '.join(unknown)}",
            hint="docs/operator-guide.md lists every setting",
            setting=unknown[0],
            source=str(path),
        )
    for name, value in data.items():
        # TOML and JSON share their scalars and arrays; strict JSON validation refuses
        # "300" for a number and 1.5 for a whole number but takes 30 for 30.0.
        try:
            TypeAdapter[Any](SETTINGS[name].annotation or Any).validate_json(
                json.dumps(value, default=str), strict=True
            )
        except pydantic.ValidationError as exc:
            problem = exc.errors()[0]["msg"]
            raise ConfigError(
                f"setting {name} (from {path}): {problem}, not {value!r}",
                setting=name,
                source=str(path),
            ) from None
    return data


def _config_error(
    exc: pydantic.ValidationError, path: Path, from_env: Mapping[str, Any]
) -> ConfigError:
    """The first problem, naming the setting and where its value came from."""
    error = exc.errors()[0]
    name = str(error["loc"][0]) if error["loc"] else "?"
    if error["type"] == "missing":
        return ConfigError(f"{path}: setting {name!r} is required", setting=name, source=str(path))
    source = f"environment variable {env_name(name)}" if name in from_env else str(path)
    if error["type"] == "value_error":  # our own check, worded as "<setting> must be …"
        message = f"setting {name} {error.get('ctx', {}).get('error')} (from {source})"
    else:
        message = f"setting {name} (from {source}): {error['msg']}, not {error['input']!r}"
    return ConfigError(message, setting=name, source=source)


def write_settings(directory: Path, values: Mapping[str, Any]) -> Path:
    """Write a fresh settings file (used by ``hotline init``): every setting with its help
    line; those in ``values`` set, the others commented out at their default."""
    lines = [
        "# Hotline node settings, read when the node opens: edit, then restart the node.",
        "# An environment variable HOTLINE_<NAME> (e.g. HOTLINE_TICK_S) wins over this file.",
        "# A line starting with '#' shows a setting's default; remove the '#' to change it.",
        "# docs/operator-guide.md explains every setting.",
        "",
    ]
    for name, field in SETTINGS.items():
        lines.append(f"# {field.description}")
        if name in values:
            lines.append(f"{name} = {_toml_value(values[name])}")
        elif field.is_required():
            lines.append(f"# {name} = (required)")
        else:
            lines.append(f"# {name} = {_toml_value(field.default)}")
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
