"""Load and validate problem-set YAML into typed, SymPy-free spec objects.

Every value keeps its `Loc` (file, line, key path) so later errors can point at it.
Structural problems are collected, never raised one at a time: `load_problem` returns the
spec it could read together with every issue found, and the engine adds its own issues
(expressions, rule parameters) before anything is reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable

from derive import texguard
from derive.errors import Loc, SpecError, SpecIssue
from derive.model import RELATIONS, STRUCTURES
from derive.safeyaml import read_yaml

ASSUMPTIONS = ("real", "positive", "nonnegative", "negative", "nonzero", "integer")
TOP = "(top)"
IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
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
    """Parse YAML under the limits of derive/safeyaml.py; duplicate keys are errors."""
    return read_yaml(path)


def _symbol(r: _Reader, name: str, value: Any, loc: Loc) -> SymbolSpec | None:
    """`x: real` / `x: "positive integer"` / `x: {positive: true, latex: ..., space: S}`."""
    if isinstance(value, str):
        words = tuple(value.replace(",", " ").split())
        bad = [w for w in words if w not in ASSUMPTIONS]
        if bad:
            r.issue(loc, f"unknown assumption {bad[0]!r}; expected some of: {', '.join(ASSUMPTIONS)}")
            return None
        return SymbolSpec(name, words, loc)
    keys = set(ASSUMPTIONS) | {"latex", "long", "space", "random", "mean_zero", "shape", "indexed", "structure",
                                 "sigma_max"}
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
    if bools["mean_zero"] and not bools["random"]:
        r.issue(r.loc(node, "mean_zero", _join(loc.key, "mean_zero")), "mean_zero needs random: true")
    shape = []
    for item, iloc in r.sequence(node, "shape", loc.key):
        if isinstance(item, (str, int)) and not isinstance(item, bool):
            shape.append(Text(str(item), iloc))
        else:
            r.issue(iloc, f"a shape entry must be an expression, got {_kind(item)}")
    if "shape" in node and len(shape) != 2:
        r.issue(r.loc(node, "shape", _join(loc.key, "shape")), "a shape is [rows, columns]")
    structure = r.string(node, "structure", loc.key)
    if structure is not None:
        sloc = structure.loc
        structure = structure.value
        if structure not in STRUCTURES:
            r.issue(sloc, f"unknown structure {structure!r}; expected one of: {', '.join(STRUCTURES)}")
            structure = None
        elif "shape" not in node:
            r.issue(sloc, "a structure needs a shape: declare `shape: [rows, cols]`")
            structure = None
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
                      r.string(node, "long", loc.key), structure, top)


def _function(r: _Reader, name: str, value: Any, loc: Loc) -> FunctionSpec | None:
    """`P: {args: [S, S, A], given: 2, density: true, latex: ...}`: args are space names."""
    node = r.mapping(value, loc, {"args", "given", "density", "latex", "subscript"}, {"args"})
    if node is None:
        return None
    args = tuple(a for a, aloc in r.sequence(node, "args", loc.key) if r.name(a, aloc, "argument space"))
    given = _given(r, node, loc, len(args))
    density = _flag(r, node, "density", loc.key)
    return FunctionSpec(name, args, loc, given, density, r.string(node, "latex", loc.key),
                        _flag(r, node, "subscript", loc.key))


def _given(r: _Reader, node: dict, loc: Loc, arity: int) -> int:
    """How many trailing arguments print after the conditioning bar: fewer than the arguments,
    so that one at least stands before it."""
    given = node.get("given", 0)
    if not isinstance(given, int) or isinstance(given, bool) or not 0 <= given < max(arity, 1):
        r.issue(r.loc(node, "given", _join(loc.key, "given")),
                f"expected a whole number from 0 to {max(arity - 1, 0)} (fewer than the arguments), got {given!r}")
        return 0
    return given


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
    node = r.mapping(value, loc, {"args", "body", "latex", "at", "subscript", "given"}, {"body"})
    if node is None:
        return None
    params = tuple(a for a, aloc in r.sequence(node, "args", loc.key) if r.name(a, aloc, "parameter"))
    given = _given(r, node, loc, len(params))
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
                          _flag(r, node, "subscript", loc.key), given)


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
    if why is not None:
        _tex(r, why.loc, texguard.inline_prose, why.value)
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


BLOCK_KINDS = ("say", "chain", "answer", "mdp", "policies", "evaluate", "figure")


def _block(r: _Reader, value: Any, loc: Loc) -> BlockSpec | None:
    """A solution block: exactly one of say / chain / answer / mdp / policies / evaluate / figure."""
    node = r.mapping(value, loc, set(BLOCK_KINDS), set())
    if node is None:
        return None
    if len(node) != 1:
        r.issue(loc, f"a solution block has exactly one of: {', '.join(BLOCK_KINDS)}")
        return None
    (key,) = node.keys()
    if key not in BLOCK_KINDS:
        return None  # reported by r.mapping as an unknown key
    kloc = r.loc(node, key, _join(loc.key, key))
    if key == "mdp":
        return _mdp(r, node["mdp"], kloc)
    if key == "figure":  # its schema lives in derive.figures
        from derive.figures import figure_block

        return figure_block(r, node["figure"], kloc)
    if key in ("policies", "evaluate"):
        return _mdp_task(r, key, node[key], kloc)
    if key == "say":
        text = r.string(node, "say", loc.key, required=True)
        return SaySpec(text, _refs(r, text)) if text else None
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


# ---- finite MDPs ---------------------------------------------------------------------------
MDP_NAME = re.compile(r"^[A-Za-z0-9+-]{1,12}$")
REF = re.compile(r"@\{([^{}]*)\}")
REF_BODY = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)\.([a-z]+)(?:\(([^()]*)\))?(?::([0-9]))?$")
REF_KEYS = {"policies": {"v": 1, "q": 2, "gamma": 0}, "evaluate": {"v": 1, "loss": 1, "gamma": 0}}


def _exact(r: _Reader, value: Any, loc: Loc, what: str) -> Fraction | None:
    """An exact number: an integer, a decimal (read from its shortest repr: 0.1 is 1/10) or a
    string `p/q` or decimal."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        r.issue(loc, f"{what} must be a number or a fraction like \"1/3\", got {_kind(value)}")
        return None
    try:
        number = Fraction(repr(value) if isinstance(value, float) else str(value).strip())
    except (ValueError, ZeroDivisionError):
        r.issue(loc, f"{what} must be a number or a fraction like \"1/3\", got {value!r}")
        return None
    return number


def _state_name(r: _Reader, value: Any, loc: Loc, what: str) -> str | None:
    """A state or action name: a whole number or a short word of letters, digits, + and -."""
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not MDP_NAME.match(str(value)):
        r.issue(loc, f"{what} must be a whole number or up to 12 letters, digits, '+' or '-', got {value!r}")
        return None
    return str(value)


def _names(r: _Reader, node: dict, key: str, path: str, what: str) -> tuple[str, ...]:
    names: list[str] = []
    for item, iloc in r.sequence(node, key, path):
        name = _state_name(r, item, iloc, what)
        if name is not None and name in names:
            r.issue(iloc, f"{what} {name!r} listed twice")
        elif name is not None:
            names.append(name)
    if key in node and isinstance(node[key], list) and not node[key]:
        r.issue(r.loc(node, key, _join(path, key)), f"needs at least one {what}")
    return tuple(names)


def _table(r: _Reader, node: dict, key: str, path: str, states: tuple[str, ...],
           actions: tuple[str, ...]) -> list[tuple[str, str, Any, Loc]]:
    """Entries `state: {action: value}` of a mapping, names checked against the MDP."""
    if key not in node:
        return []
    outer, oloc = node[key], r.loc(node, key, _join(path, key))
    if not isinstance(outer, dict):
        r.issue(oloc, f"expected a mapping state -> {{action: ...}}, got {_kind(outer)}")
        return []
    out = []
    for s, inner in outer.items():
        sloc = r.loc(outer, s, _join(oloc.key, str(s)))
        if str(s) not in states:
            r.issue(sloc, f"unknown state {s!r}; states: {', '.join(states)}")
            continue
        if not isinstance(inner, dict):
            r.issue(sloc, f"expected a mapping action -> ..., got {_kind(inner)}")
            continue
        for a, value in inner.items():
            aloc = r.loc(inner, a, _join(sloc.key, str(a)))
            if str(a) not in actions:
                r.issue(aloc, f"unknown action {a!r}; actions: {', '.join(actions)}")
                continue
            out.append((str(s), str(a), value, aloc))
    return out


def _mdp(r: _Reader, value: Any, loc: Loc) -> MdpSpec | None:
    """`{name, states, actions, transitions: {s: {a: s2 | {s2: p}}}, rewards: {s: {a: r}}}`.

    Every state-action pair needs a transition; its probabilities lie in [0, 1] and sum to
    exactly 1. Rewards not listed are 0.
    """
    node = r.mapping(value, loc, {"name", "states", "actions", "transitions", "rewards"},
                     {"name", "states", "actions", "transitions"})
    if node is None:
        return None
    name = r.name(node.get("name"), r.loc(node, "name", _join(loc.key, "name")), "name") if "name" in node else None
    states = _names(r, node, "states", loc.key, "state")
    actions = _names(r, node, "actions", loc.key, "action")
    transitions: dict[tuple[str, str], tuple[tuple[str, Fraction], ...]] = {}
    for s, a, target, aloc in _table(r, node, "transitions", loc.key, states, actions):
        dist = target if isinstance(target, dict) else {target: 1}
        pairs, total, ok = [], Fraction(0), True
        for s2, p in dist.items():
            ploc = r.loc(dist, s2, _join(aloc.key, str(s2))) if dist is target else aloc
            if isinstance(s2, bool) or str(s2) not in states:
                r.issue(ploc, f"unknown next state {s2!r}; states: {', '.join(states)}")
                ok = False
                continue
            prob = _exact(r, p, ploc, "a probability")
            if prob is None or not 0 <= prob <= 1:
                if prob is not None:
                    r.issue(ploc, f"a probability must lie in [0, 1], got {prob}")
                ok = False
                continue
            pairs.append((str(s2), prob))
            total += prob
        if ok and total != 1:
            r.issue(aloc, f"probabilities of the next states sum to {total}, not 1")
        transitions[s, a] = tuple(pairs)
    missing = [f"({s}, {a})" for s in states for a in actions if (s, a) not in transitions]
    if "transitions" in node and missing:
        r.issue(r.loc(node, "transitions", _join(loc.key, "transitions")),
                f"no transition for {', '.join(missing)}")
    rewards: dict[tuple[str, str], Fraction] = {}
    for s, a, reward, aloc in _table(r, node, "rewards", loc.key, states, actions):
        number = _exact(r, reward, aloc, "a reward")
        if number is not None:
            rewards[s, a] = number
    if name is None or not states or not actions:
        return None
    return MdpSpec(name, states, actions, transitions, rewards, loc)


def _mdp_task(r: _Reader, kind: str, value: Any, loc: Loc) -> PoliciesSpec | EvaluateSpec | None:
    """`policies: {label, mdp, gamma, optimal: {policy, values}}` or
    `evaluate: {label, mdp, gamma, policy, compare, values, loss}`; 0 <= gamma < 1."""
    keys = {"label", "mdp", "gamma"} | ({"optimal"} if kind == "policies"
                                        else {"policy", "compare", "values", "loss"})
    node = r.mapping(value, loc, keys, {"label", "mdp", "gamma"} | ({"policy"} if kind == "evaluate" else set()))
    if node is None:
        return None
    label = r.name(node.get("label"), r.loc(node, "label", _join(loc.key, "label")), "label") \
        if "label" in node else None
    mdp = r.name(node.get("mdp"), r.loc(node, "mdp", _join(loc.key, "mdp")), "mdp") if "mdp" in node else None
    gloc = r.loc(node, "gamma", _join(loc.key, "gamma"))
    gamma = _exact(r, node["gamma"], gloc, "gamma") if "gamma" in node else None
    if gamma is not None and not 0 <= gamma < 1:
        r.issue(gloc, f"the discount gamma must lie in [0, 1), got {gamma}")
        gamma = None
    if label is None or mdp is None or gamma is None:
        return None
    if kind == "policies":
        claim = node.get("optimal")
        if claim is None:
            return PoliciesSpec(label, mdp, gamma, loc)
        cloc = r.loc(node, "optimal", _join(loc.key, "optimal"))
        cnode = r.mapping(claim, cloc, {"policy", "values"}, set())
        if cnode is None:
            return None
        return PoliciesSpec(label, mdp, gamma, loc, _claimed_policy(r, cnode, cloc.key),
                            _claimed_values(r, cnode, "values", cloc.key))
    ploc = r.loc(node, "policy", _join(loc.key, "policy"))
    policy_of = None
    policy: tuple[tuple[str, str, Loc], ...] = ()
    if isinstance(node["policy"], str):
        policy_of = r.name(node["policy"], ploc, "policy (a label of a policies block)")
    else:
        policy = _claimed_policy(r, node, loc.key)
    compare = node.get("compare")
    if compare is not None:
        compare = r.name(compare, r.loc(node, "compare", _join(loc.key, "compare")), "compare")
    loss = _claimed_values(r, node, "loss", loc.key)
    if loss and compare is None:
        r.issue(r.loc(node, "loss", _join(loc.key, "loss")), "a claimed loss needs 'compare'")
    return EvaluateSpec(label, mdp, gamma, loc, policy, policy_of, compare,
                        _claimed_values(r, node, "values", loc.key), loss)


def _claimed_policy(r: _Reader, node: dict, path: str) -> tuple[tuple[str, str, Loc], ...]:
    """`policy: {state: action}` as (state, action, loc); names are checked against the MDP later."""
    if "policy" not in node:
        return ()
    value, loc = node["policy"], r.loc(node, "policy", _join(path, "policy"))
    if not isinstance(value, dict):
        r.issue(loc, f"expected a mapping state -> action, got {_kind(value)}")
        return ()
    out = []
    for s, a in value.items():
        sloc = r.loc(value, s, _join(loc.key, str(s)))
        if _state_name(r, s, sloc, "state") and _state_name(r, a, sloc, "action"):
            out.append((str(s), str(a), sloc))
    return tuple(out)


def _claimed_values(r: _Reader, node: dict, key: str, path: str) -> tuple[tuple[str, Text], ...]:
    """`key: {state: "exact expression"}` (numbers allowed; decimals are exact)."""
    out = []
    for s, v, sloc in _state_entries(r, node, key, path):
        if isinstance(v, bool) or not isinstance(v, (int, float, str)):
            r.issue(sloc, f"expected a number or an expression, got {_kind(v)}")
        else:
            out.append((s, Text(repr(v) if isinstance(v, float) else str(v), sloc)))
    return tuple(out)


def _state_entries(r: _Reader, node: dict, key: str, path: str) -> list[tuple[str, Any, Loc]]:
    if key not in node:
        return []
    value, loc = node[key], r.loc(node, key, _join(path, key))
    if not isinstance(value, dict):
        r.issue(loc, f"expected a mapping state -> value, got {_kind(value)}")
        return []
    return [(str(s), v, r.loc(value, s, _join(loc.key, str(s)))) for s, v in value.items()
            if _state_name(r, s, r.loc(value, s, _join(loc.key, str(s))), "state")]


def _refs(r: _Reader, text: Text) -> tuple[RefSpec, ...]:
    """The `@{label.key(args)}` citations of a paragraph; each must stand inside $...$."""
    out = []
    for m in REF.finditer(text.value):
        body = REF_BODY.match(m.group(1).replace(" ", ""))
        if body is None:
            r.issue(text.loc, f"malformed citation {m.group(0)!r}; write @{{label.v(state)}}, "
                              "@{label.q(state,action)}, @{label.loss(state)} or @{label.gamma}, "
                              "optionally with :4 for 4 decimals")
            continue
        if text.value[: m.start()].count("$") % 2 == 0:
            r.issue(text.loc, f"citation {m.group(0)!r} must stand inside $...$")
            continue
        label, key, args, digits = body.groups()
        out.append(RefSpec(m.group(0), label, key, tuple(args.split(",")) if args else (),
                           int(digits) if digits else None))
    return tuple(out)


def _check_mdp_blocks(r: _Reader, solution: tuple[BlockSpec, ...]) -> None:
    """Cross-references of MDP blocks: names and labels defined earlier, states and actions of
    the named MDP, `compare` at the same MDP and discount, citations of earlier blocks."""
    mdps: dict[str, MdpSpec] = {}
    tasks: dict[str, PoliciesSpec | EvaluateSpec] = {}
    for block in solution:
        if isinstance(block, MdpSpec):
            if block.name in mdps:
                r.issue(block.loc, f"an MDP named '{block.name}' is defined twice")
            mdps[block.name] = block
        elif isinstance(block, (PoliciesSpec, EvaluateSpec)):
            _check_task(r, block, mdps, tasks)
            tasks[block.label] = block
        elif isinstance(block, SaySpec):
            for ref in block.refs:
                _check_ref(r, block.text.loc, ref, tasks, mdps)


def _check_task(r: _Reader, t: PoliciesSpec | EvaluateSpec, mdps: dict[str, MdpSpec],
                tasks: dict[str, PoliciesSpec | EvaluateSpec]) -> None:
    if t.label in tasks:
        r.issue(t.loc, f"label '{t.label}' used twice")
    m = mdps.get(t.mdp)
    if m is None:
        r.issue(t.loc, f"no MDP named '{t.mdp}' defined before this block")
        return
    for s, a, loc in t.policy:
        if s not in m.states:
            r.issue(loc, f"unknown state {s!r}; states: {', '.join(m.states)}")
        elif a not in m.actions:
            r.issue(loc, f"unknown action {a!r}; actions: {', '.join(m.actions)}")
    if t.policy and isinstance(t, EvaluateSpec) and {s for s, _, _ in t.policy} != set(m.states):
        r.issue(t.policy[0][2], f"a policy needs an action for every state: {', '.join(m.states)}")
    for s, text in (*t.values, *(t.loss if isinstance(t, EvaluateSpec) else ())):
        if s not in m.states:
            r.issue(text.loc, f"unknown state {s!r}; states: {', '.join(m.states)}")
    if isinstance(t, EvaluateSpec):
        for key, ref in (("policy", t.policy_of), ("compare", t.compare)):
            other = tasks.get(ref) if ref else None
            if ref and not isinstance(other, PoliciesSpec):
                r.issue(t.loc, f"{key}: no policies block labelled '{ref}' before this block")
            elif other is not None and other.mdp != t.mdp:
                r.issue(t.loc, f"{key}: block '{ref}' is about MDP '{other.mdp}', not '{t.mdp}'")
            elif other is not None and key == "compare" and other.gamma != t.gamma:
                r.issue(t.loc, f"compare: block '{ref}' has gamma {other.gamma}, not {t.gamma}")


def _check_ref(r: _Reader, loc: Loc, ref: RefSpec, tasks: dict[str, PoliciesSpec | EvaluateSpec],
               mdps: dict[str, MdpSpec]) -> None:
    task = tasks.get(ref.label)
    if task is None:
        r.issue(loc, f"citation {ref.token!r}: no policies or evaluate block labelled '{ref.label}' before it")
        return
    kind = "policies" if isinstance(task, PoliciesSpec) else "evaluate"
    arity = REF_KEYS[kind].get(ref.key)
    if arity is None or (ref.key == "loss" and not task.compare):
        known = ", ".join(k for k in REF_KEYS[kind] if k != "loss" or getattr(task, "compare", None))
        r.issue(loc, f"citation {ref.token!r}: a {kind} block offers {known}")
    elif len(ref.args) != arity:
        r.issue(loc, f"citation {ref.token!r}: {ref.key} takes {arity} argument(s)")
    elif ref.args and task.mdp in mdps:
        m = mdps[task.mdp]
        if ref.args[0] not in m.states:
            r.issue(loc, f"citation {ref.token!r}: unknown state {ref.args[0]!r}")
        elif arity == 2 and ref.args[1] not in m.actions:
            r.issue(loc, f"citation {ref.token!r}: unknown action {ref.args[1]!r}")


PROBLEM_KEYS = {"id", "title", "points", "statement", "symbols", "functions", "spaces",
                "definitions", "hypotheses", "solution", "errata"}
ERRATUM_TEXTS = ("source", "place", "says", "correction")


def _erratum(r: _Reader, value: Any, loc: Loc, chains: set[str]) -> ErratumSpec | None:
    """`{source, place, says, correction: prose, chain: label}`; `chain` names a chain of this problem."""
    node = r.mapping(value, loc, {*ERRATUM_TEXTS, "chain"}, set(ERRATUM_TEXTS))
    if node is None:
        return None
    texts = [r.string(node, key, loc.key, required=True) for key in ERRATUM_TEXTS]
    chain = node.get("chain")
    if chain is not None and (not isinstance(chain, str) or chain not in chains):
        known = ", ".join(sorted(chains)) or "none"
        r.issue(r.loc(node, "chain", _join(loc.key, "chain")),
                f"not a chain label of this problem: {str(chain)[:40]!r} (known: {known})")
        chain = None
    for text in filter(None, texts):
        _tex(r, text.loc, texguard.prose_parts, text.value)
    if any(t is None for t in texts):
        return None
    source, place, says, correction = texts
    return ErratumSpec(source, place, says, correction, chain, loc)


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
    spaces: dict[str, int | str] = {}
    sized: dict[str, Loc] = {}
    for name, size, loc in r.entries(node, "spaces", ""):
        if isinstance(size, int) and not isinstance(size, bool) and 1 <= size <= 6:
            spaces[name] = size
        elif isinstance(size, str) and size.isidentifier():  # a size for every n: instances vary it
            spaces[name] = size
            sized[size] = loc
        else:
            r.issue(loc, f"a space's size must be a whole number from 1 to 6, or the name of a positive "
                         f"integer symbol (a space of any size), got {size!r}")
    solution = tuple(b for item, loc in r.sequence(node, "solution", "") if (b := _block(r, item, loc)))
    _check_mdp_blocks(r, solution)
    labels = {b.label for b in solution if isinstance(b, ChainSpec)}
    errata = tuple(e for item, loc in r.sequence(node, "errata", "") if (e := _erratum(r, item, loc, labels)))
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
        errata=errata,
    )
    if isinstance(pid, str):
        _tex(r, r.loc(node, "id", "id"), texguard.check_line, pid, "id")
    _check_tex(r, spec, title)
    whole = {sym.name for sym in spec.symbols if {"positive", "integer"} <= set(sym.assumptions)}
    for size, loc in sized.items():
        if size not in whole:
            r.issue(loc, f"the size '{size}' of a space must be a symbol declared positive integer")
    return spec, r.issues


def _tex(r: _Reader, loc: Loc, check: Callable[..., Any], value: str, *args: Any) -> None:
    try:
        check(value, *args)
    except texguard.TexError as exc:
        r.issue(loc, str(exc))


def _check_tex(r: _Reader, spec: ProblemSpec, title: Text | None) -> None:
    """Prose and LaTeX fields pass the TeX allow-list of derive/texguard.py."""
    if title is not None:
        _tex(r, title.loc, texguard.inline_prose, title.value)
    for text in [spec.statement] + [b.text for b in spec.solution if isinstance(b, SaySpec)]:
        _tex(r, text.loc, texguard.prose_parts, text.value)
    for block in spec.solution:
        if isinstance(block, AnswerSpec) and block.text:
            _tex(r, block.loc, texguard.prose_parts, block.text)
    fields = [t for sym in spec.symbols for t in (sym.latex, sym.long)]
    fields += [item.latex for item in (*spec.functions, *spec.definitions)]
    for text in fields:
        if text is not None:
            _tex(r, text.loc, texguard.check_math, text.value)


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
    r = _Reader(str(path))
    data = _read_yaml(path)
    node = r.mapping(data, Loc(str(path), 1, TOP), {"title", "course", "order"}, {"title", "order"})
    problems: list[ProblemRef] = []
    title = course = None
    if node is not None:
        title = r.string(node, "title", "", required=True)
        course = r.string(node, "course", "")
        for text in (title, course):
            if text is not None:
                _tex(r, text.loc, texguard.inline_prose, text.value)
        seen: set[str] = set()
        for stem, loc in r.sequence(node, "order", ""):
            if r.name(stem, loc, "problem file stem") is None:
                continue
            if len(stem) > MAX_STEM:
                r.issue(loc, f"a problem file stem has at most {MAX_STEM} characters, got {len(stem)}")
                continue
            if stem in seen:
                r.issue(loc, f"problem {stem!r} is listed twice")
                continue
            seen.add(stem)
            ppath = set_dir / f"{stem}.yaml"
            if not ppath.is_file():
                r.issue(loc, f"no problem file {ppath.name} in {set_dir}")
                continue
            if not _inside(ppath, root / "problems"):
                r.issue(loc, f"{ppath.name} is a link to a file outside problems/; copy the file instead")
                continue
            problems.append(_problem_ref(stem, ppath))
    if r.issues:
        raise SpecError(r.issues)
    return SetSpec(name, title.value if title else name, course.value if course else "", tuple(problems))


def _inside(path: Path, base: Path) -> bool:
    """True when `path`, links resolved, lies inside `base` (links resolved too)."""
    return path.resolve().is_relative_to(base.resolve())


def _problem_ref(stem: str, path: Path) -> ProblemRef:
    """Id and title of a problem file, read without validating the rest. A file that cannot be
    read gives id and title '?': its issues are reported when that problem is derived, so the
    other problems still build."""
    try:
        data = _read_yaml(path)
    except SpecError:
        return ProblemRef(stem, path, "?", "?")
    if not isinstance(data, dict):
        return ProblemRef(stem, path, "?", "?")
    return ProblemRef(stem, path, _ref_text(data.get("id")), _ref_text(data.get("title")))


def _ref_text(value: Any) -> str:
    """An id or title for the progress lines: a string cut to one short line, else '?'."""
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        return "?"
    text = " ".join(str(value).split())
    return text if len(text) <= 60 else text[:60] + "..."


def list_sets(root: Path) -> list[SetSpec]:
    """Every set under problems/ that has a set.yaml, by name."""
    base = root / "problems"
    if not base.is_dir():
        return []
    return [load_set(root, d.name) for d in sorted(base.iterdir()) if (d / "set.yaml").is_file()]
