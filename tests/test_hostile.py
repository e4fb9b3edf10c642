"""Hostile specs and faults: nothing leaks, nothing hangs, nothing is lost.

Each case builds a small set (one good problem and the hostile one) and asserts the exact
outcome: the exit code, the `file:line: key: message` line, that the good problem still
built, and for the TeX side that nothing outside the build folder reached the PDF.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from derive import sandbox
from derive.pool import run_pool
from derive.cli import main
from derive.compile import compile_pdf
from derive.errors import SpecError
from derive.safeyaml import MAX_DEPTH, MAX_FILE_BYTES, read_yaml
from derive.texguard import shown
from derive.texnames import ALLOWED_COMMANDS, TEXT_CHARACTERS, UNICODE_MATH

REPO = Path(__file__).resolve().parents[1]
DERIVE = [sys.executable, "-m", "derive.cli"]

GOOD = """id: "1"
title: Tiny
statement: Expand $(x+1)^2$ for all real $x$.
symbols:
  x: real
solution:
  - chain:
      label: c
      start: "(x + 1)**2"
      steps:
        - by: expand
  - answer: c
"""


def problem(statement: str = "Expand.", start: str = "(x + 1)**2", by: str = "expand", pid: str = '"2"',
            extra: str = "", title: str = "Bad") -> str:
    """A one-chain problem with the given pieces (YAML text put in as written)."""
    return (f"id: {pid}\ntitle: {title}\nstatement: {statement}\nsymbols:\n  x: real\n  n: positive\n{extra}"
            f"solution:\n  - chain:\n      label: c\n      start: \"{start}\"\n      steps:\n        - by: {by}\n"
            f"  - answer: c\n")


def make(root: Path, bad: str | bytes | None, *, set_extra: str = "", order: str = "  - good\n  - bad\n") -> Path:
    """problems/mini with good.yaml and (unless None) bad.yaml; returns the set folder."""
    d = root / "problems" / "mini"
    d.mkdir(parents=True, exist_ok=True)
    (d / "set.yaml").write_text(f"title: Mini set\ncourse: Test course\n{set_extra}order:\n{order}", encoding="utf-8")
    (d / "good.yaml").write_text(GOOD, encoding="utf-8")
    if isinstance(bad, bytes):
        (d / "bad.yaml").write_bytes(bad)
    elif bad is not None:
        (d / "bad.yaml").write_text(bad, encoding="utf-8")
    return d


def build(root: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--root", str(root), "build", "mini", "--no-pdf", "--jobs", "2", *args])


def assert_bad_alone(root: Path, result: Result, line: int, key: str, message: str, code: int = 2) -> None:
    """The bad problem failed with `bad.yaml:line: key: message`, the good one built."""
    bad = root / "problems" / "mini" / "bad.yaml"
    assert result.exit_code == code, result.output
    assert f"    {bad}:{line}: {key}: {message}" in result.output.splitlines(), result.output
    assert re.search(r"^ok   1 Tiny", result.output, re.M), result.output
    assert (root / "build" / "mini" / "mini-partial.tex").is_file()


def assert_set_error(root: Path, result: Result, line: int, key: str, message: str) -> None:
    """The set itself is refused with `set.yaml:line: key: message`; nothing was built."""
    path = root / "problems" / "mini" / "set.yaml"
    assert result.exit_code == 2, result.output
    assert result.output.splitlines()[0] == f"{path}:{line}: {key}: {message}", result.output
    assert not (root / "build").exists()


# ---- 1, 2: TeX in prose, latex fields, set.yaml -------------------------------------------
HOSTILE_MATH = [
    (r"\begin{pdfobj}file{/etc/passwd}\end{pdfobj}\pdfrefobj\pdflastobj", "environment 'pdfobj' is not allowed"),
    (r"\begin{gdef}\le{\ge}\end{gdef}x", "environment 'gdef' is not allowed"),
    (r"\global\everypar{x}", r"control sequence \global is not allowed"),
    (r"\pdfcatalog{/OpenAction << /S /JavaScript >>}", r"control sequence \pdfcatalog is not allowed"),
    (r"\pdfstartlink user{/URI (http://x)}", r"control sequence \pdfstartlink is not allowed"),
    (r"\input{/etc/passwd}", r"control sequence \input is not allowed"),
    (r"\csname input\endcsname", r"control sequence \csname is not allowed"),
    (r"\def\le{\ge}", r"control sequence \def is not allowed"),
    (r"\write18{ls}", r"control sequence \write is not allowed"),
    (r"\special{ps: x}", r"control sequence \special is not allowed"),
    (r"\mathchardef\x=1", r"control sequence \mathchardef is not allowed"),
    (r"\begin{filecontents}{a.tex}", "environment 'filecontents' is not allowed"),
    (r"\begin{array}{@{\input{x}}c} a \end{array}", r"\begin{array} needs {columns} of plain characters"),
    (r"\begin{array}{c@c} a \end{array}", "array columns must be letters l, c, r and |"),
    (r"\text{\input{x}}", r"\text{...} holds plain words only"),
    (r"x^2^3", "double superscript"),
    (r"x_1_2", "double subscript"),
    (r"\frac{a}", r"\frac needs an argument"),
    (r"\left( x", r"\left without \right"),
    (r"x \right)", r"\right without \left"),
    (r"a & b", "'&' outside an environment"),
    (r"a \\ b", r"'\\' outside an environment"),
    (r"\begin{matrix} a \end{pmatrix}", r"\begin{matrix} ended by \end{pmatrix}"),
    (r"x\limits", r"\limits must follow an operator such as \sum or \int"),
    (r"\left x \right)", r"\left needs a delimiter such as ( [ | . \{ \langle"),
    ("{" * 5000 + "x" + "}" * 5000, "braces nested deeper than 30 levels"),
    (r"\begin{matrix}" * 40 + "x" + r"\end{matrix}" * 40, "environments nested deeper than 30 levels"),
    ("x ^^5c input", "'^^' is not allowed"),
    ("x \\", "a lone backslash at the end is not allowed"),
    (r"\begin{cases} \left( a & b \right) \end{cases}", r"\left ... \right must not span '&' or '\\'"),
    (r"\sqrt[3 x", r"\sqrt[ needs its closing ]"),
    (r"\begin{cases} a \\ [0, 1] \end{cases}", r"'[' or '*' right after '\\' is read as an option; write {[} instead"),
    # past the allow-list through a name TeX reads differently, or TeX errors that stop the booklet
    (r"\begin{matrix\pdffiledump length 9 {/etc/passwd} a \end{matrix}", r"\begin needs {name} of plain characters"),
    (r"\begin{mat rix} a \end{matrix}", "environment name 'mat rix' must be letters"),
    (r"\begin{split} a \end{split}", "environment 'split' is not allowed"),
    (r"x^\sqrt{2}", "'^' needs a braced argument here"),
    (r"x_\hat a", "'_' needs a braced argument here"),
    (r"\sqrt[x]", r"\sqrt needs an argument"),
    (r"\begin{cases} a & b & c \end{cases}", "a row of cases has at most 2 columns ('&' separates them)"),
    (r"\begin{gathered} a & b \end{gathered}", "a row of gathered has at most 1 column ('&' separates them)"),
    (r"\begin{array}{c|c} a & b \\ a & b & c \end{array}", "a row of array has at most 2 columns ('&' separates them)"),
    (r"\begin{pmatrix}" + " & ".join("a" * 11) + r"\end{pmatrix}",
     "a row of pmatrix has at most 10 columns ('&' separates them)"),
    (r"\sum_{\substack{a & b}}", "a row of substack has at most 1 column ('&' separates them)"),
]
# Edge cases the allow-list accepts: each compiles (test_every_allowed_command_and_character_compiles).
ACCEPTED_MATH = [r"x_\text{max} x^\mathrm{T} x^\frac12 x^\top", r"\sqrt[3]{x} \sqrt[\sum]{x}",
                 r"\begin{cases} a & b \\ c & d \end{cases}", r"\begin{array}{c c} a & b \end{array}",
                 r"\begin{matrix}" + " & ".join("a" * 10) + r"\end{matrix}",
                 r"\begin{cases} \begin{matrix} a & b & c \end{matrix} & d \end{cases}"]


@pytest.mark.parametrize("tex, why", HOSTILE_MATH)
def test_hostile_math_in_a_statement_fails_that_problem_alone(tmp_path: Path, tex: str, why: str) -> None:
    make(tmp_path, problem(statement="'See $" + tex.replace("'", "''") + "$.'"))
    assert_bad_alone(tmp_path, build(tmp_path), 3, "statement", f"{why} in math: {shown(tex)}")


FIELDS = [
    ("title", lambda v: problem(title=v), 2, "title"),
    ("say", lambda v: problem().replace("  - answer: c\n", f"  - say: {v}\n  - answer: c\n"), 13, "solution[1].say"),
    ("answer text", lambda v: problem().replace("  - answer: c\n", f"  - answer: {{chain: c, text: {v}}}\n"), 13,
     "solution[1].answer"),
    ("step why", lambda v: problem(by=f"expand\n          why: {v}"), 13, "solution[0].chain.steps[0].why"),
    ("symbol latex", lambda v: problem().replace("  x: real\n", f"  x: {{real: true, latex: {v}}}\n"), 5,
     "symbols.x.latex"),
    ("symbol long", lambda v: problem().replace("  x: real\n", f"  x: {{real: true, long: {v}}}\n"), 5,
     "symbols.x.long"),
    ("function latex", lambda v: problem(extra=f"functions:\n  f: {{args: [S], latex: {v}}}\nspaces:\n  S: 2\n"),
     8, "functions.f.latex"),
    ("definition latex", lambda v: problem(extra=f"definitions:\n  g: {{body: \"x\", latex: {v}}}\n"), 8,
     "definitions.g.latex"),
]


@pytest.mark.parametrize("field, make_bad, line, key", FIELDS, ids=[f[0] for f in FIELDS])
def test_hostile_tex_in_every_field_fails_that_problem_alone(tmp_path: Path, field, make_bad, line, key) -> None:
    math = r"\begin{pdfobj}file{/etc/passwd}\end{pdfobj}"
    value = f"'${math}$'" if field in ("title", "say", "answer text", "step why") else f"'{math}'"
    make(tmp_path, make_bad(value))
    assert_bad_alone(tmp_path, build(tmp_path), line, key, f"environment 'pdfobj' is not allowed in math: {math!r}")


@pytest.mark.parametrize("key, line", [("title", 1), ("course", 2)])
def test_hostile_tex_in_set_yaml_is_refused_before_deriving(tmp_path: Path, key: str, line: int) -> None:
    d = make(tmp_path, None, order="  - good\n")
    text = (d / "set.yaml").read_text().replace("Mini set" if key == "title" else "Test course",
                                               r"'$\pdfobj file{/etc/passwd}$'")
    (d / "set.yaml").write_text(text)
    assert_set_error(tmp_path, build(tmp_path), line, key,
                     r"control sequence \pdfobj is not allowed in math: '\\pdfobj file{/etc/passwd}'")


def test_lone_dollar_in_set_title_is_refused_before_deriving(tmp_path: Path) -> None:
    d = make(tmp_path, None, order="  - good\n")
    (d / "set.yaml").write_text((d / "set.yaml").read_text().replace("Mini set", "'Costs $5'"))
    assert_set_error(tmp_path, build(tmp_path), 1, "title", "unbalanced '$' in text: 'Costs $5'")


# ---- 8: characters ------------------------------------------------------------------------
def test_id_with_newlines_is_refused(tmp_path: Path) -> None:
    make(tmp_path, problem(pid='"2\\n\\nx"'))
    assert_bad_alone(tmp_path, build(tmp_path), 1, "id", "id must be a single line, got '2\\n\\nx'")


def test_del_character_in_a_title_is_refused(tmp_path: Path) -> None:
    make(tmp_path, problem(title="Bad\x7f"))
    assert_bad_alone(tmp_path, build(tmp_path), 2, "file", "control character U+007F is not allowed")


def test_emoji_in_a_statement_is_refused(tmp_path: Path) -> None:
    make(tmp_path, problem(statement="Smile \U0001F600"))
    assert_bad_alone(tmp_path, build(tmp_path), 3, "statement",
                     "character U+1F600 GRINNING FACE cannot be typeset in text: 'Smile \U0001F600'")


def test_emoji_in_math_is_refused(tmp_path: Path) -> None:
    make(tmp_path, problem(statement="'$x \U0001F600$'"))
    assert_bad_alone(tmp_path, build(tmp_path), 3, "statement",
                     "character U+1F600 GRINNING FACE cannot be typeset in math: 'x \U0001F600'")


def test_unicode_math_symbols_print_as_commands(tmp_path: Path) -> None:
    make(tmp_path, problem(statement="'∀ x ∈ ℝ: $x² ≤ α$ and café'"))
    result = build(tmp_path)
    assert result.exit_code == 0, result.output
    tex = (tmp_path / "build" / "mini" / "mini.tex").read_text()
    assert r"\ensuremath{\forall} x \ensuremath{\in} \ensuremath{\mathbb{R}}: $x^{2} \le  \alpha $ and café" in tex


# ---- 4, 5: YAML limits --------------------------------------------------------------------
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n" \
       "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"


def test_alias_bomb_in_set_yaml_is_refused(tmp_path: Path) -> None:
    d = make(tmp_path, None, order="  - good\n")
    (d / "set.yaml").write_text("title: Mini\norder: [good]\n" + BOMB)
    started = time.monotonic()
    result = build(tmp_path)
    assert time.monotonic() - started < 2
    assert result.exit_code == 2
    assert result.output == f"{d / 'set.yaml'}:4: yaml: aliases (*a) are not allowed; write the value out\n"


def test_alias_in_a_problem_fails_that_problem_alone(tmp_path: Path) -> None:
    make(tmp_path, problem(extra="definitions: &d\n  g: x\nhypotheses: *d\n"))
    assert_bad_alone(tmp_path, build(tmp_path), 9, "yaml", "aliases (*d) are not allowed; write the value out")


def test_deep_nesting_is_refused_without_recursion_error(tmp_path: Path) -> None:
    make(tmp_path, "id: '2'\nx: " + "[" * 10000 + "]" * 10000 + "\n")
    assert_bad_alone(tmp_path, build(tmp_path), 2, "yaml", f"nested deeper than the limit of {MAX_DEPTH} levels")


def test_big_file_is_refused_before_parsing(tmp_path: Path) -> None:
    make(tmp_path, "id: '2'\n" + "# padding\n" * (MAX_FILE_BYTES // 10 + 1))
    started = time.monotonic()
    assert_bad_alone(tmp_path, build(tmp_path), 0, "file", "file is larger than the limit of 256 KiB")
    assert time.monotonic() - started < 5


def test_big_set_yaml_is_refused(tmp_path: Path) -> None:
    d = make(tmp_path, None, order="  - good\n")
    (d / "set.yaml").write_text("title: x\norder: [good]\n" + "#\n" * MAX_FILE_BYTES)
    result = build(tmp_path)
    assert result.exit_code == 2
    assert result.output == f"{d / 'set.yaml'}:0: file: file is larger than the limit of 256 KiB\n"


def test_a_long_file_stem_is_refused(tmp_path: Path) -> None:
    make(tmp_path, None, order=f"  - {'y' * 100000}\n")
    assert_set_error(tmp_path, build(tmp_path), 4, "order[0]", "a problem file stem has at most 64 characters, got 100000")


def test_long_values_are_cut_in_messages(tmp_path: Path) -> None:
    make(tmp_path, None, order=f"  - '{'-' * 100000}'\n")
    result = build(tmp_path)
    assert result.exit_code == 2
    assert len(result.output) < 700
    assert result.output.rstrip().endswith("more characters)")


def test_long_statement_is_cut_in_messages(tmp_path: Path) -> None:
    make(tmp_path, problem(statement="'$\\input{x}" + "y" * 100000 + "$'"))
    result = build(tmp_path)
    assert result.exit_code == 2
    assert max(len(line) for line in result.output.splitlines()) < 700


def test_fifo_is_not_waited_on(tmp_path: Path) -> None:
    d = make(tmp_path, None)
    os.mkfifo(d / "bad.yaml")
    assert_set_error(tmp_path, build(tmp_path), 5, "order[1]", f"no problem file bad.yaml in {d}")


def test_fifo_is_not_read() -> None:
    r, w = os.pipe()
    os.close(w)
    with pytest.raises(SpecError, match="not a regular file"):
        read_yaml(Path(f"/proc/self/fd/{r}"))
    os.close(r)


# ---- 7: encodings, control bytes, numbers, typos -----------------------------------------
def test_bytes_that_are_not_utf8(tmp_path: Path) -> None:
    make(tmp_path, b"id: '2'\ntitle: caf\xe9\n")
    assert_bad_alone(tmp_path, build(tmp_path), 2, "file",
                     "not UTF-8: byte 0xe9 cannot be decoded; save the file as UTF-8")


def test_utf16_file(tmp_path: Path) -> None:
    make(tmp_path, problem().encode("utf-16"))
    assert_bad_alone(tmp_path, build(tmp_path), 1, "file", "the file is UTF-16 (byte order mark); save it as UTF-8")


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    make(tmp_path, b"\xef\xbb\xbf" + problem().encode())
    assert build(tmp_path).exit_code == 0


def test_raw_control_byte(tmp_path: Path) -> None:
    make(tmp_path, problem(statement="'a\x07b'"))
    assert_bad_alone(tmp_path, build(tmp_path), 3, "file", "control character U+0007 is not allowed")


def test_integer_of_5000_digits(tmp_path: Path) -> None:
    make(tmp_path, problem(extra="points: " + "9" * 5000 + "\n"))
    assert_bad_alone(tmp_path, build(tmp_path), 7, "yaml", "a number of 5000 digits is longer than the limit of 100")


def test_typo_in_a_block_kind(tmp_path: Path) -> None:
    make(tmp_path, problem().replace("  - answer: c\n", "  - sey: hello\n  - answer: c\n"))
    assert_bad_alone(tmp_path, build(tmp_path), 13, "solution[1].sey",
                     "unknown key; expected one of: answer, chain, evaluate, figure, mdp, policies, say")


def test_duplicate_key_fails_that_problem_alone(tmp_path: Path) -> None:
    make(tmp_path, problem().replace("title: Bad\n", "title: Bad\ntitle: Worse\n"))
    assert_bad_alone(tmp_path, build(tmp_path), 3, "yaml",
                     'found duplicate key "title" with value "Worse" (original value: "Bad")')


# ---- 3: sizes and memory ------------------------------------------------------------------
EXPRESSION_CASES = [  # start, rule, line, key, message, exit code
    ("Limit(x, x, x)", "limit", 10, "solution[0].chain.start",
     "SymPy cannot build this: Limits approaching a variable point are not supported (x -> x)", 2),
    ("Theta(exp(n)*n**1000, n)", "asymptotic_class", 12, "solution[0].chain.steps[0]",
     "step c.1: rule 'asymptotic_class' does not apply: `n**1000*exp(n)` in `Theta(n**1000*exp(n), n)` "
     "is not a polynomial in n", 1),
    ("Derivative(exp(x)*x**3, (x, 1000000))", "differentiate", 10, "solution[0].chain.start",
     "a derivative order must be a whole number from 1 to 40", 2),
    ("(x+n+1)**100000", "expand", 10, "solution[0].chain.start", "exponent larger than 1000", 2),
]


@pytest.mark.parametrize("start, by, line, key, message, code", EXPRESSION_CASES,
                         ids=["limit", "asymptotic_class", "derivative_order", "power"])
def test_expression_that_sympy_refuses_or_that_is_too_big(tmp_path: Path, start, by, line, key, message,
                                                          code) -> None:
    make(tmp_path, problem(start=start, by=by))
    assert_bad_alone(tmp_path, build(tmp_path), line, key, message, code=code)


def test_expanding_eight_terms_to_the_1000_is_refused(tmp_path: Path) -> None:
    bad = problem(start="(x+n+a+b+c+d+e+f)**1000", by="expand").replace(
        "  n: positive\n", "  n: positive\n" + "".join(f"  {v}: real\n" for v in "abcdef"))
    make(tmp_path, bad)
    assert_bad_alone(tmp_path, build(tmp_path), 18, "solution[0].chain.steps[0]",
                     "step c.1: rule 'expand' does not apply: expanding `(a + b + c + d + e + f + n + x)**1000` would "
                     "give about 2.04e+17 terms, "
                     "more than the limit of 20000", code=1)


def test_huge_matrix_instance_is_refused(tmp_path: Path) -> None:
    bad = problem(start="cost(matmul(A, A))", by="count_ops").replace(
        "  n: positive\n", "  n: positive\n  A: {shape: [100000, 100000]}\n")
    make(tmp_path, bad)
    assert_bad_alone(tmp_path, build(tmp_path), 13, "solution[0].chain.steps[0]",
                     "step c.1: an exact matrix instance of 100000 x 100000 has more than 10000 entries (the "
                     "limit); declare symbolic sizes such as [n, d] instead", code=1)


def _hog(_task: int) -> int:
    """Allocate 10 MB blocks until memory runs out."""
    blocks = []
    while True:
        blocks.append(bytearray(10 * 1024 * 1024))


def test_a_worker_past_its_memory_limit_fails_alone() -> None:
    started = time.monotonic()
    results = run_pool([1], 1, 30.0, _hog, memory_mb=600)
    assert results[0].error == "memory limit of 600 MB exceeded (raise it with --memory MB)"
    assert time.monotonic() - started < 10


def _hog_then_system_error(_task: int) -> int:
    """Run out of memory, then fail the way CPython 3.11 does when a frame-stack chunk cannot be
    allocated: a SystemError with no MemoryError in sight."""
    try:
        _hog(_task)
    except MemoryError:
        pass
    raise SystemError("error return without exception set")


def _system_error(_task: int) -> int:
    raise SystemError("error return without exception set")


def test_any_failure_at_the_memory_limit_is_reported_as_the_memory_limit() -> None:
    results = run_pool([1, 2], 1, 30.0, lambda task: (_hog_then_system_error if task == 1 else _system_error)(task),
                       memory_mb=600)
    assert results[0].error == "memory limit of 600 MB exceeded (raise it with --memory MB)"
    assert results[1].error.startswith("internal error: SystemError: error return without exception set")


def test_the_worker_peak_memory_stays_under_the_limit() -> None:
    code = ("import resource; from derive.pool import run_pool; from tests.test_hostile import _hog; "
            "r = run_pool([1], 1, 30.0, _hog, memory_mb=600); "
            "print(r[0].error); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False,
                          cwd=REPO)
    error, peak_kib = done.stdout.splitlines()
    assert error == "memory limit of 600 MB exceeded (raise it with --memory MB)"
    assert 100 * 1024 < int(peak_kib) < 600 * 1024


def test_memory_option_is_documented() -> None:
    result = CliRunner().invoke(main, ["build", "--help"])
    assert "--memory MB" in result.output and "[default: 2048; x>=256]" in result.output


def _sleep(_task: int) -> int:
    time.sleep(60)
    return 0


def test_a_worker_past_its_time_limit_ends_within_the_limit_plus_2_s() -> None:
    started = time.monotonic()
    results = run_pool([1, 2], 2, 1.0, _sleep)
    assert [r.error for r in results] == ["timed out after 1 s"] * 2
    assert time.monotonic() - started < 3.0


# ---- 9: loose ends ------------------------------------------------------------------------
def test_symlink_out_of_problems_is_refused(tmp_path: Path) -> None:
    d = make(tmp_path, None)
    secret = tmp_path / "secret.yaml"
    secret.write_text(problem())
    (d / "bad.yaml").symlink_to(secret)
    assert_set_error(tmp_path, build(tmp_path), 5, "order[1]",
                     "bad.yaml is a link to a file outside problems/; copy the file instead")


def test_symlinked_set_yaml_out_of_problems_is_refused(tmp_path: Path) -> None:
    d = make(tmp_path, None, order="  - good\n")
    outside = tmp_path / "set.yaml"
    shutil.move(d / "set.yaml", outside)
    (d / "set.yaml").symlink_to(outside)
    result = build(tmp_path)
    assert result.exit_code == 2
    assert result.output == f"{d / 'set.yaml'}:0: set: a link to a file outside problems/; copy it instead\n"


def test_duplicate_order_entries_are_an_error(tmp_path: Path) -> None:
    make(tmp_path, None, order="  - good\n  - good\n")
    assert_set_error(tmp_path, build(tmp_path), 5, "order[1]", "problem 'good' is listed twice")


def test_verification_json_has_no_absolute_paths(tmp_path: Path) -> None:
    make(tmp_path, None, order="  - good\n")
    assert build(tmp_path.resolve()).exit_code == 0
    text = (tmp_path / "build" / "mini" / "verification.json").read_text()
    assert '"file": "problems/mini/good.yaml"' in text
    assert str(tmp_path) not in text


# ---- 7: the output folder -----------------------------------------------------------------
def test_build_being_a_file(tmp_path: Path) -> None:
    make(tmp_path, None, order="  - good\n")
    (tmp_path / "build").write_text("keep me")
    result = build(tmp_path)
    assert result.exit_code == 1
    assert result.output == f"error: cannot create or write into {tmp_path / 'build' / 'mini'}: Not a directory\n"
    assert (tmp_path / "build").read_text() == "keep me"


def test_set_folder_being_a_file(tmp_path: Path) -> None:
    make(tmp_path, None, order="  - good\n")
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "mini").write_text("keep me")
    result = build(tmp_path)
    assert result.exit_code == 1
    assert result.output == f"error: cannot write into {tmp_path / 'build' / 'mini'}: it is a file, not a folder\n"


def test_stale_temporaries_are_removed_by_the_next_build(tmp_path: Path) -> None:
    make(tmp_path, None, order="  - good\n")
    out = tmp_path / "build" / "mini"
    (out / ".compile-abc123").mkdir(parents=True)
    (out / ".compile-abc123" / "mini.tex").write_text("x")
    (out / ".mini.tex.xyz.tmp").write_text("x")
    (out / ".cache").mkdir()
    (out / ".cache" / ".set.json.xyz.tmp").write_text("x")
    assert build(tmp_path).exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == [".cache", "mini.tex", "verification.json"]
    assert not [p.name for p in (out / ".cache").iterdir() if p.name.endswith(".tmp")]


def test_a_second_build_of_the_same_folder_is_refused(tmp_path: Path) -> None:
    import fcntl

    make(tmp_path, None, order="  - good\n")
    out = tmp_path / "build" / "mini"
    out.mkdir(parents=True)
    fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        result = build(tmp_path)
    finally:
        os.close(fd)
    assert result.exit_code == 1
    assert result.output == f"error: another derive build is writing {out}; wait for it to end\n"


needs_bwrap = pytest.mark.skipif(sandbox._probe() is not None, reason="bubblewrap cannot run here")


def _earlier_outputs(tmp_path: Path) -> dict[str, bytes]:
    make(tmp_path, None, order="  - good\n")
    assert build(tmp_path).exit_code == 0
    out = tmp_path / "build" / "mini"
    return {p.name: p.read_bytes() for p in out.iterdir() if not p.name.startswith(".")}


def _cli_in_bwrap(tmp_path: Path, mounts: list[str], script: str) -> subprocess.CompletedProcess:
    cmd = ["bwrap", "--bind", "/", "/", "--dev", "/dev", "--proc", "/proc", *mounts, "sh", "-c", script]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False, env=env, cwd=tmp_path)


@needs_bwrap
def test_read_only_build_folder_keeps_outputs(tmp_path: Path) -> None:
    before = _earlier_outputs(tmp_path)
    out = tmp_path / "build" / "mini"
    (out.parent.parent / "problems" / "mini" / "good.yaml").write_text(GOOD.replace("(x + 1)**2", "(x + 2)**2"))
    done = _cli_in_bwrap(tmp_path, ["--ro-bind", str(out), str(out)],
                         f"{sys.executable} -m derive.cli --root {tmp_path} build mini --no-pdf")
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stderr == f"error: cannot write into {out}: Read-only file system\n"
    assert {p.name: p.read_bytes() for p in out.iterdir() if not p.name.startswith(".")} == before


@needs_bwrap
def test_full_disk_keeps_outputs(tmp_path: Path) -> None:
    before = _earlier_outputs(tmp_path)
    out = tmp_path / "build" / "mini"
    saved = tmp_path / "saved"
    shutil.copytree(out, saved)
    script = (f"cp -a {saved}/. {out}/ && (dd if=/dev/zero of={out}/.filler bs=4k 2>/dev/null; true) && "
              f"{sys.executable} -m derive.cli --root {tmp_path} build mini --no-pdf; echo rc=$?; "
              f"rm -f {out}/.filler; sha256sum {out}/mini.tex {out}/verification.json")
    done = _cli_in_bwrap(tmp_path, ["--size", str(512 * 1024), "--tmpfs", str(out)], script)
    assert f"error: cannot write into {out}: No space left on device\n" in done.stderr, done.stderr
    assert "rc=1" in done.stdout
    import hashlib
    for name in ("mini.tex", "verification.json"):
        assert f"{hashlib.sha256(before[name]).hexdigest()}  {out / name}" in done.stdout


# ---- 1, 2 defence in depth: the sandbox -----------------------------------------------------
SENTINEL = "SENTINEL-7f3a9c-not-for-the-pdf"


def pdf_streams(pdf: Path) -> bytes:
    """Every stream of a PDF, inflated where it is compressed, plus the raw bytes."""
    data = pdf.read_bytes()
    out = [data]
    for m in re.finditer(rb"stream\r?\n(.*?)endstream", data, re.S):
        try:
            out.append(zlib.decompress(m.group(1)))
        except zlib.error:
            out.append(m.group(1))
    return b"\n".join(out)


HOSTILE_TEX = [
    r"\immediate\pdfobj file{%s}\pdfrefobj\pdflastobj",
    r"\input{%s}",
    r"\pdfximage{%s}",
    r"\openin1=%s \read1 to\x \x",
]


@needs_bwrap
@pytest.mark.tex
@pytest.mark.parametrize("attack", HOSTILE_TEX)
def test_latex_cannot_read_outside_its_folder(tmp_path: Path, attack: str) -> None:
    """Hand-made TeX (past the allow-list): the sentinel never reaches the PDF and pdflatex opens
    nothing outside the TeX tree and its folder."""
    secret = tmp_path / "secret.txt"
    secret.write_text(SENTINEL + "\n")
    work = tmp_path / "work"
    work.mkdir()
    tex = work / "t.tex"
    tex.write_text("\\documentclass{article}\\pdfcompresslevel=9\\begin{document}\nHello "
                   + attack % secret + "\n\\end{document}\n")
    try:
        pdf = compile_pdf(tex, timeout=60)
    except Exception:
        pdf = None
    if pdf is not None:
        assert SENTINEL.encode() not in pdf_streams(pdf)
    inputs = [line.split(" ", 1)[1] for line in (work / "t.fls").read_text().splitlines() if line.startswith("INPUT ")]
    assert inputs
    allowed = ("/usr/", "/etc/texmf/", "/var/lib/texmf/", str(work) + "/")
    assert [p for p in inputs if not (p.startswith(allowed) or p.startswith("./") or "/" not in p)] == []


@needs_bwrap
def test_sandbox_is_used_here() -> None:
    assert sandbox.use_bwrap() and sandbox.stance() == "LaTeX runs in bubblewrap"


def test_sandbox_none_is_a_clear_stance(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DERIVE_SANDBOX", "none")
    assert not sandbox.use_bwrap()
    assert sandbox.stance() == "LaTeX runs without a sandbox (DERIVE_SANDBOX=none)"


@pytest.mark.tex
def test_every_allowed_command_and_character_compiles(tmp_path: Path) -> None:
    """The allow-list holds only what the booklet's preamble can typeset: each command (with
    arguments where it takes them) and each Unicode symbol compiles in math, each text
    character in text."""
    from derive.booklet import ENV
    from derive.render import prose
    from derive.texnames import ARITY, DELIMITER_COMMANDS, SIZED_COMMANDS, TEXT_COMMANDS

    skip = {"left", "right", "middle", "begin", "end", "limits", "nolimits", "substack", "&", "\\", "%", "#"}
    pieces = []
    for name in sorted(ALLOWED_COMMANDS - skip):
        if name in SIZED_COMMANDS:
            pieces.append(f"\\{name}(")
        elif name in TEXT_COMMANDS:
            pieces.append(f"\\{name}{{ab}}")
        else:
            pieces.append(f"\\{name}" + "{x}" * ARITY.get(name, 0) + ("{}" if name in DELIMITER_COMMANDS else " "))
    math = " ".join(pieces) + r" \sum\limits_{i} \left( \middle| \right) \sum_{\substack{a \\ b}}"
    math += " " + " {} ".join(UNICODE_MATH)
    math += " " + " ".join(ACCEPTED_MATH)
    text = "".join(sorted(TEXT_CHARACTERS)) + " " + " ".join(UNICODE_MATH)
    body = prose(f"{text} ${math}$")
    preamble = ENV.get_template("preamble.tex.j2").render()
    (tmp_path / "all.tex").write_text(f"{preamble}\n\\begin{{document}}\n{body}\n\\end{{document}}\n")
    assert compile_pdf(tmp_path / "all.tex", timeout=120).is_file()


# ---- reproducibility and kills ----------------------------------------------------------------
def _cli_build(cwd: Path, root: str, seed: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=str(REPO))
    return subprocess.run([*DERIVE, "--root", root, "build", "mini", "--jobs", "2"], cwd=cwd,
                          capture_output=True, text=True, timeout=300, check=False, env=env)


@pytest.mark.slow
@pytest.mark.tex
def test_same_input_same_bytes_in_other_folders_and_hash_seeds(tmp_path: Path) -> None:
    """.tex, verification.json and the PDF are byte-identical across PYTHONHASHSEED values and
    folders (an absolute --root in one, a relative one in the other)."""
    digests = []
    for name, seed in (("first", "1"), ("second/deeper", "4242")):
        root = tmp_path / name
        d = make(root, None, order="  - good\n  - sigmoid\n")
        shutil.copy(REPO / "problems" / "hw4" / "sigmoid_gradient.yaml", d / "sigmoid.yaml")
        done = _cli_build(root, str(root.resolve()) if seed == "1" else ".", seed)
        assert done.returncode == 0, done.stdout + done.stderr
        out = root / "build" / "mini"
        digests.append({n: (out / n).read_bytes() for n in ("mini.tex", "verification.json", "mini.pdf")})
    assert digests[0] == digests[1]


@pytest.mark.slow
@pytest.mark.tex
def test_sigkill_at_random_moments_leaves_nothing_running() -> None:
    """scripts/killtest.py with 3 kills (the script's default of 50 is recorded in docs/performance.md)."""
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "killtest.py"), "3", "--seed", "7"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1].startswith("3 kills: 0 failures")


def test_a_failed_write_keeps_every_earlier_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ENOSPC while writing verification.json: mini.tex is not replaced either."""
    import errno

    from derive import outdir

    before = _earlier_outputs(tmp_path)
    (tmp_path / "problems" / "mini" / "good.yaml").write_text(GOOD.replace("(x + 1)**2", "(x + 2)**2"))
    real = outdir.os.fdopen

    def full(fd: int, *args, **kwargs):
        f = real(fd, *args, **kwargs)
        if "verification" in os.readlink(f"/proc/self/fd/{fd}"):
            f.close()
            raise OSError(errno.ENOSPC, "No space left on device")
        return f

    monkeypatch.setattr(outdir.os, "fdopen", full)
    result = build(tmp_path)
    out = tmp_path / "build" / "mini"
    assert result.exit_code == 1
    assert result.output.startswith(f"error: cannot write {out / 'verification.json'}: No space left on device; "
                                    "the earlier outputs are unchanged")
    assert {p.name: p.read_bytes() for p in out.iterdir() if not p.name.startswith(".")} == before
    assert [p.name for p in out.iterdir() if p.name.endswith(".tmp")] == []


@pytest.mark.parametrize("field, make_bad, line, key", [FIELDS[0], FIELDS[3]], ids=["title", "step why"])
def test_display_math_where_tex_stops_is_refused(tmp_path: Path, field, make_bad, line, key) -> None:
    make(tmp_path, make_bad("'so $$x$$'"))
    assert_bad_alone(tmp_path, build(tmp_path), line, key,
                     "display math $$...$$ is not allowed here (use $...$): 'so $$x$$'")


@pytest.mark.tex
def test_the_issue_attacks_leave_no_trace_in_the_pdf(tmp_path: Path) -> None:
    """Each attack of the issue in its own problem: all fail alone (exit 2), the good problem's
    booklet compiles, and its inflated streams hold no /etc/passwd, JavaScript, outside link or
    changed relation."""
    attacks = [r"\begin{pdfobj}file{/etc/passwd}\end{pdfobj}\pdfrefobj\pdflastobj", r"\begin{gdef}\le{\ge}\end{gdef}x",
               r"\global\everypar{\end}", r"\pdfcatalog{/OpenAction << /S /JavaScript /JS (app.alert(1)) >>}",
               r"\pdfstartlink user{/Subtype /Link /A << /S /URI /URI (http://evil.example) >>}x\pdfendlink"]
    d = make(tmp_path, None, order="  - good\n" + "".join(f"  - bad{i}\n" for i in range(len(attacks))))
    for i, tex in enumerate(attacks):
        (d / f"bad{i}.yaml").write_text(problem(statement="'$" + tex + "$'", pid=f'"b{i}"'))
    result = CliRunner().invoke(main, ["--root", str(tmp_path), "build", "mini", "--jobs", "2"])
    assert result.exit_code == 2, result.output
    assert result.output.count("FAIL b") == len(attacks)
    pdf = tmp_path / "build" / "mini" / "mini-partial.pdf"
    streams = pdf_streams(pdf)
    first = Path("/etc/passwd").read_bytes().splitlines()[0]
    for needle in (first, b"JavaScript", b"/URI", b"evil.example"):  # hyperref has its own OpenAction
        assert needle not in streams


@pytest.mark.slow
def test_sigterm_of_the_parent_leaves_nothing_running(tmp_path: Path) -> None:
    """SIGTERM while the workers derive: they die with the parent within 3 s."""
    sys.path.insert(0, str(REPO / "scripts"))
    import killtest

    root = tmp_path.resolve()
    killtest.make_root(root)
    proc = killtest.start(root, "term")
    deadline = time.monotonic() + 20
    while len(killtest.leftovers(root, "term")) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(killtest.leftovers(root, "term")) >= 2  # the parent and a worker at least
    proc.send_signal(signal.SIGTERM)
    proc.wait(10)
    deadline = time.monotonic() + 3
    while killtest.leftovers(root, "term") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert killtest.leftovers(root, "term") == []
