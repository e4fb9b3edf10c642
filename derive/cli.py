"""The `derive` command line. The only place that turns DeriveError into exit codes.

`--help` and `list` never import SymPy: the build machinery is imported inside `build`.
"""

from __future__ import annotations

import os
import traceback
from pathlib import Path

import click

from derive import __version__
from derive.errors import DeriveError, SpecError

EXIT_FAILED, EXIT_USAGE = 1, 2


class _Main(click.Group):
    """Group that maps errors to exit codes: SpecError 2, other DeriveError 1, bugs 1."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except SpecError as exc:
            for line in ([str(i) for i in exc.issues] or [str(exc)]):
                click.echo(line, err=True)
            ctx.exit(EXIT_USAGE)
        except DeriveError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(EXIT_FAILED)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception:
            click.echo(f"internal error:\n{traceback.format_exc()}", err=True)
            ctx.exit(EXIT_FAILED)


def _shown(path: Path) -> str:
    """A path relative to the current directory when it lies below it."""
    return os.path.relpath(path) if path.resolve().is_relative_to(Path.cwd()) else str(path)


def _indented(text: str) -> str:
    """Every line of `text` indented by four spaces."""
    return "\n".join(f"    {line}" for line in text.splitlines())


@click.group(name="derive", cls=_Main, help="""Turn YAML problem specs into verified derivations and PDF answer booklets.

A problem set lives in problems/<SET>/ (set.yaml plus one YAML file per problem);
`derive build SET` writes build/<SET>/<SET>.tex, <SET>.pdf and verification.json.

\b
Exit codes:
  0  success
  1  a problem failed (error, failed verification, crash or time-out),
     or LaTeX did not produce a PDF
  2  usage error or spec error (each issue printed as file:line: key: message),
     also when only some problems of the set have spec errors
""")
@click.version_option(__version__, prog_name="derive")
@click.option("--root", type=click.Path(exists=True, file_okay=False, path_type=Path), default=Path("."),
              metavar="DIR", help="Directory holding problems/ and build/ (default: the current directory).")
@click.pass_context
def main(ctx: click.Context, root: Path) -> None:
    ctx.obj = root


@main.command()
@click.argument("set_name", metavar="SET")
@click.option("--no-pdf", is_flag=True, help="Write the .tex and verification.json; skip LaTeX.")
@click.option("--questions", is_flag=True,
              help="Also write the question sheet SET-questions.tex/.pdf (statements only) beside the booklet.")
@click.option("--html", is_flag=True, help="Also write the web booklet SET.html (and the question sheet's) with its assets.")
@click.option("--jobs", type=click.IntRange(min=1), default=None, metavar="N",
              help="Problems derived in parallel (default: number of CPUs).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=300.0, show_default=True,
              metavar="SECONDS", help="Wall-clock limit per problem; a problem past it fails.")
@click.pass_obj
def build(root: Path, set_name: str, no_pdf: bool, questions: bool, html: bool, jobs: int | None,
          timeout: float) -> None:
    """Derive, verify and typeset problem set SET into build/SET/.

    Prints one line per problem (ok or FAIL with the error), then the files written. If any
    problem fails, the earlier booklet is left alone and the problems that succeeded go to
    SET-partial.tex / SET-partial.pdf / verification-partial.json.

    \b
    Exit codes:
      0  every problem derived and verified, PDF compiled
      1  a problem failed or LaTeX failed
      2  spec error (in set.yaml or in any problem file) or usage error
    """
    from derive.build import build_set, summarize

    report = build_set(root, set_name, jobs=jobs, pdf=not no_pdf, timeout=timeout, questions=questions,
                       html=html)
    for output in report.outputs:
        if output.error is None:
            c = summarize(output.records)
            click.echo(f"ok   {output.id} {output.title}  ({c['steps']} steps: {c['symbolic']} symbolic, "
                       f"{c['instance']} instance, {c['numeric']} numeric)  {report.seconds[output.stem]:.1f}s")
        else:
            first = (output.error.splitlines() or [""])[0]
            click.echo(f"FAIL {output.id} {output.title}: {first}")
            click.echo(_indented(output.error))
    if report.compile_error is not None:
        first = (report.compile_error.splitlines() or [""])[0]
        click.echo(f"FAIL LaTeX: {first}")
        click.echo(_indented(report.compile_error))
    for path in report.written:
        click.echo(f"wrote {_shown(path)}")
    failed = len(report.failed)
    click.echo(f"{set_name}: {len(report.outputs) - failed} ok, {failed} failed"
               f"{', LaTeX failed' if report.compile_error else ''}  {report.total_seconds:.1f}s")
    if any(o.spec_error for o in report.outputs):
        raise click.exceptions.Exit(EXIT_USAGE)
    if not report.ok:
        raise click.exceptions.Exit(EXIT_FAILED)


@main.command("list")
@click.pass_obj
def list_(root: Path) -> None:
    """List the problem sets and their problems (id and title)."""
    from derive.spec import list_sets

    sets = list_sets(root)
    if not sets:
        click.echo(f"no problem sets in {_shown(root / 'problems')}")
    for spec in sets:
        course = f" ({spec.course})" if spec.course else ""
        click.echo(f"{spec.name}: {spec.title}{course}")
        for ref in spec.problems:
            click.echo(f"  {ref.id}  {ref.title}")


if __name__ == "__main__":
    main()
