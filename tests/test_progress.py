"""derive.progress: live lines on a terminal, the plain report elsewhere, -q, -v, closed pipes."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from derive.cli import main
from derive.scaffold import new_problem

from tests.test_build import make_set, sample

DERIVE = [sys.executable, "-m", "derive.cli"]


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_verbose_prints_every_steps_verdict(tmp_path: Path) -> None:
    new_problem(tmp_path, "s", "first")
    result = run("--root", str(tmp_path), "build", "s", "--no-pdf", "-v")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("ok   1 First  (7 steps: 7 symbolic, 0 instance, 0 numeric)  ")
    assert lines[1:8] == [
        "    bound.1  unfold  symbolic: identical after unfolding definitions",
        "    bound.2  complete_square  symbolic: difference simplifies to 0",
        "    bound.3  claim  symbolic: the difference is non-negative (sign certificate)",
        "    slope.1  unfold  symbolic: identical after unfolding definitions",
        "    slope.2  differentiate  symbolic: difference simplifies to 0",
        "    slope.3  claim  symbolic: identical after unfolding definitions",
        "    slope.4  claim  symbolic: the difference is positive (sign certificate)"]
    assert lines[8].startswith("wrote ")


def test_quiet_prints_only_failures(tmp_path: Path) -> None:
    make_set(tmp_path, {"good": sample("1.1")})
    assert run("--root", str(tmp_path), "build", "mini", "--no-pdf", "-q").stdout == ""
    make_set(tmp_path / "b", {"good": sample("1.1"), "wrong": sample("9.9", wrong=True)})
    result = run("--root", str(tmp_path / "b"), "build", "mini", "--no-pdf", "-q")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("FAIL 9.9 Effect of activation: sigmoid: ")
    assert lines[1].startswith("    ") and lines[2].startswith("      counterexample: ")
    assert len(lines) == 3


def test_on_a_terminal_each_problem_has_a_live_line(tmp_path: Path) -> None:
    new_problem(tmp_path, "s", "first")
    new_problem(tmp_path, "s", "second")
    leader, follower = pty.openpty()
    env = dict(os.environ, COLUMNS="120", LINES="40", TERM="xterm")
    proc = subprocess.Popen([*DERIVE, "--root", str(tmp_path), "build", "s", "--no-pdf", "--jobs", "1"],
                            stdout=follower, stderr=follower, env=env, cwd=Path(__file__).parents[1])
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    assert proc.wait(120) == 0
    os.close(leader)
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode())
    # second.yaml is the larger file, so with no recorded times it is derived first (build.longest_first)
    assert re.search(r"\.\.\.  2 Second  running \d+\.\ds", shown)
    assert "1 First  waiting" in shown
    tail = shown.rstrip().splitlines()[-5:]  # the live lines are gone; the report is in their place
    assert [line.split("  (")[0].strip() for line in tail[:2]] == ["ok   1 First", "ok   2 Second"]
    assert tail[-1].startswith("s: 2 ok, 0 failed  ")


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    make_set(tmp_path, {f"p{i}": sample(f"1.{i}") for i in range(40)})
    proc = subprocess.Popen([*DERIVE, "--root", str(tmp_path), "list"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=Path(__file__).parents[1])
    proc.stdout.close()  # like `derive list | head -0`
    err = proc.stderr.read()
    assert (proc.wait(60), err) == (1, b"")
    done = subprocess.run(f"{sys.executable} -m derive.cli --root {tmp_path} list | head -1", shell=True,
                          capture_output=True, text=True, cwd=Path(__file__).parents[1])
    assert (done.stdout, done.stderr) == ("mini: Mini set (Test course)\n", "")
