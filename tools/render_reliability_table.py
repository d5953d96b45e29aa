"""Regenerate the bad-input table of docs/reliability.md from tests/test_bad_input.py."""
import re, sys, warnings
from pathlib import Path
sys.path.insert(0, "tests")
warnings.simplefilter("ignore")
import test_bad_input as t
rows = []
for case_id, action, error, match in t.CASES:
    try:
        action()
    except Exception as exc:
        msg = " ".join(str(exc).split())
        if len(msg) > 260:
            msg = msg[:257] + "..."
        msg = msg.replace("|", "\\|")
        rows.append(f"| `{case_id}` | `{type(exc).__name__}` | {msg} |")
    else:
        raise SystemExit(f"{case_id} raised nothing")
doc = Path("docs/reliability.md")
text = doc.read_text()
lines = text.splitlines()
start = next(i for i, l in enumerate(lines) if l.startswith("| case | exception | message |"))
end = start + 2
while end < len(lines) and lines[end].startswith("| `"):
    end += 1
lines[start + 2:end] = rows
doc.write_text("\n".join(lines) + "\n")
print(len(rows), "rows")
