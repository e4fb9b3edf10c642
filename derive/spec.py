"""Load and validate problem-set YAML into typed, SymPy-free spec objects.

Every value keeps its `Loc` (file, line, key path) so later errors can point at it.
Structural problems are collected, never raised one at a time: `load_problem` returns the
spec it could read together with every issue found, and the engine adds its own issues
(expressions, rule parameters) before anything is reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError

from derive.errors import Loc, SpecError, SpecIssue
from derive.model import RELATIONS
ASSUMPTIONS = ("real", "positive", "nonnegative", "negative", "nonzero", "integer")
TOP = "(top)"
IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
SET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


@dataclass(frozen=True)
class Text:
    """A string from the spec and where it stands."""

    value: str
    loc: Loc


@dataclass(frozen=True)
class SymbolSpec:
    """A declared symbol: SymPy assumptions, optional LaTeX, finite space, random variable."""

    name: str
    assumptions: tuple[str, ...]
    loc: Loc
    latex: Text | None = None
    space: str | None = None
    random: bool = False
    mean_zero: bool = False
    shape: tuple[Text, ...] = ()
    indexed: bool = False
    long: Text | None = None
    sigma_max: Text | None = None


@dataclass(frozen=True)
class FunctionSpec:
    """An unknown function: argument spaces, conditional bar position, density or not."""

    name: str
    args: tuple[str, ...]
    loc: Loc
    given: int = 0
    density: bool = False
    latex: Text | None = None
    subscript: bool = False


@dataclass(frozen=True)
class DefinitionSpec:
    """A named definition name(params) := body, used by the unfold and fold rules."""

    name: str
    params: tuple[str, ...]
    body: Text
    loc: Loc
    latex: Text | None = None
    at: tuple[tuple[int, Text], ...] = ()
    subscript: bool = False


@dataclass(frozen=True)
class HypothesisSpec:
    """A given relation lhs rel rhs, usable by the `use` rule."""

    name: str
    lhs: Text
    rel: str
    rhs: Text
    loc: Loc


@dataclass(frozen=True)
class StepSpec:
    """One step: a rule to apply (`by`) and/or a claimed next expression (`to`)."""

    loc: Loc
    by: str | None
    to: Text | None
    rel: str
    why: str | None
    params: dict[str, Any] = field(default_factory=dict)
    param_locs: dict[str, Loc] = field(default_factory=dict)
    by_loc: Loc | None = None


@dataclass(frozen=True)
class ChainSpec:
    """A chain of steps from `start`, under `assume`."""

    label: str
    start: Text
    assume: tuple[Text, ...]
    steps: tuple[StepSpec, ...]
    loc: Loc
    defines: str | None = None


@dataclass(frozen=True)
class SaySpec:
    """A paragraph of prose."""

    text: Text


@dataclass(frozen=True)
class AnswerSpec:
    """The boxed answer: the relation a named chain established."""

    chain: str
    text: str
    loc: Loc
    long: bool = False
    below: str | None = None


BlockSpec = SaySpec | ChainSpec | AnswerSpec


@dataclass(frozen=True)
class ProblemSpec:
    """One problem file, as read."""

    path: Path
    id: str
    title: str
    points: float | None
    statement: Text
    symbols: tuple[SymbolSpec, ...]
    functions: tuple[FunctionSpec, ...]
    spaces: dict[str, int]
    definitions: tuple[DefinitionSpec, ...]
    hypotheses: tuple[HypothesisSpec, ...]
    solution: tuple[BlockSpec, ...]


@dataclass(frozen=True)
class ProblemRef:
    """A problem listed by a set: file stem, path, id and title."""

    stem: str
    path: Path
    id: str
    title: str


@dataclass(frozen=True)
class SetSpec:
    """A problem set: problems/<name>/set.yaml and its problems in order."""

    name: str
    title: str
    course: str
    problems: tuple[ProblemRef, ...]


class _Reader:
    """Typed access to a ruamel node that records issues instead of raising."""

    def __init__(self, file: str):
        self.file = file
        self.issues: list[SpecIssue] = []

    def issue(self, loc: Loc, message: str) -> None:
        self.issues.append(SpecIssue(loc, message))

    def loc(self, node: Any, key: str | int, path: str) -> Loc:
        """Location of `key` inside mapping or sequence `node`."""
        line = 1
        try:
            if isinstance(key, int):
                line = node.lc.item(key)[0] + 1
            else:
                line = node.lc.key(key)[0] + 1
        except (AttributeError, KeyError, IndexError, TypeError):
            line = getattr(getattr(node, "lc", None), "line", 0) + 1
        return Loc(self.file, line, path)

    def mapping(self, node: Any, loc: Loc, allowed: set[str], required: set[str]) -> dict | None:
        """Check that node is a mapping with only `allowed` keys and all `required` ones."""
        if not isinstance(node, dict):
            self.issue(loc, f"expected a mapping, got {_kind(node)}")
            return None
        base = "" if loc.key == TOP else loc.key
        for key in node:
            if not isinstance(key, str) or key not in allowed:
                self.issue(self.loc(node, key, _join(base, str(key))),
                           f"unknown key; expected one of: {', '.join(sorted(allowed))}")
        for key in sorted(required - set(node)):
            self.issue(loc, f"missing required key '{key}'")
        return node

    def string(self, node: dict, key: str, path: str, required: bool = False) -> Text | None:
        """A string value (numbers are not silently accepted as strings)."""
        loc = self.loc(node, key, _join(path, key))
        if key not in node:
            return None
        value = node[key]
        if not isinstance(value, str):
            self.issue(loc, f"expected a string, got {_kind(value)}")
            return None
        if required and not value.strip():
            self.issue(loc, "must not be empty")
            return None
        return Text(str(value), loc)

    def name(self, value: Any, loc: Loc, what: str) -> str | None:
        """A plain identifier (letters, digits, underscore; starts with a letter)."""
        if not isinstance(value, str) or not IDENT.match(value):
            self.issue(loc, f"{what} must be a plain identifier, got {value!r}")
            return None
        return value

    def sequence(self, node: dict, key: str, path: str) -> list[tuple[Any, Loc]]:
        """Items of a list value with their locations."""
        if key not in node:
            return []
        value = node[key]
        if not isinstance(value, list):
            self.issue(self.loc(node, key, _join(path, key)), f"expected a list, got {_kind(value)}")
            return []
        return [(item, self.loc(value, i, f"{_join(path, key)}[{i}]")) for i, item in enumerate(value)]

    def entries(self, node: dict, key: str, path: str) -> list[tuple[str, Any, Loc]]:
        """Entries of a mapping value whose keys are identifiers."""
        if key not in node:
            return []
        value = node[key]
        loc = self.loc(node, key, _join(path, key))
        if not isinstance(value, dict):
            self.issue(loc, f"expected a mapping, got {_kind(value)}")
            return []
        out = []
        for k, v in value.items():
            kloc = self.loc(value, k, _join(loc.key, str(k)))
            if self.name(k, kloc, "name") is not None:
                out.append((k, v, kloc))
        return out


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _read_yaml(path: Path) -> Any:
    """Parse YAML keeping line numbers; duplicate keys are errors (not last-wins)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError([SpecIssue(Loc(str(path), 0, "file"), f"cannot read: {exc.strerror}")]) from exc
    try:
        return YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        msg = " ".join(str(exc.problem or exc.context or "invalid YAML").split())
        raise SpecError([SpecIssue(Loc(str(path), line, "yaml"), msg)]) from exc


def _symbol(r: _Reader, name: str, value: Any, loc: Loc) -> SymbolSpec | None:
    """`x: real` / `x: "positive integer"` / `x: {positive: true, latex: ..., space: S}`."""
    if isinstance(value, str):
        words = tuple(value.replace(",", " ").split())
        bad = [w for w in words if w not in ASSUMPTIONS]
        if bad:
            r.issue(loc, f"unknown assumption {bad[0]!r}; expected some of: {', '.join(ASSUMPTIONS)}")
            return None
        return SymbolSpec(name, words, loc)
    keys = set(ASSUMPTIONS) | {"latex", "long", "space", "random", "mean_zero", "shape", "indexed", "sigma_max"}
    node = r.mapping(value, loc, keys, set())
    if node is None:
        return None
    flags = []
    for key in ASSUMPTIONS:
        if key in node:
            if not isinstance(node[key], bool):
                r.issue(r.loc(node, key, _join(loc.key, key)), f"expected true or false, got {_kind(node[key])}")
            elif node[key]:
                flags.append(key)
    space = node.get("space")
    if space is not None:
        space = r.name(space, r.loc(node, "space", _join(loc.key, "space")), "space")
    bools = {key: _flag(r, node, key, loc.key) for key in ("random", "mean_zero", "indexed")}
    shape = []
    for item, iloc in r.sequence(node, "shape", loc.key):
        if isinstance(item, (str, int)) and not isinstance(item, bool):
            shape.append(Text(str(item), iloc))
        else:
            r.issue(iloc, f"a shape entry must be an expression, got {_kind(item)}")
    top = None
    if "sigma_max" in node:
        tloc = r.loc(node, "sigma_max", _join(loc.key, "sigma_max"))
        if not shape:
            r.issue(tloc, "sigma_max needs a matrix: declare its shape too")
        if isinstance(node["sigma_max"], (str, int, float)) and not isinstance(node["sigma_max"], bool):
            top = Text(str(node["sigma_max"]), tloc)
        else:
            r.issue(tloc, f"sigma_max must be a positive number, got {_kind(node['sigma_max'])}")
    return SymbolSpec(name, tuple(flags), loc, r.string(node, "latex", loc.key), space,
                      bools["random"], bools["mean_zero"], tuple(shape), bools["indexed"],
                      r.string(node, "long", loc.key), top)


def _function(r: _Reader, name: str, value: Any, loc: Loc) -> FunctionSpec | None:
    """`P: {args: [S, S, A], given: 2, density: true, latex: ...}`: args are space names."""
    node = r.mapping(value, loc, {"args", "given", "density", "latex", "subscript"}, {"args"})
    if node is None:
        return None
    args = tuple(a for a, aloc in r.sequence(node, "args", loc.key) if r.name(a, aloc, "argument space"))
    given = node.get("given", 0)
    if not isinstance(given, int) or isinstance(given, bool) or not 0 <= given <= len(args):
        r.issue(r.loc(node, "given", _join(loc.key, "given")),
                f"expected a whole number from 0 to {len(args)}, got {given!r}")
        given = 0
    density = _flag(r, node, "density", loc.key)
    return FunctionSpec(name, args, loc, given, density, r.string(node, "latex", loc.key),
                        _flag(r, node, "subscript", loc.key))


def _flag(r: _Reader, node: dict, key: str, path: str) -> bool:
    """An optional true/false value (false when absent)."""
    value = node.get(key, False)
    if not isinstance(value, bool):
        r.issue(r.loc(node, key, _join(path, key)), f"expected true or false, got {_kind(value)}")
        return False
    return value


def _definition(r: _Reader, name: str, value: Any, loc: Loc) -> DefinitionSpec | None:
    """`name: "body"` or `name: {args: [k], body: "...", at: {0: "x"}, latex: ...}`.

    `at` gives base cases of a recursive definition at whole-number arguments.
    """
    if isinstance(value, str):
        return DefinitionSpec(name, (), Text(value, loc), loc)
    node = r.mapping(value, loc, {"args", "body", "latex", "at", "subscript"}, {"body"})
    if node is None:
        return None
    params = tuple(a for a, aloc in r.sequence(node, "args", loc.key) if r.name(a, aloc, "parameter"))
    body = r.string(node, "body", loc.key, required=True)
    at = []
    if "at" in node:
        aloc = r.loc(node, "at", _join(loc.key, "at"))
        if not isinstance(node["at"], dict) or len(params) != 1:
            r.issue(aloc, "'at' maps whole numbers to base-case expressions, for a one-argument definition")
        else:
            for k, v in node["at"].items():
                kloc = r.loc(node["at"], k, _join(aloc.key, str(k)))
                if isinstance(k, int) and not isinstance(k, bool) and isinstance(v, str):
                    at.append((k, Text(v, kloc)))
                else:
                    r.issue(kloc, "expected `whole number: expression`")
    if body is None:
        return None
    return DefinitionSpec(name, params, body, loc, r.string(node, "latex", loc.key), tuple(at),
                          _flag(r, node, "subscript", loc.key))


def _relation(r: _Reader, node: dict, path: str) -> str:
    rel = node.get("rel", "=")
    if rel not in RELATIONS:
        r.issue(r.loc(node, "rel", _join(path, "rel")), f"relation must be one of {', '.join(RELATIONS)}, got {rel!r}")
        return "="
    return rel


def _hypothesis(r: _Reader, name: str, value: Any, loc: Loc) -> HypothesisSpec | None:
    """`name: {lhs: ..., rel: "=", rhs: ...}`."""
    node = r.mapping(value, loc, {"lhs", "rel", "rhs"}, {"lhs", "rhs"})
    if node is None:
        return None
    lhs, rhs = r.string(node, "lhs", loc.key, True), r.string(node, "rhs", loc.key, True)
    rel = _relation(r, node, loc.key)
    if lhs is None or rhs is None:
        return None
    return HypothesisSpec(name, lhs, rel, rhs, loc)


def _step(r: _Reader, value: Any, loc: Loc) -> StepSpec | None:
    """A step mapping: reserved keys by/to/rel/why; any other key is a rule parameter."""
    if not isinstance(value, dict):
        r.issue(loc, f"a step must be a mapping, got {_kind(value)}")
        return None
    by = value.get("by")
    if by is not None and not isinstance(by, str):
        r.issue(r.loc(value, "by", _join(loc.key, "by")), f"expected a rule name, got {_kind(by)}")
        by = None
    to = r.string(value, "to", loc.key, required=True)
    if "by" not in value and "to" not in value:
        r.issue(loc, "a step needs 'by' (a rule) or 'to' (a claimed expression)")
    why = r.string(value, "why", loc.key)
    params = {k: v for k, v in value.items() if k not in ("by", "to", "rel", "why")}
    if by is None:
        for k in params:
            r.issue(r.loc(value, k, _join(loc.key, str(k))),
                    "unknown key; a claim step takes only to, rel, why (rule parameters need 'by')")
        params = {}
    param_locs = {k: r.loc(value, k, _join(loc.key, str(k))) for k in params}
    by_loc = r.loc(value, "by", _join(loc.key, "by")) if "by" in value else None
    return StepSpec(loc, by, to, _relation(r, value, loc.key), why.value if why else None, params, param_locs,
                    by_loc)


def _chain(r: _Reader, value: Any, loc: Loc) -> ChainSpec | None:
    node = r.mapping(value, loc, {"label", "start", "assume", "steps", "defines"}, {"label", "start", "steps"})
    if node is None:
        return None
    defines = node.get("defines")
    if defines is not None:
        defines = r.name(defines, r.loc(node, "defines", _join(loc.key, "defines")), "defines")
    label = node.get("label")
    label = r.name(label, r.loc(node, "label", _join(loc.key, "label")), "label") if "label" in node else None
    start = r.string(node, "start", loc.key, required=True)
    assume = []
    for item, iloc in r.sequence(node, "assume", loc.key):
        if isinstance(item, str):
            assume.append(Text(item, iloc))
        else:
            r.issue(iloc, f"expected a relation as a string, got {_kind(item)}")
    steps = [s for item, iloc in r.sequence(node, "steps", loc.key) if (s := _step(r, item, iloc))]
    if "steps" in node and isinstance(node["steps"], list) and not node["steps"]:
        r.issue(r.loc(node, "steps", _join(loc.key, "steps")), "a chain needs at least one step")
    if label is None or start is None:
        return None
    return ChainSpec(label, start, tuple(assume), tuple(steps), loc, defines)


def _block(r: _Reader, value: Any, loc: Loc) -> BlockSpec | None:
    """A solution block: exactly one of say / chain / answer."""
    node = r.mapping(value, loc, {"say", "chain", "answer"}, set())
    if node is None:
        return None
    if len(node) != 1:
        r.issue(loc, "a solution block has exactly one of: say, chain, answer")
        return None
    (key,) = node.keys()
    kloc = r.loc(node, key, _join(loc.key, key))
    if key == "say":
        text = r.string(node, "say", loc.key, required=True)
        return SaySpec(text) if text else None
    if key == "chain":
        return _chain(r, node["chain"], kloc)
    if isinstance(node["answer"], str):
        return AnswerSpec(node["answer"], "", kloc)
    ans = r.mapping(node["answer"], kloc, {"chain", "below", "text", "long"}, {"chain"})
    if ans is None:
        return None
    chain = r.string(ans, "chain", kloc.key, required=True)
    below = r.string(ans, "below", kloc.key, required=True)
    text = r.string(ans, "text", kloc.key)
    long = _flag(r, ans, "long", kloc.key)
    return AnswerSpec(chain.value, text.value if text else "", kloc, long, below.value if below else None) \
        if chain else None


PROBLEM_KEYS = {"id", "title", "points", "statement", "symbols", "functions", "spaces",
                "definitions", "hypotheses", "solution"}


def _collect(r: _Reader, node: dict, key: str, make: Callable[[_Reader, str, Any, Loc], Any]) -> tuple:
    return tuple(x for name, value, loc in r.entries(node, key, "") if (x := make(r, name, value, loc)))


def load_problem(path: Path) -> tuple[ProblemSpec | None, list[SpecIssue]]:
    """Read one problem file; return what could be read and every structural issue."""
    r = _Reader(str(path))
    try:
        data = _read_yaml(path)
    except SpecError as exc:
        return None, exc.issues
    node = r.mapping(data, Loc(str(path), 1, TOP), PROBLEM_KEYS, {"id", "title", "statement", "solution"})
    if node is None:
        return None, r.issues
    pid = node.get("id")
    if "id" in node and not isinstance(pid, str):
        r.issue(r.loc(node, "id", "id"), f"expected a string (quote numbers like \"1.1.1\"), got {_kind(pid)}")
    title = r.string(node, "title", "", required=True)
    statement = r.string(node, "statement", "", required=True)
    points = node.get("points")
    if points is not None and (isinstance(points, bool) or not isinstance(points, (int, float))):
        r.issue(r.loc(node, "points", "points"), f"expected a number, got {_kind(points)}")
        points = None
    spaces: dict[str, int] = {}
    for name, size, loc in r.entries(node, "spaces", ""):
        if isinstance(size, int) and not isinstance(size, bool) and 1 <= size <= 6:
            spaces[name] = size
        else:
            r.issue(loc, f"a space's instance size must be a whole number from 1 to 6, got {size!r}")
    solution = tuple(b for item, loc in r.sequence(node, "solution", "") if (b := _block(r, item, loc)))
    spec = ProblemSpec(
        path=path,
        id=pid if isinstance(pid, str) else "?",
        title=title.value if title else "?",
        points=float(points) if points is not None else None,
        statement=statement or Text("", r.loc(node, "statement", "statement")),
        symbols=_collect(r, node, "symbols", _symbol),
        functions=_collect(r, node, "functions", _function),
        spaces=spaces,
        definitions=_collect(r, node, "definitions", _definition),
        hypotheses=_collect(r, node, "hypotheses", _hypothesis),
        solution=solution,
    )
    return spec, r.issues


def load_set(root: Path, name: str) -> SetSpec:
    """Read problems/<name>/set.yaml and the id/title of each listed problem.

    Raises SpecError listing every issue (unknown set, missing files, bad keys).
    """
    if not SET_NAME.match(name):
        raise SpecError([SpecIssue(Loc("<command line>", 0, "SET"), f"not a set name: {name!r}")])
    set_dir = root / "problems" / name
    path = set_dir / "set.yaml"
    if not path.is_file():
        base = root / "problems"
        names = sorted(d.name for d in base.iterdir() if (d / "set.yaml").is_file()) if base.is_dir() else []
        known = ", ".join(names) or "none"
        raise SpecError([SpecIssue(Loc(str(path), 0, "set"), f"no problem set named {name!r} (known: {known})")])
    r = _Reader(str(path))
    data = _read_yaml(path)
    node = r.mapping(data, Loc(str(path), 1, TOP), {"title", "course", "order"}, {"title", "order"})
    problems: list[ProblemRef] = []
    title = course = None
    if node is not None:
        title = r.string(node, "title", "", required=True)
        course = r.string(node, "course", "")
        for stem, loc in r.sequence(node, "order", ""):
            if r.name(stem, loc, "problem file stem") is None:
                continue
            ppath = set_dir / f"{stem}.yaml"
            if not ppath.is_file():
                r.issue(loc, f"no problem file {ppath.name} in {set_dir}")
                continue
            problems.append(_problem_ref(r, stem, ppath))
    if r.issues:
        raise SpecError(r.issues)
    return SetSpec(name, title.value if title else name, course.value if course else "", tuple(problems))


def _problem_ref(r: _Reader, stem: str, path: Path) -> ProblemRef:
    """Id and title of a problem file, read without validating the rest."""
    try:
        data = _read_yaml(path)
    except SpecError as exc:
        r.issues.extend(exc.issues)
        return ProblemRef(stem, path, "?", "?")
    if not isinstance(data, dict):
        return ProblemRef(stem, path, "?", "?")
    return ProblemRef(stem, path, str(data.get("id", "?")), str(data.get("title", "?")))


def list_sets(root: Path) -> list[SetSpec]:
    """Every set under problems/ that has a set.yaml, by name."""
    base = root / "problems"
    if not base.is_dir():
        return []
    return [load_set(root, d.name) for d in sorted(base.iterdir()) if (d / "set.yaml").is_file()]
