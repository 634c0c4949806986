"""The docs agree with the code: settings, README commands, CLI help."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from hotline.cli.main import app
from hotline.config import SETTINGS, env_name

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_is_documented_with_its_default_and_help() -> None:
    guide = (ROOT / "docs" / "operator-guide.md").read_text(encoding="utf-8")
    rows = {
        name: (env, default.strip(), meaning.strip())
        for name, env, default, meaning in re.findall(
            r"^\| `(\w+)` \| `(HOTLINE_\w+)` \| ([^|]+) \|(.+)\|$", guide, re.M
        )
    }
    assert list(SETTINGS) == list(rows)  # the same settings, in the same order
    for name, field in SETTINGS.items():
        env, default, meaning = rows[name]
        assert (env_name(name), field.description) == (env, meaning), name
        if field.is_required():
            assert "(required)" == default, name
        else:
            shown = list(field.default) if isinstance(field.default, tuple) else field.default
            assert default.startswith(f"`{shown!r}`".replace("'", '"')), name


def test_the_readme_opens_with_exactly_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = re.search(r"```sh\n(.*?)```", readme, re.S)
    assert first_block is not None
    commands = [line for line in first_block.group(1).splitlines() if line.strip()]
    assert ["bash scripts/demo.sh", "bash scripts/test.sh"] == [
        c.split("#")[0].strip() for c in commands
    ]
    assert (ROOT / ".ci" / "run").read_text().strip().endswith("exec bash scripts/test.sh")


def test_every_cli_command_in_the_guide_exists() -> None:
    guide = (ROOT / "docs" / "operator-guide.md").read_text(encoding="utf-8")
    used = set(re.findall(r"^hotline ([a-z]+)", guide, re.M))
    result = CliRunner().invoke(app, ["--help"])
    assert 0 == result.exit_code
    assert used and all(name in result.output for name in used), used
