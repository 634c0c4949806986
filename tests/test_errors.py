"""The error tree: drawn once in ``errors.py``'s docstring, and every error lives there."""

from __future__ import annotations

import ast
import inspect
import pkgutil
import re
from pathlib import Path

import hotline
from hotline import errors
from hotline.errors import HotlineError

_TREE_LINE = re.compile(r"^    (?P<indent>(?:[│ ]   )*)(?:[├└]── )?(?P<name>[A-Z]\w+)\b")


def _drawn_tree() -> dict[str, str | None]:
    """Each class name in the docstring's tree, with the name of its drawn parent."""
    doc = errors.__doc__ or ""
    block = doc.split("The tree::", 1)[1]
    parents: list[str] = []
    drawn: dict[str, str | None] = {}
    for line in block.splitlines():
        found = _TREE_LINE.match(line)
        if not found:
            continue
        depth = len(found["indent"]) // 4 + (0 if line.strip().startswith("HotlineError") else 1)
        del parents[depth:]
        drawn[found["name"]] = parents[-1] if parents else None
        parents.append(found["name"])
    return drawn


def _defined() -> dict[str, str | None]:
    classes = {
        name: cls
        for name, cls in vars(errors).items()
        if inspect.isclass(cls)
        and issubclass(cls, HotlineError)
        and cls.__module__ == errors.__name__
    }
    return {
        name: (None if cls is HotlineError else cls.__bases__[0].__name__)
        for name, cls in classes.items()
    }


def test_the_docstring_draws_exactly_the_errors_defined_with_their_parents() -> None:
    assert _defined() == _drawn_tree()


def test_every_error_is_exported() -> None:
    assert sorted(_defined()) == sorted(errors.__all__)


def test_each_error_has_its_own_code() -> None:
    # LoginRequired never reaches a client; ApiError carries the node's code in error_code.
    borrowed = {"LoginRequired", "ApiError"}
    codes = [getattr(errors, name).code for name in _defined() if name not in borrowed]
    assert len(codes) == len(set(codes))


def test_no_exception_class_is_defined_outside_errors_py() -> None:
    root = Path(hotline.__file__).parent
    elsewhere = []
    for module in pkgutil.walk_packages([str(root)], "hotline."):
        path = root.joinpath(*module.name.split(".")[1:])
        source = path / "__init__.py" if module.ispkg else path.with_suffix(".py")
        if source.name == "errors.py" and source.parent == root:
            continue
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                re.search(r"(Error|Exception|Refused|Required)$", ast.unparse(base))
                for base in node.bases
            ):
                elsewhere.append(f"{module.name}.{node.name}")
    assert [] == elsewhere
