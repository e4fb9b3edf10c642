"""What `derive build` and `derive watch` print: a live line per problem on a terminal, the
final report, its quiet and verbose forms, and a quiet end on a closed pipe.

Rules:
- On a terminal (and not quiet) the build shows one live line per problem: waiting,
  running with its elapsed time, or its final `ok`/`FAIL` line; the live lines disappear when
  the build ends and the report below is printed in their place (rich's Live display).
- The report is the same on a terminal and off it: one line per problem in set order (`ok`
  with step counts and time, or `FAIL` with the error's first line and then the whole error
  indented), a LaTeX failure, the files written and a summary line.
- Quiet (`-q`) prints only failures; verbose (`-v`) adds, under each `ok` line, every step's
  verdict as the verifier gave it (method and detail).
- No SymPy here: this module only formats the build's plain data.
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

import click

if TYPE_CHECKING:
    from derive.build import BuildReport, ProblemOutput
    from derive.pool import TaskResult
    from derive.spec import ProblemRef

QUIET, NORMAL, VERBOSE = -1, 0, 1


def shown(path: Path) -> str:
    """A path relative to the current directory when it lies below it."""
    return os.path.relpath(path) if path.resolve().is_relative_to(Path.cwd()) else str(path)


def indented(text: str, by: int = 4) -> str:
    """Every line of `text` indented by `by` spaces."""
    return "\n".join(" " * by + line for line in text.splitlines())


def headline(output: ProblemOutput, seconds: float, cached: bool = False) -> str:
    """`ok   ID TITLE  (N steps: a symbolic, b instance, c numeric)  T.Ts` (`cached` in place of
    the time for a problem from the cache) or `FAIL ID TITLE: first line`."""
    from derive.build import summarize

    if output.error is None:
        c = summarize(output.records)
        return (f"ok   {output.id} {output.title}  ({c['steps']} steps: {c['symbolic']} symbolic, "
                f"{c['instance']} instance, {c['numeric']} numeric)  {'cached' if cached else f'{seconds:.1f}s'}")
    return f"FAIL {output.id} {output.title}: {(output.error.splitlines() or [''])[0]}"


def step_lines(output: ProblemOutput) -> list[str]:
    """One line per checked step: `chain.step  rule  method: detail` (the verbose form)."""
    return [f"    {r.get('chain', '?')}.{r.get('step', '?')}  {r.get('rule', '?')}  "
            f"{r.get('method', '?')}: {r.get('detail', '')}".rstrip(": ") for r in output.records]


def report_lines(report: BuildReport, verbosity: int) -> list[str]:
    """The build's report (see the module rules)."""
    lines = [f"note: {note}" for note in report.cache_notes]
    for output in report.outputs:
        if output.error is None:
            if verbosity > QUIET:
                lines.append(headline(output, report.seconds[output.stem], output.stem in report.cached))
            if verbosity >= VERBOSE:
                lines.extend(step_lines(output))
        else:
            lines += [headline(output, report.seconds[output.stem]), indented(output.error)]
    if report.compile_error is not None:
        lines += [f"FAIL LaTeX: {(report.compile_error.splitlines() or [''])[0]}", indented(report.compile_error)]
    if verbosity > QUIET:
        lines += [f"wrote {shown(path)}" for path in report.written]
        lines += [f"kept  {shown(path)} (its .tex is unchanged)" for path in report.kept]
        failed = len(report.failed)
        lines.append(f"{report.set_name}: {len(report.outputs) - failed} ok, {failed} failed"
                     f"{', LaTeX failed' if report.compile_error else ''}  {report.total_seconds:.1f}s")
    return lines


class LiveLines:
    """The live display: one line per problem, redrawn a few times a second by rich."""

    def __init__(self) -> None:
        self.refs: list[ProblemRef] = []
        self.started: dict[str, float] = {}
        self.finished: dict[str, str] = {}

    def event(self, kind: str, ref: ProblemRef, result: TaskResult | None) -> None:
        """The build's progress hook (derive.build.build_set's `progress`): "queued" lists a
        problem to derive (cached ones are not), "start" and "done" follow."""
        if ref not in self.refs:
            self.refs.append(ref)
        if kind == "start":
            self.started[ref.stem] = time.monotonic()
        elif result is not None:
            self.finished[ref.stem] = headline(_output(ref, result), result.seconds)

    def __rich__(self) -> Any:
        from rich.text import Text

        now = time.monotonic()
        lines = []
        for ref in self.refs:
            if ref.stem in self.finished:
                lines.append(Text(self.finished[ref.stem], style="red" if ref.stem in self._failed() else ""))
            elif ref.stem in self.started:
                lines.append(Text(f"...  {ref.id} {ref.title}  running {now - self.started[ref.stem]:.1f}s",
                                  style="bold"))
            else:
                lines.append(Text(f"     {ref.id} {ref.title}  waiting", style="dim"))
        return Text("\n").join(lines)

    def _failed(self) -> set[str]:
        return {stem for stem, line in self.finished.items() if line.startswith("FAIL")}


def _output(ref: ProblemRef, result: TaskResult) -> ProblemOutput:
    from derive.build import ProblemOutput

    if result.error is not None:
        return ProblemOutput(ref.stem, ref.id, ref.title, "", [], result.error)
    return result.value


def live_wanted(verbosity: int, stream: Any = None) -> bool:
    """Live lines only on a terminal, and not when quiet."""
    stream = stream or sys.stdout
    return verbosity > QUIET and hasattr(stream, "isatty") and stream.isatty()


@contextmanager
def live(verbosity: int) -> Iterator[Callable[..., None] | None]:
    """A progress hook that drives live lines on a terminal (None elsewhere); the lines vanish
    at the end, when the report is printed in their place."""
    if not live_wanted(verbosity):
        yield None
        return
    from rich.console import Console
    from rich.live import Live

    lines = LiveLines()
    with Live(lines, console=Console(), refresh_per_second=4, transient=True):
        yield lines.event


def echo_lines(lines: list[str]) -> None:
    """Print the report lines to standard output."""
    for line in lines:
        click.echo(line)


@contextmanager
def quiet_on_closed_pipe() -> Iterator[None]:
    """End quietly when standard output is a closed pipe (`derive list | head`): no traceback,
    exit status 1. Click handles a closed pipe met inside a command the same way; this catches
    the one met when the last output is flushed."""
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python flushes stdout at exit; let it go nowhere
        raise SystemExit(1) from None
