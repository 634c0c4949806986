"""The published JSON Schemas (docs/schemas) are what the models produce, and hold no floats."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import pytest

from hotline.domain.notices.models import NOTICE_TYPES, json_schemas

ROOT = Path(__file__).resolve().parents[2]


def export_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "export_schemas", ROOT / "scripts" / "export_schemas.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_there_is_one_committed_schema_per_notice_type() -> None:
    committed = sorted(p.stem for p in (ROOT / "docs" / "schemas").glob("*.json"))

    assert sorted(NOTICE_TYPES) == committed


def test_committed_schemas_equal_what_the_models_produce() -> None:
    stale = [
        str(path.relative_to(ROOT))
        for path, text in export_script().schema_texts().items()
        if not path.is_file() or path.read_text(encoding="utf-8") != text
    ]

    assert [] == stale, "run: .venv/bin/python scripts/export_schemas.py"


def numeric_types(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = ["number"] if node.get("type") == "number" else []
        return found + [t for value in node.values() for t in numeric_types(value)]
    if isinstance(node, list):
        return [t for value in node for t in numeric_types(value)]
    return []


@pytest.mark.parametrize("name", NOTICE_TYPES)
def test_no_schema_allows_a_float(name: str) -> None:
    assert [] == numeric_types(json_schemas()[name])


# --- what the model validators check is in the published schemas ----------------------------

EXAMPLES_DIR = ROOT / "examples" / "notices"


def committed(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(
        (ROOT / "docs" / "schemas" / f"{name}.json").read_text(encoding="utf-8")
    )
    return schema


def example(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((EXAMPLES_DIR / name).read_text(encoding="utf-8"))
    return body


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES_DIR.glob("*.json")))
def test_every_example_validates_against_its_committed_schema(name: str) -> None:
    body = example(name)

    jsonschema.Draft202012Validator(committed(body["type"])).validate(body)


@pytest.mark.parametrize(
    ("name", "change"),
    [
        ("activity_notice_missile_launch.json", lambda b: b.pop("impact_area")),
        ("activity_notice_hazardous_activity.json", lambda b: b.update(launch_area={})),
        ("deconfliction_answer.json", lambda b: b.update(answer="counter_proposal", volumes=None)),
        ("incident_report.json", lambda b: b.pop("datum")),
    ],
)
def test_the_committed_schema_refuses_what_the_model_refuses(name: str, change: Any) -> None:
    body = example(name)
    change(body)

    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(committed(body["type"])).validate(body)


def test_a_missile_launch_requires_both_areas_in_the_schema() -> None:
    # runs without a validator: the condition itself, as JSON Schema 2020-12 spells it
    [condition] = committed("activity_notice")["allOf"]

    assert (
        {"required": ["activity"], "properties": {"activity": {"const": "missile_launch"}}},
        ["launch_area", "impact_area"],
    ) == (condition["if"], condition["then"]["required"])


@pytest.mark.parametrize(
    ("definition", "words"),
    [
        ("VolumeProperties", "alt_upper_m is not below alt_lower_m"),
        ("VolumeProperties", "end is after start"),
        ("PolygonGeometry", "The ring is closed"),
    ],
)
def test_what_json_schema_cannot_say_is_described(definition: str, words: str) -> None:
    assert words in committed("activity_notice")["$defs"][definition]["description"]
