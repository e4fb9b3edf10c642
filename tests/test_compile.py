"""derive.compile with the real TeX Live: booklets compile, reproducibly, and LaTeX is locked down."""

from __future__ import annotations

from pathlib import Path

import pytest
import sympy as sp

from derive import model
from derive.compile import compile_pdf, pdf_text
from derive.errors import CompileError, Loc
from derive.booklet import render_booklet, render_problem

pytestmark = pytest.mark.tex

MINIMAL = "\\documentclass{article}\n\\begin{document}\n%s\n\\end{document}\n"


def booklet_tex() -> str:
    """A one-problem booklet built from a hand-made derivation."""
    x = sp.Symbol("x")
    steps = (
        model.Step("=", sp.Add(x**2, 2 * x, 1, evaluate=False), "expand", "x", Loc("q7.yaml", 5, "s"),
                   model.Verdict("symbolic", "difference is 0")),
        model.Step(">=", sp.Integer(0), "a square is nonnegative", "x", Loc("q7.yaml", 6, "s"),
                   model.Verdict("numeric", "200 points")),
    )
    chain = model.Chain("c", (x + 1) ** 2, steps)
    d = model.Derivation("zz", "q7", "zz-q7", "Squares", 1.0, "Show $(x+1)^2 \\ge 0$.",
                         (chain, model.Answer(chain)), model.Notation())
    fragment, records = render_problem(d)
    return render_booklet("Zebra Homework", "Course 9", "zz", [fragment], records, [])


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_booklet_compiles_reproducibly(tmp_path):
    tex = booklet_tex()
    first = compile_pdf(write(tmp_path / "one", "zz.tex", tex))
    second = compile_pdf(write(tmp_path / "two", "zz.tex", tex))
    assert first == tmp_path / "one" / "zz.pdf"
    text = pdf_text(first)
    for word in ("Zebra Homework", "Answer booklet", "zz-q7", "Squares", "symbolic", "numeric", "all pass"):
        assert word in text
    assert first.read_bytes() == second.read_bytes()


def test_input_of_an_absolute_path_is_refused(tmp_path):
    tex = write(tmp_path, "leak.tex", MINIMAL % "leak: \\input{/etc/passwd}")
    try:
        pdf = compile_pdf(tex)
    except CompileError:
        return
    assert "root:x:0:0" not in pdf_text(pdf)


def test_latexmkrc_in_build_folder_is_not_run(tmp_path):
    for rc in ("latexmkrc", ".latexmkrc"):
        write(tmp_path, rc, 'system("touch CANARY");\n')
    pdf = compile_pdf(write(tmp_path, "ok.tex", MINIMAL % "fine"))
    assert pdf.exists()
    assert not (tmp_path / "CANARY").exists()


def test_broken_tex_raises_with_the_error(tmp_path):
    tex = write(tmp_path, "broken.tex", MINIMAL % "\\nosuchmacro")
    with pytest.raises(CompileError) as info:
        compile_pdf(tex)
    message = str(info.value)
    assert "broken.tex:3: Undefined control sequence." in message
    assert "l.3 \\nosuchmacro" in message
    assert str(tmp_path / "broken.log") in message


def test_timeout_raises(tmp_path):
    tex = write(tmp_path, "loop.tex", MINIMAL % "\\def\\a{\\a}\\a")
    with pytest.raises(CompileError, match=r"^LaTeX timed out after 2 s$"):
        compile_pdf(tex, timeout=2)


def test_missing_latexmk_points_to_setup(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(CompileError, match=r"latexmk not found on PATH: run `bash scripts/setup.sh`"):
        compile_pdf(write(tmp_path, "x.tex", MINIMAL % "x"))
