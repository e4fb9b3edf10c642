"""Plain data passed down the pipeline: engine -> verify -> render.

Expressions are SymPy objects; nothing here builds LaTeX.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from derive.errors import Loc

Method = Literal["symbolic", "instance", "numeric"]
RELATIONS = ("=", "<=", "<", ">=", ">")
# the `structure` a matrix symbol may declare; derive.matrices.random_matrix draws each kind
STRUCTURES = ("orthonormal_columns", "diagonal", "positive_diagonal", "identity", "permutation", "invertible", "ones",
              "symmetric", "spd")


@dataclass(frozen=True)
class Verdict:
    """How a step was checked: the method and a one-line account of the check."""

    method: Method
    detail: str


@dataclass(frozen=True)
class Step:
    """One step of a chain: `previous rel expr`, produced by `rule`, checked as `verdict`."""

    rel: str
    expr: Any
    rule: str
    why: str
    loc: Loc
    verdict: Verdict | None = None


@dataclass(frozen=True)
class Chain:
    """A chain start rel1 e1 rel2 e2 ... under assumptions (SymPy relationals)."""

    label: str
    start: Any
    steps: tuple[Step, ...]
    assume: tuple[Any, ...] = ()
    loc: Loc | None = None

    @property
    def relation(self) -> str:
        """The relation between start and last expression (= unless an inequality occurs)."""
        rels = {s.rel for s in self.steps} - {"="}
        if not rels:
            return "="
        if rels <= {"<=", "<"}:
            return "<" if "<" in rels else "<="
        if rels <= {">=", ">"}:
            return ">" if ">" in rels else ">="
        raise ValueError(f"chain mixes {sorted(rels)}")


@dataclass(frozen=True)
class Say:
    """Prose: plain text with $inline math$; `refs` maps each cited token `@{...}` to its
    checked exact value and the decimals to print (None: exact)."""

    text: str
    refs: tuple[tuple[str, Any, int | None], ...] = ()


@dataclass(frozen=True)
class Answer:
    """The boxed result: the relation a chain established, start to end; with `below`, a
    second chain from the same start gives the lower bound: low <= start <= end."""

    chain: Chain
    text: str = ""
    long: bool = False
    below: Chain | None = None

    def __post_init__(self) -> None:
        """A lower chain must start where the main chain starts and bound it from below."""
        if self.below is not None:
            if self.below.start != self.chain.start:
                raise ValueError(f"chains {self.below.label} and {self.chain.label} start differently")
            if self.below.relation not in (">=", ">") or self.chain.relation not in ("=", "<=", "<"):
                raise ValueError(f"chain {self.below.label} must bound from below ({self.below.relation}) and "
                                 f"{self.chain.label} from above ({self.chain.relation})")


@dataclass(frozen=True)
class MDP:
    """A finite MDP with exact numbers: P(s2 | s, a) as (s2, p) pairs and rewards r(s, a)."""

    name: str
    states: tuple[str, ...]
    actions: tuple[str, ...]
    transitions: dict[tuple[str, str], tuple[tuple[str, Any], ...]]
    rewards: dict[tuple[str, str], Any]
    loc: Loc

    def reward(self, s: str, a: str) -> Any:
        """r(s, a); pairs without a listed reward earn 0."""
        return self.rewards.get((s, a), 0)


@dataclass(frozen=True)
class Checked:
    """One printed number or policy row with the verdict of its check and a short name
    (`v(0)`, `loss(2)`, `policy(-,-,+,+)`) for the table of checks."""

    name: str
    value: Any
    verdict: Verdict
    loc: Loc


@dataclass(frozen=True)
class PolicyRow:
    """A deterministic policy (one action per state, in state order), its exact values and
    the verdict that they solve its Bellman equations."""

    policy: tuple[str, ...]
    values: tuple[Any, ...]
    verdict: Verdict
    optimal: bool


@dataclass(frozen=True)
class PolicyTable:
    """Every deterministic policy of `mdp` at discount `gamma`, evaluated exactly; the optimal
    policy, its values v*(s) (each certified by the Bellman optimality condition) and the
    action values q*(s, a) that certificate computed."""

    label: str
    mdp: MDP
    gamma: Any
    rows: tuple[PolicyRow, ...]
    policy: tuple[str, ...]
    optimal: tuple[Checked, ...]
    q: dict[tuple[str, str], Any]
    loc: Loc


@dataclass(frozen=True)
class PolicyEvaluation:
    """One policy evaluated at `gamma` (values certified by substitution); with `compare`,
    the optimal values of that table, the losses v*(s) - v(s) and the first state and action
    where one greedy step improves on the policy, with q(s, a) (None when it is optimal)."""

    label: str
    mdp: MDP
    gamma: Any
    policy: tuple[str, ...]
    source: str
    values: tuple[Checked, ...]
    compare: PolicyTable | None
    losses: tuple[Checked, ...]
    improvement: tuple[str, str, Checked] | None
    loc: Loc


@dataclass(frozen=True)
class Figure:
    """A figure drawn from checked objects (derive.figures): `kind` plot (`data` is the x
    samples, then (label, dashed, y samples) per curve), mdp (the diagram of `mdp`) or values
    (the value of every policy of each table in `tables`); `text` holds caption and axis labels."""

    label: str
    kind: str
    text: dict[str, str]
    data: tuple
    mdp: MDP | None
    tables: tuple[PolicyTable, ...]


Block = Say | Chain | Answer | MDP | PolicyTable | PolicyEvaluation | Figure


@dataclass(frozen=True)
class Notation:
    """How names print: LaTeX overrides, functions printed as conditionals p(x | z) or with
    subscripts h_k, and the long (written out) form of symbols used in boxed answers."""

    symbol_latex: dict[str, str] = field(default_factory=dict)
    function_latex: dict[str, str] = field(default_factory=dict)
    given: dict[str, int] = field(default_factory=dict)
    subscript: frozenset[str] = frozenset()
    symbol_long: dict[str, str] = field(default_factory=dict)

    def long(self) -> "Notation":
        """The same notation with symbols written out in full (for boxed answers)."""
        return Notation({**self.symbol_latex, **self.symbol_long}, self.function_latex, self.given,
                        self.subscript, self.symbol_long)


@dataclass(frozen=True)
class Erratum:
    """A place where a source is wrong and the verified correction (spec prose, unrendered);
    `chain` is the label of the chain that carries the correction, if one does."""

    source: str
    place: str
    says: str
    correction: str
    chain: str | None


@dataclass(frozen=True)
class Derivation:
    """One problem, derived and checked, ready to render."""

    set_name: str
    stem: str
    id: str
    title: str
    points: float | None
    statement: str
    blocks: tuple[Block, ...]
    notation: Notation
    errata: tuple[Erratum, ...] = ()
