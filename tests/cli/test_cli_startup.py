"""The command line starts fast, and one resolver reads every short id the listings print.

``hotline --help`` and every command that computes no geometry load no NumPy, SciPy,
Shapely or pyproj (nor FastAPI, uvicorn or SQLAlchemy): a fresh interpreter proves it.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from hotline.cli import conflicts
from hotline.cli.common import whole_id, whole_message_id
from hotline.errors import Conflict, ValidationError

GEOMETRY = {"numpy", "scipy", "shapely", "pyproj"}
SERVER = {"fastapi", "uvicorn", "sqlalchemy", "starlette"}

LOADED = (
    "import sys; print(__import__('json').dumps(sorted({m.split('.')[0] for m in sys.modules} "
    f"& set({sorted(GEOMETRY | SERVER)!r}))))"
)


def loaded_by(code: str) -> list[str]:
    """The top-level packages of GEOMETRY and SERVER loaded once ``code`` ran."""
    done = subprocess.run(
        [sys.executable, "-c", f"{code}\n{LOADED}"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert 0 == done.returncode, done.stderr
    return list(json.loads(done.stdout.splitlines()[-1]))


def test_importing_the_command_line_loads_no_geometry_nor_server() -> None:
    assert [] == loaded_by("import hotline.cli.main")


@pytest.mark.parametrize(
    "args",
    [["--help"], ["calls", "--help"], ["conflicts", "volumes", "--help"], ["notice", "--help"]],
)
def test_help_loads_no_geometry_nor_server(args: list[str]) -> None:
    run = (
        "import sys\n"
        f"sys.argv = ['hotline', *{args!r}]\n"
        "from hotline.cli.main import main\n"
        "try:\n    main()\nexcept SystemExit as exit:\n    assert exit.code in (0, None)\n"
    )
    assert [] == loaded_by(run)


def test_the_console_script_prints_its_help() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "hotline", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert 0 == done.returncode, done.stderr
    assert "Usage: " in done.stdout and "conflicts" in done.stdout


def test_the_help_defaults_of_conflicts_volumes_are_the_engines() -> None:
    from hotline.geo.strategic.engine import SYRIA_MOU

    assert (SYRIA_MOU.lateral_m, SYRIA_MOU.vertical_m, SYRIA_MOU.time_buffer_s) == (
        conflicts.DEFAULT_LATERAL_M,
        conflicts.DEFAULT_VERTICAL_M,
        conflicts.DEFAULT_TIME_BUFFER_S,
    )


IDS = [
    "3f2c9a10-0000-4000-8000-000000000001",
    "3f2c9a11-0000-4000-8000-000000000002",
    "7d41be00-0000-4000-8000-000000000003",
]


def test_a_start_names_the_one_id_it_begins() -> None:
    assert IDS[2] == whole_id("7d41be", "held message", lambda: IDS)
    assert IDS[0] == whole_id(" 3F2C9A10 ", "call", lambda: IDS)  # as pasted


def test_a_whole_id_is_taken_as_it_is_without_listing() -> None:
    def unlisted() -> list[str]:
        raise AssertionError("a whole id needs no listing")

    assert IDS[0] == whole_id(IDS[0].upper(), "readout", unlisted)


def test_a_start_no_id_begins_is_passed_on_for_the_node_to_say_not_found() -> None:
    assert "abcdef12" == whole_id("abcdef12", "call request", lambda: IDS)


def test_a_start_shared_by_two_ids_is_refused() -> None:
    with pytest.raises(Conflict) as refused:
        whole_id("3f2c9a1", "call request", lambda: IDS)
    assert "conflict" == refused.value.code
    assert IDS[0] in refused.value.message and IDS[1] in refused.value.message


@pytest.mark.parametrize("given", ["3f2c9", "zz'; drop", ""])
def test_a_start_too_short_or_not_of_an_id_is_invalid(given: str) -> None:
    with pytest.raises(ValidationError) as refused:
        whole_id(given, "held message", lambda: IDS)
    assert ("invalid", "held_message_id") == (refused.value.code, refused.value.context["field"])


def test_nothing_but_an_id_goes_into_a_message_path() -> None:
    class Client:
        def __init__(self) -> None:
            self.asked: list[str] = []

        def get(self, path: str) -> dict[str, str]:
            self.asked.append(path)
            return {"id": IDS[0]}

    client = Client()
    for given in ["../../api/v1/users", "3f2c9a10?x=1", "../../../../../../../../../../../xx"]:
        with pytest.raises(ValidationError):
            whole_message_id(client, given)  # type: ignore[arg-type]
    assert [] == client.asked
    assert IDS[0] == whole_message_id(client, "3F2C9A10")  # type: ignore[arg-type]
    assert ["/api/v1/messages/3f2c9a10"] == client.asked
