"""A student's Markdown solution, read into parts and chains of formulas (for `derive check`).

Rules:
- A part starts at a line naming one of the set's part ids: a Markdown heading or a bare
  line such as `1.1.1`, `Problem 2 (b)`, `**3.1(a)**`, `Question 1(c):`. Words such as
  Problem, Question, Exercise and Part, brackets, spaces, bold marks and a trailing `.` or `:`
  do not count; `(b)` alone continues the last problem id (`3.1` then `(b)` is `3.1(b)`).
- Math is `$...$`, `$$...$$` (over several lines), `\\[...\\]`, and `\\begin{aligned}`,
  `align`, `align*`, `equation`, `gather` environments, inside or outside `$$`. The rows of
  an environment (split at `\\\\`, `&` removed) are read one by one, each with its line.
- A chain is a run of relations: `a = b \\le c`. A row or a formula that starts with a
  relation continues the chain before it; `\\Rightarrow`, `\\implies`, `\\text{...}` words,
  `\\quad` and a top-level `,` or `;` end a chain.
- `\\boxed{...}` marks a stated result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

WORDS = re.compile(r"^(problem|question|exercise|part|task|answer|solution)\s*", re.I)
ENVIRONMENTS = ("aligned", "align", "align*", "equation", "equation*", "gather", "gather*", "split")
BREAKS = re.compile(r"\\Rightarrow|\\implies|\\Longrightarrow|\\iff|\\text\{[^}]*[A-Za-z]{2,}[^}]*\}|\\quad|\\qquad|"
                    r"(?<!\\),|;")
RELATION_START = re.compile(r"^\s*(=|<|>|\\le\b|\\leq\b|\\ge\b|\\geq\b|\\lt\b|\\gt\b|\\ne\b|\\neq\b|"
                            r"\\leqslant\b|\\geqslant\b)")


@dataclass
class Piece:
    """One piece of math: its LaTeX (a run of relations) and the line it starts on."""

    tex: str
    line: int
    continues: bool = False  # starts with a relation: continues the chain before it


@dataclass
class Part:
    """The math of one part of the solution, in order."""

    id: str
    line: int
    pieces: list[Piece] = field(default_factory=list)


@dataclass
class Solution:
    """The parts found, and the heading lines that named no part of the set."""

    parts: list[Part]
    unknown: list[tuple[int, str]]


def normalise(label: str) -> str:
    """A part label without decoration: 'Problem 3.1 (a):' -> '3.1(a)'."""
    text = re.sub(r"[*_#`]", "", label).strip()
    text = WORDS.sub("", text)
    text = re.sub(r"\s+", "", text).rstrip(".:")
    return text.lower()


def read_solution(text: str, ids: list[str]) -> Solution:
    """Split `text` into the parts named by `ids` and read their math (see the rules)."""
    wanted = {normalise(i): i for i in ids}
    parts: list[Part] = []
    unknown: list[tuple[int, str]] = []
    current: Part | None = None
    lines = text.splitlines()
    body: list[tuple[int, str]] = []

    def flush() -> None:
        if current is not None:
            current.pieces.extend(_pieces(body))
        body.clear()

    last_problem = ""
    for number, line in enumerate(lines, start=1):
        label = _label(line)
        if label is not None:
            key = normalise(label)
            sub = re.fullmatch(r"\(?([a-z])\)?", key)
            full = f"{last_problem}({sub.group(1)})" if sub and last_problem else key
            if full in wanted or key in wanted:
                flush()
                part_id = wanted.get(full) or wanted[key]
                current = Part(part_id, number)
                parts.append(current)
                last_problem = re.sub(r"\([a-z]\)$", "", normalise(part_id))
                continue
            if line.lstrip().startswith("#"):
                prefix = [i for i in wanted if i.startswith(key) and i != key]
                if prefix:
                    flush()
                    last_problem, current = key, None
                    continue
                unknown.append((number, line.strip()))
        body.append((number, line))
    flush()
    return Solution(parts, unknown)


def _label(line: str) -> str | None:
    """The text of a heading or of a bare short line that could name a part."""
    stripped = line.strip()
    if stripped.startswith("#"):
        return stripped.lstrip("#").strip()
    bare = re.sub(r"[*_]", "", stripped)
    bare = re.sub(r"\s+([.:])$", r"\1", re.sub(r"\(\s*([a-z])\s*\)", r"(\1)", bare))  # OCR: `1 ( b ) :`
    if re.fullmatch(r"((problem|question|exercise|part|task)\s*)?[\dA-Za-z.]*\d[\dA-Za-z.]*\s*(\([a-z]\))?[.:]?"
                    r"|\([a-z]\)[.:]?", bare, re.I):
        return bare
    return None


_MATH = re.compile(r"\$\$(.+?)\$\$|\\\[(.+?)\\\]|\\begin\{(" + "|".join(re.escape(e) for e in ENVIRONMENTS)
                   + r")\}(.+?)\\end\{\3\}|\$(.+?)\$", re.S)


def _pieces(body: list[tuple[int, str]]) -> list[Piece]:
    """The math of a part's lines, as pieces with their lines."""
    text = "\n".join(line for _, line in body)
    first = body[0][0] if body else 1
    out: list[Piece] = []
    for m in _MATH.finditer(text):
        idx = next(g for g in (1, 2, 4, 5) if m.group(g) is not None)
        out.extend(_rows(m.group(idx), first + text.count("\n", 0, m.start(idx))))
    return out


def _rows(tex: str, line: int) -> list[Piece]:
    """An environment's rows (or the formula itself), split at chain breaks."""
    env = re.search(r"\\begin\{(" + "|".join(re.escape(e) for e in ENVIRONMENTS) + r")\}(.*?)\\end\{\1\}", tex, re.S)
    if env:
        line += tex.count("\n", 0, env.start(2))
        tex = env.group(2)
    out: list[Piece] = []
    offset = 0
    for row in re.split(r"\\\\", tex):
        lead = len(row) - len(row.lstrip())
        row_line = line + tex.count("\n", 0, offset + lead)
        offset += len(row) + 2
        row = row.replace("&", " ")
        for k, chunk in enumerate(_split_breaks(row)):
            chunk = chunk.strip().rstrip(".")
            if chunk:
                out.append(Piece(chunk, row_line, continues=k == 0 and bool(RELATION_START.match(chunk))))
    return out


def _split_breaks(row: str) -> list[str]:
    """The row cut at every chain break (BREAKS) outside brackets and braces."""
    depth, depths = 0, []
    for i, c in enumerate(row):
        depths.append(depth)
        if row[i - 1:i] != "\\":
            depth += (c in "{([") - (c in "})]")
    cuts = [m.span() for m in BREAKS.finditer(row) if depths[m.start()] == 0]
    out, start = [], 0
    for a, b in cuts:
        out.append(row[start:a])
        start = b
    return out + [row[start:]]
