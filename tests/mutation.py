"""Mutation testing of the verifier over the shipped specs.

Every claimed expression (`to:` of a step) is mutated in four ways, one change at a time:
a numeric coefficient changed (k -> k + 1), a sign flipped (+ <-> -, unary minus dropped),
a term of a sum dropped, and an inequality reversed. A mutant that SymPy shows equal to
the original (given the problem's declared properties: mean-zero variables, and operation
counts that ignore the value of a scaling factor) is equivalent, not a wrong step, and is left
out; so is an inequality mutant that only weakens a bound. Every other mutant must be
rejected by the engine with a message naming the file, the step and a counterexample.

Run `python -m tests.mutation [SET[:STEM] ...]` for the score table.
"""

from __future__ import annotations

import ast
import io
import shutil
import sys
import tempfile
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import sympy as sp
from ruamel.yaml import YAML

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


def mutants(set_name: str, left_out: list[tuple[str, str]] | None = None) -> list[Mutant]:
    """All mutants of the claimed expressions of one set (`set` or `set:stem` for one
    problem); equivalent and weakening ones are left out (and listed in `left_out` as
    (reason, text) when given)."""
    from derive.spec import load_set

    set_name, _, only = set_name.partition(":")
    out = []
    for ref in load_set(ROOT, set_name).problems:
        if only and ref.stem != only:
            continue
        data = _yaml().load(ref.path.read_text())
        parse = _parser(ref.path)
        for b, block in enumerate(data["solution"]):
            if "chain" not in block:
                continue
            for s, step in enumerate(block["chain"]["steps"]):
                label = f"{block['chain']['label']}.{s + 1}"
                rel = step.get("rel", "=")
                if "to" not in step:
                    continue
                original = parse(step["to"])
                for kind, text in expression_mutants(step["to"]):
                    mutated = parse(text)
                    reason = "equivalent" if _equivalent(original, mutated) else \
                        "weaker bound" if _weaker(original, mutated, rel, parse.scope) else None
                    if reason is None:
                        out.append(Mutant(set_name, ref.stem, b, s, kind, text, rel, label))
                    elif left_out is not None:
                        left_out.append((reason, f"{ref.stem} {label}: {text}"))
                if rel in REVERSED:
                    out.append(Mutant(set_name, ref.stem, b, s, "reversed inequality", step["to"], REVERSED[rel], label))
    return out


def _parser(path: Path):
    from derive.exprs import evaluated, parse
    from derive.scope import build_scope
    from derive.spec import ChainSpec, load_problem

    spec, _ = load_problem(path)
    defined = [(c.defines, c.loc) for c in spec.solution if isinstance(c, ChainSpec) and c.defines]
    scope = build_scope(spec, [], defined)
    from derive.ops import E, scale

    centred = {E(g): sp.S.Zero for g in scope.mean_zero}  # declared property: E[g] = 0

    def meaning(text: str):
        expr = scope.unfold(evaluated(parse(text, scope.ns))).xreplace(centred)
        # an operation count does not depend on the value of a scaling factor
        return expr.replace(lambda e: isinstance(e, scale), lambda e: scale(e.args[0], 1))

    meaning.scope = scope
    return meaning


def _equivalent(a, b) -> bool:
    try:
        return a == b or sp.simplify(a - b) == 0
    except (TypeError, ValueError, NotImplementedError):
        return False


def _weaker(original, mutated, rel: str, scope=None) -> bool:
    """Is the mutated bound a weakening of the original (a true step, not a wrong one)?

    Decided by sampling: mutated - original keeps the loosening sign at every point. Matrix
    expressions have no value at a sampled point: there the verifier's own exact matrix
    instances decide whether the original bound implies the mutated one.
    """
    if rel == "=":
        return False
    from derive.matrices import has_matrices
    if scope is not None and (has_matrices(original, scope.shapes) or has_matrices(mutated, scope.shapes)):
        from derive.verify import Context, StepRejected, check
        try:
            check(original, "<=" if rel in ("<=", "<") else ">=", mutated, Context(scope))
        except StepRejected:
            return False
        return True
    d = (mutated - original) if rel in ("<=", "<") else (original - mutated)
    rng = __import__("random").Random(0)
    for _ in range(30):
        point = {s: sp.Integer(rng.randint(1, 6)) if s.is_integer else sp.Rational(rng.randint(1, 300), 100)
                 for s in d.free_symbols}
        value = d.xreplace(point).evalf(30)
        if not value.is_number or value < 0:
            return False
    return True


def run(m: Mutant) -> tuple[Mutant, bool, str]:
    """Build the mutated problem in a temporary copy; (mutant, rejected properly, message)."""
    from derive.engine import derive_problem
    from derive.errors import DeriveError

    with tempfile.TemporaryDirectory() as tmp:
        src = ROOT / "problems" / m.set_name
        dst = Path(tmp) / "problems" / m.set_name
        shutil.copytree(src, dst)
        path = dst / f"{m.stem}.yaml"
        y = _yaml()
        data = y.load(path.read_text())
        step = data["solution"][m.block]["chain"]["steps"][m.step]
        step["to"] = m.to
        if m.rel != "=":
            step["rel"] = m.rel
        buf = io.StringIO()
        y.dump(data, buf)
        path.write_text(buf.getvalue())
        try:
            derive_problem(m.set_name, path)
        except DeriveError as exc:
            msg = str(exc)
            ok = f"{m.stem}.yaml:" in msg and f"step {m.label}" in msg and "counterexample:" in msg
            return m, ok, msg
        return m, False, "accepted"


def run_all(set_names: list[str], jobs: int = 2,
            left_out: list[tuple[str, str]] | None = None) -> list[tuple[Mutant, bool, str]]:
    """Run every mutant of the sets in a process pool."""
    todo = [m for name in set_names for m in mutants(name, left_out)]
    with get_context("fork").Pool(jobs) as pool:
        return pool.map(run, todo, chunksize=1)


def main(argv: list[str]) -> int:
    sets = argv or ["hw4", "assn5"]
    left_out: list[tuple[str, str]] = []
    results = run_all(sets, left_out=left_out)
    killed = sum(ok for _, ok, _ in results)
    for m, ok, msg in results:
        if not ok:
            print(f"SURVIVED {m.set_name}/{m.stem} step {m.label} [{m.kind}] to={m.to!r} rel={m.rel}: {msg[:200]}")
    by_kind: dict[str, list[int]] = {}
    for m, ok, _ in results:
        by_kind.setdefault(m.kind, [0, 0])[0] += ok
        by_kind[m.kind][1] += 1
    for kind, (k, n) in sorted(by_kind.items()):
        print(f"{kind:22s} {k}/{n}")
    for reason in sorted({r for r, _ in left_out}):
        print(f"left out, {reason}: {sum(r == reason for r, _ in left_out)}")
    print(f"mutation score: {killed}/{len(results)} = {100 * killed / max(len(results), 1):.1f}%")
    return 0 if killed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
