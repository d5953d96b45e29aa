"""Shared by the benchmark scripts: write a generated table into a markdown page."""

from __future__ import annotations

from pathlib import Path

__all__ = ["write_report"]


def write_report(path: Path, text: str, name: str) -> None:
    """Write ``text`` to ``path`` between ``<!-- name:start/end -->`` markers.

    When ``path`` already holds both markers only the text between them is
    replaced, so hand-written prose around a generated table survives a
    rerun; otherwise the file is (re)written with the markers.

    Parameters
    ----------
    path : Path
    text : str
    name : str
        Marker name, e.g. ``"uci-results"``.
    """
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{text.rstrip()}\n{end}"
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        old = path.read_text()
        if start in old and end in old:
            before, rest = old.split(start, 1)
            after = rest.split(end, 1)[1]
            path.write_text(before + block + after)
            return
    path.write_text(block + "\n")
