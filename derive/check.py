"""`derive check`: a student's derivation checked step by step against the verified booklet.

Rules:
- The file is split into the set's parts (derive/student.py); each formula is translated
  (derive/latex_in.py) with the problem's names (derive/notation.py) and parsed by the spec
  parser (derive/exprs.py): no student text reaches eval, sympify or parse_expr.
- Every consecutive relation of a chain is checked by the verifier (`derive.verify.check`,
  the booklet's methods and verdict labels) under the assumptions of the booklet's chains
  that speak only of symbols the step uses; the verdict names them.
- A verdict is `agrees` (with the method), `wrong` (with the counterexample), `could not
  read` (the formula did not translate or parse) or `could not decide` (the verifier gave
  up). A step next to an unreadable formula is not checked. A stated condition (only bare
  symbols and numbers: `0 < s < 1`, `\\mu_q = \\mu`) is listed as `assumed`: it is not
  checked, and the later steps that use its symbols assume it.
- A step whose right side is a decimal (`= 0.693`, `\\approx 0.693`) holds when the exact
  left side rounds to it at the digits written (certified by Arb balls).
- Every boxed result is compared with the part's verified answers (the booklet's boxed
  relations): it agrees with one of them, or it is wrong and the report shows them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sympy as sp

from derive.balls import NotEnclosed, enclosure, precision
from derive.engine import derive_with_scope
from derive.exprs import ExprSyntaxError, evaluated, parse
from derive.framestack import reserved_call
from derive.latex_in import Formula, translate
from derive.latex_tokens import RELATION_TOKENS, LatexError, tokenize
from derive.model import Answer, Chain, Derivation, Notation, Verdict
from derive.notation import Aliases, Names, names_of
from derive.plaintext import plain
from derive.pool import run_pool
from derive.scope import Scope, ill_typed_arguments, ill_typed_calls, undeclared_structure
from derive.spec import SetSpec
from derive.student import Part, Piece, read_solution
from derive.verify import Context, StepRejected, check
from derive.verify.base import prepare

AGREES, WRONG, UNREADABLE, UNDECIDED = "agrees", "wrong", "could not read", "could not decide"
ASSUMED = "assumed"  # a stated condition: not checked, assumed by the steps after it (shown, never silent)
VERDICTS = (AGREES, WRONG, UNREADABLE, UNDECIDED, ASSUMED)
UNDECIDED_PREFIXES = ("undecided", "could not decide", "no check accepts")


class IllTyped(ValueError):
    """A formula that reads but means nothing: an argument outside its function's space."""


@dataclass(frozen=True)
class StepReport:
    """One checked step (or one unreadable formula, or one stated result) and its verdict."""

    line: int
    verdict: str
    detail: str
    tex: str
    method: str = ""
    counterexample: str = ""
    verified: str = ""  # for a result: the verified answer(s)
    booklet: tuple[Any, str, Any] | None = None  # under a wrong step: the booklet's step from the same left side


@dataclass
class PartReport:
    """The steps and results of one part."""

    id: str
    line: int
    steps: list[StepReport] = field(default_factory=list)
    answers: list[tuple[Any, str, Any]] = field(default_factory=list)  # the verified answers: start, rel, end
    notation: Notation | None = None  # how the booklet prints the problem's names

    @property
    def first_wrong(self) -> StepReport | None:
        """The first step or result found wrong."""
        return next((s for s in self.steps if s.verdict == WRONG), None)


@dataclass
class CheckReport:
    """The whole check: parts found, the set's parts not found, headings naming no part."""

    file: str
    set_name: str
    parts: list[PartReport]
    missing: list[str]
    unknown: list[tuple[int, str]]

    @property
    def wrong(self) -> bool:
        """Was any step or result found wrong?"""
        return any(p.first_wrong for p in self.parts)


@dataclass
class _Term:
    """One translated term of a chain: its SymPy value (None: unreadable) and source."""

    expr: Any
    line: int
    tex: str
    boxed: bool = False
    decimal: str | None = None
    rel: str = ""  # the relation from the term before (a boxed right side states `before rel this`)


def check_solution(spec: SetSpec, path: Path, text: str, part: str | None = None, jobs: int | None = None,
                   timeout: float = 300.0) -> CheckReport:
    """Check the solution `text` (read from `path`) against set `spec` (see the rules). Each
    part is checked in a worker process (derive/pool.py), `jobs` at once: its problem derived
    there, then the student's steps; a part whose problem cannot be derived gets one
    `could not decide` line with the reason."""
    ids = [r.id for r in spec.problems]
    solution = read_solution(text, ids)
    found = {p.id for p in solution.parts}
    parts = [p for p in solution.parts if part is None or p.id == part]
    refs = {r.id: r for r in spec.problems}
    ids_found = list(dict.fromkeys(p.id for p in parts))  # one task per problem, however often it is named
    tasks = [(spec.name, refs[i].path, [p for p in parts if p.id == i]) for i in ids_found]
    results = run_pool(tasks, jobs or os.cpu_count() or 1, timeout, _check_task) if tasks else []
    done: dict[int, PartReport] = {}
    for (_, _, group), result in zip(tasks, results):
        for k, p in enumerate(group):
            done[id(p)] = result.value[k] if result.error is None else PartReport(p.id, p.line, [StepReport(
                p.line, UNDECIDED, f"the booklet of {p.id} could not be derived: {result.error}", "")])
    reports = [done[id(p)] for p in parts]
    missing = [i for i in ids if i not in found and (part is None or i == part)]
    return CheckReport(str(path), spec.name, reports, missing, solution.unknown)


def _check_task(task: tuple[str, Path, list[Part]]) -> list[PartReport]:
    """One problem in a worker: derive it (the booklet's chains, answers, scope), then check
    the steps of each part of the solution that names it."""
    set_name, problem_path, parts = task
    derivation, scope = reserved_call(derive_with_scope, set_name, problem_path)
    return [_check_part(part, scope, derivation) for part in parts]


def _check_part(part: Part, scope: Scope, derivation: Derivation) -> PartReport:
    names = names_of(scope)
    aliases = scope.aliases + tuple(names.printed)
    report = PartReport(part.id, part.line)
    chains = [b for b in derivation.blocks if isinstance(b, Chain)]
    answers = [b for b in derivation.blocks if isinstance(b, Answer)]
    report.answers = [_answer(a) for a in answers]
    report.notation = derivation.notation
    known = _booklet_steps(chains)
    conditions: list[tuple[Any, int]] = []
    for terms, rels in _student_chains(part.pieces, names, aliases, scope, report):
        stated = _condition(terms, rels, scope)
        if stated:
            conditions += [(c, terms[0].line) for c in stated]
            tex = terms[0].tex + "".join(f" {r} {t.tex}" for r, t in zip(rels, terms[1:]))
            report.steps.append(StepReport(terms[0].line, ASSUMED, "a stated condition: assumed, not checked, by "
                                                                   "the later steps that use its symbols", tex))
            continue
        for (a, b), rel in zip(zip(terms, terms[1:]), rels):
            if a.expr is not None and b.expr is not None:
                report.steps.append(_check_step(a, rel, b, scope, chains, conditions, known))
        for t in terms:
            if t.boxed and t.expr is not None:
                report.steps.append(_check_result(t, answers, scope))
    report.steps.sort(key=lambda s: s.line)
    return report


@dataclass
class _Booklet:
    """The booklet's steps, evaluated: (previous, relation, next) -> its verdict and name, and
    each previous expression -> the step taken from it."""

    verdicts: dict[tuple[Any, str, Any], tuple[Verdict, str]] = field(default_factory=dict)
    from_left: dict[Any, tuple[Any, str, Any]] = field(default_factory=dict)


def _booklet_steps(chains: list[Chain]) -> _Booklet:
    out = _Booklet()
    for c in chains:
        prev = c.start
        for k, step in enumerate(c.steps, start=1):
            if step.verdict is not None:
                out.verdicts[(evaluated(prev), step.rel, evaluated(step.expr))] = (step.verdict, f"{c.label}.{k}")
                out.from_left.setdefault(evaluated(prev), (prev, step.rel, step.expr))
            prev = step.expr
    return out


def _condition(terms: list[_Term], rels: list[str], scope: Scope) -> list[Any]:
    """A stated condition, such as 0 < s < 1, k >= 1 or mu_q = mu: only bare symbols and
    numbers, some symbol, none with a definition (b^* = 0.5 states a result): its
    relations, else []."""
    if not rels or any(r not in ("<", "<=", ">", ">=", "=") for r in rels) or any(t.expr is None for t in terms):
        return []
    values = [evaluated(t.expr) for t in terms]
    symbols = [v for v in values if isinstance(v, sp.Symbol)]
    if not symbols or not all(isinstance(v, sp.Symbol) or v.is_number for v in values) or \
            any(v.name in scope.definitions for v in symbols):
        return []
    make = {"<": sp.StrictLessThan, "<=": sp.LessThan, ">": sp.StrictGreaterThan, ">=": sp.GreaterThan, "=": sp.Eq}
    return [make[r](a, b) for a, b, r in zip(values, values[1:], rels)]


def _student_chains(pieces: list[Piece], names: Names, aliases: Aliases, scope: Scope,
                    report: PartReport) -> list[tuple[list[_Term], list[str]]]:
    """The part's chains as terms and relations; an unreadable formula is reported and
    breaks its chain."""
    chains: list[tuple[list[_Term], list[str]]] = []
    for piece in pieces:
        continues = piece.continues and bool(chains) and bool(chains[-1][0])
        try:
            formula = translate(piece.tex, names.resolve, continues, aliases)
            terms = _terms(formula, piece, scope)
        except (LatexError, ExprSyntaxError) as exc:
            if _claims(piece.tex):  # a bare mention ($\tanh$) claims nothing: no report
                report.steps.append(StepReport(piece.line, UNREADABLE, str(exc), piece.tex))
            chains.append(([], []))
            continue
        except IllTyped as exc:
            report.steps.append(StepReport(piece.line, WRONG, str(exc), piece.tex))
            chains.append(([], []))
            continue
        for t, rel in zip(terms[-len(formula.rels):] if formula.rels else [], formula.rels):
            t.rel = rel
        if continues:
            chains[-1][0].extend(terms)
            chains[-1][1].extend(formula.rels)
        else:
            chains.append((terms, formula.rels))
    return chains


def _claims(tex: str) -> bool:
    """Does the formula state something: a relation or a boxed result? (One that cannot even
    be tokenised is taken to: its error is reported.)"""
    try:
        tokens = tokenize(tex)
    except LatexError:
        return True
    return any(t in RELATION_TOKENS or t == "\\boxed" for t in tokens)


def _terms(formula: Formula, piece: Piece, scope: Scope) -> list[_Term]:
    out = []
    boxed = {b.strip("()") for b in formula.boxed}
    for text, source in zip(formula.terms, formula.sources):
        expr = parse(text, scope.ns)
        problems = undeclared_structure(expr, scope) + ill_typed_arguments(expr, scope) + ill_typed_calls(expr, scope)
        if problems:
            raise IllTyped(problems[0])
        decimal = next((d for d in formula.decimals if text.strip("() ") == d), None)
        is_boxed = text.strip("()") in boxed
        shown = f"\\boxed{{{source}}}" if is_boxed and not source.startswith("\\boxed") else source
        out.append(_Term(expr, piece.line, shown, is_boxed, decimal))
    return out


def _assumptions(step_symbols: set, chains: list[Chain]) -> tuple[tuple[Any, ...], list[str]]:
    """The booklet's chain assumptions that speak only of the step's symbols, and the chains
    they come from."""
    out: list[Any] = []
    labels: list[str] = []
    for c in chains:
        for rel in c.assume:
            if rel.free_symbols and rel.free_symbols <= step_symbols and rel not in out:
                out.append(rel)
                if c.label not in labels:
                    labels.append(c.label)
    return tuple(out), labels


def _check_step(a: _Term, rel: str, b: _Term, scope: Scope, chains: list[Chain], conditions: list[tuple[Any, int]],
                known: _Booklet) -> StepReport:
    tex = f"{a.tex} {rel} {b.tex}"
    lhs, rhs = evaluated(a.expr), evaluated(b.expr)
    if b.decimal is not None and rel in ("=", "~"):
        return _check_decimal(_number(lhs, scope), b, tex)
    if rel == "~":
        return StepReport(b.line, UNDECIDED, "an approximation to something other than a decimal", tex)
    if (lhs, rel, rhs) in known.verdicts:
        verdict, name = known.verdicts[(lhs, rel, rhs)]
        return StepReport(b.line, AGREES, f"{verdict.detail} (the booklet's step {name})", tex, method=verdict.method)
    symbols = set(lhs.free_symbols | rhs.free_symbols) if isinstance(lhs, sp.Basic) else set()
    assume, labels = _assumptions(symbols, chains)
    stated = [(c, line) for c, line in conditions if c.free_symbols <= symbols]
    assume += tuple(c for c, _ in stated if c not in assume)
    under = []
    if labels:
        under.append(f"the booklet's chain {', '.join(labels)}")
    if stated:
        under.append(f"line {', '.join(sorted({str(line) for _, line in stated}))}")
    note = f" (under {', '.join(plain(r) for r in assume)}, from {' and '.join(under)})" if assume else ""
    try:
        verdict = check(lhs, rel, rhs, Context(scope, assume, seed=b.line))
    except StepRejected as exc:
        kind = UNDECIDED if exc.message.startswith(UNDECIDED_PREFIXES) else WRONG
        return StepReport(b.line, kind, exc.message + note, tex, counterexample=exc.counterexample,
                          booklet=known.from_left.get(lhs) if kind == WRONG else None)
    return StepReport(b.line, AGREES, verdict.detail + note, tex, method=verdict.method)


def _number(expr: Any, scope: Scope) -> Any:
    """expr with definitions unfolded and derivatives carried out (to compare with a decimal)."""
    value = prepare(expr, Context(scope))
    if isinstance(value, sp.Basic) and value.has(sp.Derivative, sp.Subs):
        try:
            value = value.doit()
        except (NotImplementedError, ValueError, TypeError, RecursionError):
            return value
    return value


def _check_decimal(value: Any, term: _Term, tex: str) -> StepReport:
    """Does the exact number `value` round to the decimal written, at its digits?"""
    digits = len(term.decimal.split(".")[1])
    written = sp.Rational(term.decimal)
    half = sp.Rational(1, 2 * 10**digits)
    try:
        with precision(200):
            ball = enclosure(value - written, 30)
    except (NotEnclosed, TypeError, ValueError):
        return StepReport(term.line, UNDECIDED, f"the left side is not a number, so it cannot round to {term.decimal}",
                          tex)
    h = enclosure(half, 30)
    if abs(ball) < h:
        return StepReport(term.line, AGREES, f"rounds to {term.decimal} ({digits} decimals; certified by interval "
                                             f"arithmetic)", tex, method="certified")
    if abs(ball) > h:
        return StepReport(term.line, WRONG, f"does not round to {term.decimal}", tex,
                          counterexample=f"exact value {plain(value)} = {sp.N(value, digits + 4)}")
    return StepReport(term.line, UNDECIDED, f"too close to the rounding boundary of {term.decimal}", tex)


def _check_result(term: _Term, answers: list[Answer], scope: Scope) -> StepReport:
    """A boxed result against the part's verified answers."""
    verified = "; ".join(_answer_text(a) for a in answers)
    if not answers:
        return StepReport(term.line, UNDECIDED, "the booklet states no boxed answer for this part", term.tex)
    for ans in answers:
        final = ans.chain.steps[-1].expr if ans.chain.steps else ans.chain.start
        if term.rel and term.rel != ans.chain.relation and ans.chain.relation != "=":
            continue  # `x >= 1` boxed does not state the answer `x <= 1`
        if term.decimal is not None:
            report = _check_decimal(_number(final, scope), term, term.tex)
            if report.verdict == AGREES:
                return StepReport(term.line, AGREES, f"the result matches the verified answer: {report.detail}",
                                  term.tex, method=report.method, verified=verified)
            continue
        try:
            verdict = check(evaluated(term.expr), "=", evaluated(final), Context(scope, seed=term.line))
        except StepRejected:
            continue
        return StepReport(term.line, AGREES, f"the result matches the verified answer ({verdict.detail})", term.tex,
                          method=verdict.method, verified=verified)
    return StepReport(term.line, WRONG, "the result differs from every verified answer of this part", term.tex,
                      verified=verified)


def _answer(a: Answer) -> tuple[Any, str, Any]:
    return a.chain.start, a.chain.relation, a.chain.steps[-1].expr if a.chain.steps else a.chain.start


def _answer_text(a: Answer) -> str:
    start, rel, final = _answer(a)
    return f"{plain(start)} {rel} {plain(final)}"
