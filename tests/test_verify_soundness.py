"""The ten classes of wrong steps the verifier once accepted (issue 8), one regression each:
strict bounds with a reachable equality, small whole numbers only, ignored keys, ill-typed
arguments, undefined sides, contradicting hypotheses, equality constraints in `assume`,
rare regions, crashes."""

from __future__ import annotations

from pathlib import Path

import pytest
import sympy as sp

from derive.exprs import parse, parse_relations
from derive.scope import Scope, build_scope
from derive.spec import load_problem
from derive.verify import Context, StepRejected, check
from derive.verify.hypotheses import contradicted_hypotheses, improper_densities

YAML = """\
id: "t"
title: "t"
statement: "s"
spaces: {S: 3, A: 2, Z: 4}
symbols:
  s: {real: true}
  x: {real: true}
  p: {real: true}
  mu: {real: true}
  gamma: {real: true}
  t: {positive: true, integer: true}
  i: {positive: true, integer: true}
  n: {positive: true, integer: true}
  z: {space: Z}
  z2: {space: Z}
  s3: {space: S}
  a3: {space: A}
  g: {real: true, indexed: true, random: true}
  w: {nonnegative: true, indexed: true}
functions:
  q: {args: [Z], density: true}
  prior: {args: [Z], density: true}
  f: {args: [Z]}
  Q1: {args: [S, A]}
  ell: {args: [R]}
definitions:
  sigma: {args: [x], body: "1/(1 + exp(-x))"}
  mass: {body: "Sum(w[i], (i, 1, 3))"}
hypotheses:
  two: {lhs: "mass", rhs: "2 + mass"}
solution:
  - say: "x"
"""


def scope_of(folder: Path, text: str) -> Scope:
    """The scope of a problem file with this text (which must have no spec issue)."""
    path = folder / "p.yaml"
    path.write_text(text, encoding="utf-8")
    spec, issues = load_problem(path)
    found: list = []
    scope = build_scope(spec, found, [])
    assert issues == [] and found == []
    return scope


@pytest.fixture(scope="module")
def sc(tmp_path_factory: pytest.TempPathFactory) -> Scope:
    return scope_of(tmp_path_factory.mktemp("s"), YAML)


def run(sc: Scope, lhs: str, rel: str, rhs: str, assume: str | None = None) -> object:
    rels = tuple(r for part in assume.split(";") for r in parse_relations(part, sc.ns)) if assume else ()
    return check(parse(lhs, sc.ns), rel, parse(rhs, sc.ns), Context(sc, rels, seed=5))


def rejected(sc: Scope, lhs: str, rel: str, rhs: str, assume: str | None = None) -> StepRejected:
    with pytest.raises(StepRejected) as info:
        run(sc, lhs, rel, rhs, assume)
    return info.value


# 1. strict where equality is reachable ------------------------------------------------------
def test_strict_bound_with_a_stationary_point_of_the_slack_is_rejected(sc: Scope) -> None:
    err = rejected(sc, "s*(1 - s)", "<", "1/4", "0 < s < 1")
    assert "equality is reached" in err.message and "s = 1/2" in err.counterexample
    assert run(sc, "s*(1 - s)", "<=", "1/4", "0 < s < 1").method == "symbolic"


def test_strict_sigmoid_bound_is_rejected_at_zero(sc: Scope) -> None:
    err = rejected(sc, "sigma(x)*(1 - sigma(x))", "<", "1/4")
    assert "equality is reached" in err.message and "x = 0" in err.counterexample
    assert run(sc, "sigma(x)*(1 - sigma(x))", "<=", "1/4").method in ("symbolic", "numeric")


def test_strict_gibbs_bound_is_rejected_when_the_densities_coincide(sc: Scope) -> None:
    kl = "Int(q(z)*log(q(z)/prior(z)), z)"
    err = rejected(sc, kl, ">", "0")
    assert err.message.startswith("false in an equality case")
    assert run(sc, kl, ">=", "0").method == "instance"


def test_strict_integral_bound_is_rejected_for_a_constant_function(sc: Scope) -> None:
    lhs, rhs = "Abs(Int(q(z)*f(z), z))", "MaxOver(Abs(f(z2)), z2)"
    assert rejected(sc, lhs, "<", rhs).message.startswith("false in an equality case")
    assert "equality cases" in run(sc, lhs, "<=", rhs).detail


# 2. wide ranges of whole numbers -------------------------------------------------------------
def test_a_term_vanishing_at_one_two_three_is_caught(sc: Scope) -> None:
    err = rejected(sc, "Sum(mu, (i, 1, t))", "=", "t*mu + (t - 1)*(t - 2)*(t - 3)*mu")
    assert "t = " in err.counterexample
    v = run(sc, "Sum(mu, (i, 1, t))", "=", "t*mu")
    assert v.method == "symbolic"


def test_a_bound_false_only_for_objects_of_different_magnitudes_is_caught_on_every_seed(sc: Scope) -> None:
    """ell(0) + w_1 + ... + w_n >= 0 (w >= 0) fails only where ell(0) is negative and larger than
    the w's: spread instances give each object its own magnitude (hw4 2.3's dropped l_0)."""
    for seed in range(20):
        with pytest.raises(StepRejected):
            check(parse("ell(0) + Sum(w[i], (i, 1, n))", sc.ns), ">=", parse("0", sc.ns), Context(sc, (), seed=seed))
    v = run(sc, "Int(q(z)*f(z), z)**2", "<=", "Int(q(z)*f(z)**2, z)")
    assert v.method == "instance" and "magnitudes 1, 1/1000, 1000 (3 instances with each object at its own)" in v.detail


# 4. keys take effect: random indexed symbols ----------------------------------------------
def test_random_indexed_entries_are_random_variables(sc: Scope) -> None:
    err = rejected(sc, "E(g[1]**2)", "=", "E(g[1])**2")
    assert "instance" in err.message
    assert run(sc, "E(g[1] + g[2])", "=", "E(g[1]) + E(g[2])").method in ("symbolic", "instance")


# 5. ill-typed arguments ------------------------------------------------------------------
def test_argument_of_another_space_is_a_spec_error(sc: Scope) -> None:
    from derive.errors import Loc
    from derive.scope import parse_text
    from derive.spec import Text

    issues: list = []
    assert parse_text(Text("Q1(a3, s3)", Loc("p.yaml", 7, "solution[0].start")), sc, issues) is None
    assert [str(i.message) for i in issues] == [
        "argument 1 of Q1 must be a point of space S, but 'a3' ranges over A",
        "argument 2 of Q1 must be a point of space A, but 's3' ranges over S"]
    assert issues[0].loc.line == 7
    issues.clear()
    parse_text(Text("Q1(s3, 2)", Loc("p.yaml", 8, "k")), sc, issues)
    assert [i.message for i in issues] == ["argument 2 of Q1 must be a point of space A (0 .. 1), got 2"]


# 6. undefined sides ------------------------------------------------------------------------
def test_undefined_sides_are_rejected(sc: Scope) -> None:
    assert "undefined" in rejected(sc, "1/0", "=", "2/0").message
    err = rejected(sc, "Sum(1/(i - 1), (i, 1, t))", "=", "Sum(2/(2*i - 2), (i, 1, t))")
    assert "undefined" in err.message


# 7. hypotheses against the definitions -------------------------------------------------------
def test_hypothesis_contradicting_a_definition_is_found(sc: Scope) -> None:
    found = contradicted_hypotheses(sc)
    assert list(found) == ["two"] and found["two"].startswith("contradicts the definitions: false")


DENSITIES = """\
id: "t"
title: "t"
statement: "s"
spaces: {Z: 3}
symbols:
  z: {space: Z}
  w: {space: Z}
  th: {real: true}
  m: {real: true}
  v: {positive: true}
functions:
  g: {args: [Z]}
definitions:
  soft: {args: [z, th], given: 1, density: true, body: "exp(th*g(z))/Int(exp(th*g(w)), w)"}
  neg: {args: [z, th], given: 1, density: true, body: "-exp(th*g(z))/Int(exp(th*g(w)), w)"}
  loose: {args: [z, th], given: 1, density: true, body: "2*exp(th*g(z))/Int(exp(th*g(w)), w)"}
  normal: {args: [x], density: true, body: "exp(-(x - m)**2/(2*v**2))/sqrt(2*pi*v**2)"}
  wide: {args: [x], density: true, body: "exp(-(x - m)**2/(2*v**2))/sqrt(pi*v**2)"}
solution:
  - say: "x"
"""


def test_a_definition_declared_a_density_must_be_one(tmp_path: Path) -> None:
    """`density: true` on a definition is checked: non-negative, normalised over its leading
    parameters (a sum over a finite space, an integral over the real line)."""
    sc2 = scope_of(tmp_path, DENSITIES)
    found = improper_densities(sc2, ["soft", "neg", "loose", "normal", "wide"])
    assert sorted(found) == ["loose", "neg", "wide"]
    assert found["neg"].startswith("is declared a density, but 0 <= neg(z, th) is not shown: false on a random "
                                   "exact instance; z = ")
    assert found["loose"].startswith("is declared a density, but Int(loose(z, th), z) = 1 is not shown: false")
    assert found["wide"].startswith("is declared a density, but Integral(wide(x), (x, -oo, oo)) = 1 is not shown")


# 8. constraints an author can state ----------------------------------------------------------
def test_equality_constraint_in_assume_is_honoured(sc: Scope) -> None:
    assert run(sc, "Sum(w[i], (i, 1, n))", "=", "1", "Sum(w[i], (i, 1, n)) = 1").method == "instance"
    assert run(sc, "Sum(w[i], (i, 1, n))", "=", "1", "Sum(w[i], (i, 1, n)) == 1").method == "instance"
    assert rejected(sc, "Sum(w[i], (i, 1, n))", "=", "1")


def test_mixed_strict_and_non_strict_bounds_certify(sc: Scope) -> None:
    assert run(sc, "1 - gamma", ">", "0", "0 <= gamma < 1").method == "symbolic"
    assert run(sc, "gamma", ">", "0", "0 < gamma <= 1").method == "symbolic"
    assert run(sc, "gamma*(1 - gamma)", ">=", "0", "0 <= gamma <= 1").method == "symbolic"
    assert rejected(sc, "gamma", ">", "0", "0 <= gamma < 1").message == "false at a sample point"


# 9. rare regions ---------------------------------------------------------------------------
def test_a_violation_near_an_end_of_the_range_is_found(sc: Scope) -> None:
    err = rejected(sc, "-log(p)", ">=", "1 - p + 1000*Max(0, p - 9995/10000)", "0 < p < 1")
    assert err.message == "false at a sample point" and "p = " in err.counterexample
    v = run(sc, "-log(p) + p", ">=", "1 + sin(p)**2*0 + p*0", "0 < p < 1")
    assert v.method == "symbolic" or "near each end" in v.detail


# 10. crashes -------------------------------------------------------------------------------
def test_an_error_inside_a_check_is_undecided_not_a_traceback(sc: Scope) -> None:
    try:
        run(sc, "Limit(Sum(gamma**t, (t, 0, n)), n, oo)", "=", "1/(1 - gamma)", "0 < gamma < 1")
    except StepRejected as exc:
        assert exc.message
    with pytest.raises(StepRejected) as info:
        run(sc, "Limit(Sum(gamma**t, (t, 0, n)), n, oo)", "=", "2/(1 - gamma)", "0 < gamma < 1")
    assert info.value.message


def test_a_crashing_check_becomes_undecided(sc: Scope, monkeypatch: pytest.MonkeyPatch) -> None:
    import derive.verify as verify

    def boom(*args: object) -> None:
        raise KeyError("Q1")

    rows = tuple(verify.Row(r.what, r.when, (boom,)) for r in verify.CHECKS)
    monkeypatch.setattr(verify, "CHECKS", rows)
    err = rejected(sc, "x + 1", "=", "1 + x + 0*x + sin(x)**2 + cos(x)**2 - 1")
    assert err.message == "undecided: the check failed with KeyError: 'Q1'"


# 2. (continued) on a shipped problem: hw4 1.3.3 ------------------------------------------------
SHIPPED = Path(__file__).resolve().parent.parent / "problems" / "hw4" / "projection_attention.yaml"


def derive_changed(tmp_path: Path, old: str, new: str, count: int = 1) -> None:
    from derive.engine import derive_problem

    text = SHIPPED.read_text(encoding="utf-8")
    assert text.count(old) >= count
    path = tmp_path / "projection_attention.yaml"
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    derive_problem("hw4", path)


def test_a_too_small_constant_in_a_cost_bound_is_rejected(tmp_path: Path) -> None:
    from derive.errors import VerificationError

    with pytest.raises(VerificationError) as info:
        derive_changed(tmp_path, 'to: "8*n*k*d"', 'to: "7*n*k*d"')
    assert "upper.2" in str(info.value)


def test_dropping_an_assumption_a_step_needs_is_caught(tmp_path: Path) -> None:
    from derive.errors import DeriveError

    with pytest.raises(DeriveError) as info:
        derive_changed(tmp_path, 'assume: ["2*k <= d", "d <= n"]', 'assume: ["2*k <= d"]')
    assert "best" in str(info.value)


MATRICES = """\
id: "t"
title: "t"
statement: "s"
symbols:
  d: positive integer
  W: {shape: [d, d], sigma_max: "1/2"}
  y: {shape: [d, 1]}
solution:
  - say: "x"
"""


def test_a_matrix_step_false_only_past_the_exact_sizes_fails_on_a_wide_instance(tmp_path: Path) -> None:
    """(d - 1)(d - 2)(d - 3) vanishes at every exact size (1, 2, 3); the wide instances
    (sizes 7 to 10, in ball arithmetic) find the step false."""
    scope = scope_of(tmp_path, MATRICES)
    err = rejected(scope, "matmul(T(y), y)", "=", "matmul(T(y), y) + (d - 1)*(d - 2)*(d - 3)*matmul(T(y), y)")
    assert err.message == "false on a wide instance" and "d = " in err.counterexample
    verdict = run(scope, "T(tanh(matmul(W, y)))", "=", "tanh(matmul(T(y), T(W)))")  # not for the symbolic prover
    assert "on 2 wide instances (d in {9, 10}) the sides agree to 200 bits" in verdict.detail, verdict.detail


def test_a_tight_bound_at_a_wide_size_is_decided_exactly(tmp_path: Path) -> None:
    """sigma_max(W) = 1/2 exactly: the balls overlap the bound and the exact value decides."""
    scope = scope_of(tmp_path, MATRICES)
    assert "; and on 2 wide instances (d in {9, 10}), decided by certified ball arithmetic" in run(scope, "sigma_max(W)", "<=", "1/2").detail
    assert rejected(scope, "sigma_max(W)", "<", "1/2").message.startswith("false")


# 3. spaces of any size ----------------------------------------------------------------------
ANY_SIZE = """\
id: "t"
title: "t"
statement: "s"
spaces: {Z: m}
symbols:
  m: positive integer
  z: {space: Z}
  z2: {space: Z}
functions:
  v: {args: [Z]}
solution:
  - say: "x"
"""


def test_a_constant_true_only_for_the_declared_size_is_rejected(tmp_path: Path) -> None:
    """log sum exp v <= max v + log m holds for every size m; with 2 log 2 (= log 4) it fails
    once the space has more than 4 points, and instances vary m."""
    scope = scope_of(tmp_path, ANY_SIZE)
    lse = "log(Int(exp(v(z)), z))"
    assert run(scope, lse, "<=", "MaxOver(v(z2), z2) + log(m)").method == "instance"
    err = rejected(scope, lse, "<=", "MaxOver(v(z2), z2) + 2*log(2)")
    assert "m = " in err.counterexample


def test_a_space_size_must_be_a_whole_number_symbol(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(ANY_SIZE.replace("m: positive integer", "m: real"), encoding="utf-8")
    _, issues = load_problem(path)
    assert [i.message for i in issues] == ["the size 'm' of a space must be a symbol declared positive integer"]
    assert issues[0].loc.line == 4


def test_strict_bound_tight_at_the_posterior_is_rejected(tmp_path: Path) -> None:
    """KL(q || posterior) > 0 is false when q is the posterior: the first equality case ties q
    to the definition on its spaces."""
    text = """\
id: "t"
title: "t"
statement: "s"
spaces: {Z: 3, X: 2}
symbols:
  z: {space: Z}
  z2: {space: Z}
  x: {space: X}
functions:
  q: {args: [Z, X], given: 1, density: true}
  prior: {args: [Z], density: true}
  lik: {args: [X, Z], given: 1, density: true}
definitions:
  evid: {args: [x], body: "Int(lik(x, z2)*prior(z2), z2)"}
  post: {args: [z, x], body: "lik(x, z)*prior(z)/evid(x)", given: 1}
solution:
  - say: "x"
"""
    scope = scope_of(tmp_path, text)
    kl = "Int(q(z, x)*log(q(z, x)/post(z, x)), z)"
    assert run(scope, kl, ">=", "0").method == "instance"
    assert rejected(scope, kl, ">", "0").message.startswith("false in an equality case")


TANH = """\
id: "t"
title: "t"
statement: "s"
symbols:
  x: real
  k: positive integer
  n: positive integer
  b: {real: true, indexed: true}
definitions:
  z: {args: [k], body: "h(k - 1) + b[k]"}
  h: {args: [k], body: "tanh(z(k))", at: {0: "x"}}
solution:
  - say: "x"
"""


def test_strict_bound_tight_at_zero_parameters_is_rejected(tmp_path: Path) -> None:
    """|dh_n/dx| < 1 through n tanh layers is false with every bias 0 at x = 0 (hw4 1.1.2)."""
    scope = scope_of(tmp_path, TANH)
    assert run(scope, "Abs(Derivative(h(n), x))", "<=", "1").method in ("symbolic", "instance")
    err = rejected(scope, "Abs(Derivative(h(n), x))", "<", "1")
    assert err.message.startswith("false in an equality case") and "x = 0" in err.counterexample


def test_strict_bound_tight_at_the_marginal_is_rejected(tmp_path: Path) -> None:
    """KL(marginal || prior) > 0 is false when the prior is the marginal: in the first equality
    case an unconditional density is tied to a definition made of densities (quiz4 1,
    cross_entropy_z.3), not to one with a log in it."""
    text = """\
id: "t"
title: "t"
statement: "s"
spaces: {Y: 2, Z: 3}
symbols:
  y: {space: Y}
  z: {space: Z}
functions:
  pop: {args: [Y], density: true}
  enc: {args: [Z, Y], given: 1, density: true}
  prior: {args: [Z], density: true}
definitions:
  pz: {args: [z], body: "Int(pop(y)*enc(z, y), y)"}
  score: {args: [y], body: "Int(enc(z, y)*log(prior(z)), z)"}
solution:
  - say: "x"
"""
    scope = scope_of(tmp_path, text)
    kl = "-Int(pz(z)*log(prior(z)/pz(z)), z)"
    assert run(scope, kl, ">=", "0").method == "instance"
    assert rejected(scope, kl, ">=", "1/1000").message.startswith("false in an equality case")
    # KL >= |Z| - sum prior/pz is false where the prior is large where pz is: mixed magnitudes find it
    assert rejected(scope, kl, ">=", "-Int(prior(z)/pz(z) - 1, z)")


def test_a_bound_variable_keeps_its_name_when_a_free_one_is_fixed(sc: Scope) -> None:
    """Int(q(z), z) + f(z): the instance fixes the free z, the integral still sums over z."""
    assert run(sc, "Int(q(z), z) + f(z)", "=", "1 + f(z)").method in ("symbolic", "instance")
    assert rejected(sc, "Int(q(z), z) + f(z)", "=", "2 + f(z)")


def test_a_parameter_used_at_two_spaces_is_a_spec_error(sc: Scope) -> None:
    from derive.errors import Loc
    from derive.scope import parse_text
    from derive.spec import Text

    issues: list = []
    parse_text(Text("Q1(s, x) + Q1(x, s)", Loc("p.yaml", 9, "definitions.d.body")), sc, issues)
    assert [i.message for i in issues] == [
        "'s' is used as a point of S (argument 1 of Q1) and of A (argument 2 of Q1)",
        "'x' is used as a point of A (argument 2 of Q1) and of S (argument 1 of Q1)"]


def test_equalities_between_real_symbols_are_honoured_at_sample_points(sc: Scope) -> None:
    """a == b in `assume`: every sample point lies on it (one symbol solved for)."""
    verdict = run(sc, "s - x", "=", "0", "s == x")
    assert verdict.method == "numeric" and "every point on Eq(s, x)" in verdict.detail
    assert rejected(sc, "s", "=", "2*x", "s == x").message == "false at a random point"
    # p + mu = 1 with 0 <= p < 1 (mixed bounds): mu = 1 - p > 0 at every point
    assert run(sc, "0", "<", "mu", "p + mu = 1; 0 <= p < 1") is not None
    assert rejected(sc, "mu", "<", "1/2", "p + mu = 1; 0 <= p < 1")


def test_an_infinite_product_without_closed_form_has_no_value(sc: Scope) -> None:
    """tau = Product(...) for a series: no closed form, no value at a point: rejected, never hung."""
    err = rejected(sc, "Sum(p*(1 - p)**(i - 1)*i, (i, 1, oo))", "=", "Product(p*(1 - p)**(i - 1)*i, (i, 1, oo))",
                   "0 < p < 1")
    assert "could not evaluate" in err.message or "false" in err.message


def test_a_side_with_no_real_value_on_an_instance_is_rejected(sc: Scope) -> None:
    """log(-Int(q(z), z)): a density's total made negative has no real log (class 6)."""
    err = rejected(sc, "log(-Int(q(z), z))", "=", "log(-1)")
    assert "no real value on an exact instance" in err.message


def test_infinite_values_are_compared_in_the_extended_reals(sc: Scope) -> None:
    """oo - oo has no value: a limit or series equal to oo is decided on the exact values."""
    v = run(sc, "Limit(x**2, x, oo)", "=", "oo")
    assert (v.method, v.detail) == ("symbolic", "exact values compared in the extended reals: left = oo, right = oo")
    assert run(sc, "Sum(1/i, (i, 1, oo))", "=", "oo").method == "symbolic"
    assert run(sc, "Limit(x**2, x, oo)", ">=", "5").detail.endswith("left = 5, right = oo")
    err = rejected(sc, "Limit(x**2, x, oo)", "=", "-oo")
    assert err.counterexample == "left = oo, right = -oo"
    err = rejected(sc, "Limit(x**2, x, oo)", "<", "oo")
    assert err.counterexample == "left = oo, right = oo"

