"""Small problem files for rule tests: a YAML template (indented as in the test module) with its
placeholders filled in, written to tmp_path, and the verdicts of its derived steps."""

from __future__ import annotations

import textwrap
from pathlib import Path

from derive.engine import derive_problem
from derive.model import Chain


def write_problem(tmp_path: Path, head: str, **fill: str) -> Path:
    """tmp_path/p.yaml: `head` dedented, each placeholder NAME replaced by fill[NAME]."""
    text = textwrap.dedent(head)
    for name, value in fill.items():
        text = text.replace(name, value)
    path = tmp_path / "p.yaml"
    path.write_text(text)
    return path


def verdicts(path: Path) -> list[tuple[str, str]]:
    """(method, detail) of every chain step of the problem file, in order."""
    d = derive_problem("s", path)
    return [(s.verdict.method, s.verdict.detail) for b in d.blocks if isinstance(b, Chain) for s in b.steps]
