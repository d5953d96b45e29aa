"""Regenerate the bad-input table of docs/reliability.md from tests/test_bad_input.py.

Run from the repository root: ``OMP_NUM_THREADS=1 .venv/bin/python
tools/render_reliability_table.py``. Every case of ``CASES`` is run and its
exception type and message (cut at 260 characters) become one row;
``test_docs_table_matches_cases`` then keeps the two lists identical.
"""

import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import test_bad_input  # noqa: E402


def main() -> None:
    """Rewrite the table's rows in place."""
    warnings.simplefilter("ignore")
    rows = []
    for case_id, action, _error, _match in test_bad_input.CASES:
        try:
            action()
        except Exception as exc:
            message = " ".join(str(exc).split())
            if len(message) > 260:
                message = message[:257] + "..."
            message = message.replace("|", "\\|")
            rows.append(f"| `{case_id}` | `{type(exc).__name__}` | {message} |")
        else:
            raise SystemExit(f"{case_id} raised nothing")
    doc = ROOT / "docs" / "reliability.md"
    lines = doc.read_text().splitlines()
    start = next(i for i, line in enumerate(lines)
                 if line.startswith("| case | exception | message |"))
    end = start + 2
    while end < len(lines) and lines[end].startswith("| `"):
        end += 1
    lines[start + 2:end] = rows
    doc.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
