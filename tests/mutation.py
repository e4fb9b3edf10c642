"""Mutation testing of the verifier over the shipped specs.

Every claimed expression (`to:` of a step, and the claimed values of the MDP blocks
`policies` and `evaluate`) is mutated in four ways, one change at a time:
a numeric coefficient changed (k -> k + 1), a sign flipped (+ <-> -, unary minus dropped),
a term of a sum dropped, and an inequality reversed. A claimed optimal policy is mutated by
giving one state another action.

Operators aimed at the soundness classes of issue 8 (at most MAX_PER_KIND of each kind per
expression, evenly spread, so that long expressions do not swamp the run): two symbols
swapped; a sibling function (exp <-> log, sin <-> cos, Max <-> Min, Sum <-> Product, one
defined or declared function for another of the same arity); an exponent changed (e -> e + 1
for a symbolic exponent); the bounds of a Sum, Product, Integral or MatProduct moved (lower
+ 1, upper + 1, an infinite end put to 0); a subexpression replaced by 0 (a term or an
argument) or by 1 (a factor); the arguments of a call swapped; an inequality step made strict
(<= to <) or its bound tightened by 1/1000; a definition's body (or base case) changed; an
`assume` line of a chain dropped.

Equivalent mutants (not wrong steps), by a stated method (docs/decisions.md):
- an expression mutant that SymPy shows equal to the original (given the problem's declared
  properties: mean-zero variables, and operation counts that ignore the value of a scaling
  factor), or that agrees with it exactly on six exact instances, is left out; so is an
  inequality mutant that only weakens the bound (sampled, or decided on exact instances);
- a mutant that cannot be judged before it runs (a strict or tightened inequality, a changed
  definition, a dropped assumption: each may leave every step true) and that the engine
  accepts with a proof (a symbolic verdict) for every step it can affect is counted as
  equivalent ("accepted with proof") and listed apart; accepted with any evidence-only
  verdict, it is a survivor.
Every other mutant must be rejected by the engine with a message naming the file and the
step (for a definition, any step; for an assumption, a step of its chain), with a
counterexample or a located refusal of a rule, or refused when the spec is loaded with a
message naming the file, line and key of the mutated text (e.g. an argument swapped out of its
function's space). A crash is a survivor.

Run `python -m tests.mutation [--every K] [SET[:STEM] ...]` for the score table (every K-th
mutant of each problem; the default 1 is every mutant).
"""

from __future__ import annotations

import ast
import io
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import sympy as sp
from ruamel.yaml import YAML

from derive.exprs import parse_relations
from derive.framestack import reserved_call
from tests.mutation_equivalence import RECHECK_BUDGET, _equivalent, _parser, _weaker
from tests.mutation_ops import MAX_PER_KIND, _spread, class_mutants, inequality_mutants

ROOT = Path(__file__).resolve().parent.parent
REVERSED = {"<=": ">=", "<": ">", ">=": "<=", ">": "<"}


@dataclass(frozen=True)
class Mutant:
    """One wrong step: which file and step, what kind of change, the new text."""

    set_name: str
    stem: str
    block: int
    step: int
    kind: str
    to: str
    rel: str
    label: str
    path: tuple = ()  # keys from the block to a claimed MDP value or action (empty: a chain step)
    where: tuple = ()  # keys from the document root to a definition's text or an assume line (to "": drop it)
    undecided: bool = False  # equivalence or weakening not decided within the budget: decided again if accepted


def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.width = 4096
    return y


def expression_mutants(text: str) -> list[tuple[str, str]]:
    """(kind, mutated text) for each single change of the expression."""
    tree = ast.parse(text, mode="eval")
    out: list[tuple[str, str]] = []
    nodes = list(ast.walk(tree))
    for i, node in enumerate(nodes):
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            out.append(("coefficient", _edit(tree, i, lambda n: setattr(n, "value", n.value + 1))))
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
            flip = ast.Sub() if isinstance(node.op, ast.Add) else ast.Add()
            out.append(("sign", _edit(tree, i, lambda n, f=flip: setattr(n, "op", f))))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            out.append(("sign", _edit(tree, i, lambda n: setattr(n, "op", ast.UAdd()))))
    terms = _terms(tree.body)
    if len(terms) >= 2:
        for j in range(len(terms)):
            out.append(("drop term", ast.unparse(_rebuild(terms[:j] + terms[j + 1:]))))
    if not any(kind == "sign" for kind, _ in out):
        out.append(("sign", f"-({text})"))
    return out


def _edit(tree: ast.Expression, index: int, change) -> str:
    copy = ast.parse(ast.unparse(tree), mode="eval")
    change(list(ast.walk(copy))[index])
    return ast.unparse(copy)


def _terms(node: ast.AST) -> list[tuple[int, ast.AST]]:
    """Top-level terms of a sum with their signs."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        sign = 1 if isinstance(node.op, ast.Add) else -1
        return _terms(node.left) + [(sign, node.right)]
    return [(1, node)]


def _rebuild(terms: list[tuple[int, ast.AST]]) -> ast.AST:
    sign, node = terms[0]
    expr = node if sign > 0 else ast.UnaryOp(ast.USub(), node)
    for sign, term in terms[1:]:
        expr = ast.BinOp(expr, ast.Add() if sign > 0 else ast.Sub(), term)
    return expr


def mutants(set_name: str, left_out: list[tuple[str, str]] | None = None, every: int = 1) -> list[Mutant]:
    """All mutants of the claimed expressions of one set (`set` or `set:stem` for one
    problem); equivalent and weakening ones are left out (and listed in `left_out` as
    (reason, text) when given). With `every` = k, only every k-th candidate of each problem
    (a fixed, evenly spread sample) is made and judged."""
    from derive.spec import load_set

    set_name, _, only = set_name.partition(":")
    out = []
    for ref in load_set(ROOT, set_name).problems:
        if only and ref.stem != only:
            continue
        data = _yaml().load(ref.path.read_text())
        parse, scope = _parser(ref.path)
        names = (set(scope.ns.symbols), {k: v[1] for k, v in scope.ns.functions.items()})
        mdp_actions = {blk["mdp"]["name"]: [str(a) for a in blk["mdp"]["actions"]]
                       for blk in data["solution"] if "mdp" in blk}
        candidate = iter(range(10**9))
        for b, block in enumerate(data["solution"]):
            out.extend(m for m in _mdp_mutants(set_name, ref.stem, b, block, parse, mdp_actions, left_out)
                       if next(candidate) % every == 0)
            if "chain" not in block:
                continue
            assume = _assumptions(block["chain"], scope)
            for s, step in enumerate(block["chain"]["steps"]):
                label = f"{block['chain']['label']}.{s + 1}"
                rel = step.get("rel", "=")
                if "to" not in step:
                    continue
                original = parse(step["to"])
                for kind, text in expression_mutants(step["to"]) + class_mutants(step["to"], *names):
                    if next(candidate) % every:
                        continue
                    try:
                        mutated = parse(text)
                    except Exception:  # noqa: BLE001 - not a valid expression of this problem: no mutant
                        continue
                    same = _equivalent(original, mutated, scope)
                    weaker = None if same else _weaker(original, mutated, rel, scope, assume)
                    reason = "equivalent" if same else "weaker bound" if weaker else None
                    if reason is None:
                        out.append(Mutant(set_name, ref.stem, b, s, kind, text, rel, label,
                                          undecided=same is None or weaker is None))
                    elif left_out is not None:
                        left_out.append((reason, f"{ref.stem} {label}: {text}"))
                if rel in REVERSED and next(candidate) % every == 0:
                    out.append(Mutant(set_name, ref.stem, b, s, "reversed inequality", step["to"], REVERSED[rel], label))
                for kind, text, new_rel in inequality_mutants(step["to"], rel):
                    if next(candidate) % every == 0:
                        out.append(Mutant(set_name, ref.stem, b, s, kind, text, new_rel, label))
            for i, _ in enumerate(block["chain"].get("assume", [])):
                if next(candidate) % every == 0:
                    out.append(Mutant(set_name, ref.stem, b, -1, "dropped assumption", "", "=",
                                      f"{block['chain']['label']}.", where=("solution", b, "chain", "assume", i)))
        out.extend(_definition_mutants(set_name, ref.stem, data, parse, scope, names,
                                       lambda: next(candidate) % every == 0))
    return out


def _assumptions(chain: dict, scope) -> list:
    """The relations of a chain's `assume` list."""
    return [r for t in chain.get("assume", []) for r in parse_relations(str(t), scope.ns)]


def _definition_mutants(set_name: str, stem: str, data: dict, parse, scope, names, keep) -> list[Mutant]:
    """Mutants of the definitions' bodies and base cases (not equivalent to the original); `keep()`
    says whether the next candidate is in the sample (asked before equivalence is decided)."""
    out = []
    for name, value in (data.get("definitions") or {}).items():
        texts = [(("definitions", name), value)] if isinstance(value, str) else \
            [(("definitions", name, "body"), value["body"])] + \
            [(("definitions", name, "at", k), v) for k, v in (value.get("at") or {}).items()]
        for where, text in texts:
            original = parse(str(text))
            found = [(kind, t) for kind, t in expression_mutants(str(text)) + class_mutants(str(text), *names)]
            for kind, mutated in _spread(found, MAX_PER_KIND * 2):
                if not keep():
                    continue
                try:
                    if _equivalent(original, parse(mutated), scope):
                        continue
                except Exception:  # noqa: BLE001 - not a valid expression: no mutant
                    continue
                out.append(Mutant(set_name, stem, -1, -1, "definition body", mutated, "=", "", where=where))
    return out


MDP_CLAIMS = {"policies": (("optimal", "values", "v*"),), "evaluate": (("values", "v"), ("loss", "loss"))}


def _mdp_mutants(set_name: str, stem: str, b: int, block: dict, parse, mdp_actions: dict[str, list[str]],
                 left_out: list[tuple[str, str]] | None) -> list[Mutant]:
    """Mutants of the claimed values (and claimed optimal actions) of an MDP block."""
    kind = next((k for k in MDP_CLAIMS if k in block), None)
    if kind is None:
        return []
    body, out = block[kind], []
    for *keys, name in MDP_CLAIMS[kind]:
        claims = body
        for key in keys:
            claims = claims.get(key, {}) if isinstance(claims, dict) else {}
        for state, text in claims.items():
            label = f"{body['label']}.{name}({state})"
            original = parse(str(text))
            for how, mutated in expression_mutants(str(text)):
                if _equivalent(original, parse(mutated)):
                    if left_out is not None:
                        left_out.append(("equivalent", f"{stem} {label}: {mutated}"))
                    continue
                out.append(Mutant(set_name, stem, b, -1, how, mutated, "=", label, (kind, *keys, state)))
    policy = body.get("optimal", {}).get("policy", {}) if kind == "policies" else {}
    actions = mdp_actions.get(body.get("mdp"), [])
    for state, action in policy.items():
        for other in actions:
            if other != str(action):
                out.append(Mutant(set_name, stem, b, -1, "policy action", other, "=",
                                  f"{body['label']}.policy({state})", (kind, "optimal", "policy", state)))
    return out


MUTANT_SECONDS = 40  # a mutant not rejected within this much CPU time survives (CPU: load does not count)


class MutantTimeout(BaseException):  # not an Exception: no handler in derive may swallow it
    """A mutant's derivation ran past MUTANT_SECONDS."""


def _out_of_time(signum: int, frame: object) -> None:
    raise MutantTimeout()


_RESULTS: dict[tuple, object] = {}
_PROBLEM: list[str] = [""]  # the set/stem being derived in this process


def _key(value: object) -> object:
    """A hashable description of a value a check or rule reads, or TypeError for one this
    memo cannot describe (then the call is not remembered). A context is its assumptions,
    cited hypotheses, seed and the spaces of its symbols (the rest of the scope is the
    problem's own)."""
    if isinstance(value, (sp.Basic, int, float)):
        return sp.srepr(value)
    if isinstance(value, (str, bool, type(None))):
        return value
    if isinstance(value, (tuple, list)):
        return tuple(map(_key, value))
    if isinstance(value, dict):
        return tuple(sorted((str(k), _key(v)) for k, v in value.items()))
    if hasattr(value, "scope") and hasattr(value, "assume"):
        return (_key(value.assume), tuple(c.name for c in getattr(value, "cited", ())), getattr(value, "seed", None),
                tuple(sorted((sp.srepr(k), v) for k, v in value.scope.symbol_space.items())))
    raise TypeError(type(value).__name__)


def _remembered(fn, name: str):
    """`fn`, remembering what it returned for the same problem and arguments.

    Sound here only: a mutant changes nothing but one claimed expression (and its relation),
    so a step whose two sides, relation, assumptions, cited hypotheses and seed are unchanged
    (within the same problem file) gets the verdict the original derivation got, and a rule
    applied to an unchanged expression gives the same result (rules are deterministic).
    Exceptions (rejections, rules that do not apply) are never remembered, so every mutated
    step is checked afresh.
    """

    def memo(*args):
        try:
            key = (_PROBLEM[0], name, _key(args))
        except TypeError:
            return fn(*args)
        if key not in _RESULTS:
            _RESULTS[key] = fn(*args)
        return _RESULTS[key]

    memo.remembers = True
    return memo


def _remember_all() -> None:
    """Install the memo (once per process) on the engine's checks (steps, rule results,
    the problem's hypotheses and densities) and on every rule's `apply` and `prove`."""
    import dataclasses

    import derive.engine
    import derive.verify
    from derive.rules import REGISTRY

    if getattr(derive.engine.check, "remembers", False):
        return
    derive.engine.check = _remembered(derive.engine.check, "check")
    derive.verify.check = _remembered(derive.verify.check, "check")
    for rule in list(REGISTRY.values()):
        REGISTRY[rule.name] = dataclasses.replace(
            rule, apply=_remembered(rule.apply, f"{rule.name}.apply"),
            prove=rule.prove and _remembered(rule.prove, f"{rule.name}.prove"))


TIMES: dict[str, float] = {}  # seconds per problem (set/stem) of the last run_all


def _problem(task: tuple[str, str, int]) -> tuple[list[tuple[Mutant, bool, str]], list[tuple[str, str]], float]:
    """In a worker: the mutants of one problem, each run after the original problem has been
    derived once in this process (so its unchanged steps are not checked again); also the
    mutants left out."""
    import derive.engine
    from derive.spec import load_set

    set_name, stem, every = task
    started = time.monotonic()
    _remember_all()
    left: list[tuple[str, str]] = []
    todo = mutants(f"{set_name}:{stem}", left, every)
    if todo:
        _PROBLEM[0] = f"{set_name}/{stem}"
        ref = next(r for r in load_set(ROOT, set_name).problems if r.stem == stem)
        derive.engine.derive_problem(set_name, ref.path)
    return [run(m) for m in todo], left, time.monotonic() - started


def _tagged(task: tuple[str, str, int]) -> tuple[tuple[str, str, int], tuple]:
    """The task with its result (results arrive in the order the problems finish)."""
    return task, reserved_call(_problem, task)


def run(m: Mutant) -> tuple[Mutant, bool, str]:
    """Build the mutated problem in a temporary copy; (mutant, rejected properly, message)."""
    from derive.engine import derive_problem
    from derive.errors import DeriveError, SpecError

    with tempfile.TemporaryDirectory() as tmp:
        src = ROOT / "problems" / m.set_name
        dst = Path(tmp) / "problems" / m.set_name
        shutil.copytree(src, dst)
        path = dst / f"{m.stem}.yaml"
        y = _yaml()
        data = y.load(path.read_text())
        if m.where:
            *keys, last = m.where
            target = data
            for key in keys:
                target = target[key]
            if m.to:
                target[last] = m.to
            else:
                del target[last]
        elif m.path:
            *keys, last = m.path
            target = data["solution"][m.block]
            for key in keys:
                target = target[key]
            target[last] = m.to
        else:
            step = data["solution"][m.block]["chain"]["steps"][m.step]
            step["to"] = m.to
            if m.rel != "=":
                step["rel"] = m.rel
        buf = io.StringIO()
        y.dump(data, buf)
        path.write_text(buf.getvalue())
        # a changed definition changes the meaning of unchanged steps: none of their verdicts is reused
        _PROBLEM[0] = f"{m.set_name}/{m.stem}" + (f"#{m.where}={m.to}" if m.kind == "definition body" else "")
        signal.signal(signal.SIGPROF, _out_of_time)
        signal.setitimer(signal.ITIMER_PROF, MUTANT_SECONDS)
        try:
            d = derive_problem(m.set_name, path)
        except MutantTimeout:
            return m, False, f"not decided within {MUTANT_SECONDS} CPU s"
        except SpecError as exc:  # refused when loaded: killed if it names the mutated key
            msg = str(exc)
            return m, f"{m.stem}.yaml:" in msg and _mutated_key(m) in msg, msg
        except DeriveError as exc:
            msg = str(exc)
            located = "counterexample:" in msg or "does not apply" in msg
            ok = f"{m.stem}.yaml:" in msg and f"step {m.label}" in msg and located
            return m, ok, msg
        except Exception as exc:  # noqa: BLE001 - a crash is a surviving mutant, not the end of the run
            return m, False, f"crash: {type(exc).__name__}: {exc}"
        finally:
            signal.setitimer(signal.ITIMER_PROF, 0)
        verdicts = _affected(m, d)
        if m.kind in JUDGED_AFTER and all(v.method == "symbolic" for v in verdicts):
            return m, False, f"{PROVED}: " + "; ".join(sorted({v.detail for v in verdicts}))[:300]
        if m.undecided and (reason := _not_wrong(m)):
            return m, False, f"{NOT_WRONG}: {reason} (decided within {RECHECK_BUDGET:.0f} CPU s after it was accepted)"
        return m, False, "accepted: " + "; ".join(sorted({f"{v.method}: {v.detail}" for v in verdicts
                                                         if v.method != "symbolic"}))[:300]


def _mutated_key(m: Mutant) -> str:
    """The spec key a load-time refusal of mutant `m` must name: its step, or its definition."""
    if m.where and m.where[0] == "definitions":
        return f"definitions.{m.where[1]}"
    if m.where:
        return f"solution[{m.where[1]}]"
    return f"solution[{m.block}].chain.steps[{m.step}]"


JUDGED_AFTER = {"strict inequality", "tightened constant", "definition body", "dropped assumption"}
PROVED = "accepted with proof"  # such a mutant is equivalent: every step it can affect was proved
NOT_WRONG = "not a wrong step"  # equivalent or weaker, decided only after the verifier accepted it


def _not_wrong(m: Mutant) -> str | None:
    """Why an accepted chain-step mutant whose equivalence or weakening was not decided within
    the budget is no wrong step after all ("equivalent", "weaker bound"), or None."""
    path = ROOT / "problems" / m.set_name / f"{m.stem}.yaml"
    parse, scope = _parser(path)
    chain = _yaml().load(path.read_text())["solution"][m.block]["chain"]
    step = chain["steps"][m.step]
    original, mutated = parse(step["to"]), parse(m.to)
    if _equivalent(original, mutated, scope, RECHECK_BUDGET):
        return "equivalent"
    if _weaker(original, mutated, step.get("rel", "="), scope, _assumptions(chain, scope), RECHECK_BUDGET):
        return "weaker bound"
    return None


def _affected(m: Mutant, d) -> list:
    """The verdicts of the steps a mutant can change: its step; for a dropped assumption its
    chain; for a definition every step."""
    from derive.model import Chain

    chains = [b for b in d.blocks if isinstance(b, Chain)]
    if m.kind == "definition body":
        return [s.verdict for c in chains for s in c.steps]
    if m.kind == "dropped assumption":
        return [s.verdict for s in d.blocks[m.block].steps]
    if m.step < 0:
        return []
    return [d.blocks[m.block].steps[m.step].verdict]


def run_all(set_names: list[str], jobs: int = 2, left_out: list[tuple[str, str]] | None = None,
            every: int = 1, progress: bool = False) -> list[tuple[Mutant, bool, str]]:
    """Run every mutant (with `every` = k, every k-th) of the sets (`set` or `set:stem`) in a
    process pool, one problem per task, the largest problem files first."""
    from derive.spec import load_set

    tasks = []
    for name in set_names:
        name, _, only = name.partition(":")
        tasks += [(name, ref.stem, ref.path.stat().st_size) for ref in load_set(ROOT, name).problems
                  if not only or ref.stem == only]
    tasks.sort(key=lambda t: -t[2])
    work = [(name, stem, every) for name, stem, _ in tasks]
    with get_context("fork").Pool(jobs) as pool:
        done_by = {}
        for task, result in pool.imap_unordered(_tagged, work, chunksize=1):
            done_by[task] = result
            if progress:  # survivors as soon as their problem is done (a long run can be followed)
                for m, ok, msg in result[0]:
                    print(("KILLED " if ok else "NOT KILLED ") + describe(m) + ": " + msg[:160].replace("\n", " "),
                          flush=True)
        done = [done_by[t] for t in work]
    order = {key: i for i, key in enumerate((n.partition(":")[0], s) for n in set_names for s in _stems(n))}
    results: list[tuple[Mutant, bool, str]] = []
    for (results_of, left, seconds), (name, stem, _) in sorted(zip(done, tasks), key=lambda d: order[d[1][:2]]):
        TIMES[f"{name}/{stem}"] = seconds
        results += results_of
        if left_out is not None:
            left_out += left
    return results


def _stems(name: str) -> list[str]:
    """The problem stems of `set` (or the one of `set:stem`), in the set's order."""
    from derive.spec import load_set

    name, _, only = name.partition(":")
    return [ref.stem for ref in load_set(ROOT, name).problems if not only or ref.stem == only]


def describe(m: Mutant) -> str:
    """One line naming a mutant: problem, step or place, kind, change."""
    place = f"step {m.label}" if not m.where else "at " + ".".join(map(str, m.where))
    return f"{m.set_name}/{m.stem} {place} [{m.kind}] to={m.to!r} rel={m.rel}"


def main(argv: list[str]) -> int:
    every = 1
    if argv[:1] == ["--every"]:
        every, argv = int(argv[1]), argv[2:]
    sets = argv or sorted(p.parent.name for p in (ROOT / "problems").glob("*/set.yaml"))
    left_out: list[tuple[str, str]] = []
    results = run_all(sets, left_out=left_out, every=every, progress=True)
    proved = [(m, msg) for m, ok, msg in results if not ok and msg.startswith((PROVED, NOT_WRONG))]
    results = [r for r in results if not r[2].startswith((PROVED, NOT_WRONG))]
    killed = sum(ok for _, ok, _ in results)
    for m, msg in proved:
        print(f"EQUIVALENT {describe(m)}: {msg[:200]}")
    for m, ok, msg in results:
        if not ok:
            print(f"SURVIVED {describe(m)}: {msg[:200]}")
    by_kind: dict[str, list[int]] = {}
    for m, ok, _ in results:
        by_kind.setdefault(m.kind, [0, 0])[0] += ok
        by_kind[m.kind][1] += 1
    for kind, (k, n) in sorted(by_kind.items()):
        print(f"{kind:22s} {k}/{n}")
    print(f"left out, {PROVED} or {NOT_WRONG} (equivalent or weaker): {len(proved)}")
    for reason in sorted({r for r, _ in left_out}):
        print(f"left out, {reason}: {sum(r == reason for r, _ in left_out)}")
    for problem, seconds in TIMES.items():
        print(f"time {problem}: {seconds:.1f} s")
    print(f"mutation score: {killed}/{len(results)} = {100 * killed / max(len(results), 1):.1f}%")
    return 0 if killed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
