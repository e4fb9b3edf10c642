"""The problem's names as a student writes them: printed forms, subscripts, primes, aliases."""

from __future__ import annotations

from pathlib import Path

import pytest

from derive.engine import problem_scope
from derive.errors import SpecError
from derive.latex_tokens import Ident, LatexError, Resolved
from derive.notation import Names, names_of, read_aliases

ROOT = Path(__file__).resolve().parent.parent


def test_declared_names_resolve_by_their_printed_forms() -> None:
    _, scope = problem_scope(ROOT / "problems" / "hw4" / "sigmoid_gradient.yaml")
    names = names_of(scope)
    assert names.resolve(Ident("x")) == Resolved("x")
    assert names.resolve(Ident("sigma")) == Resolved("sigma", 1, variable="u")
    assert names.resolve(Ident("b", sub=("k",))) == Resolved("b", indexed=True)
    assert names.resolve(Ident("z", sub=("k",))) == Resolved("z", 1, subscript=True, variable="k")
    assert names.resolve(Ident("sigma", primes=1)) == Resolved("sigma", 1, variable="u")
    assert names.resolve(Ident("e")) == Resolved("exp(1)")
    assert names.resolve(Ident("y")) is None and names.resolve(Ident("x", primes=1)) is None


def test_latex_forms_and_aliases() -> None:
    spec, scope = problem_scope(ROOT / "problems" / "hw4" / "baseline_variance.yaml")
    names = names_of(scope)
    assert names.resolve(Ident("g")) == Resolved("G") and names.resolve(Ident("b", star=True)) == Resolved("bstar")
    assert read_aliases(spec, scope, []) == ((("V", "(", "b", ")"), "Vb"), (("V", "'", "(", "b", ")"), "dVb"))


def test_a_shared_written_form_is_ambiguous_not_guessed() -> None:
    names = Names()
    names.add("x", Resolved("xs", indexed=True))
    names.add("x", Resolved("xc"))
    with pytest.raises(LatexError, match="x is ambiguous here: it could be xs or xc"):
        names.resolve(Ident("x"))


def test_a_bad_alias_is_a_spec_error_at_its_line(tmp_path: Path) -> None:
    text = (ROOT / "problems" / "hw4" / "baseline_variance.yaml").read_text(encoding="utf-8")
    path = tmp_path / "p.yaml"
    path.write_text(text + "  '\\input{x}': \"Vb\"\n  'W': \"nope(1)\"\n", encoding="utf-8")
    with pytest.raises(SpecError) as info:
        problem_scope(path)
    assert [str(i).replace(str(path), "P") for i in info.value.issues] == [
        "P:82: aliases.\\input{x}: alias '\\\\input{x}': unknown command \\input",
        "P:83: aliases.W: unknown function 'nope' (declare it under functions or definitions)"]
