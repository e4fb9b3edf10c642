"""derive.engine phase 1: every spec issue of a problem, raised together; unsafe input runs nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from derive.engine import derive_problem
from derive.errors import SpecError
from derive.rules import REGISTRY

KNOWN_RULES = ", ".join(sorted(REGISTRY))
CANARY = "__import__('os').system('touch CANARY')"

ALL_ISSUES = """\
id: "7"
title: "All the issues"
statement: "Show it."
symbols:
  x: {real: true, latex: '\\input{/etc/passwd}'}
  s: real
solution:
  - chain:
      label: c
      colour: red
      start: "x + y"
      steps:
        - {by: teleport}
        - {to: "x +* 2"}
        - {by: complete_square, var: 3}
        - {by: expand, shade: red}
"""


def write(tmp_path: Path, text: str, stem: str = "p") -> Path:
    """problems/s/<stem>.yaml with `text`."""
    d = tmp_path / "problems" / "s"
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"{stem}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def spec_issues(path: Path) -> list[str]:
    """The issues of the SpecError derive_problem raises, as `file:line: key: message`."""
    with pytest.raises(SpecError) as info:
        derive_problem("s", path)
    assert str(info.value) == "\n".join(str(i) for i in info.value.issues)
    return [str(i) for i in info.value.issues]


def test_all_spec_issues_of_a_problem_are_raised_together(tmp_path: Path) -> None:
    """Unknown key, undefined symbol, unknown rule, malformed expression, wrong parameter type,
    unknown rule parameter and an unsafe LaTeX override: one SpecError, each at its line."""
    path = write(tmp_path, ALL_ISSUES)
    f = str(path)
    assert spec_issues(path) == [
        f"{f}:5: symbols.x.latex: control sequence \\input is not allowed in math: '\\\\input{{/etc/passwd}}'",
        f"{f}:10: solution[0].chain.colour: unknown key; expected one of: assume, defines, label, start, steps",
        f"{f}:11: solution[0].chain.start: undefined symbol 'y' (declare it under symbols)",
        f"{f}:13: solution[0].chain.steps[0].by: unknown rule 'teleport'; known rules: {KNOWN_RULES}",
        f"{f}:14: solution[0].chain.steps[1].to: malformed expression at column 4: invalid syntax",
        f"{f}:15: solution[0].chain.steps[2].var: expected a string (symbol), got int",
        f"{f}:16: solution[0].chain.steps[3].shade: rule 'expand' takes no parameter 'shade'",
    ]


def test_rule_parameter_and_reference_issues(tmp_path: Path) -> None:
    """Missing and misnamed rule parameters, bad assumptions, duplicate labels, dangling answers
    and unsafe prose are reported together."""
    path = write(tmp_path, """\
id: "8"
title: "More issues"
statement: "Unbalanced $x"
symbols:
  x: real
hypotheses:
  hx: {lhs: "x", rhs: "1"}
solution:
  - chain:
      label: c
      assume: ["x", "0 < z"]
      start: "x"
      steps:
        - {by: use}
        - {by: use, name: nothere}
        - {by: unfold, name: nodef}
        - {by: collect, var: "x +"}
        - {by: complete_square, var: q}
        - {by: expand, why: 3}
  - chain: {label: c, start: "x", steps: [{by: use, name: hx}]}
  - answer: missing
  - say: "\\\\write18{ls} $\\\\input{x}$"
""")
    f = str(path)
    assert spec_issues(path) == [
        f"{f}:3: statement: unbalanced '$' in text: 'Unbalanced $x'",
        f"{f}:19: solution[0].chain.steps[5].why: expected a string, got a number",
        f"{f}:22: solution[3].say: control sequence \\input is not allowed in math: '\\\\input{{x}}'",
        f"{f}:11: solution[0].chain.assume[0]: expected a relation such as 0 < s or s <= 1",
        f"{f}:11: solution[0].chain.assume[1]: undefined symbol 'z' (declare it under symbols)",
        f"{f}:14: solution[0].chain.steps[0]: rule 'use' needs parameter 'name' (hypothesis)",
        f"{f}:15: solution[0].chain.steps[1].name: no hypothesis named 'nothere'",
        f"{f}:16: solution[0].chain.steps[2].name: no definition named 'nodef'",
        f"{f}:17: solution[0].chain.steps[3].var: malformed expression: invalid syntax",
        f"{f}:18: solution[0].chain.steps[4].var: undefined symbol 'q'",
        f"{f}:20: solution[1].chain: chain label 'c' used twice",
        f"{f}:21: solution[2].answer: no chain labelled 'missing' before this answer",
    ]


def test_unsafe_strings_in_every_expression_slot_are_spec_issues(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The import trick in a definition, hypothesis, assumption, start, claim and rule parameter is
    refused everywhere, and nothing runs."""
    path = write(tmp_path, f"""\
id: "9"
title: "Canaries"
statement: "S"
symbols:
  x: real
definitions:
  d: "{CANARY}"
hypotheses:
  h: {{lhs: "x", rhs: "{CANARY}"}}
solution:
  - chain:
      label: c
      assume: ["0 < {CANARY}"]
      start: "{CANARY}"
      steps:
        - {{to: "{CANARY}"}}
        - {{by: collect, var: "{CANARY}"}}
""")
    f = str(path)
    why = "only named functions can be called (no attributes or calls of calls)"
    monkeypatch.chdir(tmp_path)
    assert spec_issues(path) == [
        f"{f}:7: definitions.d: {why}",
        f"{f}:9: hypotheses.h.rhs: {why}",
        f"{f}:14: solution[0].chain.start: {why}",
        f"{f}:13: solution[0].chain.assume[0]: {why}",
        f"{f}:16: solution[0].chain.steps[0].to: {why}",
        f"{f}:17: solution[0].chain.steps[1].var: {why}",
    ]
    assert list(tmp_path.rglob("CANARY")) == []


def _derive_command() -> list[str]:
    """The `derive` console script of this interpreter's environment (or the same entry point)."""
    script = Path(sys.executable).with_name("derive")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "from derive.cli import main; main()"]


def test_canary_through_the_cli_runs_nothing_and_keeps_earlier_outputs(tmp_path: Path) -> None:
    """`derive build` on a problem whose start is an import trick fails with file:line, creates no
    CANARY file anywhere, and leaves the earlier booklet and verification.json untouched."""
    d = tmp_path / "problems" / "evil"
    d.mkdir(parents=True)
    (d / "set.yaml").write_text("title: Evil\norder:\n  - only\n", encoding="utf-8")
    problem = d / "only.yaml"
    problem.write_text(f"""\
id: "1"
title: "Canary"
statement: "Nothing to see."
symbols:
  x: real
solution:
  - chain:
      label: c
      start: "{CANARY}"
      steps:
        - {{to: "x"}}
""", encoding="utf-8")
    out = tmp_path / "build" / "evil"
    out.mkdir(parents=True)
    (out / "evil.tex").write_text("% earlier booklet\n", encoding="utf-8")
    (out / "verification.json").write_text('{"earlier": true}\n', encoding="utf-8")

    result = subprocess.run([*_derive_command(), "--root", str(tmp_path), "build", "evil", "--no-pdf",
                             "--jobs", "1"], cwd=tmp_path, capture_output=True, text=True, timeout=120)

    assert result.returncode in (1, 2), (result.returncode, result.stdout, result.stderr)
    issue = f"{problem}:9: solution[0].chain.start: only named functions can be called (no attributes or calls of calls)"
    lines = [line.strip() for line in (result.stdout + result.stderr).splitlines()]
    assert issue in lines, result.stdout + result.stderr
    assert f"FAIL 1 Canary: {issue}" in lines
    assert "internal error" not in result.stdout + result.stderr
    assert list(tmp_path.rglob("CANARY")) == []
    assert (out / "evil.tex").read_text(encoding="utf-8") == "% earlier booklet\n"
    assert (out / "verification.json").read_text(encoding="utf-8") == '{"earlier": true}\n'


# ---- regressions (bugs found and fixed) ----------------------------------------------------------------------------------
def test_unknown_rule_is_reported_at_the_line_of_by(tmp_path: Path) -> None:
    """In a block-style step whose `by:` is not its first key, the issue names the `by:` line."""
    path = write(tmp_path, """\
id: "7"
title: "By line"
statement: "Show it."
symbols:
  x: real
solution:
  - chain:
      label: c
      start: "x"
      steps:
        - why: "because"
          by: teleport
""")
    assert spec_issues(path) == [
        f"{path}:12: solution[0].chain.steps[0].by: unknown rule 'teleport'; known rules: {KNOWN_RULES}"]


@pytest.mark.filterwarnings("ignore::sympy.utilities.exceptions.SymPyDeprecationWarning")
def test_tuple_operand_is_a_spec_issue_not_a_crash(tmp_path: Path) -> None:
    """A malformed start is a located spec issue, never an internal error."""
    path = write(tmp_path, """\
id: "7"
title: "Tuple"
statement: "Show it."
symbols:
  x: real
solution:
  - chain:
      label: c
      start: "x + (1, 2)"
      steps:
        - {to: "x"}
""")
    issues = spec_issues(path)
    assert len(issues) == 1 and issues[0].startswith(f"{path}:9: solution[0].chain.start: ")
