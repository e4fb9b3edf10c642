"""`derive watch SET`: rebuild the set on every save and print only what changed.

Rules:
- The set is built once at the start, then again after every batch of changes to a YAML
  file in problems/<set>/ (watchfiles: native file events, a batch collected over a short
  debounce so that an editor's several writes give one rebuild).
- Each rebuild is an ordinary `build_set` call (no cache of its own); it prints the files
  that changed, the line of every problem whose outcome differs from the previous build
  (ok with other step counts, FAIL with another error, a problem added or gone), the whole
  first error only, and a summary line.
- A set that does not exist is an error before watching starts. Later, a spec error of the
  set itself or any other DeriveError is printed (its first issue) and watching goes on; only
  Ctrl-C or `stop` ends it.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable

from watchfiles import DefaultFilter, watch

from derive.build import BuildReport
from derive.errors import DeriveError, SpecError
from derive.progress import headline, indented, shown
from derive.spec import load_set

DEBOUNCE_MS = 300


class _YamlFilter(DefaultFilter):
    """Only YAML files (editors' swap and backup files are ignored by the default filter)."""

    def __call__(self, change: object, path: str) -> bool:
        return path.endswith((".yaml", ".yml")) and super().__call__(change, path)


class Watcher:
    """Remembers each problem's outcome and reports what a rebuild changed."""

    def __init__(self, name: str, build: Callable[[], BuildReport], echo: Callable[[str], None]):
        self.name = name
        self.build = build
        self.echo = echo
        self.last: dict[str, str] = {}

    def rebuild(self, changed: list[Path]) -> BuildReport | None:
        """Build once and print the changes (see the module rules); None when the set failed."""
        for path in changed:
            self.echo(f"changed {shown(path)}")
        try:
            report = self.build()
        except DeriveError as exc:
            issues = exc.issues if isinstance(exc, SpecError) else []
            first = str(issues[0]) if issues else str(exc).splitlines()[0]
            more = f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""
            self.echo(f"FAIL {self.name}: {first}{more}")
            self.last = {}
            return None
        now = {o.stem: headline(o, 0.0) for o in report.outputs}
        for output in report.outputs:
            if self.last.get(output.stem) != now[output.stem]:
                self.echo(headline(output, report.seconds[output.stem]))
        for stem in sorted(set(self.last) - set(now)):
            self.echo(f"gone {stem}")
        errors = [o.error for o in report.outputs if o.error] + [report.compile_error or ""]
        first = next((e for e in errors if e), None)
        if first:
            self.echo(indented(first))
        failed = len(report.failed)
        self.echo(f"{self.name}: {len(report.outputs) - failed} ok, {failed} failed"
                  f"{', LaTeX failed' if report.compile_error else ''}  {report.total_seconds:.1f}s")
        self.last = now
        return report


def watch_set(root: Path, name: str, build: Callable[[], BuildReport], echo: Callable[[str], None],
              stop: threading.Event | None = None) -> None:
    """Build set `name`, then rebuild after every saved change under problems/<name>/ until
    `stop` is set (or Ctrl-C)."""
    folder = root / "problems" / name
    if not folder.is_dir():
        load_set(root, name)  # raises the usual SpecError: no such set (known: ...)
    watcher = Watcher(name, build, echo)
    watcher.rebuild([])
    echo(f"watching {shown(folder)} (Ctrl-C ends)")
    for changes in watch(folder, watch_filter=_YamlFilter(), debounce=DEBOUNCE_MS, stop_event=stop,
                         raise_interrupt=False):
        watcher.rebuild(sorted({Path(p) for _, p in changes}))
