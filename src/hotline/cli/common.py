"""What every ``hotline`` command module shares: the ``--dir`` option and the other common
options, the node opener, error printing, JSON output, a logged-in client for the running
node, and the resolver of short ids.

**Nothing from a peer or a user reaches the terminal raw.** Everything the command prints
goes through this module: the consoles ``out`` and ``err`` (:class:`SafeConsole`) read no
Rich markup or emoji codes in strings and make control characters visible in every
segment they write (a peer's ``\\x1b[2J`` prints as the eight characters ``\\x1b[2J``);
:func:`safe` does the same to one value before it is laid out (so tables keep their
widths); :func:`echo` is ``typer.echo`` through :func:`safe`; :func:`print_json` and
:func:`json_text` escape the same characters as JSON ``\\uXXXX`` escapes, leaving Russian
text readable. Made visible: C0 and C1 control characters (ESC, CR, BEL …; newline and
tab stay, except in :func:`safe` with ``one_line``), DEL, Unicode format characters
(among them the bidirectional controls U+202A–U+202E, U+2066–U+2069, U+200E, U+200F,
U+061C), line and paragraph separators, and lone surrogates.

``hotline.cli.app`` registers the command modules (``line``, ``calls``, ``evidence`` …),
so they cannot import from it; they import from here instead. This module imports nothing
heavy (no NumPy, no SQLAlchemy, no FastAPI): ``hotline --help`` stays fast.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import sys
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console, ConsoleOptions, RenderableType
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from hotline import seclog
from hotline.client import NodeClient, connect
from hotline.errors import Conflict, HotlineError, ValidationError

if TYPE_CHECKING:
    from hotline.node import Node

# -- what reaches the terminal ---------------------------------------------------------------

#: Unicode categories never printed as they are: control (C0, C1, DEL), format (the
#: bidirectional controls, zero-width characters …), surrogate, line and paragraph separator.
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_MAYBE_HIDDEN = re.compile(r"[^\t\n\x20-\x7e]")  # newline and tab stay: text has lines
_MAYBE_HIDDEN_IN_LINE = re.compile(r"[^\x20-\x7e]")


_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _hidden(char: str) -> bool:
    return unicodedata.category(char) in HIDDEN_CATEGORIES


def _shown(match: re.Match[str]) -> str:
    char = match.group()
    if not _hidden(char):
        return char
    code = ord(char)
    if char in _SHORT:
        return _SHORT[char]
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def safe(value: object, *, one_line: bool = False) -> str:
    """``value`` as text with every control, escape and bidirectional character made
    visible (``\\x1b``, ``\\r``, ``\\u202e``); newlines and tabs stay unless ``one_line``
    (names, endpoints: a peer must not start a line of its own). None is empty."""
    text = "" if value is None else str(value)
    return (_MAYBE_HIDDEN_IN_LINE if one_line else _MAYBE_HIDDEN).sub(_shown, text)


class SafeConsole(Console):
    """A Rich console that never passes a control sequence it did not make itself.

    Strings are text, not markup, unless a caller asks for markup (``markup=True`` when
    made, for the demo's own lines); :meth:`render_str` makes hidden characters visible
    before a string is laid out, and :meth:`render` does it again to every segment of
    text (a ``Text``, a table cell) just before it is written. Rich's own control
    segments (cursor moves, which this command does not use) are left alone."""

    def __init__(self, *, markup: bool = False, **kwargs: Any) -> None:
        super().__init__(markup=markup, emoji=False, highlight=False, **kwargs)

    def render_str(self, text: str, **kwargs: Any) -> Text:
        return super().render_str(safe(text), **kwargs)

    def render(
        self, renderable: RenderableType, options: ConsoleOptions | None = None
    ) -> Iterator[Segment]:
        for segment in super().render(renderable, options):
            if segment.control or not _MAYBE_HIDDEN.search(segment.text):
                yield segment
            else:
                yield Segment(safe(segment.text), segment.style, segment.control)


out = SafeConsole()
err = SafeConsole(stderr=True)


def echo(message: object = "", *, err: bool = False, nl: bool = True) -> None:
    """``typer.echo`` with hidden characters made visible (see :func:`safe`)."""
    typer.echo(safe(message), err=err, nl=nl)


def _json_escaped(match: re.Match[str]) -> str:
    char = match.group()
    if not _hidden(char):
        return char
    data = char.encode("utf-16-be", "surrogatepass")
    return "".join(f"\\u{int.from_bytes(data[i : i + 2]):04x}" for i in range(0, len(data), 2))


def json_text(data: Any, *, indent: int | None = 2) -> str:
    """``data`` as JSON, non-ASCII text as it is (Russian stays readable) but every hidden
    character as a ``\\uXXXX`` escape: the same value to a JSON reader, nothing raw to a
    terminal."""
    text = json.dumps(data, ensure_ascii=False, indent=indent)
    return _MAYBE_HIDDEN.sub(_json_escaped, text)


F = TypeVar("F", bound=Callable[..., Any])

#: The node's folder: every command that works on a node takes it (or ``HOTLINE_DIR``).
DirOpt = Annotated[
    Path, typer.Option("--dir", envvar="HOTLINE_DIR", help="The node's folder.", show_default=True)
]
#: ``--dir`` where a node is optional (``notice check``: use its rules and phrasebook).
OptionalDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--dir",
        envvar="HOTLINE_DIR",
        help="A node's folder: use its rules_dir and phrasebook settings.",
        show_default=False,
    ),
]
#: ``--dir`` of ``hotline demo``: a working folder that will hold two nodes, not a node.
DemoDirOpt = Annotated[Path, typer.Option("--dir", help="Working folder for the two demo nodes")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON only.")]
UserOpt = Annotated[
    str | None, typer.Option("--user", envvar="HOTLINE_USER", help="Operator name.")
]
UrlOpt = Annotated[
    str | None,
    typer.Option(
        "--url",
        envvar="HOTLINE_URL",
        help="The node's API URL (default: its operator_listen, over TLS).",
    ),
]


def friendly(func: F) -> F:
    """Turn hotline errors into one clear line (and a hint) on stderr and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except HotlineError as exc:
            # messages quote people's input (titles, ids, names): never read as markup
            err.print(
                Text.assemble(("error:", "bold red"), f" {safe(exc.message)}"), soft_wrap=True
            )
            if exc.hint:
                err.print(Text(f"hint: {safe(exc.hint)}", style="dim"), soft_wrap=True)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def print_json(data: Any) -> None:
    """Print ``data`` as JSON (see :func:`json_text`)."""
    sys.stdout.write(json_text(data) + "\n")


def plain(value: Any, style: str | Style = "", *, one_line: bool = False) -> Text:
    """``value`` as text that rich prints literally: no markup, no ``:emoji:`` codes, and
    hidden characters made visible (:func:`safe`)."""
    return Text(safe(value, one_line=one_line), style=style)


def say(text: str) -> None:
    """Print a line built from people's text: literally, never as markup."""
    out.print(plain(text))


def spoken_fingerprint(fingerprint: str) -> str:
    """A key fingerprint as read aloud (``protocol.keys``, imported on use: it loads the
    cryptography library, which ``hotline --help`` does not need)."""
    from hotline.protocol.keys import spoken_fingerprint as spoken

    return spoken(fingerprint)


def read_json_file(path: Path, what: str) -> Any:
    """The JSON in ``path``; an unreadable file or bad JSON is an error naming ``what``
    (``card file``, ``notice file``) and the path."""
    from hotline.protocol.canonical import parse_json

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ValidationError(f"cannot read {what} {path}: {exc.strerror}") from exc
    return parse_json(raw, f"{what} {path}")


def read_text_file(path: Path, what: str) -> str:
    """The UTF-8 text in ``path``; an unreadable file is an error naming ``what``."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValidationError(f"cannot read {what} {path}: {exc.strerror}") from exc
    except UnicodeDecodeError:
        raise ValidationError(f"{what} {path} is not UTF-8 text") from None


def write_text_file(path: Path, text: str, what: str) -> None:
    """Write ``text`` (UTF-8) to ``path``; a folder missing or not writable is an error
    naming ``what`` and the path."""
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ValidationError(
            f"cannot write {what} {path}: {exc.strerror}",
            hint="check that the folder exists and is writable",
        ) from exc


def read_password(from_stdin: bool, prompt: str) -> str:
    """A password from standard input's first line, or asked twice without echo."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt(prompt, hide_input=True, confirmation_prompt=True))


@contextlib.contextmanager
def opened_node(directory: Path) -> Iterator[Node]:
    """The node in ``directory``, opened on its folder (not served), closed after use."""
    from hotline.node import Node

    node = Node.open(directory)
    settings = node.settings  # what a command does is in the node's security log too
    logs = seclog.open_logs(
        settings.directory,
        node.identity.party,
        security=settings.security_log,
        access=settings.access_log,
    )
    seclog.install(logs)
    try:
        yield node
    finally:
        seclog.uninstall(logs)
        logs.close()
        node.db.dispose()


def node_client(directory: Path, url: str | None, user: str | None) -> NodeClient:
    """A client of the running node in ``directory``, logged in (see ``hotline.client``)."""
    from hotline.client import operator_target
    from hotline.config import load_settings

    settings = load_settings(directory)
    base, verify = operator_target(settings, url)
    return connect(settings.directory, base, user, os.environ.get("HOTLINE_PASSWORD"), verify)


# -- short ids ------------------------------------------------------------------------------

#: A whole id (a UUID) is this long; listings print its start.
WHOLE_ID = 36
#: The shortest start of an id taken for the whole id.
SHORTEST_ID = 6


def whole_id(given: str, what: str, known: Callable[[], Iterable[str]]) -> str:
    """The whole id of the one ``what`` (``call request``, ``held message`` …) whose id
    starts with ``given``, among the ids ``known()`` lists; a whole id as it is (whoever
    reads it next says if it is unknown), and ``given`` itself when no id starts so.

    The rules of ``hotline show`` and ``hotline ack`` (``storage.messages.resolve``): at
    least 6 characters of a UUID; a start shared by several ids is refused (``Conflict``)."""
    given = given.strip().lower()
    if len(given) < SHORTEST_ID or any(c not in "0123456789abcdef-" for c in given):
        raise ValidationError(
            f"{given!r} is not a {what} id: give the whole id or at least its first 6 "
            "characters, as the listings print them",
            field=f"{what.replace(' ', '_')}_id",
        )
    if len(given) == WHOLE_ID:
        return given
    found = sorted({i for i in known() if i.lower().startswith(given)})
    if len(found) > 1:
        shown = found[:5]
        raise Conflict(
            f"{given!r} is the start of more than one {what} id: {', '.join(shown)}"
            + (", …" if len(found) > 5 else ""),
            hint="give more characters of the id",
        )
    return found[0] if found else given


def whole_message_id(client: NodeClient, given: str) -> str:
    """The whole id of the message ``given`` names (its start), as ``show`` finds it."""
    # checked here, so that nothing but an id or its start ever goes into the path
    given = whole_id(given, "message", lambda: ())
    if len(given) == WHOLE_ID:
        return given
    return str(client.get(f"/api/v1/messages/{given}")["id"])
