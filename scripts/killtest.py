"""SIGKILL a build at random moments; check that nothing keeps running and nothing is half-written.

    python scripts/killtest.py [N] [--seed S]

Builds a small set (two problems, with PDF) in a temporary root once to learn its outputs and
duration, then N times: starts `derive build`, SIGKILLs the parent process alone (not its group)
after a random delay within the build's duration, and checks
- that within 3 s no process of that build is left (workers, latexmk, pdflatex, bwrap: found by
  an environment marker or a working folder inside the temporary root);
- that every visible output in build/mini is byte-identical to the complete build's (old or new,
  never partial: outputs are renamed into place);
and every 10 kills (and at the end) that the next complete build removes the stale temporaries
(`.compile-*`, `.*.tmp`). Prints one line per kill and a summary; exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.test_hostile import GOOD  # noqa: E402

SAMPLE = REPO / "problems" / "hw4" / "sigmoid_gradient.yaml"


def make_root(root: Path) -> None:
    d = root / "problems" / "mini"
    d.mkdir(parents=True)
    (d / "set.yaml").write_text("title: Mini set\ncourse: Test course\norder:\n  - good\n  - sigmoid\n")
    (d / "good.yaml").write_text(GOOD)
    shutil.copy(SAMPLE, d / "sigmoid.yaml")


def start(root: Path, marker: str) -> subprocess.Popen:
    env = dict(os.environ, DERIVE_KILLTEST=marker, PYTHONPATH=str(REPO))
    return subprocess.Popen([sys.executable, "-m", "derive.cli", "build", "mini", "--jobs", "2"], cwd=root, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def leftovers(root: Path, marker: str) -> list[int]:
    """Pids of processes carrying `marker` in their environment, working inside `root`, or
    descending from such a process (LaTeX inside bubblewrap has a clean environment)."""
    found: set[int] = set()
    parent: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        pid = int(entry.name)
        try:
            stat = (entry / "stat").read_text()
            parent[pid] = int(stat.rsplit(")", 1)[1].split()[1])
            environ = (entry / "environ").read_bytes()
            cwd = os.readlink(entry / "cwd")
        except (OSError, ValueError, IndexError):
            continue
        if f"DERIVE_KILLTEST={marker}".encode() in environ.split(b"\0") or cwd.startswith(str(root)):
            found.add(pid)
    grew = True
    while grew:
        more = {pid for pid, ppid in parent.items() if ppid in found} - found
        found |= more
        grew = bool(more)
    return sorted(found)


def outputs(out: Path) -> dict[str, str]:
    return {p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.rglob("*"))
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(out).parts)}


def stale(out: Path) -> list[str]:
    """Temporaries in the output folder and in its cache folder (the cache itself is no temporary)."""
    cache = out / ".cache"
    inner = [f".cache/{p.name}" for p in cache.glob(".*.tmp")] if cache.is_dir() else []
    return sorted([p.name for p in out.iterdir() if p.name.startswith(".") and p.name != ".cache"] + inner)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, nargs="?", default=50)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    failures = 0
    with tempfile.TemporaryDirectory(prefix="derive-killtest-") as tmp:
        root = Path(tmp).resolve()
        make_root(root)
        out = root / "build" / "mini"
        began = time.monotonic()
        assert start(root, "reference").wait() == 0, "the reference build failed"
        duration = time.monotonic() - began
        reference = outputs(out)
        assert {"mini.tex", "mini.pdf", "verification.json"} <= set(reference), reference
        shutil.rmtree(out)
        print(f"reference build {duration:.1f} s; outputs {sorted(reference)}")
        stale_seen = 0
        for i in range(1, args.n + 1):
            marker = f"k{i}-{os.getpid()}"
            proc = start(root, marker)
            delay = rng.uniform(0.0, duration)
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            deadline = time.monotonic() + 3.0
            while (left := leftovers(root, marker)) and time.monotonic() < deadline:
                time.sleep(0.1)
            seen = outputs(out) if out.is_dir() else {}
            wrong = [name for name, digest in seen.items() if reference.get(name) != digest]
            tmp_entries = stale(out) if out.is_dir() else []
            stale_seen += bool(tmp_entries)
            ok = not left and not wrong
            failures += not ok
            print(f"kill {i:2d} at {delay:5.2f} s: {'ok' if ok else 'FAIL'}  left running: {left or 'none'}  "
                  f"outputs: {sorted(seen) or 'none'}{'  WRONG: ' + str(wrong) if wrong else ''}  "
                  f"stale temporaries: {len(tmp_entries)}")
            for pid in left:  # leave the machine clean even on failure
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            if i % 10 == 0 or i == args.n:
                code = start(root, f"clean{i}").wait()
                after = stale(out)
                rebuilt = outputs(out)
                differ = sorted(name for name in set(rebuilt) | set(reference) if rebuilt.get(name) != reference.get(name))
                clean = code == 0 and not after and not differ
                failures += not clean
                print(f"complete build after kill {i}: {'ok' if clean else 'FAIL'} (exit {code}, stale left: {after}"
                      f"{', differ from the reference: ' + str(differ) if differ else ''})")
    print(f"{args.n} kills: {failures} failures; {stale_seen} kills left temporaries, all removed by the next build"
          if not failures else f"{args.n} kills: {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
