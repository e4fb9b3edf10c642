"""Matrix steps proved for matrices of symbolic size, with SymPy's matrix expressions.

Rules:
- Each side is translated to SymPy: a shaped symbol becomes a MatrixSymbol of its declared
  (symbolic) shape (`identity` an Identity, `ones` a OneMatrix), matmul a MatMul, T a
  Transpose, inv an Inverse, scale and scalar factors scalar multiples; jacobian(F, v) is
  SymPy's matrix derivative of F by v, transposed (SymPy writes dF_j/dv_i at row i; jacobian
  puts dF_i/dv_j there); grad(s, M) of a 1 x 1 matrix s is SymPy's derivative of its trace
  by M (entry (i, j) is ds/dM_ij). softmax_rows and entry-by-entry functions (tanh, a declared
  function, a power) and diag(v) are opaque matrices, equal when their arguments reduce to the
  same form; permutations that start or end every term of the argument of softmax_rows or of
  an entry-by-entry function are first moved out of it (f(P M Q) = P f(M) Q).
  Anything else (sigma_max, MatProduct, a derivative through an opaque matrix) is not
  translated, and the instances decide.
- Both sides are reduced to a sum of words (products of matrices, transposes pushed down to
  the symbols by SymPy), each with a scalar coefficient, and words are rewritten by the facts
  the structures give (`STRUCTURE_FACTS`: a permutation P has P^T P = P P^T = I and fixes
  the ones matrices, P 1 = 1 and 1^T P = 1^T; orthonormal columns R have R^T R = I) and by
  inv(X) X = X inv(X) = I. The step is proved when every coefficient of the difference
  simplifies to 0; the verdict names the facts used.
- A step this does not prove is left to the exact instances (never rejected here).
"""

from __future__ import annotations

from typing import Any, Callable

import sympy as sp
from sympy.matrices.expressions import (Identity, Inverse, MatAdd, MatMul, MatrixExpr, MatrixSymbol, OneMatrix, Trace,
                                        Transpose, ZeroMatrix)

from derive.matrices import is_matrix
from derive.model import Verdict
from derive.ops import OPS, T, diag, grad, inv, jacobian, matmul, scale, softmax_rows
from derive.verify.base import Context, cited

Word = tuple[MatrixExpr, ...]
Rule = tuple[Word, Word, str]  # a subword, what it becomes, the fact as text
MAX_ROUNDS = 20


class Untranslatable(Exception):
    """The expression has a part SymPy's matrix expressions cannot hold."""


def _permutation_facts(p: MatrixExpr, ones: list[MatrixExpr]) -> list[Rule]:
    rules: list[Rule] = [((p.T, p), (), f"{p}^T {p} = I"), ((p, p.T), (), f"{p} {p}^T = I")]
    for u in ones:
        if u.rows == p.cols:
            rules += [((q, u), (u,), f"{p} fixes the ones matrix") for q in (p, p.T)]
        if u.cols == p.rows:
            rules += [((u, q), (u,), f"{p} fixes the ones matrix") for q in (p, p.T)]
    return rules


def _orthonormal_facts(r: MatrixExpr, ones: list[MatrixExpr]) -> list[Rule]:
    return [((r.T, r), (), f"{r}^T {r} = I")]


# the facts a structure gives about its symbol (with the ones matrices of the problem); a new
# structure adds its entry here (e.g. symmetric S: ((S.T,), (S,), "S^T = S"))
STRUCTURE_FACTS: dict[str, Callable[[MatrixExpr, list[MatrixExpr]], list[Rule]]] = {
    "permutation": _permutation_facts,
    "orthonormal_columns": _orthonormal_facts,
}


class Translator:
    """Our matrix expressions as SymPy matrix expressions (see the module rules)."""

    def __init__(self, ctx: Context) -> None:
        sc = ctx.scope
        self.shapes, self.structure = sc.shapes, sc.structure
        self.atoms: dict[Any, MatrixExpr] = {}
        self.used: set[str] = set()
        self.sizes: set[tuple[str, str]] = set()
        self.compound: dict[Any, sp.Symbol] = {}
        self.ones = [self.symbol(s) for s in sorted(sc.shapes, key=str) if sc.structure.get(s) == "ones"]
        self.ones += [u.T for u in self.ones]
        self.rules: list[Rule] = []
        for s, kind in sorted(sc.structure.items(), key=lambda kv: str(kv[0])):
            if kind in STRUCTURE_FACTS:
                self.rules += STRUCTURE_FACTS[kind](self.symbol(s), self.ones)

    def symbol(self, s: sp.Symbol) -> MatrixExpr:
        rows, cols = self.shapes[s]
        self.sizes.add((str(rows), str(cols)))
        rows, cols = self._size(rows), self._size(cols)
        kind = self.structure.get(s)
        if kind == "identity":
            return Identity(rows)
        if kind == "ones":
            return OneMatrix(rows, cols)
        return MatrixSymbol(str(s), rows, cols)

    def _size(self, n: Any) -> Any:
        """A size: a symbol or number as it is; an expression such as D + 1 as a fresh size of
        its own (SymPy's matrix derivative fails on compound sizes; an identity shown for an
        independent size holds in particular at D + 1)."""
        if isinstance(n, (sp.Symbol, sp.Integer)):
            return n
        return self.compound.setdefault(n, sp.Symbol(f"size{len(self.compound)}", positive=True, integer=True))

    def value(self, e: Any) -> Any:
        """The SymPy form of e: a MatrixExpr, or a scalar expression free of matrices."""
        if isinstance(e, sp.Symbol):
            return self.symbol(e) if e in self.shapes else e
        if not isinstance(e, sp.Basic) or not e.args or e.is_Number:
            return e
        if isinstance(e, matmul):
            return MatMul(self._matrix(e.args[0]), self._matrix(e.args[1]))
        if isinstance(e, T):
            return Transpose(self._matrix(e.args[0]))
        if isinstance(e, inv):
            self.used.add("inv(X) is a two-sided inverse of X (X invertible)")
            return Inverse(self._matrix(e.args[0]))
        if isinstance(e, scale):
            return self._scalar(e.args[1]) * self._matrix(e.args[0])
        if isinstance(e, jacobian):
            return self._jacobian(*e.args)
        if isinstance(e, grad):
            return self._grad(*e.args)
        if isinstance(e, (softmax_rows, diag)) or _entrywise(e, self.shapes):
            return self._opaque(e)
        if type(e) in OPS.values():
            raise Untranslatable(f"{type(e).__name__} is not a SymPy matrix expression")
        args = [self.value(a) for a in e.args]
        mats = [a for a in args if isinstance(a, MatrixExpr)]
        if not mats:
            return e.func(*args)
        if isinstance(e, sp.Add) and len(mats) == len(args):
            return MatAdd(*args)
        if isinstance(e, sp.Mul) and len(mats) == 1:
            return MatMul(*args)
        raise Untranslatable(f"{e} mixes matrices and scalars entry by entry")

    def _matrix(self, e: Any) -> MatrixExpr:
        v = self.value(e)
        if not isinstance(v, MatrixExpr):
            raise Untranslatable(f"{e} is not a matrix")
        return v

    def _scalar(self, e: Any) -> Any:
        v = self.value(e)
        if isinstance(v, MatrixExpr):
            raise Untranslatable(f"{e} is not a scalar")
        return v

    def _jacobian(self, f: Any, var: Any) -> MatrixExpr:
        fv, v = self._matrix(f), self._matrix(var)
        if not isinstance(v, MatrixSymbol) or fv.has(*self.atoms.values()):
            raise Untranslatable(f"jacobian by {var} through an opaque matrix")
        self.used.add("jacobians by SymPy's matrix derivative")
        return Transpose(sp.expand(fv.diff(v)).doit())

    def _grad(self, f: Any, var: Any) -> MatrixExpr:
        fv, v = self._matrix(f), self._matrix(var)
        if not isinstance(v, MatrixSymbol) or fv.shape != (1, 1) or fv.has(*self.atoms.values()):
            raise Untranslatable(f"grad of {f} by {var}")
        self.used.add("grad by SymPy's matrix derivative of the trace of the 1 x 1 matrix")
        return sp.expand(Trace(fv).diff(v)).doit()

    def _opaque(self, e: Any) -> MatrixExpr:
        """softmax_rows(A), diag(v) or an entry-by-entry function: a MatrixSymbol of the
        value's shape, one per function and reduced argument; permutations at either end of
        the argument are moved out first (not for diag)."""
        args = [self.value(a) for a in e.args] if not isinstance(e, sp.Pow) else [self.value(e.base), e.exp]
        at = [k for k, a in enumerate(args) if isinstance(a, MatrixExpr)]
        if len(at) != 1:
            raise Untranslatable(f"{e} has {len(at)} matrix arguments")
        rows, cols = args[at[0]].shape
        if isinstance(e, diag) and cols != 1:
            raise Untranslatable(f"diag of a {rows} x {cols} matrix")
        core, left, right = reduce(args[at[0]], self.rules, self.used), [], []
        if not isinstance(e, diag):
            core, left, right = self._peel(core)
        key = (e.func, tuple(str(core) if k == at[0] else a for k, a in enumerate(args)))
        if key not in self.atoms:
            self.atoms[key] = MatrixSymbol(f"_opaque{len(self.atoms)}", rows, rows if isinstance(e, diag) else cols)
        name = type(e).__name__ if isinstance(e, (diag, softmax_rows)) else "entry-by-entry functions"
        self.used.add(f"{name} as opaque matrices of their reduced arguments")
        return MatMul(*left, self.atoms[key], *right) if left or right else self.atoms[key]

    def _peel(self, core: Any) -> tuple[Any, list, list]:
        """core = L core' R with L, R products of permutations (and their transposes) that
        start or end every term of core: f(P M Q) = P f(M) Q for an entry-by-entry f or the
        row softmax, P, Q permutations. A ones matrix next to the end counts as ending in the
        permutation (1^T P = 1^T)."""
        perms = [q for s, kind in sorted(self.structure.items(), key=lambda kv: str(kv[0])) if kind == "permutation"
                 for q in (self.symbol(s), self.symbol(s).T)]
        left: list = []
        right: list = []
        changed = True
        while changed:
            changed = False
            for q in perms:
                for side in (0, -1):
                    rest = _strip(core, q, side)
                    if rest is None:
                        continue
                    core, changed = reduce(rest, self.rules, self.used), True
                    left.append(q) if side == 0 else right.insert(0, q)
                    self.used.add("f(P M Q) = P f(M) Q for permutations P, Q")
        return core, left, right


def _strip(m: Any, q: MatrixExpr, side: int) -> Any:
    """m with the permutation q taken off the start (side 0) or the end (side -1) of every
    term, or None when some term does not start (end) with q or a ones matrix, or none with q."""
    out, hit = [], False
    for coeff, word, _ in _words(m):
        end = word[side]
        if end == q:
            rest, hit = (word[1:] if side == 0 else word[:-1]), True
        elif isinstance(end, OneMatrix) and (end.rows == q.cols if side == 0 else end.cols == q.rows):
            rest = word
        else:
            return None
        out.append(coeff * (MatMul(*rest).doit() if rest else Identity(q.rows)))
    return MatAdd(*out).doit() if hit else None


def _entrywise(e: Any, shapes: dict) -> bool:
    """A scalar function (not an operator of derive) or a power applied to a matrix."""
    if isinstance(e, sp.Pow):
        return is_matrix(e.base, shapes)
    return isinstance(e, sp.Function) and type(e) not in OPS.values() and any(is_matrix(a, shapes) for a in e.args)


def _words(m: Any) -> list[tuple[Any, Word, Any]]:
    """The terms of an expanded matrix expression as (coefficient, word, rows)."""
    out = []
    for term in MatAdd.make_args(m):
        if isinstance(term, ZeroMatrix) or term == 0:
            continue
        if isinstance(term, MatMul):
            coeff, mats = term.as_coeff_matrices()
        else:
            coeff, mats = sp.S.One, [term]
        out.append((coeff, tuple(mats), term.shape[0]))
    return out


def _rewrite(word: Word, rules: list[Rule], used: set[str]) -> Word:
    """The word with every subword a rule (or inv(X) next to X) names replaced, to a fixpoint."""
    changed = True
    while changed:
        changed = False
        here = rules + [r for x in word for r in _inverse_rules(x)]
        for i in range(len(word)):
            for pattern, result, fact in here:
                if word[i:i + len(pattern)] == pattern:
                    word, changed = word[:i] + result + word[i + len(pattern):], True
                    used.add(fact)
                    break
            if changed:
                break
    return word


def _inverse_rules(x: MatrixExpr) -> list[Rule]:
    if not isinstance(x, Inverse):
        return []
    inner = x.args[0]
    coeff, mats = inner.as_coeff_matrices() if isinstance(inner, MatMul) else (sp.S.One, [inner])
    if coeff != 1:
        return []
    fact = f"inv({inner}) {inner} = I"
    return [((x, *mats), (), fact), ((*mats, x), (), fact)]


def reduce(m: MatrixExpr, rules: list[Rule], used: set[str]) -> Any:
    """m as a sum of rewritten words with collected, simplified coefficients."""
    for _ in range(MAX_ROUNDS):
        expanded = sp.expand(m).doit()
        terms: dict[Word, Any] = {}
        rows: dict[Word, Any] = {}
        for coeff, word, n in _words(expanded):
            word = _rewrite(word, rules, used)
            terms[word] = terms.get(word, 0) + coeff
            rows[word] = n
        parts = [sp.simplify(c) * (MatMul(*w).doit() if w else Identity(rows[w]))
                 for w, c in sorted(terms.items(), key=lambda kv: str(kv[0])) if sp.simplify(c) != 0]
        out = MatAdd(*parts).doit() if parts else sp.S.Zero
        if out == m:
            return out
        m = out
    return m


def matrix_symbolic(a: Any, b: Any, rel: str, ctx: Context) -> Verdict | None:
    """A proof of the matrix equation a = b for every size, or None (see the module rules)."""
    if rel != "=":
        return None
    tr = Translator(ctx)
    try:
        left, right = tr.value(a), tr.value(b)
        if not (isinstance(left, MatrixExpr) and isinstance(right, MatrixExpr)) or left.shape != right.shape:
            return None
        used: set[str] = set()
        diff = reduce(MatAdd(left, -right), tr.rules, used)
    except (Untranslatable, sp.ShapeError, TypeError, ValueError, NotImplementedError, AttributeError):
        return None
    if diff != 0 and not isinstance(diff, ZeroMatrix):
        return None
    sizes = ", ".join(" x ".join(n if n.isalnum() else f"({n})" for n in shape) for shape in sorted(tr.sizes))
    facts = sorted(used | tr.used)
    return Verdict("symbolic", f"proved for matrices of symbolic sizes ({sizes}): both sides reduce to the same sum"
                               " of products with SymPy's matrix expressions"
                               + (f", using {'; '.join(facts)}" if facts else "") + cited(ctx))
