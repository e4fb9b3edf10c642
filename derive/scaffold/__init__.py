"""`derive new`: scaffold a problem set and its problems from the templates beside this file.

Rules:
- `new_set` writes problems/<set>/set.yaml (no problems yet); an existing set is an error.
- `new_problem` writes problems/<set>/<problem>.yaml, a commented problem that builds and
  verifies as it stands, and appends its stem to the set's `order:` (the set is created first
  when it does not exist); an existing problem file is an error. set.yaml is edited
  round-trip, so its comments and layout stay.
- Each file starts with a `# yaml-language-server: $schema=...` line naming the JSON Schema
  of derive/schemas/ (docs/editor.md): a path relative to the file when the schema lies under
  the root (this repository), else the installed file's `file://` address.
- Names are checked before anything is written: a set name as `derive build` takes it, a
  problem name a plain identifier. Files are written atomically.
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

import jinja2

from derive.outdir import write_all
from derive.errors import Loc, SpecError, SpecIssue
from derive.schema import schema_file
from derive.schema_types import IDENT
from derive.spec import SET_NAME, load_set

_ENV = jinja2.Environment(
    loader=jinja2.FunctionLoader(lambda name: files(__name__).joinpath(name).read_text(encoding="utf-8")),
    variable_start_string="<<", variable_end_string=">>", block_start_string="<%", block_end_string="%>",
    comment_start_string="<#", comment_end_string="#>", undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True, autoescape=False,
)


def _refuse(key: str, message: str) -> SpecError:
    return SpecError([SpecIssue(Loc("<command line>", 0, key), message)])


def modeline(path: Path, root: Path, kind: str) -> str:
    """The first line of a scaffolded file: where an editor finds its JSON Schema."""
    schema = Path(str(schema_file(kind))).resolve()
    if schema.is_relative_to(root.resolve()):
        where = Path(os.path.relpath(schema, path.parent.resolve())).as_posix()
    else:
        where = schema.as_uri()
    return f"# yaml-language-server: $schema={where}\n"


def _title(name: str) -> str:
    """`first_problem` -> `First problem`."""
    return name.replace("_", " ").replace("-", " ").strip().capitalize()


def new_set(root: Path, name: str) -> Path:
    """Write problems/<name>/set.yaml from the template; returns its path."""
    if not SET_NAME.match(name):
        raise _refuse("SET", f"not a set name: {name!r} (letters, digits, _ and -, starting with a letter or digit)")
    path = root / "problems" / name / "set.yaml"
    if path.exists():
        raise _refuse("SET", f"{path} exists already")
    path.parent.mkdir(parents=True, exist_ok=True)
    text = _ENV.get_template("set.yaml.j2").render(name=name, title=f"Problem set {name}")
    write_all([(path, modeline(path, root, "set") + text)])
    return path


def new_problem(root: Path, name: str, problem: str) -> list[Path]:
    """Write problems/<name>/<problem>.yaml and list it in the set's order; returns the files
    written (set.yaml first when the set was created)."""
    if not IDENT.match(problem):
        raise _refuse("PROBLEM", f"not a problem name: {problem!r} (a letter, then letters, digits and _)")
    written = [] if (root / "problems" / name / "set.yaml").exists() else [new_set(root, name)]
    spec = load_set(root, name)  # a broken set.yaml is reported before anything is added
    path = root / "problems" / name / f"{problem}.yaml"
    if path.exists():
        raise _refuse("PROBLEM", f"{path} exists already")
    text = _ENV.get_template("problem.yaml.j2").render(
        name=name, stem=problem, number=len(spec.problems) + 1, title=_title(problem))
    write_all([(path, modeline(path, root, "problem") + text)])
    _append_to_order(path.parent / "set.yaml", problem)
    return [*written, path]


def _append_to_order(set_yaml: Path, stem: str) -> None:
    """Add `stem` to the end of `order:` in set.yaml (of the last chapter's `order:` in a set
    with `chapters:`), keeping the file's comments and layout."""
    from io import StringIO

    from ruamel.yaml import YAML

    yaml = YAML()  # round-trip: comments, quoting and flow style survive
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)  # `  - stem`, as the shipped sets write it
    data = yaml.load(set_yaml.read_text(encoding="utf-8"))
    order = data["chapters"][-1]["order"] if data.get("chapters") else data["order"]
    listed = [s for c in data.get("chapters") or [] for s in c["order"]] + list(data.get("order") or [])
    if stem not in listed:
        order.append(stem)
    out = StringIO()
    yaml.dump(data, out)
    write_all([(set_yaml, out.getvalue())])
