"""derive.scaffold (`derive new`): the scaffolded set and problem build and verify as they stand."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from derive.build import build_set
from derive.cli import main
from derive.errors import SpecError
from derive.scaffold import modeline, new_problem, new_set
from derive.spec import load_set

ROOT = Path(__file__).resolve().parents[1]


def test_new_set_writes_a_commented_empty_set_that_builds(tmp_path: Path) -> None:
    path = new_set(tmp_path, "hw9")
    assert path == tmp_path / "problems" / "hw9" / "set.yaml"
    text = path.read_text()
    first, second = text.splitlines()[:2]
    assert first == f"# yaml-language-server: $schema={(ROOT / 'derive/schemas/derive-set.schema.json').as_uri()}"
    assert second.startswith("# Problem set hw9.")
    assert 'title: "Problem set hw9"' in text
    spec = load_set(tmp_path, "hw9")
    assert (spec.title, spec.problems) == ("Problem set hw9", ())
    report = build_set(tmp_path, "hw9", jobs=1, pdf=False)
    assert report.ok and report.outputs == []


def test_new_problem_builds_and_verifies_every_step(tmp_path: Path) -> None:
    written = new_problem(tmp_path, "hw9", "warm_up")
    base = tmp_path / "problems" / "hw9"
    assert written == [base / "set.yaml", base / "warm_up.yaml"]
    assert [(r.stem, r.id, r.title) for r in load_set(tmp_path, "hw9").problems] == [("warm_up", "1", "Warm up")]
    report = build_set(tmp_path, "hw9", jobs=1, pdf=False)
    assert report.ok, report.failed
    [output] = report.outputs
    assert [(r["chain"], r["step"], r["rule"], r["method"]) for r in output.records] == [
        ("bound", 1, "unfold", "symbolic"), ("bound", 2, "complete_square", "symbolic"),
        ("bound", 3, "claim", "symbolic"), ("slope", 1, "unfold", "symbolic"),
        ("slope", 2, "differentiate", "symbolic"), ("slope", 3, "claim", "symbolic"),
        ("slope", 4, "claim", "symbolic")]


def test_files_in_the_repository_name_the_schema_by_a_relative_path() -> None:
    """Under the repository's own problems/ the modeline is relative, so the checkout can move;
    the schema it names is the published one."""
    line = modeline(ROOT / "problems" / "hw9" / "first.yaml", ROOT, "problem")
    assert line == "# yaml-language-server: $schema=../../derive/schemas/derive-problem.schema.json\n"
    assert (ROOT / "problems" / "hw9" / "../../derive/schemas/derive-problem.schema.json").resolve().is_file()


def test_a_second_problem_is_appended_and_comments_stay(tmp_path: Path) -> None:
    new_problem(tmp_path, "hw9", "first")
    assert new_problem(tmp_path, "hw9", "second") == [tmp_path / "problems" / "hw9" / "second.yaml"]
    text = (tmp_path / "problems" / "hw9" / "set.yaml").read_text()
    assert "order:                     # the problem files (without .yaml), in booklet order\n" \
           "  - first\n  - second\n" in text
    assert "# course: " in text
    assert [(r.stem, r.id) for r in load_set(tmp_path, "hw9").problems] == [("first", "1"), ("second", "2")]


def test_a_new_problem_joins_the_last_chapter(tmp_path: Path) -> None:
    new_problem(tmp_path, "hw9", "first")
    set_yaml = tmp_path / "problems" / "hw9" / "set.yaml"
    set_yaml.write_text("title: T\nchapters:\n  - title: One\n    order: [first]\n")
    new_problem(tmp_path, "hw9", "second")
    assert [(r.stem, r.chapter) for r in load_set(tmp_path, "hw9").problems] == [("first", "One"), ("second", "One")]


@pytest.mark.parametrize(("call", "message"), [
    (lambda root: new_set(root, "bad name"), "<command line>:0: SET: not a set name: 'bad name'"),
    (lambda root: new_problem(root, "hw9", "9lives"), "<command line>:0: PROBLEM: not a problem name: '9lives'"),
])
def test_bad_names_write_nothing(tmp_path: Path, call, message: str) -> None:
    with pytest.raises(SpecError) as info:
        call(tmp_path)
    assert str(info.value).startswith(message)
    assert not (tmp_path / "problems").exists()


def test_existing_files_are_never_overwritten(tmp_path: Path) -> None:
    new_problem(tmp_path, "hw9", "first")
    problem = tmp_path / "problems" / "hw9" / "first.yaml"
    problem.write_text(problem.read_text() + "# mine\n")
    with pytest.raises(SpecError, match="first.yaml exists already"):
        new_problem(tmp_path, "hw9", "first")
    with pytest.raises(SpecError, match="set.yaml exists already"):
        new_set(tmp_path, "hw9")
    assert problem.read_text().endswith("# mine\n")


def test_cli_new_prints_the_files_and_the_next_command(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--root", str(tmp_path), "new", "hw9", "first"])
    assert result.exit_code == 0, result.output
    base = tmp_path / "problems" / "hw9"
    assert result.stdout.splitlines() == [f"wrote {base / 'set.yaml'}", f"wrote {base / 'first.yaml'}",
                                          f"next: derive --root {tmp_path} build hw9"]
    again = CliRunner().invoke(main, ["--root", str(tmp_path), "new", "hw9", "first"])
    assert again.exit_code == 2
    assert again.stderr == f"<command line>:0: PROBLEM: {base / 'first.yaml'} exists already\n"


@pytest.mark.tex
def test_scaffolded_problem_compiles_to_a_pdf(tmp_path: Path) -> None:
    new_problem(tmp_path, "hw9", "first")
    report = build_set(tmp_path, "hw9", jobs=1)
    assert report.ok, report.compile_error
    text = subprocess.run(["pdftotext", str(tmp_path / "build" / "hw9" / "hw9.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert "First" in text and "completing the square" in text and "a square is non-negative" in text
