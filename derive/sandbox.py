"""Where LaTeX runs: inside bubblewrap, seeing only the TeX tree and its own work folder.

Rules:
- With `bwrap` on PATH and usable (user namespaces allowed), LaTeX runs with the system read-only
  (/usr, the TeX configuration and font caches), its work folder read-write, a private /tmp,
  no network, no other process visible, a fresh session, a clean environment, and it dies
  with its parent (`--die-with-parent`, `--unshare-pid`: latexmk and pdflatex die together).
- DERIVE_SANDBOX chooses: `auto` (default: bubblewrap when usable, else none), `bwrap`
  (required: an error when unusable), `none`. Without the sandbox, kpathsea's paranoid
  settings (compile.py) and the TeX allow-list (texguard.py) still hold; `stance()` says which
  applies, and the CLI prints it when LaTeX runs unsandboxed.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

from derive.errors import CompileError

# Read-only system folders LaTeX (and latexmk's Perl) need; missing ones are skipped.
SYSTEM_DIRS = ("/usr", "/etc/texmf", "/var/lib/texmf", "/usr/local/texlive", "/opt/texlive", "/etc/alternatives")
TOP_LINKS = ("/bin", "/lib", "/lib64", "/sbin")
ENV_KEYS = ("openin_any", "openout_any", "shell_escape", "FORCE_SOURCE_DATE", "SOURCE_DATE_EPOCH", "TZ", "LANG",
            "LC_ALL", "TEXINPUTS", "TEXMFHOME")


def mode() -> str:
    """DERIVE_SANDBOX: auto, bwrap or none."""
    value = os.environ.get("DERIVE_SANDBOX", "auto")
    if value not in ("auto", "bwrap", "none"):
        raise CompileError(f"DERIVE_SANDBOX must be auto, bwrap or none, got {value[:20]!r}")
    return value


@functools.lru_cache(maxsize=1)
def _probe() -> str | None:
    """None when bubblewrap works here, else why not."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bwrap is not installed"
    done = subprocess.run([bwrap, "--ro-bind", "/", "/", "--unshare-all", "--die-with-parent", "true"],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False, timeout=20)
    return None if done.returncode == 0 else f"bwrap cannot run here: {done.stderr.strip()[:200]}"


def use_bwrap() -> bool:
    """True when LaTeX runs inside bubblewrap (CompileError when DERIVE_SANDBOX=bwrap cannot)."""
    chosen = mode()
    if chosen == "none":
        return False
    why = _probe()
    if why is not None and chosen == "bwrap":
        raise CompileError(f"DERIVE_SANDBOX=bwrap but {why}")
    return why is None


def stance() -> str:
    """One line: which sandbox LaTeX runs in, and why when none."""
    if mode() == "none":
        return "LaTeX runs without a sandbox (DERIVE_SANDBOX=none)"
    why = _probe()
    return "LaTeX runs in bubblewrap" if why is None else f"LaTeX runs without a sandbox ({why})"


def wrap(cmd: list[str], work: Path, env: dict[str, str]) -> list[str]:
    """`cmd` run inside bubblewrap with `work` as its only writable (and only non-system) folder."""
    work = work.resolve()
    args = [shutil.which("bwrap") or "bwrap", "--unshare-all", "--die-with-parent", "--new-session",
            "--cap-drop", "ALL", "--clearenv"]
    for d in SYSTEM_DIRS:
        if Path(d).is_dir():
            args += ["--ro-bind", d, d]
    for link in TOP_LINKS:
        p = Path(link)
        if p.is_symlink():
            args += ["--symlink", os.readlink(p), link]
        elif p.is_dir():
            args += ["--ro-bind", link, link]
    args += ["--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache", "--dev", "/dev", "--proc", "/proc",
             "--tmpfs", "/tmp", "--bind", str(work), str(work), "--chdir", str(work),
             "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "HOME", str(work)]
    for key in ENV_KEYS:
        if key in env:
            args += ["--setenv", key, env[key]]
    return [*args, *cmd]
