"""No SQL outside ``storage/``: checked on the source, beside the import contracts.

``lint-imports`` (``[tool.importlinter]`` in pyproject.toml) keeps SQLAlchemy imports inside
``hotline.storage``; a module can still run SQL without importing SQLAlchemy, on a
connection it was handed. This test reads every module outside ``storage/`` and fails on
what runs or builds SQL: a call of ``.execute()``, ``.executemany()`` or
``.exec_driver_sql()``, a bare ``select()``, ``insert()``, ``update()``, ``delete()`` or
``text()`` not defined in the module itself, or a string literal that reads as SQL.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "hotline"

#: Modules outside storage/ allowed to run SQL, each with its reason (keep this short).
EXCEPTIONS = {
    # Creates and drops the per-test databases on the PostgreSQL server (administration
    # through psycopg, not a node's data); never imported by a running node.
    "testing.py": "test databases",
    # The standby drill's own clusters: creates their database, reads replication state.
    "testing_pg.py": "test clusters",
}

RUNS_SQL = {"execute", "executemany", "exec_driver_sql"}
BUILDS_SQL = {"select", "insert", "update", "delete", "text"}
SQL_TEXT = re.compile(
    r"\b(SELECT\s.+\sFROM|INSERT\s+INTO|DELETE\s+FROM|UPDATE\s+\w+\s+SET|"
    r"(CREATE|DROP|ALTER)\s+(TABLE|DATABASE|INDEX)|pg_\w+\()"
)


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.relative_to(PACKAGE).parts[0] != "storage")


def sql_outside_storage(source: str) -> list[tuple[int, str]]:
    """(line, what) for every place in ``source`` that runs or builds SQL."""
    tree = ast.parse(source)
    defined = {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in RUNS_SQL:
                found.append((node.lineno, f".{func.attr}()"))
            elif isinstance(func, ast.Name) and func.id in BUILDS_SQL - defined:
                found.append((node.lineno, f"{func.id}()"))
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and SQL_TEXT.search(node.value)
        ):
            found.append((node.lineno, f"SQL text {node.value[:40]!r}"))
    return sorted(found)


def test_no_sql_outside_storage() -> None:
    found = [
        f"{path.relative_to(PACKAGE)}:{line}: {what}"
        for path in _modules()
        if path.relative_to(PACKAGE).as_posix() not in EXCEPTIONS
        for line, what in sql_outside_storage(path.read_text(encoding="utf-8"))
    ]
    assert [] == found, "SQL outside storage/: move it into a storage/<topic>.py function"


def test_exceptions_are_still_needed() -> None:
    """An exception whose module no longer runs SQL (or is gone) is taken off the list."""
    stale = [
        name
        for name in EXCEPTIONS
        if not (PACKAGE / name).exists()
        or not sql_outside_storage((PACKAGE / name).read_text(encoding="utf-8"))
    ]
    assert [] == stale


@pytest.mark.parametrize(
    "source",
    [
        "conn.execute(stmt)",
        "node.db.engine.connect().exec_driver_sql('VACUUM')",
        "rows = select(messages).where(x)",
        "from hotline.storage.tables.core import messages as m\nupdate(m)",
        "q = 'SELECT id FROM messages WHERE peer = :p'",
        "sql = 'SELECT pg_try_advisory_lock(:k)'",
        "s = text('LISTEN hotline')",
    ],
)
def test_the_check_sees_sql(source: str) -> None:
    assert sql_outside_storage(source)


@pytest.mark.parametrize(
    "source",
    [
        "counts.update(other)",  # a dict's update, not SQL's
        "def text(form, name):\n    return form[name]\n\ntext(form, 'to')",
        "forms.text(form, 'to')",
        "message = 'select a peer from the list'",
        "path.read_text()",
    ],
)
def test_the_check_leaves_other_code_alone(source: str) -> None:
    assert [] == sql_outside_storage(source)
