"""LaTeX -> PDF with latexmk, locked down, and PDF -> text.

Rules:
- latexmk runs with -norc (no latexmkrc is read: one in the build folder would run Perl),
  -no-shell-escape, nonstop and halt-on-error, in the .tex file's folder, stdin closed.
- kpathsea is paranoid (openin_any=p, openout_any=p): no absolute paths, no parent folders,
  no dot files; shell_escape=f. SOURCE_DATE_EPOCH (default 0) and FORCE_SOURCE_DATE=1 make
  the PDF reproducible.
- latexmk 4.79 (Debian 12) decides "file unchanged" from an mtime of whole seconds plus the size:
  a .toc rewritten within the same second with the same size ("page 2" -> "page 3") is taken
  as unchanged and the last pass is skipped, so the table of contents could point one page
  off, depending on the machine's speed. `HIRES_STAT` makes latexmk read nanosecond mtimes
  (Time::HiRes::stat), so every rewrite is seen and the md5 decides.
- latexmk runs inside bubblewrap when it is usable (derive/sandbox.py: only the TeX tree and
  the work folder are visible) and dies with its parent; without bubblewrap it still dies with
  its parent (PR_SET_PDEATHSIG) and runs under a memory cap (derive/limits.py).
- Any failure raises CompileError: the log's error lines and its path, or the time-out.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

from derive import sandbox
from derive.errors import CompileError
from derive.limits import child_setup

SETUP_HINT = "run `bash scripts/setup.sh` (see README.md) to install TeX Live"
MAX_ERROR_LINES = 6
_ERROR_LINE = re.compile(r"^(! .*|\S+:\d+: .*|l\.\d+ .*)$")
# Perl run by latexmk's -e after its own subs are defined: replace its whole-second stat.
HIRES_STAT = ('use Time::HiRes (); no warnings "redefine"; '
              '*main::get_time_size = sub { my @s = Time::HiRes::stat($_[0]); @s ? ($s[9], $s[7]) : (0, -1) };')


def _env() -> dict[str, str]:
    """os.environ plus the kpathsea and reproducibility settings."""
    env = dict(os.environ)
    env.update(openin_any="p", openout_any="p", shell_escape="f", FORCE_SOURCE_DATE="1")
    env.setdefault("SOURCE_DATE_EPOCH", "0")
    return env


def _log_errors(log: Path) -> str:
    """The first error lines of a TeX log (`! ...`, `file:line: ...`, `l.N ...`), or a note if none."""
    if not log.exists():
        return "(no log written)"
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    errors = [line for line in lines if _ERROR_LINE.match(line)]
    return "\n".join(errors[:MAX_ERROR_LINES]) or "(no error line in the log)"


def compile_pdf(tex_path: Path, timeout: float = 120.0) -> Path:
    """Compile `tex_path` to the PDF beside it and return that PDF's path.

    Raises CompileError if latexmk is missing, LaTeX fails (with the log's first error lines
    and the log path) or runs longer than `timeout` seconds (the whole process group is killed).
    """
    latexmk = shutil.which("latexmk")
    if latexmk is None:
        raise CompileError(f"latexmk not found on PATH: {SETUP_HINT}")
    tex_path = Path(tex_path).resolve()
    cmd = [
        latexmk, "-pdf", "-norc", "-interaction=nonstopmode", "-halt-on-error",
        "-no-shell-escape", "-file-line-error", "-e", HIRES_STAT, tex_path.name,
    ]
    env = _env()
    if sandbox.use_bwrap():
        cmd = sandbox.wrap(cmd, tex_path.parent, env)
    proc = subprocess.Popen(
        cmd,
        cwd=tex_path.parent,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
        preexec_fn=child_setup(os.getpid()),
    )
    try:
        proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise CompileError(f"LaTeX timed out after {timeout:g} s") from None
    pdf = tex_path.with_suffix(".pdf")
    log = tex_path.with_suffix(".log")
    if proc.returncode != 0 or not pdf.exists():
        raise CompileError(f"LaTeX failed on {tex_path.name}:\n{_log_errors(log)}\nfull log: {log}")
    return pdf


def pdf_text(pdf: Path) -> str:
    """The text of a PDF, laid out as on the page (`pdftotext -layout`)."""
    if shutil.which("pdftotext") is None:
        raise CompileError(f"pdftotext not found on PATH: {SETUP_HINT}")
    done = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise CompileError(f"pdftotext failed on {pdf}: {done.stderr.strip()}")
    return done.stdout
