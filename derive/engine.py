"""The engine: read a problem spec, perform every step, have every step checked.

Phase 1 (derive/plan.py) collects every spec issue (structure, names, expressions, rules and their
parameters, unsafe LaTeX) and raises them together. Phase 2 runs each chain: a step either
applies a rule from the registry (derive.rules) or claims the next expression; a step with
both applies the rule and requires its result to equal the claim. Every step is then
checked by derive.verify, which never trusts the rule that produced it.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sympy as sp

from derive import mdp as mdps
from derive.errors import EngineError, LimitError, Loc, SpecError, SpecIssue, VerificationError
from derive.exprs import evaluated
from derive.plaintext import failure, plain
from derive.model import (MDP, Answer, Block, Chain, Checked, Derivation, Erratum, Notation, PolicyEvaluation,
                          PolicyRow, PolicyTable, Say, Step, Verdict)
from derive.rules import RuleError
from derive.scope import Rewrite, Scope, build_scope
from derive.figures import FigureSpec, make_figure, plan_figures
from derive.notation import read_aliases
from derive.plan import PlannedChain, PlannedStep, plan_chains, plan_claims
from derive.simplest import COMPUTING_RULES, SIMPLIFIED_NOTE, simplest
from derive.spec import ChainSpec, EvaluateSpec, MdpSpec, PoliciesSpec, ProblemSpec, SaySpec, Text, load_problem
from derive.verify import (Context, StepRejected, check, check_claim, check_greedy, check_loss, check_optimal_values,
                           check_policy_values, find_improvement)
from derive.verify.hypotheses import contradicted_hypotheses, improper_densities


@dataclass
class RuleContext:
    """What a rule may read: the problem's scope and the chain's assumptions."""

    scope: Scope
    assume: tuple[Any, ...]


def problem_scope(path: Path) -> tuple[ProblemSpec, Scope]:
    """The declarations of a problem file as a Scope; SpecError on any issue in the file."""
    spec, scope, issues, _, _ = _declared(path)
    if issues:
        raise SpecError(issues)
    return spec, scope


def _declared(path: Path) -> tuple[ProblemSpec, Scope, list[SpecIssue], int, list[tuple[str, Loc]]]:
    """The spec and its scope, the issues found so far, how many of them the reader found
    (those after are consequences of a stand-in) and the names chains define."""
    spec, issues = load_problem(path)
    if spec is None:
        raise SpecError(issues)
    read = len(issues)  # what follows about a stand-in (a value the file lacks) is a consequence
    defined = [(c.defines, c.loc) for c in spec.solution if isinstance(c, ChainSpec) and c.defines]
    scope = build_scope(spec, issues, defined)
    scope.aliases = read_aliases(spec, scope, issues)  # used by `derive check`; checked at every build
    return spec, scope, issues, read, defined


def derive_problem(set_name: str, path: Path) -> Derivation:
    """Load, perform and verify one problem file."""
    return derive_with_scope(set_name, path)[0]


def derive_with_scope(set_name: str, path: Path) -> tuple[Derivation, Scope]:
    """`derive_problem`, and the problem's scope after it (with the definitions its chains made)."""
    spec, scope, issues, read, defined = _declared(path)
    plans = plan_chains(spec, scope, {name for name, _ in defined}, issues)
    claims = plan_claims(spec, issues)
    if not issues:  # a hypothesis about defined names must agree with the definitions; a density must be one
        wrong = contradicted_hypotheses(scope)
        issues += [SpecIssue(h.lhs.loc, f"hypothesis {h.name} {wrong[h.name]}")
                   for h in spec.hypotheses if h.name in wrong]
        improper = improper_densities(scope, [d.name for d in spec.definitions if d.density])
        issues += [SpecIssue(d.body.loc, f"definition {d.name} {improper[d.name]}")
                   for d in spec.definitions if d.name in improper]
    figures = plan_figures([b for b in spec.solution if isinstance(b, FigureSpec)], scope, issues)
    issues[read:] = [i for i in issues[read:] if i.loc.key not in spec.stand_ins]
    if issues:
        raise SpecError(issues)
    blocks = _perform(spec, scope, plans, claims, figures)
    notation = Notation(
        symbol_latex=dict(scope.symbol_latex),
        function_latex=dict(scope.function_latex),
        given=dict(scope.given),
        subscript=frozenset(scope.subscript),
        symbol_long=dict(scope.symbol_long),
    )
    errata = tuple(Erratum(e.source.value, e.place.value, e.says.value, e.correction.value, e.chain)
                   for e in spec.errata)
    return Derivation(set_name, path.stem, spec.id, spec.title, spec.points, spec.statement.value,
                      tuple(blocks), notation, errata), scope


# ---- phase 2: perform and verify -----------------------------------------------------------
def _perform(spec: ProblemSpec, scope: Scope, plans: dict[str, PlannedChain], claims: dict[Loc, Any],
             figures: dict[str, list[Any]]) -> list[Block]:
    blocks: list[Block] = []
    done: dict[str, Chain] = {}
    models: dict[str, MDP] = {}
    tasks: dict[str, PolicyTable | PolicyEvaluation] = {}
    for block in spec.solution:
        if isinstance(block, MdpSpec):
            models[block.name] = mdps.from_spec(block)
            blocks.append(models[block.name])
        elif isinstance(block, PoliciesSpec):
            tasks[block.label] = _policies(block, models[block.mdp], claims)
            blocks.append(tasks[block.label])
        elif isinstance(block, EvaluateSpec):
            tasks[block.label] = _evaluate(block, models[block.mdp], tasks, claims)
            blocks.append(tasks[block.label])
        elif isinstance(block, SaySpec):
            blocks.append(Say(block.text.value, tuple((r.token, _cited_value(tasks[r.label], r.key, r.args), r.digits)
                                                      for r in block.refs)))
        elif isinstance(block, FigureSpec):
            blocks.append(make_figure(block, figures, models, tasks))
        elif isinstance(block, ChainSpec):
            chain = _run_chain(plans[block.label], scope)
            done[block.label] = chain
            blocks.append(chain)
        else:
            below = done[block.below] if block.below else None
            try:
                blocks.append(Answer(done[block.chain], block.text, block.long, below))
            except ValueError as exc:
                raise EngineError(block.loc, str(exc)) from None
    return blocks


def _exact(x: Any) -> sp.Rational:
    return sp.Rational(x.numerator, x.denominator)


def _policies(b: PoliciesSpec, m: MDP, claims: dict[Loc, Any]) -> PolicyTable:
    """Evaluate every deterministic policy exactly, take the one whose values dominate, and
    certify: each row by substitution, the optimum by the Bellman optimality condition, then
    the claimed policy (greedy under v*) and claimed values (equal to v*)."""
    gamma = _exact(b.gamma)
    try:
        policies = mdps.all_policies(m)
    except ValueError as exc:
        raise EngineError(b.loc, str(exc)) from None
    values = [mdps.evaluate(m, pi, gamma) for pi in policies]
    best = mdps.dominant(values)
    if not best:
        raise EngineError(b.loc, f"no policy's values dominate all others at gamma = {gamma}")
    star = values[best[0]]
    try:
        rows = tuple(PolicyRow(pi, v, check_policy_values(m, pi, gamma, v), i in best)
                     for i, (pi, v) in enumerate(zip(policies, values)))
        certified = check_optimal_values(m, gamma, star)
    except StepRejected as exc:
        raise VerificationError(b.loc, b.label, exc.message, exc.counterexample) from None
    for s, a, loc in b.policy:
        try:
            check_greedy(m, gamma, star, ((s, a),))
        except StepRejected as exc:
            raise VerificationError(loc, f"{b.label}.policy({s})", f"claimed optimal policy: {exc.message}",
                                    exc.counterexample) from None
    v = dict(zip(m.states, star))
    _check_claims(b.label, "v*", b.values, v, claims)
    optimal = tuple(Checked(f"v*({s})", v[s], verdict, b.loc) for s, verdict in zip(m.states, certified))
    q = {(s, a): mdps.bellman_rhs(m, gamma, v, s, a) for s in m.states for a in m.actions}
    return PolicyTable(b.label, m, gamma, rows, policies[best[0]], optimal, q, b.loc)


def _check_claims(label: str, name: str, claimed: tuple[tuple[str, Text], ...], certified: dict[str, Any],
                  claims: dict[Loc, Any]) -> None:
    for s, text in claimed:
        try:
            check_claim(f"{name}({s})", claims[text.loc], certified[s])
        except StepRejected as exc:
            raise VerificationError(text.loc, f"{label}.{name}({s})", exc.message, exc.counterexample) from None


def _evaluate(b: EvaluateSpec, m: MDP, tasks: dict[str, PolicyTable | PolicyEvaluation],
              claims: dict[Loc, Any]) -> PolicyEvaluation:
    """Evaluate one policy exactly, certify its values by substitution, compare with the
    optimal values of another table (exact losses, >= 0) and find a one-step improvement."""
    gamma = _exact(b.gamma)
    if b.policy_of:
        source = tasks[b.policy_of]
        if sum(row.optimal for row in source.rows) > 1:
            raise EngineError(b.loc, f"block '{b.policy_of}' has several optimal policies; give the policy as a mapping")
        policy = source.policy
    else:
        given = {s: a for s, a, _ in b.policy}
        policy = tuple(given[s] for s in m.states)
    values = mdps.evaluate(m, policy, gamma)
    compare = tasks[b.compare] if b.compare else None
    try:
        verdict = check_policy_values(m, policy, gamma, values)
        v = dict(zip(m.states, values))
        checked = tuple(Checked(f"v({s})", v[s], verdict, b.loc) for s in m.states)
        losses: tuple[Checked, ...] = ()
        if compare is not None:
            best = dict(zip(m.states, (c.value for c in compare.optimal)))
            losses = tuple(Checked(f"loss({s})", best[s] - v[s], check_loss(s, best[s], v[s], best[s] - v[s]), b.loc)
                           for s in m.states)
        found = find_improvement(m, gamma, policy, values)
    except StepRejected as exc:
        raise VerificationError(b.loc, b.label, exc.message, exc.counterexample) from None
    _check_claims(b.label, "v", b.values, v, claims)
    _check_claims(b.label, "loss", b.loss, dict(zip(m.states, (c.value for c in losses))), claims)
    improvement = None
    if found is not None:
        s, a, q, why = found
        improvement = (s, a, Checked(f"q({s},{a})", q, why, b.loc))
    return PolicyEvaluation(b.label, m, gamma, policy, b.policy_of or "", checked, compare, losses, improvement, b.loc)


def _cited_value(task: PolicyTable | PolicyEvaluation, key: str, args: tuple[str, ...]) -> Any:
    """The checked number a prose citation names (validated by spec.py)."""
    if key == "gamma":
        return task.gamma
    if key == "q":
        return task.q[args]
    checked = task.optimal if isinstance(task, PolicyTable) else task.values if key == "v" else task.losses
    return checked[task.mdp.states.index(args[0])].value


def _run_chain(plan: PlannedChain, scope: Scope) -> Chain:
    ctx = RuleContext(scope, plan.assume)
    current = plan.start
    steps: list[Step] = []
    for i, ps in enumerate(plan.steps, start=1):
        s = ps.spec
        label = f"{plan.spec.label}.{i}"
        try:
            nxt = _next_expr(ps, current, ctx, label)
        except LimitError as exc:
            raise EngineError(s.loc, f"step {label}: {exc}") from None
        simpler = simplest(nxt, Context(scope, plan.assume)) if ps.to is None and ps.rule \
            and ps.rule.name in COMPUTING_RULES else None
        nxt = nxt if simpler is None else simpler
        cited = (scope.hypotheses[ps.args["name"]],) if ps.rule and ps.rule.name == "use" else ()
        seed = zlib.crc32(f"{Path(s.loc.file).name}:{s.loc.line}".encode())
        lhs, rel, rhs = ps.rule.claim(current, s.rel, nxt, ps.args, ctx) if ps.rule else (current, s.rel, nxt)
        try:
            verdict = ps.rule.prove(current, s.rel, nxt, ps.args, ctx) if ps.rule and ps.rule.prove else \
                check(lhs, rel, rhs, Context(scope, plan.assume, cited, seed))
        except RuleError as exc:
            raise EngineError(s.loc, f"step {label}: rule '{ps.rule.name}' does not apply: {exc}") from None
        except StepRejected as exc:
            raise VerificationError(
                s.loc, label, f"{exc.message}: `{plain(lhs)}  {rel}  {plain(rhs)}` is not shown",
                exc.counterexample) from None
        except LimitError as exc:
            raise EngineError(s.loc, f"step {label}: {exc}") from None
        except (ArithmeticError, TypeError, ValueError, NotImplementedError, RecursionError) as exc:
            raise EngineError(s.loc, f"step {label}: the verifier could not check `{plain(lhs)}  {rel}  "
                                     f"{plain(rhs)}` ({failure(exc)})") from None
        if (lhs, rel, rhs) != (current, s.rel, nxt):
            verdict = Verdict(verdict.method, f"checked {plain(lhs)} {rel} {plain(rhs)}: {verdict.detail}")
        why = (s.why or (ps.rule.statement if ps.rule else "claimed; checked by the engine")) + \
            ("" if simpler is None else SIMPLIFIED_NOTE)
        steps.append(Step(s.rel, nxt, ps.rule.name if ps.rule else "claim", why, s.loc, verdict))
        current = nxt
    chain = Chain(plan.spec.label, plan.start, tuple(steps), plan.assume, plan.spec.loc)
    try:
        relation = chain.relation
    except ValueError as exc:
        raise EngineError(plan.spec.loc, f"chain '{plan.spec.label}': {exc}") from None
    if plan.spec.defines:
        if relation != "=":
            raise EngineError(plan.spec.loc, f"chain '{plan.spec.label}' defines {plan.spec.defines} "
                                             f"but is not a chain of equalities")
        sym = scope.ns.symbols[plan.spec.defines]
        scope.definitions[plan.spec.defines] = Rewrite(plan.spec.defines, (), evaluated(current), lhs=sym)
    return chain


def _next_expr(ps: PlannedStep, current: Any, ctx: RuleContext, label: str) -> Any:
    """The rule's result (checked against the claim when both are given) or the claim."""
    if ps.rule is None or ps.rule.prove:
        return ps.to
    try:
        result = ps.rule.apply(evaluated(current), ps.args, ctx)
    except RuleError as exc:
        raise EngineError(ps.spec.loc, f"step {label}: rule '{ps.rule.name}' does not apply: {exc}") from None
    except (ArithmeticError, TypeError, ValueError, NotImplementedError, RecursionError) as exc:
        raise EngineError(ps.spec.loc, f"step {label}: rule '{ps.rule.name}' failed on `{plain(current)}` "
                                       f"({failure(exc)})") from None
    if ps.to is None:
        return result
    try:
        check(result, "=", ps.to, Context(ctx.scope, ctx.assume))
    except StepRejected as exc:
        raise VerificationError(
            ps.spec.loc, label, f"rule '{ps.rule.name}' gives `{plain(result)}`, not the claimed "
                                f"`{plain(ps.to)}`", exc.counterexample) from None
    return ps.to
