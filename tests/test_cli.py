"""derive.cli: help texts, exit codes, output lines, and no SymPy import for help and list."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from derive import __version__
from derive.cli import main

from tests.test_build import make_set, sample

REPO = Path(__file__).resolve().parents[1]


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def test_group_help_lists_commands_and_exit_codes() -> None:
    result = run("--help")
    assert result.exit_code == 0
    assert "Usage: derive [OPTIONS] COMMAND [ARGS]..." in result.output
    assert re.search(r"^  build +Derive, verify and typeset problem set SET", result.output, re.M)
    assert re.search(r"^  list +List the problem sets and their problems \(id and title\)\.$", result.output, re.M)
    assert ("\n  Exit codes:\n"
            "    0  success\n"
            "    1  a problem failed (error, failed verification, crash or time-out),\n"
            "       or LaTeX did not produce a PDF\n"
            "    2  usage error or spec error (each issue printed as file:line: key: message),\n"
            "       also when only some problems of the set have spec errors\n") in result.output
    assert "--root DIR  Directory holding problems/ and build/ (default: the current" in result.output
    assert "--version" in result.output


def test_build_help_describes_options_and_exit_codes() -> None:
    result = run("build", "--help")
    assert result.exit_code == 0
    assert "Usage: derive build [OPTIONS] SET" in result.output
    for option in ("--no-pdf", "--questions", "--jobs N", "--timeout SECONDS", "--force"):
        assert option in result.output
    assert ("  Exit codes:\n"
            "    0  every problem derived and verified, PDF compiled\n"
            "    1  a problem failed or LaTeX failed\n"
            "    2  spec error (in set.yaml or in any problem file) or usage error\n") in result.output


def test_list_help() -> None:
    result = run("list", "--help")
    assert result.exit_code == 0
    assert "List the problem sets and their problems (id and title)." in result.output


def test_version() -> None:
    result = run("--version")
    assert (result.exit_code, result.output) == (0, f"derive, version {__version__}\n")


def test_list_prints_sets_and_problems(tmp_path: Path) -> None:
    make_set(tmp_path, {"first": sample("1.1"), "second": sample("1.2")})
    result = run("--root", str(tmp_path), "list")
    assert (result.exit_code, result.output) == (
        0, "mini: Mini set (Test course)\n  1.1  Effect of activation: sigmoid\n  1.2  Effect of activation: sigmoid\n")


def test_list_without_sets(tmp_path: Path) -> None:
    result = run("--root", str(tmp_path), "list")
    assert (result.exit_code, result.stdout) == (0, f"no problem sets in {tmp_path / 'problems'}\n")


def test_unknown_set_is_a_spec_error_exit_2(tmp_path: Path) -> None:
    make_set(tmp_path, {"first": sample("1.1")})
    result = run("--root", str(tmp_path), "build", "nosuch")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (f"{tmp_path / 'problems' / 'nosuch' / 'set.yaml'}:0: set: "
                             "no problem set named 'nosuch' (known: mini)\n")
    assert not (tmp_path / "build").exists()


def test_spec_issues_one_per_line_on_stderr(tmp_path: Path) -> None:
    d = tmp_path / "problems" / "hw"
    d.mkdir(parents=True)
    (d / "set.yaml").write_text("title: T\ncolour: red\norder:\n  - missing\n")
    result = run("--root", str(tmp_path), "build", "hw")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 2
    assert re.fullmatch(rf"{re.escape(str(d / 'set.yaml'))}:2: \S*colour: unknown key; .*", lines[0])
    assert re.fullmatch(rf"{re.escape(str(d / 'set.yaml'))}:4: order\[0\]: .*missing\.yaml.*", lines[1])
    assert result.stdout == ""


@pytest.mark.parametrize("args", [["build"], ["build", "hw", "--jobs", "0"], ["build", "hw", "--timeout", "0"],
                                  ["nosuch"], ["--root", "/nonexistent/dir", "list"]])
def test_usage_errors_exit_2(args: list[str]) -> None:
    assert run(*args).exit_code == 2


def test_build_ok_exit_0(tmp_path: Path) -> None:
    out = make_set(tmp_path, {"first": sample("1.1")})
    result = run("--root", str(tmp_path), "build", "mini", "--no-pdf", "--jobs", "1")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    m = re.fullmatch(r"ok   1\.1 Effect of activation: sigmoid  "
                     r"\((\d+) steps: (\d+) symbolic, (\d+) instance, (\d+) numeric\)  \d+\.\ds", lines[0])
    assert m, lines[0]
    assert int(m[1]) == int(m[2]) + int(m[3]) + int(m[4]) > 0
    assert lines[1:3] == [f"wrote {out / 'mini.tex'}", f"wrote {out / 'verification.json'}"]
    assert re.fullmatch(r"mini: 1 ok, 0 failed  \d+\.\ds", lines[3])
    assert len(lines) == 4
    assert result.stderr == ""


def test_build_failure_exit_1_with_error_indented(tmp_path: Path) -> None:
    out = make_set(tmp_path, {"good": sample("1.1"), "wrong": sample("9.9", wrong=True)})
    result = run("--root", str(tmp_path), "build", "mini", "--no-pdf")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    where = f"{tmp_path / 'problems' / 'mini' / 'wrong.yaml'}:30: solution[1].chain.steps[2]: "
    assert lines[0].startswith("ok   1.1 Effect of activation: sigmoid  (")
    assert lines[1].startswith(f"FAIL 9.9 Effect of activation: sigmoid: {where}")
    assert lines[2] == "    " + lines[1].removeprefix("FAIL 9.9 Effect of activation: sigmoid: ")
    assert lines[3].startswith("      counterexample: u = ")
    assert lines[4:6] == [f"wrote {out / 'mini-partial.tex'}", f"wrote {out / 'verification-partial.json'}"]
    assert re.fullmatch(r"mini: 1 ok, 1 failed  \d+\.\ds", lines[6])
    assert len(lines) == 7


def test_build_time_out_exit_1(tmp_path: Path) -> None:
    make_set(tmp_path, {"first": sample("1.1")})
    result = run("--root", str(tmp_path), "build", "mini", "--no-pdf", "--timeout", "0.05")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[:2] == [
        "FAIL 1.1 Effect of activation: sigmoid: timed out after 0.05 s", "    timed out after 0.05 s"]


@pytest.mark.tex
def test_compile_failure_exit_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = make_set(tmp_path, {"first": sample("1.1")})
    monkeypatch.setenv("TEXINPUTS", str(tmp_path / "nothing"))  # article.cls cannot be found
    result = run("--root", str(tmp_path), "build", "mini")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("ok   1.1 ")
    assert lines[1:3] == ["FAIL LaTeX: LaTeX failed on mini.tex:", "    LaTeX failed on mini.tex:"]
    assert f"    full log: {out / 'mini.log'}" in lines
    assert lines[-3:-1] == [f"wrote {out / 'mini.tex'}", f"wrote {out / 'verification.json'}"]
    assert re.fullmatch(r"mini: 1 ok, 0 failed, LaTeX failed  \d+\.\ds", lines[-1])


@pytest.mark.tex
def test_build_with_pdf_exit_0(tmp_path: Path) -> None:
    out = make_set(tmp_path, {"first": sample("1.1")})
    result = run("--root", str(tmp_path), "build", "mini")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[1:4] == [
        f"wrote {out / 'mini.tex'}", f"wrote {out / 'verification.json'}", f"wrote {out / 'mini.pdf'}"]


def test_unexpected_exception_is_internal_error_exit_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import derive.build

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("kaput")

    make_set(tmp_path, {"first": sample("1.1")})
    monkeypatch.setattr(derive.build, "build_set", broken)
    result = run("--root", str(tmp_path), "build", "mini")
    assert result.exit_code == 1
    assert result.stderr == "internal error:\nRuntimeError: kaput\n(a bug in derive; DERIVE_DEBUG=1 shows where)\n"
    monkeypatch.setenv("DERIVE_DEBUG", "1")
    result = run("--root", str(tmp_path), "build", "mini")
    assert result.stderr.startswith("internal error:\nTraceback (most recent call last):\n")
    assert result.stderr.endswith("RuntimeError: kaput\n\n")


@pytest.mark.parametrize("args", [["--help"], ["build", "--help"], ["list", "--help"], ["list"], ["--version"]])
def test_help_and_list_do_not_import_sympy(args: list[str], tmp_path: Path) -> None:
    make_set(tmp_path, {"first": sample("1.1")})
    code = ("import sys\n"
            "from click.testing import CliRunner\n"
            "from derive.cli import main\n"
            f"result = CliRunner().invoke(main, ['--root', {str(tmp_path)!r}] + {args!r})\n"
            "assert result.exit_code == 0, result.output\n"
            "print('sympy' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert (done.returncode, done.stdout, done.stderr) == (0, "False\n", "")
