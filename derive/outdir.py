"""The output folder of a build: checked before any work, locked, cleaned of stale temporaries.

Rules:
- `open_out_dir` creates build/SET if needed; a file in its place, a read-only folder or a full
  disk is an OutputError naming the folder, raised before any problem is derived.
- One build at a time per folder: an exclusive `flock` on the folder itself (no lock file;
  released when the process dies, even by SIGKILL); a second build fails with OutputError
  instead of mixing outputs.
- Under the lock, temporaries a killed build left behind (`.compile-*` folders, `.*.tmp`
  files) are removed.
- `write_all` writes every file to a temporary beside it first and renames them only when all
  were written: a failure (e.g. ENOSPC) leaves every earlier output intact.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from pathlib import Path
from typing import Sequence

from derive.errors import OutputError

def _fail(out_dir: Path, what: str, exc: OSError) -> OutputError:
    return OutputError(f"{what} {out_dir}: {exc.strerror or exc}")


class FolderLock:
    """An open folder holding an exclusive flock until `close`."""

    def __init__(self, fd: int):
        self.fd = fd

    def fileno(self) -> int:
        return self.fd

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def open_out_dir(out_dir: Path) -> FolderLock:
    """Create, check, lock and clean `out_dir`; return the open, locked folder (keep it open)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"cannot write into {out_dir}: it is a file, not a folder")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        lock = FolderLock(os.open(out_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC))
    except OSError as exc:
        raise _fail(out_dir, "cannot create or write into", exc) from None
    try:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock.close()
        raise OutputError(f"another derive build is writing {out_dir}; wait for it to end") from None
    remove_stale(out_dir)
    try:
        probe = tempfile.NamedTemporaryFile(dir=out_dir, prefix=".probe.", suffix=".tmp")
        probe.write(b"x" * 4096)
        probe.flush()
        os.fsync(probe.fileno())
        probe.close()
    except OSError as exc:
        lock.close()
        raise _fail(out_dir, "cannot write into", exc) from None
    return lock


def remove_stale(out_dir: Path) -> None:
    """Remove the temporaries (`.compile-*`, `.*.tmp`) an interrupted build left in `out_dir`
    and in its cache folder `.cache/`."""
    for entry in out_dir.iterdir():
        if entry.name.startswith(".compile-") and entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        elif entry.name.startswith(".") and entry.name.endswith(".tmp"):
            entry.unlink(missing_ok=True)
        elif entry.name == ".cache" and entry.is_dir() and not entry.is_symlink():
            for tmp in entry.glob(".*.tmp"):
                tmp.unlink(missing_ok=True)


def write_all(files: Sequence[tuple[Path, str | bytes]]) -> None:
    """Write each (path, text or bytes) (text as UTF-8, LF; mode 644) to a temporary, then
    rename all into place."""
    temps: list[tuple[str, Path]] = []
    path = files[0][0] if files else Path(".")
    try:
        for path, text in files:
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            temps.append((tmp, path))
            with os.fdopen(fd, "wb") as f:
                f.write(text if isinstance(text, bytes) else text.encode("utf-8"))
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o644)
        for tmp, path in temps:
            os.replace(tmp, path)
    except OSError as exc:
        for tmp, _ in temps:
            Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}; the earlier outputs are unchanged") from None
