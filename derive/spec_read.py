"""Turn a validated problem model (derive/schema.py) into the spec objects of derive/spec.py.

Rules:
- Each object keeps the `Loc` (file, line, key path) of the key it came from, taken from
  ruamel's tree beside the model.
- Checks that relate keys to each other are made here, each an issue at its line: `given`
  below the number of arguments, `mean_zero` with `random`, a `structure` or `sigma_max` with a
  `shape`, `at` on a one-argument definition, sizes of spaces named by positive-integer
  symbols, and the TeX allow-list (derive/texguard.py) on every prose and math field.
"""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Any, Callable

from derive import schema as s
from derive import texguard
from derive.figures import figure_block
from derive.spec import (AnswerSpec, ChainSpec, DefinitionSpec, ErratumSpec, FunctionSpec, HypothesisSpec,
                         ProblemSpec, SaySpec, StepSpec, SymbolSpec, Text)
from derive.spec_mdp import check_mdp_blocks, mdp_block, refs
from derive.validate import Path, Reader, key_path

def problem(r: Reader, m: s.ProblemFile, path: FilePath) -> ProblemSpec:
    """The ProblemSpec of a validated problem file (MDP blocks and figures by their modules)."""
    solution: list[Any] = []
    for block, bpath in r.items(m.solution, "solution"):
        name = next(iter(block.model_fields_set))
        value, vpath = getattr(block, name), (*bpath, name)
        if name in ("mdp", "policies", "evaluate"):
            solution.append(mdp_block(r, name, value, vpath))
        elif name == "figure":
            solution.append(figure_block(r, value, vpath))
        else:
            solution.append(_BLOCKS[name](r, value, vpath))
    check_mdp_blocks(r, solution)
    spec = ProblemSpec(
        path=path, id=m.id, title=m.title, points=m.points, statement=r.text(m.statement, "statement"),
        symbols=tuple(_symbol(r, n, v, p) for n, v, p in r.entries(m.symbols, "symbols")),
        functions=tuple(_function(r, n, v, p) for n, v, p in r.entries(m.functions, "functions")),
        spaces=dict(m.spaces),
        definitions=tuple(_definition(r, n, v, p) for n, v, p in r.entries(m.definitions, "definitions")),
        hypotheses=tuple(HypothesisSpec(n, r.text(v.lhs, *p, "lhs"), v.rel, r.text(v.rhs, *p, "rhs"), r.loc(*p))
                         for n, v, p in r.entries(m.hypotheses, "hypotheses")),
        solution=tuple(solution),
        errata=tuple(_erratum(r, e, p, {b.label for b in solution if isinstance(b, ChainSpec)})
                     for e, p in r.items(m.errata, "errata")),
        stand_ins=frozenset(key_path(r.data, p) for p in r.checked.filled),
        aliases=tuple((Text(k, r.loc(*p)), r.text(v, *p)) for k, v, p in r.entries(m.aliases, "aliases")),
    )
    _check_sizes(r, spec)
    _check_tex(r, spec)
    return spec


def _symbol(r: Reader, name: str, v: s.Symbol | tuple[str, ...], path: Path) -> SymbolSpec:
    """`x: real` / `x: "positive integer"` / `x: {positive: true, latex: ..., space: S}`."""
    loc = r.loc(*path)
    if isinstance(v, tuple):
        return SymbolSpec(name, v, loc)
    if v.mean_zero and not v.random:
        r.issue(r.loc(*path, "mean_zero"), "mean_zero needs random: true")
    shape = tuple(Text(e, r.loc(*path, "shape", i)) for i, e in enumerate(v.shape or ()))
    if v.shape is not None and len(shape) != 2:
        r.issue(r.loc(*path, "shape"), "a shape is [rows, columns]")
    structure = v.structure
    if structure is not None and v.shape is None:
        r.issue(r.loc(*path, "structure"), "a structure needs a shape: declare `shape: [rows, cols]`")
        structure = None
    if v.sigma_max is not None and not shape:
        r.issue(r.loc(*path, "sigma_max"), "sigma_max needs a matrix: declare its shape too")
    flags = tuple(a for a in s.ASSUMPTIONS if getattr(v, a))
    return SymbolSpec(name, flags, loc, r.text(v.latex, *path, "latex"), v.space, v.random, v.mean_zero, shape,
                      v.indexed, r.text(v.long, *path, "long"), structure, r.text(v.sigma_max, *path, "sigma_max"))


def _given(r: Reader, given: int, arity: int, path: Path) -> int:
    """How many trailing arguments print after the conditioning bar: fewer than the arguments,
    so that one at least stands before it."""
    if given >= max(arity, 1):
        r.issue(r.loc(*path, "given"),
                f"expected a whole number from 0 to {max(arity - 1, 0)} (fewer than the arguments), got {given!r}")
        return 0
    return given


def _function(r: Reader, name: str, v: s.Function, path: Path) -> FunctionSpec:
    """`P: {args: [S, S, A], given: 2, density: true, latex: ...}`: args are space names."""
    return FunctionSpec(name, tuple(v.args), r.loc(*path), _given(r, v.given, len(v.args), path), v.density,
                        r.text(v.latex, *path, "latex"), v.subscript)


def _definition(r: Reader, name: str, v: s.Definition | str, path: Path) -> DefinitionSpec:
    """`name: "body"` or `name: {args: [k], body: "...", at: {0: "x"}, latex: ...}`; `at` gives
    base cases of a recursive one-argument definition at whole-number arguments."""
    loc = r.loc(*path)
    if isinstance(v, str):
        return DefinitionSpec(name, (), Text(v, loc), loc)
    at = tuple((k, Text(e, r.loc(*path, "at", k))) for k, e in (v.at or {}).items())
    if v.at is not None and len(v.args) != 1:
        r.issue(r.loc(*path, "at"), "'at' maps whole numbers to base-case expressions, for a one-argument definition")
        at = ()
    return DefinitionSpec(name, tuple(v.args), r.text(v.body, *path, "body"), loc, r.text(v.latex, *path, "latex"),
                          at, v.subscript, _given(r, v.given, len(v.args), path), v.density)


def _step(r: Reader, v: s.RuleStep | s.ClaimStep, path: Path) -> StepSpec:
    """A step: by/to/rel/why; the other keys of a rule step are its parameters."""
    by = getattr(v, "by", None)
    params = dict(v.model_extra or {})
    why = r.text(v.why, *path, "why")
    r.tex(why, texguard.inline_prose)
    return StepSpec(r.loc(*path), by, r.text(v.to, *path, "to"), v.rel, v.why, params,
                    {k: r.loc(*path, k) for k in params}, r.loc(*path, "by") if by else None)


def _chain(r: Reader, v: s.Chain, path: Path) -> ChainSpec:
    return ChainSpec(v.label, r.text(v.start, *path, "start"),
                     tuple(Text(a, p) for a, p in ((a, r.loc(*ap)) for a, ap in r.items(v.assume, *path, "assume"))),
                     tuple(_step(r, st, p) for st, p in r.items(v.steps, *path, "steps")), r.loc(*path), v.defines)


def _answer(r: Reader, v: s.Answer | str, path: Path) -> AnswerSpec:
    if isinstance(v, str):
        return AnswerSpec(v, "", r.loc(*path))
    return AnswerSpec(v.chain, v.text, r.loc(*path), v.long, v.below)


def _say(r: Reader, v: str, path: Path) -> SaySpec:
    text = Text(v, r.loc(*path))
    return SaySpec(text, refs(r, text))


_BLOCKS: dict[str, Callable[[Reader, Any, Path], Any]] = {"say": _say, "chain": _chain, "answer": _answer}


def _erratum(r: Reader, e: s.Erratum, path: Path, chains: set[str]) -> ErratumSpec:
    """An erratum; its `chain` names a chain of this problem."""
    chain = e.chain
    if chain is not None and chain not in chains:
        r.issue(r.loc(*path, "chain"), f"not a chain label of this problem: {chain[:40]!r} "
                                       f"(known: {', '.join(sorted(chains)) or 'none'})")
        chain = None
    return ErratumSpec(*(r.text(getattr(e, k), *path, k) for k in ("source", "place", "says", "correction")),
                       chain, r.loc(*path))


def _check_sizes(r: Reader, spec: ProblemSpec) -> None:
    """A space sized by a name needs that name declared a positive integer symbol."""
    whole = {sym.name for sym in spec.symbols if {"positive", "integer"} <= set(sym.assumptions)}
    for name, size in spec.spaces.items():
        if isinstance(size, str) and size not in whole:
            r.issue(r.loc("spaces", name), f"the size '{size}' of a space must be a symbol declared positive integer")


def _check_tex(r: Reader, spec: ProblemSpec) -> None:
    """Prose and LaTeX fields pass the TeX allow-list of derive/texguard.py."""
    r.tex(r.text(spec.id, "id"), lambda v: texguard.check_line(v, "id"))
    r.tex(r.text(spec.title, "title"), texguard.inline_prose)
    prose = [spec.statement] + [b.text for b in spec.solution if isinstance(b, SaySpec)]
    prose += [Text(b.text, b.loc) for b in spec.solution if isinstance(b, AnswerSpec) and b.text]
    prose += [t for e in spec.errata for t in (e.source, e.place, e.says, e.correction)]
    for text in prose:
        r.tex(text, texguard.prose_parts)
    fields = [t for sym in spec.symbols for t in (sym.latex, sym.long)]
    fields += [item.latex for item in (*spec.functions, *spec.definitions)]
    for text in fields:
        r.tex(text, texguard.check_math)
