"""The `derive` command line. The only place that turns DeriveError into exit codes.

`--help` and `list` never import SymPy: the build machinery is imported inside `build`.
"""

from __future__ import annotations

import os
import traceback
from pathlib import Path
from typing import Any

import click

from derive import __version__
from derive.errors import DeriveError, SpecError

EXIT_FAILED, EXIT_USAGE = 1, 2


class _Main(click.Group):
    """Group that maps errors to exit codes: SpecError 2, other DeriveError 1, bugs 1; a closed
    output pipe ends quietly (exit 1)."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        from derive.progress import quiet_on_closed_pipe

        with quiet_on_closed_pipe():
            return super().main(*args, **kwargs)

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
        except BrokenPipeError:
            raise
        except Exception as exc:
            detail = traceback.format_exc() if os.environ.get("DERIVE_DEBUG") else (
                f"{type(exc).__name__}: {exc}\n(a bug in derive; DERIVE_DEBUG=1 shows where)")
            click.echo(f"internal error:\n{detail}", err=True)
            ctx.exit(EXIT_FAILED)


def _verbosity(quiet: bool, verbose: bool) -> int:
    if quiet and verbose:
        raise click.UsageError("-q and -v exclude each other")
    return -1 if quiet else 1 if verbose else 0


_no_pdf = click.option("--no-pdf", is_flag=True, help="Write the .tex and verification.json; skip LaTeX.")
_jobs = click.option("--jobs", type=click.IntRange(min=1), default=None, metavar="N",
                     help="Problems derived in parallel (default: number of CPUs).")
_quiet = click.option("-q", "--quiet", is_flag=True, help="Print only failures.")
_verbose = click.option("-v", "--verbose", is_flag=True, help="Also print the verifier's verdict for every step.")


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
@_no_pdf
@click.option("--questions", is_flag=True,
              help="Also write the question sheet SET-questions.tex/.pdf (statements only) beside the booklet.")
@click.option("--html", is_flag=True, help="Also write the web booklet SET.html (and the question sheet's) with its assets.")
@_jobs
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=300.0, show_default=True,
              metavar="SECONDS", help="Wall-clock limit per problem; a problem past it fails.")
@click.option("--memory", type=click.IntRange(min=256), default=2048, show_default=True, metavar="MB",
              help="Memory limit per problem (its worker's address space); a problem past it fails.")
@click.option("--force", is_flag=True, help="Ignore the cache in build/SET/.cache/: derive and compile everything.")
@_quiet
@_verbose
@click.pass_obj
def build(root: Path, set_name: str, no_pdf: bool, questions: bool, html: bool, jobs: int | None, timeout: float,
          memory: int, force: bool, quiet: bool, verbose: bool) -> None:
    """Derive, verify and typeset problem set SET into build/SET/.

    Problems, documents and PDFs whose inputs are unchanged come from the cache (`cached`,
    `kept`); a corrupt cache entry is reported and rebuilt.
    Prints one line per problem (ok or FAIL with the error), then the files written; on a
    terminal a live line per problem shows which are running. If any problem fails, the
    earlier booklet is left alone and the problems that succeeded go to SET-partial.tex /
    SET-partial.pdf / verification-partial.json.

    \b
    Exit codes:
      0  every problem derived and verified, PDF compiled
      1  a problem failed or LaTeX failed
      2  spec error (in set.yaml or in any problem file) or usage error
    """
    from derive.build import build_set
    from derive.progress import echo_lines, live, report_lines
    from derive.sandbox import stance

    verbosity = _verbosity(quiet, verbose)
    with live(verbosity) as hook:
        report = build_set(root, set_name, jobs=jobs, pdf=not no_pdf, timeout=timeout, questions=questions,
                           memory=memory, force=force, html=html, progress=hook)
    if not no_pdf and "without" in stance():
        click.echo(f"warning: {stance()}", err=True)
    echo_lines(report_lines(report, verbosity))
    if any(o.spec_error for o in report.outputs):
        raise click.exceptions.Exit(EXIT_USAGE)
    if not report.ok:
        raise click.exceptions.Exit(EXIT_FAILED)


@main.command()
@click.argument("set_name", metavar="SET")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--part", metavar="ID", help="Check only this part (its id in the set, e.g. 1.1.1).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "html"]), default="text", show_default=True,
              help="text: FILE:LINE: PART: verdict: detail lines; json: the same as data; html: a page for the "
                   "student (needs -o), typeset offline.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), metavar="OUT",
              help="Write the report here instead of standard output (html: the page, assets beside it).")
@click.pass_obj
def check(root: Path, set_name: str, file: Path, part: str | None, fmt: str, output: Path | None) -> None:
    """Check a student's derivation in FILE (Markdown with LaTeX math) against set SET.

    Every relation of every chain is checked by the verifier, every boxed result against the
    verified answers; the report gives each step's line and verdict (agrees, wrong with a
    counterexample, could not read, could not decide) and the first wrong step per part.

    \b
    Exit codes:
      0  every checked step and result agrees
      1  a wrong step or a wrong result was found
      2  usage error or unreadable input
    """
    from derive.check import check_solution
    from derive.check_report import json_report, text_report, write_html_report
    from derive.spec import load_set

    try:
        text = file.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError) as exc:
        raise click.UsageError(f"cannot read {file}: {exc}") from None
    spec = load_set(root, set_name)
    if part is not None and part not in [r.id for r in spec.problems]:
        raise click.UsageError(f"{set_name} has no part {part!r}; its parts: {', '.join(r.id for r in spec.problems)}")
    if fmt == "html" and output is None:
        raise click.UsageError("--format html writes a page: give it with -o OUT.html")
    report = check_solution(spec, file, text, part)
    if fmt == "html":
        write_html_report(report, output)
        click.echo(f"wrote {output}")
    else:
        out = json_report(report) if fmt == "json" else "\n".join(text_report(report))
        if output is not None:
            output.write_text(out + "\n", encoding="utf-8")
        else:
            click.echo(out)
    if report.wrong:
        raise click.exceptions.Exit(EXIT_FAILED)


@main.command()
@click.argument("set_name", metavar="SET")
@_no_pdf
@_jobs
@click.pass_obj
def watch(root: Path, set_name: str, no_pdf: bool, jobs: int | None) -> None:
    """Build SET, then rebuild it on every save of a file in problems/SET/.

    After each rebuild prints the files that changed, the problems whose outcome changed,
    the first error and a summary. Ctrl-C ends it.
    """
    from derive.build import build_set
    from derive.watch import watch_set

    watch_set(root, set_name, lambda: build_set(root, set_name, jobs=jobs, pdf=not no_pdf), click.echo)


@main.command()
@click.argument("set_name", metavar="SET")
@click.argument("problem", required=False)
@click.pass_obj
def new(root: Path, set_name: str, problem: str | None) -> None:
    """Scaffold problem set SET, or add problem PROBLEM to it (creating the set if needed).

    The new problem file is a commented example that builds and verifies as it stands; its
    name is appended to the set's order. Existing files are never overwritten.
    """
    from derive.progress import shown
    from derive.scaffold import new_problem, new_set

    for path in new_problem(root, set_name, problem) if problem else [new_set(root, set_name)]:
        click.echo(f"wrote {shown(path)}")
    click.echo(f"next: derive{'' if root == Path('.') else f' --root {shown(root)}'} build {set_name}")


@main.command()
@click.option("--markdown", is_flag=True, help="Print the reference docs/rules.md instead of the short list.")
def rules(markdown: bool) -> None:
    """List the rules a step can name with `by:` (parameters and printed statement)."""
    from derive import rules_doc

    click.echo(rules_doc.markdown() if markdown else rules_doc.listing(), nl=not markdown)


@main.command()
@click.argument("kind", type=click.Choice(["problem", "set"]))
def schema(kind: str) -> None:
    """Print the JSON Schema of a problem file or of set.yaml (for editors; docs/editor.md).

    The published copies are derive/schemas/derive-KIND.schema.json, this output.
    """
    from derive.schema import schema_text

    click.echo(schema_text(kind), nl=False)


@main.command("list")
@click.pass_obj
def list_(root: Path) -> None:
    """List the problem sets and their problems (id and title)."""
    from derive.progress import shown
    from derive.spec import list_sets

    sets = list_sets(root)
    if not sets:
        click.echo(f"no problem sets in {shown(root / 'problems')}")
    for spec in sets:
        course = f" ({spec.course})" if spec.course else ""
        click.echo(f"{spec.name}: {spec.title}{course}")
        for ref in spec.problems:
            click.echo(f"  {ref.id}  {ref.title}")


if __name__ == "__main__":
    main()
