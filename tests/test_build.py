"""derive.build: the process pool (time-outs, crashes) and the build's outputs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from derive.build import ProblemOutput, build_set, derive_one, longest_first, summarize, verification_json
from derive.pool import TaskResult, run_pool
from derive.compile import pdf_text
from derive.errors import SpecError
from derive.spec import ProblemRef, load_set

# --- run_pool -------------------------------------------------------------------------------


def pool_target(task: object) -> object:
    """Module-level worker target: behaviour chosen by the task."""
    if task == "sleep":
        while True:
            time.sleep(1)
    if task == "exit3":
        os._exit(3)
    if task == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if task == "raise":
        raise ValueError("boom")
    if task == "unpicklable":
        return lambda: None
    if isinstance(task, tuple):  # ("span", seconds): report when it ran
        start = time.time()
        time.sleep(task[1])
        return (start, time.time())
    return task * task


def test_run_pool_timeout_and_crash_fail_only_their_task() -> None:
    start = time.monotonic()
    results = run_pool([2, "sleep", "exit3", 5, "raise", "kill"], jobs=6, timeout=1.0, target=pool_target)
    elapsed = time.monotonic() - start
    assert [(r.value, r.error) for r in results] == [
        (4, None),
        (None, "timed out after 1 s"),
        (None, "worker crashed (exit code 3)"),
        (25, None),
        (None, results[4].error),
        (None, "worker crashed (killed by SIGKILL)"),
    ]
    assert results[4].error.startswith("internal error: ValueError: boom\n")
    assert 'raise ValueError("boom")' in results[4].error
    assert 1.0 <= results[1].seconds < 3.0
    assert elapsed < 3.0
    assert all(isinstance(r, TaskResult) for r in results)


def test_run_pool_sleeper_does_not_block_later_tasks() -> None:
    start = time.time()
    results = run_pool(["sleep", ("span", 0.1), ("span", 0.1), ("span", 0.1)], jobs=2, timeout=3, target=pool_target)
    assert (results[0].value, results[0].error) == (None, "timed out after 3 s")
    assert all(r.error is None for r in results[1:])
    assert max(r.value[1] for r in results[1:]) < start + 2.5  # all done in the other slot


def test_run_pool_keeps_at_most_jobs_workers_alive() -> None:
    results = run_pool([("span", 0.3)] * 6, jobs=2, timeout=10, target=pool_target)
    spans = [r.value for r in results]
    assert all(r.error is None for r in results)
    moments = sorted({t for span in spans for t in span})
    overlap = max(sum(1 for s, e in spans if s <= t < e) for t in moments)
    assert overlap == 2


def test_run_pool_unpicklable_result_is_an_internal_error() -> None:
    (result,) = run_pool(["unpicklable"], jobs=1, timeout=10, target=pool_target)
    assert result.value is None
    assert result.error.startswith("internal error: ")


def test_run_pool_edge_cases() -> None:
    assert run_pool([], jobs=1, timeout=1, target=pool_target) == []
    with pytest.raises(ValueError, match="jobs must be at least 1, got 0"):
        run_pool([1], jobs=0, timeout=1, target=pool_target)


# --- helpers --------------------------------------------------------------------------------


def test_summarize_counts_methods() -> None:
    records = [{"method": "symbolic"}, {"method": "numeric"}, {"method": "symbolic"}, {"method": "instance"}]
    assert summarize(records) == {"steps": 4, "symbolic": 2, "instance": 1, "numeric": 1}
    assert summarize([]) == {"steps": 0, "symbolic": 0, "instance": 0, "numeric": 0}


def test_verification_json_is_sorted_and_indented() -> None:
    out = ProblemOutput("p1", "1.1", "T", "", [{"step": "1", "method": "numeric", "problem": "1.1"}], None)
    assert verification_json("s", [out]) == """{
  "errata": [],
  "problems": [
    "1.1"
  ],
  "set": "s",
  "steps": [
    {
      "method": "numeric",
      "problem": "1.1",
      "step": "1"
    }
  ],
  "summary": {
    "instance": 0,
    "numeric": 1,
    "steps": 1,
    "symbolic": 0
  }
}
"""


# --- build_set, on the real pipeline ---------------------------------------------------------
# A temporary root holds a copy of a shipped problem and, where needed, a copy with one wrong step.

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "problems" / "hw4" / "sigmoid_gradient.yaml"
RIGHT_CLAIM, WRONG_CLAIM = 'to: "sigma(u)*(1 - sigma(u))"', 'to: "sigma(u)*(1 + sigma(u))"'


def sample(problem_id: str = "1.1.1", wrong: bool = False) -> str:
    """The shipped sigmoid problem under another id, optionally with its third step made wrong."""
    text = SAMPLE.read_text(encoding="utf-8")
    assert text.count('id: "1.1.1"') == 1 and text.count(RIGHT_CLAIM) == 1
    text = text.replace('id: "1.1.1"', f'id: "{problem_id}"')
    return text.replace(RIGHT_CLAIM, WRONG_CLAIM) if wrong else text


def make_set(root: Path, problems: dict[str, str], title: str = "Mini set") -> Path:
    """problems/mini/ with `problems` (stem -> YAML text) in order; returns build/mini."""
    d = root / "problems" / "mini"
    d.mkdir(parents=True)
    order = "".join(f"  - {stem}\n" for stem in problems)
    (d / "set.yaml").write_text(f"title: {title}\ncourse: Test course\norder:\n{order}", encoding="utf-8")
    for stem, text in problems.items():
        (d / f"{stem}.yaml").write_text(text, encoding="utf-8")
    return root / "build" / "mini"


def test_build_all_ok_writes_tex_and_json_deterministically(tmp_path: Path) -> None:
    out = make_set(tmp_path, {"first": sample("1.1"), "second": sample("1.2")})
    report = build_set(tmp_path, "mini", jobs=2, pdf=False)
    assert report.ok and report.failed == [] and report.compile_error is None
    assert report.set_name == "mini"
    assert [(o.stem, o.id, o.title, o.error) for o in report.outputs] == [
        ("first", "1.1", "Effect of activation: sigmoid", None),
        ("second", "1.2", "Effect of activation: sigmoid", None)]
    assert report.written == [out / "mini.tex", out / "verification.json"]  # figures/ is not listed
    assert set(report.seconds) == {"first", "second"}
    assert report.total_seconds >= max(report.seconds.values())
    assert sorted(p.name for p in out.iterdir() if p.name != ".cache") == ["figures", "mini.tex", "verification.json"]
    assert sorted(p.name for p in (out / "figures").iterdir()) == [
        "first-dsigma.pdf", "first-dsigma.svg", "second-dsigma.pdf", "second-dsigma.svg"]
    tex = (out / "mini.tex").read_text(encoding="utf-8")
    assert "Mini set" in tex and "Partial booklet" not in tex
    doc = json.loads((out / "verification.json").read_text(encoding="utf-8"))
    assert (doc["set"], doc["problems"]) == ("mini", ["1.1", "1.2"])
    records = report.outputs[0].records + report.outputs[1].records
    assert doc["steps"] == [r | {"file": Path(r["file"]).relative_to(tmp_path).as_posix()} for r in records]
    assert len(records) > 0
    assert doc["summary"] == summarize(records)
    assert sum(doc["summary"][m] for m in ("symbolic", "instance", "numeric")) == doc["summary"]["steps"]
    first = {name: (out / name).read_bytes() for name in ("mini.tex", "verification.json")}
    build_set(tmp_path, "mini", jobs=1, pdf=False)
    assert {name: (out / name).read_bytes() for name in first} == first


def test_failed_problem_writes_partial_and_keeps_earlier_outputs(tmp_path: Path) -> None:
    out = make_set(tmp_path, {"good": sample("1.1"), "wrong": sample("9.9", wrong=True)})
    out.mkdir(parents=True)
    for name in ("mini.tex", "mini.pdf", "verification.json"):
        (out / name).write_text("earlier")
    report = build_set(tmp_path, "mini", pdf=False)
    assert not report.ok
    assert [(stem, pid) for stem, pid, _ in report.failed] == [("wrong", "9.9")]
    error = report.failed[0][2]
    assert error.startswith(f"{tmp_path / 'problems' / 'mini' / 'wrong.yaml'}:30: solution[1].chain.steps[2]: ")
    assert "\n  counterexample: u = " in error
    assert [o.error is None for o in report.outputs] == [True, False]
    assert report.outputs[1].records == [] and report.outputs[1].fragment == ""
    for name in ("mini.tex", "mini.pdf", "verification.json"):
        assert (out / name).read_text() == "earlier"
    assert report.written == [out / "mini-partial.tex", out / "verification-partial.json"]
    tex = (out / "mini-partial.tex").read_text(encoding="utf-8")
    assert "Partial booklet" in tex and "not included: 9.9." in tex
    doc = json.loads((out / "verification-partial.json").read_text(encoding="utf-8"))
    assert doc["problems"] == ["1.1"]
    assert doc["steps"] == [r | {"file": Path(r["file"]).relative_to(tmp_path).as_posix()}
                            for r in report.outputs[0].records]


def test_problem_past_the_time_limit_fails_alone(tmp_path: Path) -> None:
    out = make_set(tmp_path, {"first": sample("1.1"), "second": sample("1.2")})
    start = time.monotonic()
    report = build_set(tmp_path, "mini", jobs=2, pdf=False, timeout=0.05)
    assert time.monotonic() - start < 5.0
    assert report.failed == [("first", "1.1", "timed out after 0.05 s"), ("second", "1.2", "timed out after 0.05 s")]
    assert report.written == [out / "mini-partial.tex", out / "verification-partial.json"]
    doc = json.loads((out / "verification-partial.json").read_text(encoding="utf-8"))
    assert doc == {"set": "mini", "problems": [], "steps": [], "errata": [],
                   "summary": {"steps": 0, "symbolic": 0, "instance": 0, "numeric": 0}}


def test_unexpected_exception_in_engine_is_an_internal_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import derive.engine

    def broken(set_name: str, path: Path) -> None:
        raise RuntimeError("kaput")

    monkeypatch.setattr(derive.engine, "derive_problem", broken)
    make_set(tmp_path, {"first": sample("1.1")})
    output = derive_one(("mini", load_set(tmp_path, "mini").problems[0]))
    assert (output.stem, output.id, output.fragment, output.records) == ("first", "1.1", "", [])
    assert output.error.startswith("internal error: RuntimeError: kaput\n")
    assert 'raise RuntimeError("kaput")' in output.error


@pytest.mark.tex
def test_full_build_compiles_pdf_and_removes_stale_partial_outputs(tmp_path: Path) -> None:
    out = make_set(tmp_path, {"first": sample("1.1")})
    out.mkdir(parents=True)
    for name in ("mini-partial.tex", "mini-partial.pdf", "mini-partial.log", "verification-partial.json", "mini.log"):
        (out / name).write_text("stale")
    report = build_set(tmp_path, "mini")
    assert report.ok
    assert report.written == [out / "mini.tex", out / "verification.json", out / "mini.pdf"]
    assert sorted(p.name for p in out.iterdir() if p.name != ".cache") == ["figures", "mini.pdf", "mini.tex",
                                                                          "verification.json"]
    assert "Effect of activation: sigmoid" in pdf_text(out / "mini.pdf")


@pytest.mark.tex
def test_question_sheet_is_built_beside_the_booklet(tmp_path: Path) -> None:
    out = make_set(tmp_path, {"first": sample("1.1")})
    report = build_set(tmp_path, "mini", questions=True)
    assert report.ok
    assert report.written == [out / "mini.tex", out / "mini-questions.tex", out / "verification.json",
                              out / "mini.pdf", out / "mini-questions.pdf"]
    text = pdf_text(out / "mini-questions.pdf")
    assert "Questions" in text and "Effect of activation: sigmoid" in text and "single-unit layers" in text
    assert "Solution" not in text and "Answer" not in text and "Verification summary" not in text


def test_partial_question_sheet_leaves_the_earlier_one(tmp_path: Path) -> None:
    out = make_set(tmp_path, {"good": sample("1.1"), "wrong": sample("9.9", wrong=True)})
    out.mkdir(parents=True)
    (out / "mini-questions.tex").write_text("earlier")
    report = build_set(tmp_path, "mini", pdf=False, questions=True)
    assert report.written == [out / "mini-partial.tex", out / "mini-questions-partial.tex",
                              out / "verification-partial.json"]
    assert (out / "mini-questions.tex").read_text() == "earlier"
    assert "not included: 9.9." in (out / "mini-questions-partial.tex").read_text(encoding="utf-8")


@pytest.mark.tex
def test_partial_build_compiles_partial_pdf(tmp_path: Path) -> None:
    out = make_set(tmp_path, {"good": sample("1.1"), "wrong": sample("9.9", wrong=True)})
    report = build_set(tmp_path, "mini")
    assert report.compile_error is None
    assert report.written == [out / "mini-partial.tex", out / "verification-partial.json", out / "mini-partial.pdf"]
    assert "Partial booklet" in pdf_text(out / "mini-partial.pdf")
    assert not (out / "mini.pdf").exists()


@pytest.mark.tex
def test_compile_failure_keeps_earlier_pdf_and_the_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = make_set(tmp_path, {"first": sample("1.1")})
    out.mkdir(parents=True)
    (out / "mini.pdf").write_text("earlier")
    monkeypatch.setenv("TEXINPUTS", str(tmp_path / "nothing"))  # article.cls cannot be found
    report = build_set(tmp_path, "mini")
    assert report.failed == [] and not report.ok
    assert report.compile_error.startswith("LaTeX failed on mini.tex:\n")
    assert report.compile_error.endswith(f"full log: {out / 'mini.log'}")
    assert report.written == [out / "mini.tex", out / "verification.json"]
    assert (out / "mini.pdf").read_text() == "earlier"
    assert "article.cls" in (out / "mini.log").read_text(encoding="utf-8", errors="replace")
    assert sorted(p.name for p in out.iterdir() if p.name != ".cache") == ["figures", "mini.log", "mini.pdf",
                                                                          "mini.tex", "verification.json"]


def test_build_into_explicit_out_dir(tmp_path: Path) -> None:
    make_set(tmp_path, {"first": sample("1.1")})
    report = build_set(tmp_path, "mini", pdf=False, out=tmp_path / "elsewhere")
    assert report.written == [tmp_path / "elsewhere" / "mini.tex", tmp_path / "elsewhere" / "verification.json"]
    assert not (tmp_path / "build").exists()


def test_spec_error_raises_before_any_output(tmp_path: Path) -> None:
    make_set(tmp_path, {"first": sample("1.1")})
    with pytest.raises(SpecError) as info:
        build_set(tmp_path, "nosuch")
    assert [str(i) for i in info.value.issues] == [
        f"{tmp_path / 'problems' / 'nosuch' / 'set.yaml'}:0: set: no problem set named 'nosuch' (known: mini)"]
    assert not (tmp_path / "build").exists()


def test_importing_build_does_not_import_sympy() -> None:
    code = "import sys, derive.build, derive.cli; print('sympy' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert done.stdout == "False\n"


def test_longest_first_puts_unmeasured_problems_first_by_size_then_the_slowest(tmp_path: Path) -> None:
    refs = []
    for stem, size in (("quick", 10), ("new_small", 20), ("slow", 30), ("new_large", 40), ("medium", 50)):
        (tmp_path / f"{stem}.yaml").write_text("x" * size)
        refs.append(ProblemRef(stem, tmp_path / f"{stem}.yaml", stem, stem))
    refs.append(ProblemRef("gone", tmp_path / "gone.yaml", "gone", "gone"))  # no file: size 0
    order = longest_first(refs, {"quick": 0.5, "slow": 9.0, "medium": 2.0})
    assert [r.stem for r in order] == ["new_large", "new_small", "gone", "slow", "medium", "quick"]
