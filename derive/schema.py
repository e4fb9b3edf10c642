"""The structure of set.yaml and of a problem file, declared once (pydantic models).

Rules:
- These models are the only statement of which keys exist, their types, which are required
  and how they nest. derive/validate.py checks a file against them (every issue with its
  line); `json_schema` turns them into the JSON Schemas that editors use
  (derive/schemas/derive-KIND.schema.json, the output of `derive schema KIND`).
- Strict types: a number is not a string, "yes" is not true; unknown keys are errors.
- Scalars with a rule of their own (identifiers, exact numbers, state names, relations ...)
  and unions are the types of derive/schema_types.py.
- Relations between keys (a `given` below the number of arguments, states named in an MDP's
  tables, labels defined earlier) are checked when the spec objects are built (derive/spec.py,
  derive/spec_mdp.py, derive/figures.py).
"""

import json
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Annotated, Any, ClassVar, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from derive.schema_types import (ASSUMPTIONS, IDENT, Exact, Expr, Ident, Nonempty, Relation, SpaceSize, State,
                                 Keys, Structure, Whole, Words, by_state, by_type, kind, Points, ProblemId,
                                 refuse, union)

class Spec(BaseModel):
    """Base: strict types, unknown keys refused. `hints` replace the generic message of an
    issue `(error type, key)` (e.g. a missing key) with the spec's own words. `stand_ins`
    fill a required key that is missing or broken (a function of the key's path where the
    value must be unique), so that the rest of its mapping is still read and checked, and
    `KEY.*` fills a broken entry of the mapping KEY (so its name stays declared). Each is
    inert: an expression `0`, prose `?`, a label no author writes, an empty list, no
    assumptions; the engine reports nothing about a stand-in."""

    model_config = ConfigDict(strict=True, extra="forbid", populate_by_name=True, frozen=True)
    hints: ClassVar[dict[tuple[str, str], str]] = {}
    stand_ins: ClassVar[dict[str, Any]] = {}


class Chapter(Spec):
    """A chapter of a set: a heading and its problems, in booklet order."""

    title: Nonempty = Field(description="Chapter heading (prose, inline math only).")
    order: list[Ident] = Field(description="Problem file stems of this chapter, in booklet order.")
    stand_ins = {"title": "?", "order": []}


class SetFile(Spec):
    """problems/<set>/set.yaml: the problems either in one `order` or in `chapters`."""

    title: Nonempty = Field(description="Booklet title (prose, inline math only).")
    course: str = Field("", description="Course name (prose, inline math only).")
    order: list[Ident] = Field([], description="Problem file stems, in booklet order (a set without chapters).")
    chapters: list[Chapter] = Field([], description="Chapters, each a heading and its problems (instead of `order`).")
    stand_ins = {"title": "?"}


class Symbol(Spec):
    """A declared symbol with SymPy assumptions, printing and instance options."""

    real: bool = False
    positive: bool = False
    nonnegative: bool = False
    negative: bool = False
    nonzero: bool = False
    integer: bool = False
    latex: str | None = Field(None, description="How the symbol prints (TeX math).")
    long: str | None = Field(None, description="Written-out form for answers with long: true.")
    space: Ident | None = Field(None, description="The finite space it ranges over on instances.")
    random: bool = False
    mean_zero: bool = False
    indexed: bool = Field(False, description="Written b[k], printed b_k.")
    shape: list[Expr] | None = Field(None, description="[rows, columns] of a matrix symbol.")
    structure: Structure | None = None
    sigma_max: Expr | None = Field(None, description="Largest singular value of its instances.")


class Function(Spec):
    """An unknown function: the space of each argument."""

    args: list[Ident] = Field(description="Space of each argument (R for the real line).")
    given: Whole = Field(0, description="Trailing arguments printed after the conditioning bar.")
    density: bool = False
    latex: str | None = None
    subscript: bool = False


class Definition(Spec):
    """name(args) := body; `at` gives base cases of a recursive one-argument definition."""

    args: list[Ident] = Field([], description="Parameters (need not be declared).")
    body: Nonempty = Field(description="The defining expression.")
    latex: str | None = None
    at: Annotated[dict[Whole, Nonempty], Keys("^[0-9]+$")] | None = Field(
        None, description="Base cases {whole number: expression} of a recursive definition.")
    subscript: bool = Field(False, description="Print f(k) as f_k.")
    given: Whole = Field(0, description="Trailing parameters printed after the conditioning bar.")
    density: bool = Field(False, description="The body is a probability density (mass) in its leading "
                                             "parameters (those before `given`): checked non-negative and "
                                             "normalised over their spaces.")
    stand_ins = {"body": "0"}


class Hypothesis(Spec):
    """A given relation lhs rel rhs, used by the `use` rule."""

    lhs: Nonempty
    rel: Relation = Field("=", description="One of = <= < >= >.")
    rhs: Nonempty
    stand_ins = {"lhs": "0", "rhs": "0"}


class RuleStep(Spec):
    """A step naming a rule; every other key is a parameter of that rule."""

    model_config = ConfigDict(extra="allow")
    by: Ident = Field(description="The rule the engine performs (docs/rules.md).")
    to: Nonempty | None = Field(None, description="Claimed result; must equal the rule's.")
    rel: Relation = Field("=", description="Relation to the previous expression: = <= < >= >.")
    why: str | None = Field(None, description="Justification printed beside the step (inline prose).")


class ClaimStep(Spec):
    """A step that claims the next expression; the engine proves it."""

    to: Nonempty = Field(description="The claimed next expression; the engine proves it.")
    rel: Relation = Field("=", description="Relation to the previous expression: = <= < >= >.")
    why: str | None = Field(None, description="Justification printed beside the step (inline prose).")
    hints = {("missing", "to"): "a step needs 'by' (a rule) or 'to' (a claimed expression)",
             ("extra_forbidden", ""): "unknown key; a claim step takes only to, rel, why (rule parameters need 'by')"}
    stand_ins = {"to": "0"}


Step = union(lambda v: "~rule" if isinstance(v, dict) and "by" in v else "~claim",
              (RuleStep, "~rule"), (ClaimStep, "~claim"))


class Chain(Spec):
    """A chain of steps from `start`, under `assume`."""

    label: Ident = Field(description="Unique name of the chain (answers and later chains use it).")
    defines: Ident | None = Field(None, description="Later chains may use this name for the result.")
    assume: list[str] = Field([], description="Relations used by certificates, sampling and instances.")
    start: Nonempty = Field(description="The first expression.")
    steps: list[Step] = Field(min_length=1, description="Each step: `by` a rule, `to` a claim, or both.")
    hints = {("too_short", "steps"): "a chain needs at least one step"}
    stand_ins = {"label": lambda path: f"unlabelled_{path[1]}", "start": "0"}  # path: solution, i, chain, label


class Answer(Spec):
    """The boxed answer: the relation a chain established."""

    chain: Nonempty = Field(description="The chain whose relation is boxed.")
    below: Nonempty | None = Field(None, description="A chain bounding the same start from below.")
    text: str = Field("", description="Prose after the boxed answer.")
    long: bool = Field(False, description="Print symbols in their `long` form.")


class Mdp(Spec):
    """A finite MDP: transitions {state: {action: next | {next: p}}}, rewards {state: {action: r}}."""

    name: Ident
    states: list[State] = Field(min_length=1)
    actions: list[State] = Field(min_length=1)
    transitions: by_state(by_state(union(by_type, (State, "~text"), (by_state(Exact), "~map"))))
    rewards: by_state(by_state(Exact)) = {}
    hints = {("too_short", "states"): "needs at least one state", ("too_short", "actions"): "needs at least one action"}


class Optimal(Spec):
    """Claimed optimal actions and values (checked)."""

    policy: by_state(State) = {}
    values: by_state(Expr) = {}


class Policies(Spec):
    """Every deterministic policy of an MDP, evaluated and ranked at discount gamma."""

    label: Ident
    mdp: Ident
    gamma: Exact = Field(description="The discount, in [0, 1); decimals are exact.")
    optimal: Optimal | None = Field(None, description="Claimed optimal actions and values (checked).")


class Evaluate(Spec):
    """One policy evaluated; with `compare`, its loss against a policies block."""

    label: Ident
    mdp: Ident
    gamma: Exact
    policy: union(by_type, (Ident, "~text"), (by_state(State), "~map")) = Field(
        description="A policies block's label (its optimal policy), or {state: action}.")
    compare: Ident | None = None
    values: by_state(Expr) = {}
    loss: by_state(Expr) = {}


class Curve(Spec):
    """One curve of a plot."""

    y: Nonempty
    label: str | None = None
    dashed: bool = False


class Plot(Spec):
    """Curves sampled over the range from..to of the symbol x."""

    x: Nonempty
    from_: Exact = Field(alias="from")
    to: Exact
    xlabel: str | None = None
    ylabel: str | None = None
    curves: list[Curve] = Field(min_length=1)
    hints = {("too_short", "curves"): "a plot needs at least one curve"}


FIGURE_KINDS = ("plot", "mdp", "values")


class Figure(Spec):
    """A figure drawn from the problem's objects: exactly one of plot, mdp, values."""

    model_config = ConfigDict(json_schema_extra={"oneOf": [{"required": [k]} for k in FIGURE_KINDS]})
    label: Ident = Field(description="Names the files build/SET/figures/<problem>-<label>.pdf/.svg.")
    caption: Nonempty
    plot: Plot | None = None
    mdp: Ident | None = Field(None, description="The diagram of an earlier mdp block.")
    values: union(lambda v: "~list" if isinstance(v, list) else "~text",
                   (Ident, "~text"), (list[Ident], "~list")) | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> "Figure":
        if sum(getattr(self, k) is not None for k in FIGURE_KINDS) != 1:
            raise refuse(f"a figure has exactly one of: {', '.join(FIGURE_KINDS)}")
        return self


class Erratum(Spec):
    """A mistake in a source and its correction (prose); `chain` carries the correction."""

    source: Nonempty
    place: Nonempty
    says: Nonempty
    correction: Nonempty
    chain: Ident | None = Field(None, description="The chain of this problem that carries the correction.")
    stand_ins = dict.fromkeys(("source", "place", "says", "correction"), "?")


def _block(name: str, body: Any) -> type[Spec]:
    return type(f"{name.capitalize()}Block", (Spec,), {"__annotations__": {name: body},
                                                        "__doc__": f"A `{name}` block."})


BLOCKS: dict[str, Any] = {
    "say": Nonempty, "chain": Chain, "answer": union(by_type, (Nonempty, "~text"), (Answer, "~map")),
    "mdp": Mdp, "policies": Policies, "evaluate": Evaluate, "figure": Figure}
BLOCK_MODELS = {name: _block(name, body) for name, body in BLOCKS.items()}


def _block_tag(value: Any) -> str | None:
    return f"~{next(iter(value))}" if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in BLOCKS \
        else None


Block = Annotated[Union[tuple(Annotated[m, Tag(f"~{n}")] for n, m in BLOCK_MODELS.items())],
                  Discriminator(_block_tag, custom_error_type="block",
                                custom_error_message=f"a solution block has exactly one of: {', '.join(BLOCKS)}")]


class ProblemFile(Spec):
    """One problem file of problems/<set>/."""

    id: ProblemId = Field(description='Section number; quote it: "1.1".')
    title: Nonempty = Field(description="Section title (prose, inline math only).")
    points: Points | None = Field(None, description="Shown beside the title.")
    statement: Nonempty = Field(description="The question (prose with $math$).")
    symbols: dict[Ident, union(by_type, (Words, "~text"), (Symbol, "~map"))] = Field(
        {}, description='Declared symbols: "positive integer" or {latex: ..., space: ..., shape: ...}.')
    functions: dict[Ident, Function] = Field({}, description="Unknown functions, e.g. densities.")
    spaces: dict[Ident, SpaceSize] = Field(
        {}, description="Finite spaces: a size 1..6 or a positive-integer symbol (any size).")
    definitions: dict[Ident, union(by_type, (Nonempty, "~text"), (Definition, "~map"))] = Field(
        {}, description="Named definitions, unfolded by `unfold` and by the verifier.")
    hypotheses: dict[Ident, Hypothesis] = Field({}, description="Given relations, used by `use`.")
    solution: list[Block] = Field(description="Blocks: say, chain, answer, mdp, policies, evaluate, figure.")
    errata: list[Erratum] = Field([], description="Mistakes of the source and their corrections.")
    aliases: dict[Nonempty, Nonempty] = Field(
        {}, description="For `derive check`: a student's LaTeX (the key) and the spec expression it means.")
    stand_ins = {"id": "?", "title": "?", "statement": "?", "solution": [], "symbols.*": ""}


FILES: dict[str, type[Spec]] = {"problem": ProblemFile, "set": SetFile}


def json_schema(name: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a `problem` or `set` file."""
    schema = FILES[name].model_json_schema(by_alias=True)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **_closed(schema)}


def _closed(node: Any) -> Any:
    """Mappings keyed by a pattern (identifiers) take no other keys, as the validator."""
    if isinstance(node, list):
        return [_closed(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _closed(v) for k, v in node.items()}
    if "patternProperties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def schema_text(name: str) -> str:
    """The published form of `json_schema(name)`: derive/schemas/derive-NAME.schema.json."""
    return json.dumps(json_schema(name), indent=2, ensure_ascii=False) + "\n"


def schema_file(name: str) -> Traversable:
    """The installed file of the schema of `name` (package data)."""
    return files("derive").joinpath("schemas", f"derive-{name}.schema.json")
