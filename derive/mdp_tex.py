"""Finite MDPs as LaTeX table data: dynamics, policy tables, evaluations and their records."""

from __future__ import annotations

from sympy import Rational, floor

from derive import model
from derive.render import check_tag, escape_text

def name_tex(name: str) -> str:
    """A state or action name (letters, digits, + and -; checked by spec.py) as math."""
    return f"\\mathrm{{{name}}}"


def exact_tex(value) -> str:
    """An exact rational as LaTeX: an integer or a (signed) fraction."""
    value = Rational(value)
    if value.q == 1:
        return str(value.p)
    sign = "-" if value < 0 else ""
    return f"{sign}\\frac{{{abs(value.p)}}}{{{value.q}}}"


def decimal_tex(value, digits: int = 4) -> str:
    """An exact rational rounded half away from zero to `digits` decimals (exact arithmetic)."""
    value = Rational(value)
    scaled = floor(abs(value) * 10**digits + Rational(1, 2))
    whole, frac = divmod(int(scaled), 10**digits)
    sign = "-" if value < 0 and scaled else ""
    return f"{sign}{whole}.{frac:0{digits}d}" if digits else f"{sign}{whole}"


def cite_tex(value, digits: int | None) -> str:
    """A number cited in prose: exact, or rounded to `digits` decimals."""
    return exact_tex(value) if digits is None else decimal_tex(value, digits)


def _record(d: model.Derivation, label: str, c: model.Checked, rule: str, why: str) -> dict:
    """The verification record of one checked MDP value or policy row."""
    return {"problem": d.id, "title": d.title, "chain": label, "step": c.name, "relation": "=", "rule": rule,
            "why": why, "method": c.verdict.method, "detail": c.verdict.detail, "file": c.loc.file,
            "line": c.loc.line}


def mdp_context(m: model.MDP) -> dict:
    """The dynamics as a table: one row per state, per action the next state(s) and reward."""
    def move(s: str, a: str) -> str:
        nxt = m.transitions[s, a]
        to = name_tex(nxt[0][0]) if len(nxt) == 1 else \
            ",\\ ".join(f"{name_tex(s2)}\\,({exact_tex(p)})" for s2, p in nxt)
        return f"${to},\\ {exact_tex(m.reward(s, a))}$"

    return {"kind": "mdp", "name": escape_text(m.name), "actions": [f"${name_tex(a)}$" for a in m.actions],
            "rows": [[f"${name_tex(s)}$", *(move(s, a) for a in m.actions)] for s in m.states]}


def policy_table_context(d: model.Derivation, t: model.PolicyTable) -> tuple[dict, list[dict]]:
    """All policies with 4-decimal values (optimal rows marked) and the boxed optimum."""
    records = []
    rows = []
    for row in t.rows:
        name = f"policy({','.join(row.policy)})"
        records.append(_record(d, t.label, model.Checked(name, row.values, row.verdict, t.loc), "evaluate_policy",
                               "exact solution of (I - gamma P_pi) v = r_pi"))
        cells = [f"${name_tex(a)}$" for a in row.policy]
        bold = "\\mathbf{{{}}}" if row.optimal else "{}"
        values = [f"${bold.format(decimal_tex(v))}$" for v in row.values]
        rows.append({"mark": "$\\star$" if row.optimal else "", "cells": cells + values,
                     "check": check_tag(row.verdict.method), "method": row.verdict.method})
    answer = []
    for s, a, c in zip(t.mdp.states, t.policy, t.optimal):
        records.append(_record(d, t.label, c, "bellman_optimal",
                               "v*(s) = max_a [r(s, a) + gamma sum P v*], checked exactly"))
        answer.append([name_tex(s), name_tex(a), exact_tex(c.value), decimal_tex(c.value),
                       f"\\text{{{check_tag(c.verdict.method)}}}"])
    n = len(t.rows)
    return {"kind": "policies", "gamma": exact_tex(t.gamma), "count": str(n),
            "states": [f"${name_tex(s)}$" for s in t.mdp.states], "rows": rows, "answer": answer,
            "optimal_count": str(sum(r.optimal for r in t.rows))}, records


def evaluation_context(d: model.Derivation, e: model.PolicyEvaluation) -> tuple[dict, list[dict]]:
    """The policy's exact values, the optimal values compared with and the losses."""
    records = [_record(d, e.label, c, "evaluate_policy", "exact solution of (I - gamma P_pi) v = r_pi, substituted back")
               for c in e.values]
    records += [_record(d, e.label, c, "loss", "v*(s) - v(s), exact") for c in e.losses]
    rows = []
    for i, (s, a, c) in enumerate(zip(e.mdp.states, e.policy, e.values)):
        cells = [name_tex(s), name_tex(a), exact_tex(c.value), decimal_tex(c.value)]
        if e.compare is not None:
            best, loss = e.compare.optimal[i].value, e.losses[i].value
            cells += [exact_tex(best), decimal_tex(best), exact_tex(loss), decimal_tex(loss)]
        rows.append(cells + [f"\\text{{{check_tag(c.verdict.method)}}}"])
    improvement: list[str] = []
    if e.improvement is not None:
        s, a, c = e.improvement
        records.append(_record(d, e.label, c, "greedy_step", "one greedy step under the policy's own values"))
        v = e.values[e.mdp.states.index(s)].value
        sa = f"{name_tex(s)}, {name_tex(a)}"
        improvement = [f"q_\\pi({sa}) &= r({sa}) + \\gamma \\sum_{{s'}} P(s' \\mid {sa})\\, v_\\pi(s')",
                       f"&= {exact_tex(c.value)} \\approx {decimal_tex(c.value)} > v_\\pi({name_tex(s)}) = "
                       f"{exact_tex(v)} \\approx {decimal_tex(v)} \\tag*{{{check_tag(c.verdict.method)}}}"]
    return {"kind": "evaluate", "gamma": exact_tex(e.gamma), "source": f"({escape_text(e.source)})" if e.source else "",
            "compare": f"({escape_text(e.compare.label)})" if e.compare else "", "rows": rows,
            "improvement": improvement}, records


