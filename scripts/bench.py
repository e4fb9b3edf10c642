"""Benchmark the `derive` CLI on this machine and write a Markdown report.

Run from anywhere as `.venv/bin/python scripts/bench.py [--repeat N] [--out docs/performance.md]
[--no-mutation]`. Every CLI command runs as a subprocess of the venv's `derive` script, with
`--root` pointing at a temporary copy of `problems/`, so the repository's `build/` is not
touched. Peak RSS comes from `os.wait4` (the `resource` rusage of that one child and the
descendants it waited for: workers, latexmk, pdflatex); it is the largest single process,
not the sum of processes alive at once. Exits 1 when a target fails.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DERIVE = str(Path(PYTHON).parent / "derive")
OTHER_SETS = tuple(sorted(p.parent.name for p in (REPO / "problems").glob("*/set.yaml") if p.parent.name != "hw4"))
OK_LINE = re.compile(r"^ok\s+(\S+) .*\((\d+) steps: .*\)\s+([\d.]+)s$")
SYMPY_PROBE = """import sys
from click.testing import CliRunner
from derive.cli import main
result = CliRunner().invoke(main, sys.argv[1:])
print(result.exit_code, 'sympy' in sys.modules)
"""
DERIVE_PROBE = """import sys, time
from pathlib import Path
import derive.engine  # imported before the clock starts, as in the build's forked workers
from derive.engine import derive_problem
start = time.perf_counter()
derive_problem(sys.argv[1], Path(sys.argv[2]))
print(time.perf_counter() - start)
"""
WORKER_PROBE = """import resource, sys, time
from pathlib import Path
import derive.build as build
import derive.engine


def direct(fn, *args):
    return fn(*args)


if sys.argv[3] == "off":  # the worker as before the gh-142183 workaround (same frame depth)
    build.reserved_call = direct


def target(path):
    before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    derive.engine.derive_problem(sys.argv[1], Path(path))
    after = resource.getrusage(resource.RUSAGE_SELF)
    return (time.perf_counter() - start, after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime,
            after.ru_minflt - before.ru_minflt)


[result] = build.run_pool([sys.argv[2]], 1, 1800, target)
print(*result.value)
"""


@dataclass
class Runs:
    """Repeated runs of one command: wall seconds, peak RSS (KiB), exit codes, stdout."""

    label: str
    wall: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)
    codes: list[int] = field(default_factory=list)
    stdout: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every run exited 0."""
        return all(code == 0 for code in self.codes)

    @property
    def median(self) -> float:
        """Median wall time in seconds."""
        return statistics.median(self.wall)


def run_once(argv: list[str], runs: Runs) -> None:
    """Run `argv` from the repo root; append its wall time, peak RSS, exit code and stdout."""
    with tempfile.TemporaryFile("w+") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        runs.wall.append(time.perf_counter() - start)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        runs.stdout.append(out.read())
    runs.rss_kib.append(usage.ru_maxrss)
    runs.codes.append(proc.returncode)


def measure(label: str, argv: list[str], repeat: int) -> Runs:
    """`repeat` runs of one command, printing progress to stderr."""
    runs = Runs(label)
    for i in range(repeat):
        run_once(argv, runs)
        print(f"{label} [{i + 1}/{repeat}] {runs.wall[-1]:.2f}s exit {runs.codes[-1]}", file=sys.stderr)
    return runs


def imports_sympy(args: list[str]) -> bool:
    """Does invoking the CLI with `args` (via CliRunner in a fresh interpreter) import SymPy?"""
    out = subprocess.run([PYTHON, "-c", SYMPY_PROBE, *args], cwd=REPO, capture_output=True, text=True, check=True)
    return out.stdout.split()[-1] == "True"


def derive_times(root: Path, set_name: str, stem: str, repeat: int) -> list[float]:
    """Seconds of `derive_problem` for one problem, each in a fresh interpreter (cold SymPy cache)."""
    path = root / "problems" / set_name / f"{stem}.yaml"
    return [float(subprocess.run([PYTHON, "-c", DERIVE_PROBE, set_name, str(path)], cwd=REPO,
                                 capture_output=True, text=True, check=True).stdout)
            for _ in range(repeat)]


def worker_usage(root: Path, set_name: str, stem: str, reserve: bool) -> tuple[float, float, float, int]:
    """(wall, user, sys, minor page faults) of `derive_problem` in a build worker (`run_pool`),
    measured by `resource.getrusage` inside the worker, with or without `reserved_call`."""
    path = root / "problems" / set_name / f"{stem}.yaml"
    out = subprocess.run([PYTHON, "-c", WORKER_PROBE, set_name, str(path), "on" if reserve else "off"], cwd=REPO,
                         capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), float(out[1]), float(out[2]), int(out[3])


def latex_times(tex: Path, repeat: int) -> list[float]:
    """Seconds of `derive.compile.compile_pdf` on a copy of `tex`, each in a fresh directory."""
    from derive.compile import compile_pdf

    times: list[float] = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / tex.name
            shutil.copyfile(tex, copy)
            start = time.perf_counter()
            compile_pdf(copy)
            times.append(time.perf_counter() - start)
    return times


def machine() -> list[str]:
    """Report header lines: date, CPUs, memory, Python, SymPy, pdflatex."""
    mem = next(line.split(":")[1].strip() for line in Path("/proc/meminfo").read_text().splitlines()
               if line.startswith("MemTotal"))
    tex = "not found"
    if shutil.which("pdflatex"):
        tex = subprocess.run(["pdflatex", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    return [f"- date: {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
            f"- machine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), MemTotal {mem}, "
            f"{platform.platform()}",
            f"- python {platform.python_version()}, sympy {version('sympy')}, {tex}"]


def main() -> int:
    """Parse arguments, run every measurement, write the report, return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per command (default 3)")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "performance.md")
    parser.add_argument("--mutation", action=argparse.BooleanOptionalAction, default=True,
                        help="also time `python -m tests.mutation` over every set (default on)")
    parser.add_argument("--suite", action=argparse.BooleanOptionalAction, default=False,
                        help="also time the whole test suite, `python -m pytest -q` (default off)")
    args = parser.parse_args()
    n = max(1, args.repeat)
    load_before = os.getloadavg()

    with tempfile.TemporaryDirectory(prefix="derive-bench-") as tmp:
        root = Path(tmp)
        shutil.copytree(REPO / "problems", root / "problems")
        cli = [DERIVE, "--root", str(root)]
        commands = {
            "derive --help": [DERIVE, "--help"],
            "derive list": [*cli, "list"],
            "derive build hw4 --no-pdf --jobs 1": [*cli, "build", "hw4", "--no-pdf", "--jobs", "1"],
            "derive build hw4 --no-pdf --jobs 2": [*cli, "build", "hw4", "--no-pdf", "--jobs", "2"],
            "derive build hw4 --jobs 1": [*cli, "build", "hw4", "--jobs", "1"],
            "derive build hw4 --jobs 2": [*cli, "build", "hw4", "--jobs", "2"],
            "derive build hw4 --questions --jobs 2": [*cli, "build", "hw4", "--questions", "--jobs", "2"],
            **{f"derive build {name}": [*cli, "build", name] for name in OTHER_SETS},
        }
        results = {label: measure(label, argv, n) for label, argv in commands.items()}
        latex = latex_times(root / "build" / "hw4" / "hw4.tex", n)
        sympy_help, sympy_list = imports_sympy(["--help"]), imports_sympy(["--root", str(root), "list"])

        problems: list[list[str]] = []
        for set_name in ("hw4", *OTHER_SETS):
            doc = json.loads((root / "build" / set_name / "verification.json").read_text())
            cli_seconds: dict[str, list[float]] = {}
            for runs in results.values():
                if f"build {set_name}" in runs.label and "--jobs 2" not in runs.label:
                    for text in runs.stdout:
                        for m in filter(None, map(OK_LINE.match, text.splitlines())):
                            cli_seconds.setdefault(m[1], []).append(float(m[3]))
            for pid in doc["problems"]:
                steps = [s for s in doc["steps"] if s["problem"] == pid]
                stem = Path(steps[0]["file"]).stem
                times = derive_times(root, set_name, stem, n)
                counts = {m: sum(s["method"] == m for s in steps) for m in ("symbolic", "instance", "numeric")}
                printed = cli_seconds.get(pid, [float("nan")])
                problems.append([set_name, pid, stem, f"{min(times):.2f}", f"{statistics.median(times):.2f}",
                                 f"{statistics.median(printed):.1f}", str(len(steps)),
                                 *(str(counts[m]) for m in ("symbolic", "instance", "numeric"))])

    mutation: Runs | None = None
    if args.mutation:
        sets = ["hw4", *OTHER_SETS]
        mutation = measure(f"python -m tests.mutation {' '.join(sets)}", [PYTHON, "-m", "tests.mutation", *sets], 1)

    suite: Runs | None = None
    if args.suite:
        suite = measure("python -m pytest -q", [PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider"], 1)

    builds = [r for label, r in results.items() if "build" in label]
    peak_mib = max(max(r.rss_kib) for r in builds) / 1024
    h, nopdf, pdf = results["derive --help"], results["derive build hw4 --no-pdf --jobs 2"], results["derive build hw4 --jobs 2"]
    targets = [
        ("`derive --help` median < 0.5 s", f"{h.median:.2f} s", h.ok and h.median < 0.5),
        ("`derive --help` does not import SymPy", "imports SymPy" if sympy_help else "no SymPy", not sympy_help),
        ("`derive build hw4 --no-pdf --jobs 2` median < 15 s", f"{nopdf.median:.2f} s", nopdf.ok and nopdf.median < 15),
        ("`derive build hw4 --jobs 2` (with PDF) median < 30 s", f"{pdf.median:.2f} s", pdf.ok and pdf.median < 30),
        ("peak RSS of any build < 1 GiB", f"{peak_mib:.0f} MiB", all(r.ok for r in builds) and peak_mib < 1024),
    ]

    lines = ["# Performance", "", "Measured by `scripts/bench.py`; regenerate with "
             "`.venv/bin/python scripts/bench.py`.", "", *machine(),
             f"- load average (1/5/15 min) at start {' / '.join(f'{x:.2f}' for x in load_before)}, at end "
             f"{' / '.join(f'{x:.2f}' for x in os.getloadavg())}; other work on the machine inflates the times",
             "",
             f"## Commands ({n} run{'s' if n > 1 else ''} each)", "",
             "Wall time from process start to exit; peak RSS is the largest single process of the tree "
             "(the CLI, a worker, or latexmk/pdflatex).", "",
             "| command | min (s) | median (s) | peak RSS (MiB) | exit codes |", "|---|---:|---:|---:|---|"]
    for r in results.values():
        lines.append(f"| `{r.label}` | {min(r.wall):.2f} | {r.median:.2f} | {max(r.rss_kib) / 1024:.0f} | "
                     f"{', '.join(map(str, r.codes))} |")
    if mutation is not None:
        score = ([ln for ln in mutation.stdout[0].splitlines() if ln.startswith("mutation score")] or ["no score line"])[-1]
        lines.append(f"| `{mutation.label}` (1 run) | {mutation.wall[0]:.1f} | {mutation.wall[0]:.1f} | "
                     f"{mutation.rss_kib[0] / 1024:.0f} | {mutation.codes[0]} |")
        lines += ["", f"Mutation run: `{score}`."]
    lines += ["", f"LaTeX stage alone (`derive.compile.compile_pdf` on `hw4.tex`, {n} runs): "
              f"min {min(latex):.2f} s, median {statistics.median(latex):.2f} s.", "", f"`--help` imports SymPy: {'yes' if sympy_help else 'no'}; "
              f"`list` imports SymPy: {'yes' if sympy_list else 'no'}.", "",
              "## Per problem", "",
              f"`derive` = `derive_problem` alone, {n} runs, each in a fresh interpreter with `derive.engine` "
              "already imported (as in a forked build worker; SymPy's cache starts empty). `CLI` = median of "
              "the per-problem time printed by the `--jobs 1` builds (worker start to result, incl. rendering). "
              "Step counts by verdict from `verification.json`.", "",
              "| set | id | file | derive min (s) | derive median (s) | CLI median (s) | steps | symbolic | instance | numeric |",
              "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {' | '.join(row)} |" for row in problems]
    lines += ["", "## Targets", "", "| target | measured | result |", "|---|---|---|"]
    lines += [f"| {name} | {value} | {'PASS' if ok else 'FAIL'} |" for name, value, ok in targets]
    if suite is None:
        lines += ["| whole test suite < 10 minutes on 2 cores (CI budget) | not measured (`--suite`) | n/a |", ""]
    else:
        summary = ([ln for ln in suite.stdout[0].splitlines() if " passed" in ln or " failed" in ln] or ["?"])[-1]
        lines += [f"| whole test suite < 10 minutes on 2 cores (CI budget) | {suite.wall[0]:.0f} s ({summary.strip()}) "
                  f"| {'PASS' if suite.ok and suite.wall[0] < 600 else 'FAIL'} |", ""]

    out = args.out if args.out.is_absolute() else Path.cwd() / args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {out}", file=sys.stderr)
    failed = [name for name, _, ok in targets if not ok]
    if suite is not None and not (suite.ok and suite.wall[0] < 600):
        failed.append("whole test suite")
    for name in failed:
        print(f"FAIL {name}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
