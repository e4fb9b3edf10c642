"""Phase 1 of the engine: every chain planned before anything is performed.

Each chain's start, assumptions, rule names, rule parameters (by the kinds the rule
declares) and claimed expressions are parsed, and the claimed values of MDP blocks read as
exact rationals; every issue found is recorded with its location, none raised, so that the
engine reports them all at once (derive/engine.py runs phase 2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from derive.errors import Loc, SpecIssue
from derive.exprs import ExprSyntaxError, evaluated, parse_relations
from derive.plaintext import plain
from derive.rules import REGISTRY, Rule
from derive.scope import Scope, parse_text
from derive.spec import AnswerSpec, ChainSpec, EvaluateSpec, PoliciesSpec, ProblemSpec, StepSpec, Text


@dataclass(frozen=True)
class PlannedStep:
    """A step with its expressions parsed and its rule resolved."""

    spec: StepSpec
    rule: Rule | None
    args: dict[str, Any]
    to: Any


@dataclass(frozen=True)
class PlannedChain:
    """A chain with its expressions parsed."""

    spec: ChainSpec
    start: Any
    assume: tuple[Any, ...]
    steps: tuple[PlannedStep, ...]


def plan_chains(spec: ProblemSpec, scope: Scope, defined: set[str], issues: list[SpecIssue]) -> dict[str, PlannedChain]:
    plans: dict[str, PlannedChain] = {}
    for block in spec.solution:
        if isinstance(block, ChainSpec):
            if block.label in plans:
                issues.append(SpecIssue(block.loc, f"chain label '{block.label}' used twice"))
            plans[block.label] = _plan_chain(block, scope, defined, issues)
        elif isinstance(block, AnswerSpec):
            for label in filter(None, (block.chain, block.below)):
                if label not in plans:
                    issues.append(SpecIssue(block.loc, f"no chain labelled '{label}' before this answer"))
    return plans


def _plan_chain(c: ChainSpec, scope: Scope, defined: set[str], issues: list[SpecIssue]) -> PlannedChain:
    start = parse_text(c.start, scope, issues)
    assume: list[Any] = []
    for text in c.assume:
        try:
            assume.extend(parse_relations(text.value, scope.ns))
        except ExprSyntaxError as exc:
            issues.append(SpecIssue(text.loc, str(exc)))
    steps = []
    for s in c.steps:
        rule = None
        if s.by is not None:
            rule = REGISTRY.get(s.by)
            if rule is None:
                issues.append(SpecIssue(s.by_loc or s.loc, f"unknown rule '{s.by}'; known rules: "
                                                          f"{', '.join(sorted(REGISTRY))}"))
        args = _rule_args(s, rule, scope, defined, issues) if rule else {}
        if rule and rule.prove and not s.to:
            issues.append(SpecIssue(s.by_loc or s.loc, f"rule '{rule.name}' proves a claim: give the claim as `to`"))
        to = parse_text(s.to, scope, issues) if s.to else None
        steps.append(PlannedStep(s, rule, args, to))
    return PlannedChain(c, start, tuple(assume), tuple(steps))


def _rule_args(s: StepSpec, rule: Rule, scope: Scope, defined: set[str], issues: list[SpecIssue]) -> dict[str, Any]:
    """Parse a step's rule parameters by the kinds the rule declares."""
    known = {p.name: p for p in rule.params}
    for key in s.params:
        if key not in known:
            issues.append(SpecIssue(s.param_locs[key], f"rule '{rule.name}' takes no parameter '{key}'"
                                    + (f"; it takes: {', '.join(known)}" if known else "")))
    args: dict[str, Any] = {}
    for p in rule.params:
        if p.name not in s.params:
            if p.required:
                issues.append(SpecIssue(s.loc, f"rule '{rule.name}' needs parameter '{p.name}' ({p.kind})"))
            continue
        value, loc = s.params[p.name], s.param_locs[p.name]
        if p.kind == "int":
            if isinstance(value, int) and not isinstance(value, bool):
                args[p.name] = value
            else:
                issues.append(SpecIssue(loc, f"expected a whole number, got {value!r}"))
            continue
        if not isinstance(value, str):
            issues.append(SpecIssue(loc, f"expected a string ({p.kind}), got {type(value).__name__}"))
            continue
        if p.kind == "expr":
            parsed = parse_text(Text(value, loc), scope, issues)
            if parsed is not None:
                args[p.name] = evaluated(parsed)
        elif p.kind == "symbol":
            if value in scope.ns.symbols:
                args[p.name] = scope.ns.symbols[value]
            else:
                issues.append(SpecIssue(loc, f"undefined symbol '{value}'"))
        elif p.kind == "definition":
            if value in scope.definitions or value in defined:
                args[p.name] = value
            else:
                issues.append(SpecIssue(loc, f"no definition named '{value}'"))
        elif p.kind == "hypothesis":
            if value in scope.hypotheses:
                args[p.name] = value
            else:
                issues.append(SpecIssue(loc, f"no hypothesis named '{value}'"))
    return args


def plan_claims(spec: ProblemSpec, issues: list[SpecIssue]) -> dict[Loc, Any]:
    """Claimed values of MDP blocks as exact rationals, keyed by where they stand."""
    out: dict[Loc, Any] = {}
    for block in spec.solution:
        if isinstance(block, (PoliciesSpec, EvaluateSpec)):
            for _, text in (*block.values, *(block.loss if isinstance(block, EvaluateSpec) else ())):
                value = parse_text(text, Scope(), issues)
                if value is None:
                    continue
                value = evaluated(value)
                if value.is_Rational:
                    out[text.loc] = value
                else:
                    issues.append(SpecIssue(text.loc, f"a claimed value must be an exact rational number, "
                                                      f"got {plain(value)}"))
    return out
