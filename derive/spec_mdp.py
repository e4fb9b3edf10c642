"""Finite-MDP blocks (`mdp`, `policies`, `evaluate`) and citations `@{label.key(args)}`:
spec objects from validated models, and the checks between keys and blocks.

Rules:
- An MDP's tables name only its states and actions; every state-action pair has a
  transition whose probabilities lie in [0, 1] and sum to exactly 1; rewards not listed are 0.
- The discount lies in [0, 1); a claimed loss needs `compare`; an evaluated mapping policy
  names an action for every state.
- Names and labels are defined before they are used; `compare` names a policies block at the
  same MDP and discount; a citation stands inside $...$ and names an earlier block and a key
  that block offers.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

from derive import schema as s
from derive.errors import Loc
from derive.spec import BlockSpec, EvaluateSpec, MdpSpec, PoliciesSpec, RefSpec, SaySpec, Text
from derive.validate import Path, Reader

REF = re.compile(r"@\{([^{}]*)\}")
REF_BODY = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)\.([a-z]+)(?:\(([^()]*)\))?(?::([0-9]))?$")
REF_KEYS = {"policies": {"v": 1, "q": 2, "gamma": 0}, "evaluate": {"v": 1, "loss": 1, "gamma": 0}}


def mdp_block(r: Reader, kind: str, v: Any, path: Path) -> MdpSpec | PoliciesSpec | EvaluateSpec | None:
    """The spec object of an `mdp`, `policies` or `evaluate` block (None when unusable)."""
    if kind == "mdp":
        return _mdp(r, v, path)
    if not 0 <= v.gamma < 1:
        r.issue(r.loc(*path, "gamma"), f"the discount gamma must lie in [0, 1), got {v.gamma}")
        return None
    if kind == "policies":
        opt = v.optimal or s.Optimal()
        return PoliciesSpec(v.label, v.mdp, v.gamma, r.loc(*path), _policy(r, opt.policy, *path, "optimal", "policy"),
                            _values(r, opt.values, *path, "optimal", "values"))
    if v.loss and v.compare is None:
        r.issue(r.loc(*path, "loss"), "a claimed loss needs 'compare'")
    named = isinstance(v.policy, str)
    return EvaluateSpec(v.label, v.mdp, v.gamma, r.loc(*path), () if named else _policy(r, v.policy, *path, "policy"),
                        v.policy if named else None, v.compare, _values(r, v.values, *path, "values"),
                        _values(r, v.loss, *path, "loss"))


def _mdp(r: Reader, v: s.Mdp, path: Path) -> MdpSpec:
    """States and actions once each; transitions and rewards over them (module rules)."""
    states = _unique(r, v.states, "state", *path, "states")
    actions = _unique(r, v.actions, "action", *path, "actions")
    transitions: dict[tuple[str, str], tuple[tuple[str, Fraction], ...]] = {}
    for st, a, target, tpath in _table(r, v.transitions, states, actions, *path, "transitions"):
        dist = r.entries(target, *tpath) if isinstance(target, dict) else [(target, Fraction(1), tpath)]
        pairs, ok = [], True
        for s2, p, ppath in dist:
            if s2 not in states:
                bad = ppath[-1] if isinstance(target, dict) else r.raw(*tpath)
                r.issue(r.loc(*ppath), f"unknown next state {bad!r}; states: {', '.join(states)}")
                ok = False
            elif not 0 <= p <= 1:
                r.issue(r.loc(*ppath), f"a probability must lie in [0, 1], got {p}")
                ok = False
            else:
                pairs.append((s2, p))
        total = sum((p for _, p in pairs), Fraction(0))
        if ok and total != 1:
            r.issue(r.loc(*tpath), f"probabilities of the next states sum to {total}, not 1")
        transitions[st, a] = tuple(pairs)
    missing = [f"({st}, {a})" for st in states for a in actions if (st, a) not in transitions]
    if missing:
        r.issue(r.loc(*path, "transitions"), f"no transition for {', '.join(missing)}")
    rewards = {(st, a): value for st, a, value, _ in _table(r, v.rewards, states, actions, *path, "rewards")}
    return MdpSpec(v.name, states, actions, transitions, rewards, r.loc(*path))


def _unique(r: Reader, names: list[str], what: str, *path: Any) -> tuple[str, ...]:
    out: list[str] = []
    for name, p in r.items(names, *path):
        if name in out:
            r.issue(r.loc(*p), f"{what} {name!r} listed twice")
        else:
            out.append(name)
    return tuple(out)


def _table(r: Reader, table: dict, states: tuple[str, ...], actions: tuple[str, ...],
           *path: Any) -> list[tuple[str, str, Any, Path]]:
    """Entries `state: {action: value}`, names checked against the MDP."""
    out = []
    for st, inner, spath in r.entries(table, *path):
        if st not in states:
            r.issue(r.loc(*spath), f"unknown state {spath[-1]!r}; states: {', '.join(states)}")
            continue
        for a, value, apath in r.entries(inner, *spath):
            if a not in actions:
                r.issue(r.loc(*apath), f"unknown action {apath[-1]!r}; actions: {', '.join(actions)}")
            else:
                out.append((st, a, value, apath))
    return out


def _policy(r: Reader, policy: dict[str, str], *path: Any) -> tuple[tuple[str, str, Loc], ...]:
    """`{state: action}` as (state, action, loc); names are checked against the MDP later."""
    return tuple((st, a, r.loc(*p)) for st, a, p in r.entries(policy, *path)) if policy else ()


def _values(r: Reader, values: dict[str, str], *path: Any) -> tuple[tuple[str, Text], ...]:
    """`{state: "exact expression"}` (numbers allowed; decimals are exact)."""
    return tuple((st, Text(e, r.loc(*p))) for st, e, p in r.entries(values, *path)) if values else ()


def refs(r: Reader, text: Text) -> tuple[RefSpec, ...]:
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


def check_mdp_blocks(r: Reader, solution: list[BlockSpec | None]) -> None:
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


def _check_task(r: Reader, t: PoliciesSpec | EvaluateSpec, mdps: dict[str, MdpSpec],
                tasks: dict[str, PoliciesSpec | EvaluateSpec]) -> None:
    if t.label in tasks:
        r.issue(t.loc, f"label '{t.label}' used twice")
    m = mdps.get(t.mdp)
    if m is None:
        r.issue(t.loc, f"no MDP named '{t.mdp}' defined before this block")
        return
    for st, a, loc in t.policy:
        if st not in m.states:
            r.issue(loc, f"unknown state {st!r}; states: {', '.join(m.states)}")
        elif a not in m.actions:
            r.issue(loc, f"unknown action {a!r}; actions: {', '.join(m.actions)}")
    if t.policy and isinstance(t, EvaluateSpec) and {st for st, _, _ in t.policy} != set(m.states):
        r.issue(t.policy[0][2], f"a policy needs an action for every state: {', '.join(m.states)}")
    for st, text in (*t.values, *(t.loss if isinstance(t, EvaluateSpec) else ())):
        if st not in m.states:
            r.issue(text.loc, f"unknown state {st!r}; states: {', '.join(m.states)}")
    if isinstance(t, EvaluateSpec):
        for key, ref in (("policy", t.policy_of), ("compare", t.compare)):
            other = tasks.get(ref) if ref else None
            if ref and not isinstance(other, PoliciesSpec):
                r.issue(t.loc, f"{key}: no policies block labelled '{ref}' before this block")
            elif other is not None and other.mdp != t.mdp:
                r.issue(t.loc, f"{key}: block '{ref}' is about MDP '{other.mdp}', not '{t.mdp}'")
            elif other is not None and key == "compare" and other.gamma != t.gamma:
                r.issue(t.loc, f"compare: block '{ref}' has gamma {other.gamma}, not {t.gamma}")


def _check_ref(r: Reader, loc: Loc, ref: RefSpec, tasks: dict[str, PoliciesSpec | EvaluateSpec],
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
