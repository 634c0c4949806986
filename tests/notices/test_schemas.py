"""The published JSON Schemas (docs/schemas) are what the models produce, and hold no floats."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from hotline.domain.notices import NOTICE_TYPES, json_schemas

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
