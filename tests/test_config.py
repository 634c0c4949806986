"""Node settings: the environment wins over the file, the file over the default; a wrong value
stops the node with an error naming the setting and where the value came from; the file that
``hotline init`` writes names every setting and loads back to the same settings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hotline.config import SETTINGS, SETTINGS_FILE, load_settings, write_settings
from hotline.errors import ConfigError
from hotline.node import init_node

IDENTITY = {"party": "us", "name_en": "United States", "name_ru": "США"}


@pytest.fixture
def node_dir(tmp_path: Path) -> Path:
    write_settings(tmp_path, IDENTITY)
    return tmp_path


def append(directory: Path, line: str) -> None:
    with (directory / SETTINGS_FILE).open("a", encoding="utf-8") as out:
        out.write(line + "\n")


def test_the_environment_wins_over_the_file_and_the_file_over_the_default(
    node_dir: Path,
) -> None:
    append(node_dir, "tick_s = 0.25")
    append(node_dir, "batch_size = 8")

    settings = load_settings(node_dir, {"HOTLINE_BATCH_SIZE": "16"})

    assert (0.25, 16, 300) == (settings.tick_s, settings.batch_size, settings.clock_skew_s)
    assert node_dir.resolve() == settings.directory
    assert f"sqlite:///{node_dir.resolve() / 'hotline.db'}" == settings.db_url


def test_a_list_in_the_environment_is_comma_separated(node_dir: Path) -> None:
    env = {"HOTLINE_ENDPOINTS": "https://a.example:8400, https://b.example:8400,"}
    assert ("https://a.example:8400", "https://b.example:8400") == (
        load_settings(node_dir, env).endpoints
    )
    assert () == load_settings(node_dir, {"HOTLINE_ENDPOINTS": ""}).endpoints


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("true", True), ("1", True), ("yes", True), ("false", False), ("0", False)],
)
def test_a_boolean_in_the_environment(node_dir: Path, raw: str, expected: bool) -> None:
    assert expected is load_settings(node_dir, {"HOTLINE_FLASH_TWO_PERSON": raw}).flash_two_person


def test_other_hotline_variables_are_no_settings(node_dir: Path) -> None:
    env = {"HOTLINE_USER": "duty1", "HOTLINE_DIR": "/elsewhere", "HOTLINE_CLOCK_OFFSET_FILE": "x"}
    assert load_settings(node_dir, {}) == load_settings(node_dir, env)


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("flash_two_person", "ture"),
        ("tick_s", "abc"),
        ("batch_size", "1.5"),
        ("lang", "de"),
        ("retry_cap_s", "61"),
        ("retry_cap_s", "0"),
        # out of range: each would stop a thread, spin it, or lock everyone out
        ("tick_s", "inf"),
        ("tick_s", "nan"),
        ("tick_s", "0"),
        ("batch_size", "0"),
        ("retry_base_s", "-1"),
        ("request_timeout_s", "0"),
        ("login_max_failures", "0"),
        ("token_ttl_s", "-5"),
        ("track_share_s", "-1"),
    ],
)
def test_a_wrong_value_in_the_environment_names_the_variable(
    node_dir: Path, name: str, raw: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(node_dir, {f"HOTLINE_{name.upper()}": raw})

    assert "config" == caught.value.code
    source = f"environment variable HOTLINE_{name.upper()}"
    assert {"setting": name, "source": source} == caught.value.context
    assert name in caught.value.message and source in caught.value.message


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ('tick_s = "1.0"', "tick_s"),  # a string where a number goes
        ("batch_size = 1.5", "batch_size"),  # a fraction where a whole number goes
        ("flash_two_person = 1", "flash_two_person"),
        ('endpoints = "https://a.example:8400"', "endpoints"),  # a string, not a list
        ('lang = "de"', "lang"),
        ("retry_cap_s = 61", "retry_cap_s"),
        ("tick_s = inf", "tick_s"),
        ("checkpoint_interval_s = -300", "checkpoint_interval_s"),
        ("tick_ss = 1.0", "tick_ss"),  # unknown: a typo
        ("extra = 1", "extra"),  # no longer a setting
    ],
)
def test_a_wrong_value_in_the_file_names_the_file(node_dir: Path, line: str, name: str) -> None:
    append(node_dir, line)

    with pytest.raises(ConfigError) as caught:
        load_settings(node_dir, {})

    path = str(node_dir.resolve() / SETTINGS_FILE)
    assert {"setting": name, "source": path} == caught.value.context
    assert name in caught.value.message and path in caught.value.message


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [("track_share_s", "0", 0), ("checkpoint_interval_s", "0", 0), ("clock_skew_s", "0", 0)],
)
def test_zero_is_taken_where_it_means_off_or_none(
    node_dir: Path, name: str, raw: str, expected: int
) -> None:
    assert expected == getattr(load_settings(node_dir, {f"HOTLINE_{name.upper()}": raw}), name)


def test_a_whole_number_is_taken_where_a_fraction_goes(node_dir: Path) -> None:
    append(node_dir, "retry_cap_s = 8")
    assert 8.0 == load_settings(node_dir, {}).retry_cap_s


def test_the_identity_is_required(tmp_path: Path) -> None:
    write_settings(tmp_path, {"party": "us", "name_en": "United States"})
    with pytest.raises(ConfigError, match="setting 'name_ru' is required") as caught:
        load_settings(tmp_path, {})
    assert "name_ru" == caught.value.context["setting"]


def test_a_broken_or_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"hotline\.toml is missing"):
        load_settings(tmp_path, {})
    (tmp_path / SETTINGS_FILE).write_text("party = \n", encoding="utf-8")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_settings(tmp_path, {})


def test_a_copy_with_changes_is_validated(node_dir: Path) -> None:
    settings = load_settings(node_dir, {})
    assert 8.0 == settings.replace(retry_cap_s=8).retry_cap_s
    assert settings.directory == settings.replace(tick_s=0.5).directory
    with pytest.raises(ValueError, match="at most 60 seconds"):
        settings.replace(retry_cap_s=600)


# -- the file that `hotline init` writes --------------------------------------------------------


@pytest.fixture
def written(tmp_path: Path) -> Path:
    node = init_node(
        tmp_path / "us",
        party="us",
        name_en="United States",
        name_ru="Соединённые Штаты Америки",
        endpoints=["https://hotline-1.example.org:8400"],
    )
    node.db.dispose()
    return node.settings.directory


def test_the_written_file_names_every_setting_with_its_help(written: Path) -> None:
    text = (written / SETTINGS_FILE).read_text(encoding="utf-8")
    for name, field in SETTINGS.items():
        assert re.search(rf"^#? ?{name} = ", text, re.M), name
        assert f"# {field.description}\n" in text, name


def test_the_written_file_loads_back_to_what_init_was_given(written: Path) -> None:
    settings = load_settings(written, {})
    assert ("us", "United States", "Соединённые Штаты Америки", "en") == (
        settings.party,
        settings.name_en,
        settings.name_ru,
        settings.lang,
    )
    assert ("https://hotline-1.example.org:8400",) == settings.endpoints
    defaults = {name: f.default for name, f in SETTINGS.items() if not f.is_required()}
    given = {"lang", "endpoints"}
    assert {k: v for k, v in defaults.items() if k not in given} == settings.model_dump(
        exclude={"party", "name_en", "name_ru", *given}
    )


def test_uncommenting_a_default_changes_nothing(written: Path) -> None:
    path = written / SETTINGS_FILE
    before = load_settings(written, {})
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"^# (\w+ = )", r"\1", text, flags=re.M), encoding="utf-8")

    assert before == load_settings(written, {})
