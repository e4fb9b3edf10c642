"""Load problem-set YAML into typed, SymPy-free spec objects.

Every value keeps its `Loc` (file, line, key path) so later errors can point at it.
Issues are collected, never raised one at a time: `load_problem` returns the spec it could
read together with every issue found, and the engine adds its own issues (expressions, rule
parameters) before anything is reported. The keys and types of both files are declared once,
in derive/schema.py (checked by derive/validate.py); the spec objects are built by
derive/spec_read.py, derive/spec_mdp.py and derive/figures.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from derive.errors import Loc, SpecError, SpecIssue
from derive.safeyaml import read_yaml, top_scalars

if TYPE_CHECKING:
    from derive.schema import SetFile
    from derive.validate import Reader

MAX_STEM = 64
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
    structure: str | None = None
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
    given: int = 0
    density: bool = False


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
    """A paragraph of prose; `refs` are the checked numbers it cites (`@{label.key(args)}`)."""

    text: Text
    refs: tuple["RefSpec", ...] = ()


@dataclass(frozen=True)
class AnswerSpec:
    """The boxed answer: the relation a named chain established."""

    chain: str
    text: str
    loc: Loc
    long: bool = False
    below: str | None = None


@dataclass(frozen=True)
class MdpSpec:
    """A finite MDP as data: states, actions, transition probabilities P(s2 | s, a) and rewards
    r(s, a), all exact fractions. Names are kept as strings in the order written."""

    name: str
    states: tuple[str, ...]
    actions: tuple[str, ...]
    transitions: dict[tuple[str, str], tuple[tuple[str, Fraction], ...]]
    rewards: dict[tuple[str, str], Fraction]
    loc: Loc


@dataclass(frozen=True)
class PoliciesSpec:
    """Enumerate, evaluate and rank every deterministic policy of an MDP at one discount;
    optionally claim the optimal policy and its values (checked)."""

    label: str
    mdp: str
    gamma: Fraction
    loc: Loc
    policy: tuple[tuple[str, str, Loc], ...] = ()
    values: tuple[tuple[str, Text], ...] = ()


@dataclass(frozen=True)
class EvaluateSpec:
    """Evaluate one policy (a mapping, or the optimal policy of a `policies` block) at a
    discount; with `compare`, the loss against that block's optimal values."""

    label: str
    mdp: str
    gamma: Fraction
    loc: Loc
    policy: tuple[tuple[str, str, Loc], ...] = ()
    policy_of: str | None = None
    compare: str | None = None
    values: tuple[tuple[str, Text], ...] = ()
    loss: tuple[tuple[str, Text], ...] = ()


@dataclass(frozen=True)
class RefSpec:
    """A checked number cited in prose: `@{label.key(args)}` (`:4` for 4 decimals)."""

    token: str
    label: str
    key: str
    args: tuple[str, ...]
    digits: int | None


BlockSpec = SaySpec | ChainSpec | AnswerSpec | MdpSpec | PoliciesSpec | EvaluateSpec


@dataclass(frozen=True)
class ErratumSpec:
    """A place where a source is wrong: what it says, the verified correction, and the chain
    of this problem that carries the correction (if one does)."""

    source: Text
    place: Text
    says: Text
    correction: Text
    chain: str | None
    loc: Loc


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
    spaces: dict[str, int | str]
    definitions: tuple[DefinitionSpec, ...]
    hypotheses: tuple[HypothesisSpec, ...]
    solution: tuple[BlockSpec, ...]
    errata: tuple[ErratumSpec, ...] = ()
    stand_ins: frozenset[str] = frozenset()  # key paths of values the file lacks (derive/validate.py)
    aliases: tuple[tuple[Text, Text], ...] = ()  # (a student's LaTeX, the spec expression it means)


@dataclass(frozen=True)
class ProblemRef:
    """A problem listed by a set: file stem, path, id and title."""

    stem: str
    path: Path
    id: str
    title: str
    chapter: str = ""  # the heading of its chapter in set.yaml's `chapters` (prose), "" without chapters


@dataclass(frozen=True)
class SetSpec:
    """A problem set: problems/<name>/set.yaml and its problems in order."""

    name: str
    title: str
    course: str
    problems: tuple[ProblemRef, ...]


def load_problem(path: Path) -> tuple[ProblemSpec | None, list[SpecIssue]]:
    """Read one problem file; return what could be read and every issue found."""
    from derive.schema import ProblemFile  # pydantic: imported only when a file is read (not by a no-op build)
    from derive.spec_read import problem  # the builders import the spec objects above
    from derive.validate import Reader, check

    try:
        data = read_yaml(path)
    except SpecError as exc:
        return None, exc.issues
    checked = check(ProblemFile, data, str(path))
    if checked.model is None:
        return None, in_file_order(checked.issues)
    r = Reader(str(path), data, checked, list(checked.issues))
    spec = problem(r, checked.model, path)
    return spec, in_file_order(r.issues)


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
    if not _inside(path, root / "problems"):
        raise SpecError([SpecIssue(Loc(str(path), 0, "set"), "a link to a file outside problems/; copy it instead")])
    from derive.schema import SetFile
    from derive.validate import Reader, check

    data = read_yaml(path)
    checked = check(SetFile, data, str(path))
    r = Reader(str(path), data, checked, list(checked.issues))
    m = checked.model
    problems = [] if m is None else _listed(r, m, root, set_dir)
    if r.issues or m is None:
        raise SpecError(in_file_order(r.issues))
    return SetSpec(name, m.title, m.course, tuple(problems))


def _listed(r: Reader, m: SetFile, root: Path, set_dir: Path) -> list[ProblemRef]:
    """The problems of `order` (or of every chapter's `order`), each a file of the set inside
    problems/, listed once; exactly one of `order` and `chapters` is given; the set's title and
    course and every chapter heading pass the TeX allow-list."""
    from derive import texguard

    for key in ("title", "course"):
        r.tex(r.text(getattr(m, key), key), texguard.inline_prose)
    given = [key for key in ("order", "chapters") if r.raw(key) is not None]
    if len(given) != 1:
        both = "both `order` and `chapters`" if given else "neither `order` nor `chapters`"
        r.issue(r.loc(given[-1] if given else "order"), f"a set lists its problems in one of `order` and `chapters`; "
                                                       f"this one has {both}")
        return []
    groups = [("", r.items(m.order, "order"))]
    for chapter, path in r.items(m.chapters, "chapters"):
        r.tex(r.text(chapter.title, *path, "title"), texguard.inline_prose)
        groups.append((chapter.title, r.items(chapter.order, *path, "order")))
    seen: set[str] = set()
    problems = []
    for heading, items in groups:
        for stem, path in items:
            loc = r.loc(*path)
            ppath = set_dir / f"{stem}.yaml"
            if len(stem) > MAX_STEM:
                r.issue(loc, f"a problem file stem has at most {MAX_STEM} characters, got {len(stem)}")
            elif stem in seen:
                r.issue(loc, f"problem {stem!r} is listed twice")
            elif not ppath.is_file():
                r.issue(loc, f"no problem file {ppath.name} in {set_dir}")
            elif not _inside(ppath, root / "problems"):
                r.issue(loc, f"{ppath.name} is a link to a file outside problems/; copy the file instead")
            else:
                problems.append(_problem_ref(stem, ppath, heading))
            seen.add(stem)
    return problems


def in_file_order(issues: list[SpecIssue]) -> list[SpecIssue]:
    """Issues by line (a stable sort: those of one line in the order they were found)."""
    return sorted(issues, key=lambda i: i.loc.line)


def _inside(path: Path, base: Path) -> bool:
    """True when `path`, links resolved, lies inside `base` (links resolved too)."""
    return path.resolve().is_relative_to(base.resolve())


def _problem_ref(stem: str, path: Path, chapter: str = "") -> ProblemRef:
    """Id and title of a problem file, read from its top-level scalars without parsing the rest
    (safeyaml.top_scalars). A file that cannot be read gives id and title '?': its issues are
    reported when that problem is derived, so the other problems still build."""
    try:
        data = top_scalars(path, frozenset({"id", "title"}))
    except SpecError:
        data = {}
    return ProblemRef(stem, path, _ref_text(data.get("id")), _ref_text(data.get("title")), chapter)


def _ref_text(value: str | None) -> str:
    """An id or title for the progress lines: the scalar's text cut to one short line, else '?'."""
    if not value:
        return "?"
    text = " ".join(value.split())
    return text if len(text) <= 60 else text[:60] + "..."


def list_sets(root: Path) -> list[SetSpec]:
    """Every set under problems/ that has a set.yaml, by name."""
    base = root / "problems"
    if not base.is_dir():
        return []
    return [load_set(root, d.name) for d in sorted(base.iterdir()) if (d / "set.yaml").is_file()]
