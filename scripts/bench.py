"""Benchmark the `derive` CLI on this machine and write a Markdown report.

Run from anywhere as `.venv/bin/python scripts/bench.py [--repeat N] [--out build/bench.md]
[--no-mutation]`; the report goes to build/bench.md, not to docs/performance.md, whose
hand-written history a run would overwrite (each run is pasted there under its date). Every
CLI command runs as a subprocess of the venv's `derive` script, with `--root` pointing at a
temporary copy of `problems/`, so the repository's build/SET folders are not touched. Peak RSS comes from `os.wait4` (the `resource` rusage of that one child and the
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
CACHED_LINE = re.compile(r"^ok\s+\S+ .*\)\s+cached$")
STARTUP_PROBE = """import sys, time
import derive.engine  # the parent imports SymPy once; forked workers inherit it
from derive.pool import run_pool


def task(_):
    start = time.perf_counter()
    import sympy  # noqa: F401 - already in sys.modules: free
    return time.perf_counter() - start


count = int(sys.argv[1])
start = time.perf_counter()
results = run_pool([None] * count, 2, 60, task)
print((time.perf_counter() - start) * 2 / count, max(r.value for r in results))
"""
SYMPY_PROBE = """import sys
from click.testing import CliRunner
from derive.cli import main
result = CliRunner().invoke(main, sys.argv[1:])
print(result.exit_code, 'sympy' in sys.modules)
"""
WORKER_PROBE = """import resource, sys, time
from pathlib import Path
import derive.pool as pool
import derive.engine


def direct(fn, *args):
    return fn(*args)


if sys.argv[3] == "off":  # the worker as before the gh-142183 workaround (same frame depth)
    pool.reserved_call = direct


def target(path):
    before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    derive.engine.derive_problem(sys.argv[1], Path(path))
    after = resource.getrusage(resource.RUSAGE_SELF)
    return (time.perf_counter() - start, after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime,
            after.ru_minflt - before.ru_minflt)


[result] = pool.run_pool([sys.argv[2]], 1, 1800, target)
print(*result.value)
"""


@dataclass
class Runs:
    """Repeated runs of one command: wall seconds, peak RSS (KiB), exit codes, stdout."""

    label: str
    wall: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    user_sys_faults: list[tuple[float, float, int]] = field(default_factory=list)
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


def run_once(argv: list[str], runs: Runs, cwd: Path = REPO) -> None:
    """Run `argv` in `cwd`; append its wall time, peak RSS, cpu, exit code and stdout."""
    with tempfile.TemporaryFile("w+") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        runs.wall.append(time.perf_counter() - start)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        runs.stdout.append(out.read())
    runs.rss_kib.append(usage.ru_maxrss)
    runs.cpu.append(usage.ru_utime + usage.ru_stime)
    runs.user_sys_faults.append((usage.ru_utime, usage.ru_stime, usage.ru_minflt))
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


def latex_times(tex: Path, repeat: int) -> list[float]:
    """Seconds of `derive.compile.compile_pdf` on a copy of `tex` and its figures, each in a
    fresh directory."""
    from derive.compile import compile_pdf

    times: list[float] = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / tex.name
            shutil.copyfile(tex, copy)
            if (tex.parent / "figures").is_dir():  # the booklet includes its figures' PDFs
                shutil.copytree(tex.parent / "figures", copy.parent / "figures")
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


def worker_usage(root: Path, set_name: str, stem: str, reserve: bool) -> tuple[float, float, float, int]:
    """(wall, user, sys, minor page faults) of `derive_problem` in a build worker (`run_pool`),
    measured by `resource.getrusage` inside the worker, with or without `reserved_call`."""
    path = root / "problems" / set_name / f"{stem}.yaml"
    out = subprocess.run([PYTHON, "-c", WORKER_PROBE, set_name, str(path), "on" if reserve else "off"], cwd=REPO,
                         capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), float(out[1]), float(out[2]), int(out[3])


def generate_set(root: Path, count: int) -> str:
    """problems/gen<count>/: `count` copies of the shipped problems (cycled) under new ids and stems."""
    sources = sorted(p for p in (REPO / "problems").glob("*/*.yaml") if p.name != "set.yaml")
    name = f"gen{count}"
    folder = root / "problems" / name
    folder.mkdir(parents=True)
    stems = []
    for i in range(count):
        src = sources[i % len(sources)]
        text = src.read_text(encoding="utf-8")
        first, rest = text.split("\n", 1)
        assert first.startswith('id: "'), src
        stems.append(f"g{i:03d}_{src.stem}")
        (folder / f"{stems[-1]}.yaml").write_text(f'id: "G{i}"\n{rest}', encoding="utf-8")
    order = "".join(f"  - {stem}\n" for stem in stems)
    (folder / "set.yaml").write_text(f"title: Generated set of {count}\norder:\n{order}", encoding="utf-8")
    return name


def edit_title(path: Path, mark: str) -> None:
    """Append `mark` to the problem's title (the booklet changes, so LaTeX must run)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[1].startswith('title: "') and lines[1].endswith('"'), path
    lines[1] = f'{lines[1][:-1]} {mark}"'
    path.write_text("\n".join(lines), encoding="utf-8")


def table(head: list[str], rows: list[list[str]], text: int = 1) -> list[str]:
    """A Markdown table; the columns after the first `text` ones are right-aligned (numbers)."""
    return [f"| {' | '.join(head)} |", "|" + "|".join("---" if i < text else "---:" for i in range(len(head))) + "|",
            *(f"| {' | '.join(row)} |" for row in rows)]


def main() -> int:
    """Parse arguments, run every measurement, write the report, return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per command (default 3)")
    parser.add_argument("--out", type=Path, default=REPO / "build" / "bench.md")
    parser.add_argument("--scale", type=int, default=300,
                        help="problems in the generated set (built at half and full size; default 300)")
    parser.add_argument("--baseline", metavar="REV", help="also time a cold hw4 build (--no-pdf --jobs 1) "
                        "with the code of git revision REV (e.g. the commit before the frame-stack workaround)")
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
        cold = [*cli, "build", "--force"]
        commands = {
            "derive --help": [DERIVE, "--help"],
            "derive list": [*cli, "list"],
            "derive build hw4 --no-pdf --jobs 1 --force": [*cold, "hw4", "--no-pdf", "--jobs", "1"],
            "derive build hw4 --no-pdf --jobs 2 --force": [*cold, "hw4", "--no-pdf", "--jobs", "2"],
            "derive build hw4 --jobs 1 --force": [*cold, "hw4", "--jobs", "1"],
            "derive build hw4 --questions --jobs 2 --force": [*cold, "hw4", "--questions", "--jobs", "2"],
            **{f"derive build {name} --force": [*cold, name] for name in OTHER_SETS},
            "derive build hw4 --jobs 2 --force (cold)": [*cold, "hw4", "--jobs", "2"],
            "derive build hw4 (no-op: cached)": [*cli, "build", "hw4"],
        }
        results = {label: measure(label, argv, n) for label, argv in commands.items()}
        baseline = Runs(f"revision {args.baseline}: derive build hw4 --no-pdf --jobs 1")
        if args.baseline:
            code = root / "baseline"
            code.mkdir()
            archive = subprocess.run(["git", "-C", str(REPO), "archive", args.baseline], capture_output=True, check=True)
            subprocess.run(["tar", "-x", "-C", str(code)], input=archive.stdout, check=True)
            for _ in range(n):  # `python -m` from `code`: its derive/ comes first on sys.path
                run_once([PYTHON, "-m", "derive.cli", "--root", str(root), "build", "hw4", "--no-pdf", "--jobs", "1"],
                         baseline, cwd=code)
        noop = results["derive build hw4 (no-op: cached)"]
        noop_all_cached = all(sum(map(bool, map(CACHED_LINE.match, t.splitlines()))) == 14 and "kept  " in t
                              for t in noop.stdout)
        sympy_help, sympy_list = imports_sympy(["--help"]), imports_sympy(["--root", str(root), "list"])
        sympy_noop = imports_sympy(["--root", str(root), "build", "hw4"])
        edit = Runs("derive build hw4 after editing one problem's title")
        for i in range(n):
            edit_title(root / "problems" / "hw4" / "attention_cost.yaml", f"(edit {i})")
            run_once([*cli, "build", "hw4"], edit)
        edit_ok = all(sum(map(bool, map(CACHED_LINE.match, t.splitlines()))) == 13 and "wrote " in t
                      and "hw4.pdf\n" in t for t in edit.stdout)
        latex = latex_times(root / "build" / "hw4" / "hw4.tex", n)
        importing = measure("python -c 'import sympy'", [PYTHON, "-c", "import sympy"], n)
        floor = importing.median + statistics.median(latex)
        startup = subprocess.run([PYTHON, "-c", STARTUP_PROBE, "20"], cwd=REPO, capture_output=True, text=True,
                                 check=True).stdout.split()

        cli_seconds: dict[str, list[float]] = {}
        for runs in results.values():
            if "--jobs 2" not in runs.label:
                for text in runs.stdout:
                    for m in filter(None, map(OK_LINE.match, text.splitlines())):
                        cli_seconds.setdefault(m[1], []).append(float(m[3]))
        problems: list[list[str]] = []
        for set_name in ("hw4", *OTHER_SETS):
            doc = json.loads((root / "build" / set_name / "verification.json").read_text())
            for pid in doc["problems"]:
                steps = [s for s in doc["steps"] if s["problem"] == pid]
                stem = Path(steps[0]["file"]).stem
                before = [worker_usage(REPO, set_name, stem, False) for _ in range(n)]
                after = [worker_usage(REPO, set_name, stem, True) for _ in range(n)]
                print(f"{set_name} {pid}: before {before[0]}, after {after[0]}", file=sys.stderr)
                cells = [f"{statistics.median(u[k] for u in runs):{fmt}}" for runs in (before, after)
                         for k, fmt in ((0, ".2f"), (1, ".2f"), (2, ".2f"), (3, ".0f"))]
                printed = cli_seconds.get(pid, [float("nan")])
                problems.append([set_name, pid, stem, *cells, f"{statistics.median(printed):.1f}", str(len(steps))])

        scale: list[tuple[int, Runs, float]] = []
        for count in sorted({max(1, args.scale // 2), args.scale}):
            name = generate_set(root, count)
            runs = measure(f"derive build {name} --jobs 2", [*cli, "build", name, "--jobs", "2"], 1)
            scale.append((count, runs, latex_times(root / "build" / name / f"{name}.tex", 1)[0]))

    mutation: Runs | None = None
    if args.mutation:
        sets = ["hw4", *OTHER_SETS]
        mutation = measure(f"python -m tests.mutation {' '.join(sets)}", [PYTHON, "-m", "tests.mutation", *sets], 1)

    suite: Runs | None = None
    if args.suite:
        suite = measure("python -m pytest -q", [PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider"], 1)

    builds = [r for label, r in results.items() if "build" in label] + [r for _, r, _ in scale]
    peak_mib = max(max(r.rss_kib) for r in builds) / 1024
    h, coldrun = results["derive --help"], results["derive build hw4 --jobs 2 --force (cold)"]
    (small, small_runs, _), (big, big_runs, big_latex) = scale[0], scale[-1]
    linear = (big_runs.wall[0] / big) / (small_runs.wall[0] / small)
    cpu_wall = big_runs.cpu[0] / big_runs.wall[0]
    targets = [
        ("`derive --help` median < 0.5 s", f"{h.median:.2f} s", h.ok and h.median < 0.5),
        ("`derive --help`, `list`, no-op build import no SymPy",
         f"{'SymPy' if sympy_help else 'no'} / {'SymPy' if sympy_list else 'no'} / {'SymPy' if sympy_noop else 'no'}",
         not (sympy_help or sympy_list or sympy_noop)),
        ("no-op `derive build hw4` <= 0.3 s, every problem cached, PDF kept",
         f"{noop.median:.2f} s, {'all cached' if noop_all_cached else 'NOT all cached'}", noop.ok and noop_all_cached
         and noop.median <= 0.3),
        ("one-problem edit re-derives 1 of 14 and compiles once", f"{edit.median:.2f} s, "
         f"{'1 re-derived' if edit_ok else 'NOT as expected'}", edit.ok and edit_ok),
        ("cold `derive build hw4 --jobs 2` <= 4x the floor", f"{coldrun.median / floor:.1f}x", coldrun.ok
         and coldrun.median <= 4 * floor),
        (f"generated set: time per problem at {big} / at {small} within 1.25", f"{linear:.2f}", 0.75 <= linear <= 1.25),
        (f"generated set of {big}: cpu/wall >= 1.8 on 2 cores", f"{cpu_wall:.2f}", cpu_wall >= 1.8),
        ("peak RSS of any build < 1 GiB", f"{peak_mib:.0f} MiB", all(r.ok for r in builds) and peak_mib < 1024),
    ]

    lines = ["# Benchmark", "", "Measured by `scripts/bench.py` (`.venv/bin/python scripts/bench.py`).", "",
             *machine(),
             f"- load average (1/5/15 min) at start {' / '.join(f'{x:.2f}' for x in load_before)}, at end "
             f"{' / '.join(f'{x:.2f}' for x in os.getloadavg())}; other work on the machine inflates the times",
             "",
             f"## Commands ({n} run{'s' if n > 1 else ''} each)", "",
             "Wall time from process start to exit; cpu = user + system of the process and the children it "
             "waited for (workers, latexmk); peak RSS is the largest single process of the tree. `--force` "
             "builds ignore the cache (cold); the no-op build follows them with nothing changed.", "",
             *table(["command", "min (s)", "median (s)", "cpu median (s)", "peak RSS (MiB)", "exit codes"],
                    [[f"`{r.label}`", f"{min(r.wall):.2f}", f"{r.median:.2f}", f"{statistics.median(r.cpu):.2f}",
                      f"{max(r.rss_kib) / 1024:.0f}", ", ".join(map(str, r.codes))]
                     for r in (*results.values(), edit, importing)])]
    if mutation is not None:
        score = ([ln for ln in mutation.stdout[0].splitlines() if ln.startswith("mutation score")] or ["no score line"])[-1]
        lines += ["", f"`{mutation.label}` (1 run): {mutation.wall[0]:.1f} s, exit {mutation.codes[0]}, `{score}`."]
    lines += ["", "## Cache and floor (same run)", "",
              f"- floor = `python -c 'import sympy'` (median {importing.median:.2f} s) + one `compile_pdf` of the "
              f"produced hw4.tex (median {statistics.median(latex):.2f} s) = {floor:.2f} s",
              f"- cold `derive build hw4 --jobs 2 --force`: {coldrun.median:.2f} s = {coldrun.median / floor:.1f}x the floor",
              f"- no-op rebuild: {noop.median:.2f} s = 1/{coldrun.median / noop.median:.0f} of the cold build",
              f"- one-problem edit (1.3.1's title; re-derive 1.3.1, one LaTeX run): {edit.median:.2f} s = "
              f"{edit.median / coldrun.median:.2f} of the cold build",
              f"- worker start-up (fork after the parent imported SymPy; 20 trivial tasks on 2 workers): "
              f"{float(startup[0]) * 1000:.0f} ms of wall per task (fork, pipe, exit); `import sympy` inside a "
              f"worker {float(startup[1]) * 1000:.2f} ms (inherited)",
              "", "## Before and after the frame-stack workaround (gh-142183)", "",
              "user, sys and minor page faults of the whole process tree (`os.wait4`), medians.", "",
              *table(["build", "wall (s)", "user (s)", "sys (s)", "page faults"],
                     [[f"`{r.label}`", f"{r.median:.2f}", *(f"{statistics.median(u[k] for u in r.user_sys_faults):.2f}"
                                                          for k in (0, 1)),
                       f"{statistics.median(u[2] for u in r.user_sys_faults):.0f}"]
                      for r in (baseline, results["derive build hw4 --no-pdf --jobs 1 --force"]) if r.wall]),
              "", "Per problem:", "",
              f"`derive_problem` in a build worker (`run_pool`, forked after `import derive.engine`), median of {n}; "
              "wall, user, sys and minor page faults from `resource.getrusage` inside the worker. before = the worker "
              "calling the task directly, after = under `derive.framestack.reserved_call`. `CLI` = the per-problem "
              "time printed by the `--jobs 1` builds.", "",
              *table(["set", "id", "file", "wall before", "user before", "sys before", "faults before", "wall after",
                      "user after", "sys after", "faults after", "CLI (s)", "steps"], problems, text=3),
              "", f"## Generated set (copies of the shipped problems under new ids), {small} and {big} problems", "",
              *table(["problems", "wall (s)", "per problem (s)", "cpu/wall", "peak RSS (MiB)", "PDF stage (s)"],
                     [[str(c), f"{r.wall[0]:.1f}", f"{r.wall[0] / c:.2f}", f"{r.cpu[0] / r.wall[0]:.2f}",
                       f"{r.rss_kib[0] / 1024:.0f}", f"{lt:.1f}"] for c, r, lt in scale]),
              "", f"PDF stage (`compile_pdf` of gen{big}.tex alone) / build wall: {big_latex / big_runs.wall[0]:.1%}.",
              "", "## Targets", "", "| target | measured | result |", "|---|---|---|"]
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
