"""Benchmark `derive check` against `derive build`: a 10-page student solution of hw4 checked,
beside a cold build of the hw4 booklet (PDF included), on a temporary copy of problems/.

Run as `.venv/bin/python scripts/bench_check.py [--repeat N] [--out FILE]`. The solution is
tests/data/hw4_typed.md (three parts, planted errors) followed by a section for every other
part of hw4, each about 40 lines of prose with a few numeric steps, so that every problem of
the set is derived by the check as by the build. Prints (or writes to --out) a Markdown
section; exits 1 when the check takes longer than the build (median wall times).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DERIVE = str(Path(sys.executable).parent / "derive")
PROSE = ("We write out the argument in full sentences, the way a student does when the marker asks for every "
         "step; the algebra itself is in the displayed lines below this paragraph. ")


def ten_pages(ids: list[str]) -> str:
    """The solution: the typed hw4 solution, then a section per other part (about 40 lines each)."""
    text = (REPO / "tests" / "data" / "hw4_typed.md").read_text(encoding="utf-8")
    done = {"1.1.1", "1.1.2", "3.2.1"}
    for pid in ids:
        if pid in done:
            continue
        lines = [f"## {pid}", ""]
        for k in range(1, 10):
            lines += [PROSE * 3, "", f"$$\\frac{{1}}{{2}} \\cdot \\frac{{{k}}}{{2}} = \\frac{{{k}}}{{4}} "
                      f"\\approx {k / 4:.2f}$$", ""]
        text += "\n" + "\n".join(lines)
    return text


def timed(argv: list[str]) -> tuple[float, int]:
    start = time.perf_counter()
    code = subprocess.run(argv, capture_output=True, text=True).returncode
    return time.perf_counter() - start, code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="derive-bench-check-") as tmp:
        root = Path(tmp)
        subprocess.run(["cp", "-r", str(REPO / "problems"), str(root / "problems")], check=True)
        ids = subprocess.run([DERIVE, "--root", str(root), "list"], capture_output=True, text=True, check=True).stdout
        after = ids.split("\nhw4:", 1)[1].splitlines()[1:]
        hw4 = [line.split()[0] for line in after[:next((i for i, ln in enumerate(after) if not ln.startswith("  ")),
                                                       len(after))]]
        solution = root / "solution.md"
        solution.write_text(ten_pages(hw4), encoding="utf-8")
        pages = len(solution.read_text(encoding="utf-8").splitlines()) / 45
        build, check = [], []
        for i in range(max(1, args.repeat)):
            build.append(timed([DERIVE, "--root", str(root), "build", "hw4", "--force"]))
            check.append(timed([DERIVE, "--root", str(root), "check", "hw4", str(solution)]))
            print(f"run {i + 1}: build {build[-1][0]:.1f} s (exit {build[-1][1]}), check {check[-1][0]:.1f} s "
                  f"(exit {check[-1][1]})", file=sys.stderr)
    b, c = statistics.median(t for t, _ in build), statistics.median(t for t, _ in check)
    lines = ["## `derive check` against `derive build` (scripts/bench_check.py)", "",
             f"A solution of {len(hw4)} parts, {pages:.1f} pages of 45 lines, checked with `derive check hw4`; "
             f"the cold `derive build hw4 --force` (PDF included) beside it; medians of {len(build)} runs.", "",
             "| command | median wall (s) | runs (s) | exit codes |", "|---|---:|---|---|",
             f"| `derive build hw4 --force` | {b:.1f} | {', '.join(f'{t:.1f}' for t, _ in build)} | "
             f"{', '.join(str(k) for _, k in build)} |",
             f"| `derive check hw4 solution.md` | {c:.1f} | {', '.join(f'{t:.1f}' for t, _ in check)} | "
             f"{', '.join(str(k) for _, k in check)} |", "",
             f"check / build = {c / b:.2f} (target <= 1: {'PASS' if c <= b else 'FAIL'}); the check exits 1 because "
             "the solution has planted errors.", ""]
    text = "\n".join(lines)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0 if c <= b else 1


if __name__ == "__main__":
    sys.exit(main())
