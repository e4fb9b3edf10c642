"""End to end on the shipped sets: `derive build` writes .tex, verification.json and a PDF
whose text shows every problem, the check of every step and the closing summary."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from derive.compile import pdf_text

ROOT = Path(__file__).resolve().parent.parent


def build(tmp_path: Path, set_name: str, *options: str, seed: str = "0") -> tuple[subprocess.CompletedProcess, Path]:
    shutil.copytree(ROOT / "problems" / set_name, tmp_path / "problems" / set_name)
    proc = subprocess.run([sys.executable, "-m", "derive.cli", "--root", str(tmp_path), "build", set_name, *options],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600,
                          env={**os.environ, "PYTHONHASHSEED": seed})
    return proc, tmp_path / "build" / set_name


@pytest.fixture(scope="module")
def assn5(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, Path]:
    """assn5 built once (with its PDF) for the tests of this module."""
    return build(tmp_path_factory.mktemp("assn5"), "assn5")


@pytest.mark.tex
def test_hw4_booklet(tmp_path: Path) -> None:
    proc, out = build(tmp_path, "hw4", "--questions")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sorted(p.name for p in out.iterdir() if p.name != ".cache") == ["figures", "hw4-questions.pdf",
                                                                          "hw4-questions.tex", "hw4.pdf", "hw4.tex",
                                                                          "verification.json"]
    assert sorted(p.name for p in (out / "figures").iterdir()) == [
        "sigmoid_gradient-dsigma.pdf", "sigmoid_gradient-dsigma.svg", "tanh_gradient-dtanh.pdf",
        "tanh_gradient-dtanh.svg"]
    report = json.loads((out / "verification.json").read_text())
    assert report["problems"] == ["1.1.1", "1.1.2", "1.2.1", "1.3.1", "1.3.2", "1.3.3", "2.1", "2.2", "2.3", "3.1(a)",
                                  "3.1(b)", "3.1(c)", "3.2.1", "3.2.2"]
    steps = report["steps"]
    assert len(steps) == report["summary"]["steps"] == 142
    assert {s["method"] for s in steps} <= {"symbolic", "instance", "numeric"}
    assert all(s["file"].endswith(".yaml") and s["line"] > 0 and s["detail"] for s in steps)
    text = pdf_text(out / "hw4.pdf")
    for needle in ("1.1.1", "Effect of activation: sigmoid", "1.3.1", "3.1(a)", "3.1(b)", "3.1(c)", "3.2.1",
                   "3.2.2", "using hypothesis ordered", "with tied",
                   "Verification summary", "by definition", "[sym]", "[inst]", "all pass",
                   "How each step was checked", "factor by factor", "holds on 6 random exact instances",
                   "equal entry by entry", "cheapest order of the product",
                   "computed from its definition, never exceeds the line 1/4", "reaches the line 1 at u = 0"):
        assert needle in text, needle
    questions = pdf_text(out / "hw4-questions.pdf")
    for pid in report["problems"]:
        assert f"{pid} " in questions, pid
    assert "Solution" not in questions and "Verification summary" not in questions


@pytest.mark.tex
def test_assn5_booklet(assn5: tuple[subprocess.CompletedProcess, Path]) -> None:
    proc, out = assn5
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((out / "verification.json").read_text())
    assert report["summary"] == {"instance": 18, "numeric": 0, "steps": 96, "symbolic": 78}
    text = pdf_text(out / "assn5.pdf")
    assert "KL divergence between two Gaussians" in text
    assert "The chain drawn from the MDP above" in text and "of each of the 16 policies" in text
    assert "Gaussian moments" in text
    for needle in ("A discounted MDP on a chain of four states", "All 16 deterministic policies",
                   "evaluate_policy", "bellman_optimal", "One greedy step improves on this policy"):
        assert needle in text, needle
    assert "The evidence lower bound" in text and "Reparameterised Monte-Carlo" in text


@pytest.mark.tex
def test_quiz4_booklet(tmp_path: Path) -> None:
    proc, out = build(tmp_path, "quiz4")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((out / "verification.json").read_text())
    assert report["problems"] == ["1", "2", "3"]
    assert report["summary"] == {"instance": 17, "numeric": 0, "steps": 78, "symbolic": 61}
    text = pdf_text(out / "quiz4.pdf")
    for needle in ("Training vector quantisation", "Advantage actor-critic", "(a)", "(b)", "(c)", "(d)",
                   "sg", "summing (convergence and ranges decided by the", "all pass"):
        assert needle in text, needle
    assert "An upper bound on the entropy of the population" in text
    assert [(e["problem"], e["place"], e["chain"]) for e in report["errata"]] == [
        ("1", "problem 1(a), the marginal", "rewritten"), ("1", "problems 1(a) and 1(c), brackets", "rewritten"),
        ("2", "problem 2(b), the SGD update", "update"), ("2", "problem 2(c), the rolling average", "rolling"),
        ("3", "problem 3(a), wording", None)]
    assert "Errata in the sources" in text and "Erratum 2, no. 1. The quiz 4 reference solutions" in text
    assert "The chain update (page" in text and "carries it." in text


@pytest.mark.tex
def test_tex_is_reproducible(assn5: tuple[subprocess.CompletedProcess, Path], tmp_path: Path) -> None:
    """Same input, same .tex and verification.json, byte for byte, in another folder under
    another hash seed."""
    proc, out = assn5
    again, out2 = build(tmp_path, "assn5", "--no-pdf", seed="4242")
    assert proc.returncode == again.returncode == 0, again.stdout + again.stderr
    assert (out / "assn5.tex").read_bytes() == (out2 / "assn5.tex").read_bytes()
    first, second = ((o / "verification.json").read_text().replace(str(o.parent.parent), "") for o in (out, out2))
    assert first == second


@pytest.mark.tex
def test_udl_booklet(tmp_path: Path) -> None:
    """The UDL set: 49 problems in 17 chapters of the book, every step verified, the
    chapter headings in the booklet and the question sheet, and every erratum listed."""
    proc, out = build(tmp_path, "udl", "--questions")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "udl: 49 ok, 0 failed" in proc.stdout
    report = json.loads((out / "verification.json").read_text())
    assert report["problems"] == [
        "2.3", "3.3", "3.9", "3.11", "3.15", "3.17", "3.18", "4.8", "4.9", "4.11", "5.3", "5.4", "5.8", "6.4",
        "6.5", "7.6", "7.9", "7.10", "7.12", "7.13", "8.3", "8.8", "9.3", "9.4", "10.1", "10.16", "10.19", "11.4",
        "12.3", "12.10", "13.7", "15.2", "15.4", "16.2", "16.3", "16.6", "16.11", "17.4", "18.4", "18.5", "18.6",
        "18.7", "18.8", "18.9", "18.10", "18.11", "19.2", "19.5", "19.7"]
    assert report["summary"] == {"instance": 93, "numeric": 2, "steps": 691, "symbolic": 596}
    assert len(report["errata"]) == 37
    text = pdf_text(out / "udl.pdf")
    chapters = ["2. Supervised learning", "3. Shallow neural networks", "4. Deep neural networks",
                "5. Loss functions", "6. Fitting models", "7. Gradients and initialisation",
                "8. Measuring performance", "9. Regularisation", "10. Convolutional networks",
                "11. Residual networks", "12. Transformers", "13. Graph neural networks",
                "15. Generative adversarial networks", "16. Normalising flows", "17. Variational autoencoders",
                "18. Diffusion models", "19. Reinforcement learning"]
    for heading in chapters:
        assert text.count(heading) >= 2, heading  # the table of contents and the heading itself
    assert "machine-checked answers" in text and "Errata in the sources" in text and "all pass" in text
    questions = pdf_text(out / "udl-questions.pdf")
    assert all(heading in questions for heading in chapters)
    assert "Solution" not in questions
