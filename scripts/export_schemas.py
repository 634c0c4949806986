"""Write the JSON Schema of each notice type to docs/schemas/<type>.json.

Run after changing a notice model; tests/notices/test_schemas.py fails while the
committed files differ from what the models produce::

    .venv/bin/python scripts/export_schemas.py           # write the files
    .venv/bin/python scripts/export_schemas.py --check   # exit 1 if any file is stale
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from hotline.domain.notices.models import json_schemas

OUT = Path(__file__).resolve().parent.parent / "docs" / "schemas"


def schema_texts() -> dict[Path, str]:
    """Each schema file's path and its exact text."""
    return {
        OUT / f"{name}.json": json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
        for name, schema in json_schemas().items()
    }


def main(argv: list[str]) -> int:
    """Write the files, or with ``--check`` only report which are stale."""
    stale = [
        path
        for path, text in schema_texts().items()
        if not path.is_file() or path.read_text(encoding="utf-8") != text
    ]
    if "--check" in argv:
        for path in stale:
            print(f"stale: {path}", file=sys.stderr)
        return 1 if stale else 0
    OUT.mkdir(parents=True, exist_ok=True)
    for path in stale:
        path.write_text(schema_texts()[path], encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
