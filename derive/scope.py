"""The names a problem declares and what they mean: built once from a ProblemSpec.

Symbols carry SymPy assumptions; unknown functions carry the spaces of their arguments
(for random instances); definitions and hypotheses are rewrite rules name(params) -> body.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sympy as sp
from sympy.core.function import AppliedUndef

from derive import ops
from derive.errors import Loc, SpecIssue
from derive.exprs import ExprSyntaxError, Namespace, evaluated, parse
from derive.matrices import is_matrix
from derive.spec import ProblemSpec, Text

MAX_UNFOLD = 64


class BelowBaseCase(Exception):
    """A recursive definition called below its lowest base case (h(-1) with h(0) given)."""


@dataclass(frozen=True)
class Rewrite:
    """head(params) -> body; `at` holds base cases of a recursive definition."""

    name: str
    params: tuple[sp.Symbol, ...]
    body: Any
    rel: str = "="
    lhs: Any = None
    at: tuple[tuple[int, Any], ...] = ()
    head: str = ""

    def matches(self, expr: Any) -> bool:
        """Is expr an application of this rewrite's head?"""
        if self.lhs is not None and not self.params:
            return expr == self.lhs
        head = self.head or self.name
        return isinstance(expr, AppliedUndef) and expr.func.__name__ == head and len(expr.args) == len(self.params)

    def matches_concrete(self, expr: Any) -> bool:
        """As `matches`, but a recursive definition only at a whole-number argument."""
        return self.matches(expr) and (not self.at or expr.args[0].is_Integer)

    def apply(self, expr: Any) -> Any:
        """The body with the arguments of `expr` put for the parameters. A definition with
        base cases (`at`: a recursion that counts down to them) called below the lowest one
        raises BelowBaseCase at once."""
        if not self.params:
            return self.body
        if len(self.params) == 1 and self.at and expr.args[0].is_Integer:
            for k, base in self.at:
                if expr.args[0] == k:
                    return base
            lowest = min(k for k, _ in self.at)
            if expr.args[0] < lowest:
                head = self.head or self.name
                raise BelowBaseCase(f"{head}({expr.args[0]}) lies below the base case {head}({lowest}) of its "
                                    f"recursive definition")
        return self.body.xreplace(dict(zip(self.params, expr.args)))


@dataclass(frozen=True)
class FunctionInfo:
    """An unknown function: the space of each argument, conditional bar, density or not."""

    name: str
    spaces: tuple[str, ...]
    given: int
    density: bool


@dataclass
class Scope:
    """Everything a problem declared, as SymPy objects."""

    ns: Namespace = field(default_factory=Namespace)
    definitions: dict[str, Rewrite] = field(default_factory=dict)
    hypotheses: dict[str, Rewrite] = field(default_factory=dict)
    functions: dict[str, FunctionInfo] = field(default_factory=dict)
    spaces: dict[str, Any] = field(default_factory=dict)  # a size: an int, or a whole-number symbol
    symbol_space: dict[sp.Symbol, str] = field(default_factory=dict)
    indexed_space: dict[str, str] = field(default_factory=dict)
    random: set[sp.Symbol] = field(default_factory=set)
    mean_zero: set[sp.Symbol] = field(default_factory=set)
    shapes: dict[sp.Symbol, tuple[Any, ...]] = field(default_factory=dict)
    structure: dict[sp.Symbol, str] = field(default_factory=dict)
    sigma_max: dict[sp.Symbol, sp.Rational] = field(default_factory=dict)
    symbol_latex: dict[str, str] = field(default_factory=dict)
    symbol_long: dict[str, str] = field(default_factory=dict)
    function_latex: dict[str, str] = field(default_factory=dict)
    subscript: set[str] = field(default_factory=set)
    given: dict[str, int] = field(default_factory=dict)
    # the space each parameter of a definition is a point of (None: used only as a number)
    param_spaces: dict[str, tuple[str | None, ...]] = field(default_factory=dict)
    # `aliases:` for `derive check`: (tokens of a student's LaTeX, the spec expression), derive/notation.py
    aliases: tuple[tuple[tuple[str, ...], str], ...] = ()

    def unfold(self, expr: Any, names: set[str] | None = None, once: bool = False) -> Any:
        """Replace applications of definitions (all, or those in `names`) by their bodies.

        Repeats until nothing changes, or once when `once` is set. Repeated unfolding
        leaves a recursive definition (one with base cases) alone at a symbolic argument,
        so it stops at the base cases.
        """
        rewrites = [d for n, d in self.definitions.items() if names is None or n in names]
        return rewrite_with(expr, rewrites, once)


def rewrite_with(expr: Any, rewrites: list[Rewrite], once: bool = False) -> Any:
    """Apply the rewrites everywhere in expr, once or until a fixed point."""
    if not rewrites:
        return expr
    for _ in range(1 if once else MAX_UNFOLD):
        new = _rewrite_pass(expr, rewrites, once)
        if new == expr:
            return new
        expr = new
    return expr


def _rewrite_pass(expr: Any, rewrites: list[Rewrite], once: bool) -> Any:
    if not isinstance(expr, sp.Basic):
        return expr
    for r in rewrites:
        if r.matches(expr) if once else r.matches_concrete(expr):
            return r.apply(expr)
    if not expr.args:
        return expr
    args = [_rewrite_pass(a, rewrites, once) for a in expr.args]
    return expr.func(*args) if args != list(expr.args) else expr


ASSUMPTION_FLAGS = {"real": "real", "positive": "positive", "nonnegative": "nonnegative",
                    "negative": "negative", "nonzero": "nonzero", "integer": "integer"}


def build_scope(spec: ProblemSpec, issues: list[SpecIssue], defined_by_chains: list[tuple[str, Loc]]) -> Scope:
    """Turn the declarations of a spec into a Scope, adding any issue to `issues`."""
    sc = Scope(spaces={k: v for k, v in spec.spaces.items() if isinstance(v, int)})
    for sym in spec.symbols:
        flags = {ASSUMPTION_FLAGS[a]: True for a in sym.assumptions}
        if not flags:
            flags = {"real": True}
        if sym.name in sc.ns.symbols:
            issues.append(SpecIssue(sym.loc, f"'{sym.name}' declared twice"))
        if sym.space and sym.space not in spec.spaces:
            issues.append(SpecIssue(sym.loc, f"unknown space '{sym.space}' (declare it under spaces)"))
        if sym.latex:  # an indexed symbol prints its base with this LaTeX too: x[k] as x_k
            sc.symbol_latex[sym.name] = sym.latex.value
        if sym.indexed:
            base = sc.ns.indexed[sym.name] = sp.IndexedBase(sym.name, **flags)
            if sym.space:  # b[k] is a point of the space on instances (a data set of points)
                sc.indexed_space[sym.name] = sym.space
            if sym.random:  # every entry b[k] is a random variable
                sc.random.add(base)
            if sym.mean_zero:
                sc.mean_zero.add(base)
            for key, value in (("long", sym.long), ("shape", sym.shape), ("structure", sym.structure),
                               ("sigma_max", sym.sigma_max)):
                if value:
                    issues.append(SpecIssue(sym.loc, f"'{key}' has no meaning for an indexed symbol"))
            continue
        sc.ns.symbols[sym.name] = sp.Symbol(sym.name, **flags)
        if sym.long:
            sc.symbol_long[sym.name] = sym.long.value
        if sym.space:
            sc.symbol_space[sc.ns.symbols[sym.name]] = sym.space
        if sym.random:
            sc.random.add(sc.ns.symbols[sym.name])
        if sym.mean_zero:
            sc.mean_zero.add(sc.ns.symbols[sym.name])
    for space, size in spec.spaces.items():  # a space of any size: its size is a whole-number symbol
        if isinstance(size, str) and size in sc.ns.symbols:
            sc.spaces[space] = sc.ns.symbols[size]
    for name, _loc in defined_by_chains:  # a chain may name its result: declared or new symbol
        sc.ns.symbols.setdefault(name, sp.Symbol(name, real=True))
    for fn in spec.functions:
        for space in fn.args:
            if space not in sc.spaces and space != "R":
                issues.append(SpecIssue(fn.loc, f"unknown space '{space}' (declare it under spaces, or use R)"))
        _declare_function(sc, fn.name, len(fn.args), fn.loc, issues, nonnegative=fn.density)
        sc.functions[fn.name] = FunctionInfo(fn.name, fn.args, fn.given, fn.density)
        if fn.latex:
            sc.function_latex[fn.name] = fn.latex.value
        if fn.subscript:
            sc.subscript.add(fn.name)
        if fn.given:
            sc.given[fn.name] = fn.given
    for d in spec.definitions:
        for p in d.params:  # parameters need not be declared: they are real unless declared
            sc.ns.symbols.setdefault(p, sp.Symbol(p, real=True))
        if d.params:
            _declare_function(sc, d.name, len(d.params), d.loc, issues)
        elif d.name in sc.ns.symbols or d.name in sc.ns.indexed:
            issues.append(SpecIssue(d.loc, f"'{d.name}' is already declared"))
        else:
            sc.ns.symbols[d.name] = sp.Symbol(d.name, real=True)
        if d.latex:
            (sc.function_latex if d.params else sc.symbol_latex)[d.name] = d.latex.value
        if d.subscript:
            sc.subscript.add(d.name)
        if d.given:
            sc.given[d.name] = d.given
    for sym in spec.symbols:  # shapes may mention any symbol
        shape = tuple(p for t in sym.shape if (p := parse_text(t, sc, issues)) is not None)
        if shape:
            sc.shapes[sc.ns.symbols[sym.name]] = shape
        if sym.structure:
            sc.structure[sc.ns.symbols[sym.name]] = sym.structure
        if sym.sigma_max is not None:
            top = parse_text(sym.sigma_max, sc, issues)
            if top is not None and not (evaluated(top).is_Rational and evaluated(top) > 0):
                issues.append(SpecIssue(sym.sigma_max.loc, "sigma_max must be a positive rational number"))
            elif top is not None:
                sc.sigma_max[sc.ns.symbols[sym.name]] = evaluated(top)
    for d in spec.definitions:
        params = tuple(sc.ns.symbols[p] for p in d.params)
        body = parse_text(d.body, sc, issues)
        at = tuple((k, e) for k, t in d.at if (e := parse_text(t, sc, issues)) is not None)
        if body is not None and (d.params or d.name in sc.ns.symbols):
            lhs = None if d.params else sc.ns.symbols[d.name]
            sc.definitions[d.name] = Rewrite(d.name, params, evaluated(body), lhs=lhs, at=at)
    sc.param_spaces = definition_param_spaces(sc)
    for d in spec.definitions:  # calls of definitions in definitions, now that every parameter has its space
        if d.name in sc.definitions:
            issues.extend(SpecIssue(d.body.loc, p) for p in ill_typed_calls(sc.definitions[d.name].body, sc))
    for h in spec.hypotheses:
        lhs, rhs = parse_text(h.lhs, sc, issues), parse_text(h.rhs, sc, issues)
        if lhs is None or rhs is None:
            continue
        rw = _hypothesis_rewrite(h.name, evaluated(lhs), h.rel, evaluated(rhs), sc.shapes)
        if rw is None:
            issues.append(SpecIssue(h.lhs.loc, "the left side of a hypothesis must be a symbol, a "
                                               "function applied to distinct symbols, like Q(s, a), "
                                               "or a matrix expression, like matmul(T(R), R)"))
        elif rw.rel != "=" and rw.params and not _bounded_function(rw, sc):
            issues.append(SpecIssue(h.lhs.loc, "the left side of an inequality hypothesis must be an unknown "
                                               "function (not a density) applied to distinct symbols, like "
                                               "V1(s), and its right side must not use that function"))
        else:
            sc.hypotheses[h.name] = rw
    return sc


def _hypothesis_rewrite(name: str, lhs: Any, rel: str, rhs: Any, shapes: dict) -> Rewrite | None:
    if isinstance(lhs, sp.Symbol) or is_matrix(lhs, shapes):
        return Rewrite(name, (), rhs, rel, lhs)
    if isinstance(lhs, AppliedUndef) and all(isinstance(a, sp.Symbol) for a in lhs.args) \
            and len(set(lhs.args)) == len(lhs.args):
        return Rewrite(name, tuple(lhs.args), rhs, rel, lhs, head=lhs.func.__name__)
    return None


def _bounded_function(rw: Rewrite, sc: Scope) -> bool:
    """Can instances and sign certificates honour this inequality hypothesis? Its left side
    must be an unknown non-density function whose table is then built from the right side."""
    info = sc.functions.get(rw.head)
    return info is not None and not info.density and not any(
        e.func.__name__ == rw.head for e in rw.body.atoms(AppliedUndef))


def inequality_hypotheses(sc: Scope) -> list[Rewrite]:
    """The hypotheses `F(x) rel rhs` with rel one of < <= > >=: bounds on unknown functions."""
    return [h for h in sc.hypotheses.values() if h.rel != "=" and h.params]


def _declare_function(sc: Scope, name: str, arity: int, loc: Loc, issues: list[SpecIssue],
                      nonnegative: bool = False) -> None:
    """Declare name as a real function (a density is also non-negative)."""
    if name in sc.ns.functions or name in sc.ns.symbols or name in sc.ns.indexed:
        issues.append(SpecIssue(loc, f"'{name}' declared twice"))
    flags = {"nonnegative": True} if nonnegative else {}
    sc.ns.functions[name] = (sp.Function(name, real=True, **flags), arity)


def parse_text(text: Text, sc: Scope, issues: list[SpecIssue]) -> Any:
    """Parse a spec expression, recording a located issue instead of raising."""
    try:
        expr = parse(text.value, sc.ns)
    except ExprSyntaxError as exc:
        issues.append(SpecIssue(text.loc, str(exc)))
        return None
    problems = undeclared_structure(expr, sc) + ill_typed_arguments(expr, sc) + ill_typed_calls(expr, sc)
    issues.extend(SpecIssue(text.loc, p) for p in problems)
    return None if problems else expr


def ill_typed_arguments(expr: Any, sc: Scope) -> list[str]:
    """Arguments outside the space a declared function takes there: a symbol of another finite
    space, a number that is not a point of the space (points are 0 .. size - 1), or a symbol
    without a space of its own (a definition's parameter) used as a point of two different
    spaces in one expression (e.g. phi(x, b) / Int(exp(phi(u, x)), u) with phi on (A, S))."""
    out = []
    uses: dict[Any, dict[str, str]] = {}
    for node in sorted(expr.atoms(AppliedUndef), key=str):
        info = sc.functions.get(node.func.__name__)
        if info is not None and len(node.args) == len(info.spaces):
            for i, (arg, space) in enumerate(zip(node.args, info.spaces), 1):
                if space != "R" and isinstance(arg, sp.Symbol) and arg not in sc.symbol_space:
                    uses.setdefault(arg, {}).setdefault(space, f"argument {i} of {info.name}")
    for arg, where in uses.items():
        if len(where) > 1:
            out.append(f"'{arg}' is used as a point of " + " and of ".join(f"{sp_} ({w})" for sp_, w in where.items()))
    for node in expr.atoms(AppliedUndef):
        info = sc.functions.get(node.func.__name__)
        if info is None or len(node.args) != len(info.spaces):
            continue
        for i, (arg, space) in enumerate(zip(node.args, info.spaces), 1):
            if space == "R":
                continue
            own = sc.symbol_space.get(arg)
            if own is not None and own != space:
                out.append(f"argument {i} of {info.name} must be a point of space {space}, but '{arg}' "
                           f"ranges over {own}")
            elif arg.is_Integer and isinstance(sc.spaces.get(space), int) \
                    and not 0 <= int(arg) < sc.spaces[space]:
                out.append(f"argument {i} of {info.name} must be a point of space {space} "
                           f"(0 .. {sc.spaces.get(space, 0) - 1}), got {arg}")
    return sorted(set(out))


def definition_param_spaces(sc: Scope) -> dict[str, tuple[str | None, ...]]:
    """The space each parameter of each definition is a point of, read off the bodies: a
    parameter passed where a declared function (or, repeating until nothing changes, another
    definition) takes a point of a space is a point of that space; None if it is only ever
    used as a number."""
    found = {name: [None] * len(rw.params) for name, rw in sc.definitions.items() if rw.params}
    changed = True
    while changed:
        changed = False
        for name, slots in found.items():
            rw = sc.definitions[name]
            for node in rw.body.atoms(AppliedUndef):
                taken = _spaces_taken(node, sc, found)
                for arg, space in zip(node.args, taken):
                    if space not in (None, "R") and arg in rw.params and slots[rw.params.index(arg)] is None:
                        slots[rw.params.index(arg)] = space
                        changed = True
    return {name: tuple(slots) for name, slots in found.items()}


def _spaces_taken(node: Any, sc: Scope, param_spaces: dict) -> tuple:
    """The space of each argument of a call: a declared function's, or a definition's parameters'."""
    info = sc.functions.get(node.func.__name__)
    if info is not None:
        return info.spaces if len(info.spaces) == len(node.args) else ()
    spaces = param_spaces.get(node.func.__name__, ())
    return tuple(spaces) if len(spaces) == len(node.args) else ()


def ill_typed_calls(expr: Any, sc: Scope) -> list[str]:
    """Calls of definitions with an argument that ranges over a space other than the one its
    parameter is a point of, or over any space where the body uses the parameter only as a
    number (e.g. J(th) = Int(ptau(tau, th)*R(tau), tau) written with ptau(th, tau))."""
    out = []
    for node in expr.atoms(AppliedUndef):
        name = node.func.__name__
        if name not in sc.param_spaces or len(sc.param_spaces[name]) != len(node.args):
            continue
        for i, (arg, want) in enumerate(zip(node.args, sc.param_spaces[name]), 1):
            own = sc.symbol_space.get(arg)
            if own is None or own == want:
                continue
            role = f"a point of space {want}" if want else "a number (its body never uses it as a point)"
            out.append(f"argument {i} of {name} (definitions.{name}) is {role}, but '{arg}' ranges over {own}")
    return sorted(set(out))


def undeclared_structure(expr: Any, sc: Scope) -> list[str]:
    """What an expression needs declared for exact instances: a finite space for every
    variable of Int, MaxOver and ArgMaxOver, a shape for every matrix inside cost(...) or min_cost(...)."""
    out = []
    for node in expr.atoms(ops.Int, ops.MaxOver, ops.ArgMaxOver):
        for var in node.args[1:]:
            if var not in sc.symbol_space:
                out.append(f"{type(node).__name__} over '{var}' needs a finite space: "
                           f"declare `{var}: {{space: ...}}`")
    for node in expr.atoms(ops.cost, ops.min_cost):
        for sym in sorted(node.args[0].free_symbols - set(sc.shapes), key=str):
            if not (sym.is_integer or sym.name in sc.definitions):
                out.append(f"matrix '{sym}' in cost(...) needs a shape: declare `{sym}: {{shape: [rows, cols]}}`")
    return sorted(set(out))
