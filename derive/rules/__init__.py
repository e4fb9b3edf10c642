"""The one registry of named rules. A rule turns the current expression into the next.

A rule is plain data: its name, a one-line statement (the default justification printed
beside the step), the parameters it takes, and the function that performs it. Rules are
not trusted: every result they produce is checked by derive.verify like any claim.
Importing this package registers every rule module below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Literal

ParamKind = Literal["expr", "symbol", "definition", "hypothesis", "int"]


@dataclass(frozen=True)
class Param:
    """A rule parameter: its key in the step mapping, its kind, and whether it is required."""

    name: str
    kind: ParamKind
    required: bool = True


def same(prev: Any, rel: str, nxt: Any, args: dict, ctx: Any) -> tuple[Any, str, Any]:
    """The default claim of a step: previous rel next."""
    return prev, rel, nxt


@dataclass(frozen=True)
class Rule:
    """A named rewrite `apply(expr, args, ctx) -> expr`, documented by `statement`.

    `claim` says which relation the verifier must check for a step made with this rule;
    for most rules it is the step itself (previous rel next). A proof rule (`prove` set,
    e.g. induction) computes nothing: its step must claim `to`, and `prove(previous, rel,
    next, args, ctx)` returns the verdict for that claim (raising StepRejected or RuleError)
    in place of the verifier's check.
    """

    name: str
    statement: str
    params: tuple[Param, ...]
    apply: Callable[..., Any]
    claim: Callable[..., tuple[Any, str, Any]] = same
    prove: Callable[..., Any] | None = None


class RuleError(ValueError):
    """The rule does not apply to this expression; the message names the subexpression and why."""


def shown(expr: Any) -> str:
    """An expression as an author wrote it, in backquotes, cut at 160 characters."""
    import sympy as sp  # only where a message is formed

    text = sp.sstr(expr)
    return f"`{text if len(text) <= 160 else text[:157] + '...'}`"


REGISTRY: dict[str, Rule] = {}


def rule(name: str, statement: str, *params: Param, claim: Callable[..., tuple[Any, str, Any]] = same,
         prove: Callable[..., Any] | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the decorated function as rule `name`."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        if name in REGISTRY:
            raise RuntimeError(f"rule {name!r} registered twice")
        REGISTRY[name] = Rule(name, statement, tuple(params), fn, claim, prove)
        return fn

    return register


from derive.rules import (  # noqa: E402,F401  (registers)
    algebra, calculus, combinatorics, costs, densities, gaussian_matrix, induction, piecewise, probability, sequences)
