"""derive.spec: YAML -> typed spec objects, every structural issue collected with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from derive.engine import derive_problem
from derive.errors import Loc, SpecError
from derive.spec import (AnswerSpec, ChainSpec, DefinitionSpec, ErratumSpec, FunctionSpec, HypothesisSpec, ProblemRef,
                         ProblemSpec, SaySpec, SetSpec, StepSpec, SymbolSpec, Text, list_sets, load_problem,
                         load_set)

VALID = """\
id: "2.1"
title: "A valid problem"
points: 1
statement: "Show that $x$ is $x$."
spaces: {S: 3}
symbols:
  x: real
  n: positive integer
  s: {space: S, latex: "s'"}
  b: {real: true, indexed: true}
  w: {random: true, mean_zero: true, shape: [n, 2]}
functions:
  P: {args: [S, S], given: 1, density: true, latex: 'p'}
definitions:
  c: "2*x"
  h: {args: [n], body: "h(n - 1) + 1", at: {0: "x"}, latex: 'h'}
hypotheses:
  hp: {lhs: "P(s, s)", rel: "<=", rhs: "1"}
solution:
  - say: "First a chain."
  - chain:
      label: first
      assume: ["0 < x < 1"]
      start: "x"
      steps:
        - {by: unfold, name: c, why: "by definition"}
        - to: "x"
          rel: "<="
  - answer: first
  - answer: {chain: first, text: "Done."}
"""

ISSUES = """\
id: "1"
title: "Bad"
points: "many"
statement: "Prove it."
colour: red
symbols:
  x: real
solution:
  - chain:
      label: c
      start: "x"
      steps:
        - {wibble: 1}
        - {to: "x", rel: "~"}
"""


def write(root: Path, stem: str, text: str, set_name: str = "mini") -> Path:
    """problems/<set_name>/<stem>.yaml under root with `text`; returns its path."""
    d = root / "problems" / set_name
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"{stem}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def make_set(root: Path, name: str, order: list[str], extra: str = "") -> Path:
    """problems/<name>/set.yaml listing `order`; returns its path."""
    d = root / "problems" / name
    d.mkdir(parents=True, exist_ok=True)
    body = "".join(f"  - {stem}\n" for stem in order)
    path = d / "set.yaml"
    listed = f"order:\n{body}" if order else "order: []\n"
    path.write_text(f"title: Set {name}\ncourse: Course {name}\n{extra}{listed}", encoding="utf-8")
    return path


def problem(pid: str, title: str) -> str:
    """A minimal problem file with id and title."""
    return (f'id: "{pid}"\ntitle: "{title}"\nstatement: "S"\nsymbols: {{x: real}}\n'
            'solution:\n  - chain: {label: c, start: "x", steps: [{to: "x"}]}\n')


def issues_of(path: Path) -> list[str]:
    """`file:line: key: message` of every issue load_problem reports."""
    return [str(i) for i in load_problem(path)[1]]


# ---- a valid problem -------------------------------------------------------------------------
def test_valid_problem_loads_into_exact_dataclasses(tmp_path: Path) -> None:
    """Every section of a valid file becomes its dataclass, each value with its file:line and key path."""
    path = write(tmp_path, "good", VALID)
    spec, issues = load_problem(path)
    assert issues == []

    def at(line: int, key: str) -> Loc:
        return Loc(str(path), line, key)

    def text(value: str, line: int, key: str) -> Text:
        return Text(value, at(line, key))

    assert spec == ProblemSpec(
        path=path,
        id="2.1",
        title="A valid problem",
        points=1.0,
        statement=text("Show that $x$ is $x$.", 4, "statement"),
        symbols=(
            SymbolSpec("x", ("real",), at(7, "symbols.x")),
            SymbolSpec("n", ("positive", "integer"), at(8, "symbols.n")),
            SymbolSpec("s", (), at(9, "symbols.s"), latex=text("s'", 9, "symbols.s.latex"), space="S"),
            SymbolSpec("b", ("real",), at(10, "symbols.b"), indexed=True),
            SymbolSpec("w", (), at(11, "symbols.w"), random=True, mean_zero=True,
                       shape=(text("n", 11, "symbols.w.shape[0]"), text("2", 11, "symbols.w.shape[1]"))),
        ),
        functions=(FunctionSpec("P", ("S", "S"), at(13, "functions.P"), given=1, density=True,
                                latex=text("p", 13, "functions.P.latex")),),
        spaces={"S": 3},
        definitions=(
            DefinitionSpec("c", (), text("2*x", 15, "definitions.c"), at(15, "definitions.c")),
            DefinitionSpec("h", ("n",), text("h(n - 1) + 1", 16, "definitions.h.body"), at(16, "definitions.h"),
                           latex=text("h", 16, "definitions.h.latex"),
                           at=((0, text("x", 16, "definitions.h.at.0")),)),
        ),
        hypotheses=(HypothesisSpec("hp", text("P(s, s)", 18, "hypotheses.hp.lhs"), "<=",
                                   text("1", 18, "hypotheses.hp.rhs"), at(18, "hypotheses.hp")),),
        solution=(
            SaySpec(text("First a chain.", 20, "solution[0].say")),
            ChainSpec(
                label="first",
                start=text("x", 24, "solution[1].chain.start"),
                assume=(text("0 < x < 1", 23, "solution[1].chain.assume[0]"),),
                steps=(
                    StepSpec(at(26, "solution[1].chain.steps[0]"), "unfold", None, "=", "by definition",
                             {"name": "c"}, {"name": at(26, "solution[1].chain.steps[0].name")},
                             at(26, "solution[1].chain.steps[0].by")),
                    StepSpec(at(27, "solution[1].chain.steps[1]"), None,
                             text("x", 27, "solution[1].chain.steps[1].to"), "<=", None, {}, {}),
                ),
                loc=at(21, "solution[1].chain"),
            ),
            AnswerSpec("first", "", at(29, "solution[2].answer")),
            AnswerSpec("first", "Done.", at(30, "solution[3].answer")),
        ),
    )
    assert isinstance(spec.points, float)


# ---- issues, all at once ---------------------------------------------------------------------
def test_every_issue_is_collected_at_once_with_file_line_key(tmp_path: Path) -> None:
    """Unknown key, wrong type, an empty step with an unknown key and a bad relation are all
    reported, in the order of the file."""
    path = write(tmp_path, "bad", ISSUES)
    spec, issues = load_problem(path)
    assert spec is not None and spec.id == "1" and spec.points is None
    f = str(path)
    assert [str(i) for i in issues] == [
        f"{f}:3: points: expected a number, got a string",
        f"{f}:5: colour: unknown key; expected one of: aliases, definitions, errata, functions, hypotheses, id, points, "
        "solution, spaces, statement, symbols, title",
        f"{f}:13: solution[0].chain.steps[0]: a step needs 'by' (a rule) or 'to' (a claimed expression)",
        f"{f}:13: solution[0].chain.steps[0].wibble: unknown key; a claim step takes only to, rel, why "
        "(rule parameters need 'by')",
        f"{f}:14: solution[0].chain.steps[1].rel: relation must be one of =, <=, <, >=, >, got '~'",
    ]


def test_wrong_types_of_top_level_values(tmp_path: Path) -> None:
    """A numeric id, empty title, numeric statement and a mapping for solution are each an issue."""
    path = write(tmp_path, "types", 'id: 1.1\ntitle: ""\nstatement: 5\nsolution: {}\n')
    f = str(path)
    assert issues_of(path) == [
        f'{f}:1: id: expected a string (quote numbers like "1.1.1"), got a number',
        f"{f}:2: title: must not be empty",
        f"{f}:3: statement: expected a string, got a number",
        f"{f}:4: solution: expected a list, got a mapping",
    ]


@pytest.mark.parametrize("text, kind", [("- a\n- b\n", "a list"), ("", "nothing"), ("just text\n", "a string")])
def test_top_level_must_be_a_mapping(tmp_path: Path, text: str, kind: str) -> None:
    """A file that is not a mapping gives no spec and one issue on line 1."""
    path = write(tmp_path, "notmap", text)
    spec, issues = load_problem(path)
    assert spec is None
    assert [str(i) for i in issues] == [f"{path}:1: (top): expected a mapping, got {kind}"]


def test_nested_declaration_issues(tmp_path: Path) -> None:
    """Bad assumptions, flags, spaces, given counts and base cases are reported where they stand."""
    path = write(tmp_path, "decl", """\
id: "1"
title: "T"
statement: "S"
spaces: {S: 9, A: 2}
symbols:
  x: "real shiny"
  y: {random: "yes", colour: 1}
functions:
  P: {args: [S], given: 2}
definitions:
  d: {args: [u, v], body: "u", at: {0: "u"}}
  e: {body: ""}
hypotheses:
  h: {lhs: "x", rel: "~~", rhs: "1"}
solution:
  - chain: {label: c, start: "x", steps: []}
  - {say: "a", answer: c}
""")
    f = str(path)
    assert issues_of(path) == [
        f"{f}:4: spaces.S: a space's size must be a whole number from 1 to 6, or the name of a positive "
        "integer symbol (a space of any size), got 9",
        f"{f}:6: symbols.x: unknown assumption 'shiny'; expected some of: real, positive, nonnegative, "
        "negative, nonzero, integer",
        f"{f}:7: symbols.y.random: expected true or false, got a string",
        f"{f}:7: symbols.y.colour: unknown key; expected one of: indexed, integer, latex, long, mean_zero, "
        "negative, nonnegative, nonzero, positive, random, real, shape, sigma_max, space, structure",
        f"{f}:9: functions.P.given: expected a whole number from 0 to 0 (fewer than the arguments), got 2",
        f"{f}:11: definitions.d.at: 'at' maps whole numbers to base-case expressions, for a one-argument "
        "definition",
        f"{f}:12: definitions.e.body: must not be empty",
        f"{f}:14: hypotheses.h.rel: relation must be one of =, <=, <, >=, >, got '~~'",
        f"{f}:16: solution[0].chain.steps: a chain needs at least one step",
        f"{f}:17: solution[1]: a solution block has exactly one of: say, chain, answer, mdp, policies, evaluate, figure",
    ]


# ---- YAML errors -----------------------------------------------------------------------------
def test_duplicate_yaml_key_is_an_error_not_last_wins(tmp_path: Path) -> None:
    """A repeated key is reported at the second occurrence; no spec is returned."""
    path = write(tmp_path, "dup", 'id: "1"\ntitle: "Dup"\nstatement: "S"\ntitle: "Again"\nsolution: []\n')
    spec, issues = load_problem(path)
    assert spec is None
    assert [str(i) for i in issues] == [
        f'{path}:4: yaml: found duplicate key "title" with value "Again" (original value: "Dup")']


def test_duplicate_key_inside_a_step_names_its_line(tmp_path: Path) -> None:
    """A duplicate deep in the file is reported with that line."""
    path = write(tmp_path, "dup2", ISSUES.replace('{to: "x", rel: "~"}', '{to: "x", to: "y"}'))
    assert issues_of(path) == [f'{path}:14: yaml: found duplicate key "to" with value "y" (original value: "x")']


def test_duplicate_key_stops_the_collection(tmp_path: Path) -> None:
    """A duplicate key is a YAML error: it is reported alone, the file's other issues are not read."""
    path = write(tmp_path, "dup3", ISSUES + "title: again\n")
    spec, issues = load_problem(path)
    assert spec is None
    assert [str(i) for i in issues] == [
        f'{path}:15: yaml: found duplicate key "title" with value "again" (original value: "Bad")']


@pytest.mark.parametrize("text, line, message", [
    ('id: "1"\ntitle: "T"\n  statement: "S"\nsolution: []\n', 3,
     "expected <block end>, but found '<block mapping start>'"),
    ('id: "1"\ntitle: [unclosed\nstatement: x\n', 3, "expected ',' or ']', but got ':'"),
])
def test_yaml_syntax_error_gives_file_and_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    """A YAML syntax error is one issue `file:line: yaml: message`."""
    path = write(tmp_path, "syntax", text)
    spec, issues = load_problem(path)
    assert spec is None
    assert [str(i) for i in issues] == [f"{path}:{line}: yaml: {message}"]


def test_unreadable_file(tmp_path: Path) -> None:
    """A missing file is an issue at line 0."""
    path = tmp_path / "nope.yaml"
    spec, issues = load_problem(path)
    assert spec is None
    assert [str(i) for i in issues] == [f"{path}:0: file: cannot read: No such file or directory"]


# ---- sets ----------------------------------------------------------------------------------------
def test_load_set_reads_order_ids_and_titles(tmp_path: Path) -> None:
    """set.yaml gives the title, course and problems in order, each with its id and title."""
    make_set(tmp_path, "mini", ["second", "first"])
    a = write(tmp_path, "first", problem("1.1", "First"))
    b = write(tmp_path, "second", problem("1.2", "Second"))
    assert load_set(tmp_path, "mini") == SetSpec(
        "mini", "Set mini", "Course mini",
        (ProblemRef("second", b, "1.2", "Second"), ProblemRef("first", a, "1.1", "First")))


def test_load_set_reads_chapters_in_order(tmp_path: Path) -> None:
    """With `chapters:` every problem carries its chapter's heading, chapters in file order."""
    d = tmp_path / "problems" / "mini"
    d.mkdir(parents=True)
    (d / "set.yaml").write_text("title: T\nchapters:\n  - title: Shallow $f(x)$\n    order: [b]\n"
                                "  - title: Deep\n    order: [a, c]\n")
    a, b, c = (write(tmp_path, stem, problem(pid, stem)) for stem, pid in (("a", "2"), ("b", "1"), ("c", "3")))
    assert load_set(tmp_path, "mini").problems == (
        ProblemRef("b", b, "1", "b", "Shallow $f(x)$"), ProblemRef("a", a, "2", "a", "Deep"),
        ProblemRef("c", c, "3", "c", "Deep"))


def test_load_set_reads_only_the_top_level_id_and_title(tmp_path: Path) -> None:
    """The listing reads a problem's id and title from the top-level scalars and stops there:
    a syntax error or an alias after them does not hide them (the file's issues come when it is
    derived); a nested `id`, a non-scalar value or a file that is no mapping gives '?'."""
    make_set(tmp_path, "mini", ["late", "nested", "listy", "alias", "broken"])
    late = write(tmp_path, "late", 'title: >-\n  Two\n  lines\nid: "3.10"\nstatement: [unclosed\n')
    nested = write(tmp_path, "nested", 'meta: {id: "9", title: "No"}\nid: "2"\nsolution: []\n')
    listy = write(tmp_path, "listy", 'id: [1, 2]\ntitle: "T"\n')
    alias = write(tmp_path, "alias", 'id: &a "4"\ntitle: *a\n')
    broken = write(tmp_path, "broken", "- just\n- a list\n")
    assert load_set(tmp_path, "mini").problems == (
        ProblemRef("late", late, "3.10", "Two lines"), ProblemRef("nested", nested, "2", "?"),
        ProblemRef("listy", listy, "?", "T"), ProblemRef("alias", alias, "4", "?"),
        ProblemRef("broken", broken, "?", "?"))


@pytest.mark.parametrize(("body", "issue"), [
    ("order: [a]\nchapters:\n  - {title: X, order: [a]}\n",
     "3: chapters: a set lists its problems in one of `order` and `chapters`; this one has both `order` and `chapters`"),
    ("course: C\n", "1: order: a set lists its problems in one of `order` and `chapters`; "
                    "this one has neither `order` nor `chapters`"),
    ("chapters:\n  - {title: X, order: [a]}\n  - {title: Y, order: [a]}\n",
     "4: chapters[1].order[0]: problem 'a' is listed twice"),
    ("chapters:\n  - {title: 'A $\\input{x}$', order: [a]}\n",
     "3: chapters[0].title: control sequence \\input is not allowed in math: '\\\\input{x}'"),
])
def test_set_chapters_issues(tmp_path: Path, body: str, issue: str) -> None:
    """Exactly one of `order` and `chapters`; a problem once over all chapters; headings pass
    the TeX allow-list."""
    d = tmp_path / "problems" / "mini"
    d.mkdir(parents=True)
    (d / "set.yaml").write_text("title: T\n" + body)
    write(tmp_path, "a", problem("1", "A"))
    with pytest.raises(SpecError) as info:
        load_set(tmp_path, "mini")
    assert [str(i) for i in info.value.issues] == [f"{d / 'set.yaml'}:{issue}"]


def test_load_set_unknown_set_lists_known_sets(tmp_path: Path) -> None:
    """An unknown set name is a SpecError naming the known sets."""
    make_set(tmp_path, "mini", [])
    make_set(tmp_path, "other", [])
    (tmp_path / "problems" / "notaset").mkdir()
    with pytest.raises(SpecError) as info:
        load_set(tmp_path, "nosuch")
    assert [str(i) for i in info.value.issues] == [
        f"{tmp_path / 'problems' / 'nosuch' / 'set.yaml'}:0: set: no problem set named 'nosuch' (known: mini, other)"]


def test_load_set_unknown_set_without_any_sets(tmp_path: Path) -> None:
    """With no sets at all the known list says none."""
    with pytest.raises(SpecError) as info:
        load_set(tmp_path, "hw")
    assert str(info.value) == f"{tmp_path / 'problems' / 'hw' / 'set.yaml'}:0: set: no problem set named 'hw' (known: none)"


@pytest.mark.parametrize("name", ["../x", "", "a/b", "-x"])
def test_load_set_refuses_names_that_are_not_set_names(tmp_path: Path, name: str) -> None:
    """A set name is letters, digits, _ and -; anything else is a command-line issue."""
    with pytest.raises(SpecError) as info:
        load_set(tmp_path, name)
    assert str(info.value) == f"<command line>:0: SET: not a set name: {name!r}"


def test_set_naming_a_missing_problem_file(tmp_path: Path) -> None:
    """Every missing or badly named problem of set.yaml is reported with its line."""
    path = make_set(tmp_path, "mini", ["first", "nope", "9x"])
    write(tmp_path, "first", problem("1.1", "First"))
    with pytest.raises(SpecError) as info:
        load_set(tmp_path, "mini")
    d = tmp_path / "problems" / "mini"
    assert [str(i) for i in info.value.issues] == [
        f"{path}:5: order[1]: no problem file nope.yaml in {d}",
        f"{path}:6: order[2]: expected a plain identifier (a letter, then letters, digits and _), got '9x'",
    ]


def test_set_with_bad_keys_and_a_broken_problem_file(tmp_path: Path) -> None:
    """Set issues abort the set; a problem file with a YAML error does not (it fails alone when
    derived: see tests/test_hostile.py)."""
    path = make_set(tmp_path, "mini", ["broken"], extra="colour: red\n")
    write(tmp_path, "broken", 'id: "1"\nid: "2"\n')
    with pytest.raises(SpecError) as info:
        load_set(tmp_path, "mini")
    assert [str(i) for i in info.value.issues] == [
        f"{path}:3: colour: unknown key; expected one of: chapters, course, order, title",
    ]


def test_a_broken_set_title_hides_no_order_issue(tmp_path: Path) -> None:
    """`title: 5` and a missing problem file are reported together (the title once hid the rest)."""
    d = tmp_path / "problems" / "s"
    d.mkdir(parents=True)
    (d / "set.yaml").write_text("title: 5\norder: [gone]\n")
    with pytest.raises(SpecError) as info:
        load_set(tmp_path, "s")
    assert [str(i) for i in info.value.issues] == [
        f"{d / 'set.yaml'}:1: title: expected a string, got a number",
        f"{d / 'set.yaml'}:2: order[0]: no problem file gone.yaml in {d}",
    ]


def test_list_sets_on_a_tmp_root(tmp_path: Path) -> None:
    """list_sets gives every directory with a set.yaml, by name; a root without problems/ has none."""
    assert list_sets(tmp_path) == []
    make_set(tmp_path, "zeta", [])
    make_set(tmp_path, "alpha", ["p"])
    p = write(tmp_path, "p", problem("3", "P"), set_name="alpha")
    (tmp_path / "problems" / "empty").mkdir()
    assert list_sets(tmp_path) == [
        SetSpec("alpha", "Set alpha", "Course alpha", (ProblemRef("p", p, "3", "P"),)),
        SetSpec("zeta", "Set zeta", "Course zeta", ()),
    ]


# ---- regressions (bugs found and fixed) ----------------------------------------------------------------------------------
def test_unknown_top_level_key_path_is_the_key_itself(tmp_path: Path) -> None:
    """The key path of an unknown top-level key is the key, like `points` or `id`."""
    path = write(tmp_path, "bad", ISSUES)
    assert issues_of(path)[1] == (f"{path}:5: colour: unknown key; expected one of: aliases, definitions, "
                                  "errata, functions, hypotheses, id, points, solution, spaces, statement, symbols, title")


def test_missing_id_is_reported_once(tmp_path: Path) -> None:
    """A missing required key is one issue."""
    path = write(tmp_path, "noid", 'title: "T"\nstatement: "S"\nsolution: []\n')
    assert issues_of(path) == [f"{path}:1: (top): missing required key 'id'"]


def derive_issues(path: Path) -> list[str]:
    """Every issue of a problem, the engine's (expressions, references) after the file's."""
    with pytest.raises(SpecError) as err:
        derive_problem("mini", path)
    return [str(i) for i in err.value.issues]


def test_a_broken_top_level_key_keeps_the_rest_of_the_file(tmp_path: Path) -> None:
    """Missing `id` and `statement` and a number for `title` are reported together with the
    issues of the rest of the file, the engine's too (they stand in as `?`)."""
    path = write(tmp_path, "top", """\
title: 5
points: "ten"
symbols:
  x: real
solution:
  - chain:
      label: c
      start: "x +"
      steps:
        - {to: "y", rel: "~"}
""")
    f = str(path)
    assert derive_issues(path) == [
        f"{f}:1: (top): missing required key 'id'",
        f"{f}:1: title: expected a string, got a number",
        f"{f}:1: (top): missing required key 'statement'",
        f"{f}:2: points: expected a number, got a string",
        f"{f}:10: solution[0].chain.steps[0].rel: relation must be one of =, <=, <, >=, >, got '~'",
        f"{f}:8: solution[0].chain.start: malformed expression: invalid syntax",
        f"{f}:10: solution[0].chain.steps[0].to: undefined symbol 'y' (declare it under symbols)",
    ]
    spec = load_problem(path)[0]
    assert (spec.id, spec.title, spec.stand_ins) == ("?", "?", frozenset({"id", "title", "statement"}))


def test_a_mapping_missing_a_required_key_is_still_read(tmp_path: Path) -> None:
    """A hypothesis without `rhs`, two chains without `label` and a step with neither `by` nor
    `to` keep their other keys: their other issues (TeX, expressions) are reported too; a
    broken symbol stays declared (no "undefined symbol 'x'"); the stand-ins cause no issue of
    their own (no "label used twice", nothing about the hypothesis's stand-in left side)."""
    path = write(tmp_path, "maps", """\
id: "1"
title: "T"
statement: "S"
symbols:
  x: "real shiny"
hypotheses:
  h: {lhs: 3, rel: "~"}
solution:
  - chain:
      start: "x +"
      steps:
        - {rel: "<=", why: "$\\\\input{f}$"}
  - chain:
      start: "x"
      steps:
        - {to: "x**"}
  - answer: c
""")
    f = str(path)
    assert derive_issues(path) == [
        f"{f}:5: symbols.x: unknown assumption 'shiny'; expected some of: real, positive, nonnegative, negative, "
        "nonzero, integer",
        f"{f}:7: hypotheses.h.lhs: expected a string, got a number",
        f"{f}:7: hypotheses.h.rel: relation must be one of =, <=, <, >=, >, got '~'",
        f"{f}:7: hypotheses.h: missing required key 'rhs'",
        f"{f}:9: solution[0].chain: missing required key 'label'",
        f"{f}:12: solution[0].chain.steps[0]: a step needs 'by' (a rule) or 'to' (a claimed expression)",
        f"{f}:12: solution[0].chain.steps[0].why: control sequence \\input is not allowed in math: '\\\\input{{f}}'",
        f"{f}:13: solution[1].chain: missing required key 'label'",
        f"{f}:10: solution[0].chain.start: malformed expression: invalid syntax",
        f"{f}:16: solution[1].chain.steps[0].to: malformed expression: invalid syntax",
        f"{f}:17: solution[2].answer: no chain labelled 'c' before this answer",
    ]


def test_a_number_where_a_list_or_mapping_belongs_is_an_issue_not_a_crash(tmp_path: Path) -> None:
    """`symbols: 5` and `solution: 5` are issues (`symbols: 5` once raised TypeError)."""
    path = write(tmp_path, "scalars", 'id: "1"\ntitle: "T"\nstatement: "S"\nsymbols: 5\nsolution: 5\n')
    f = str(path)
    assert issues_of(path) == [f"{f}:4: symbols: expected a mapping, got a number",
                               f"{f}:5: solution: expected a list, got a number"]


def test_unknown_set_is_reported_even_when_another_set_is_broken(tmp_path: Path) -> None:
    """Asking for an unknown set names that set, not the issues of some other set."""
    make_set(tmp_path, "good", [])
    make_set(tmp_path, "broken", ["missing"])
    with pytest.raises(SpecError) as info:
        load_set(tmp_path, "nosuch")
    assert [str(i) for i in info.value.issues] == [
        f"{tmp_path / 'problems' / 'nosuch' / 'set.yaml'}:0: set: no problem set named 'nosuch' "
        "(known: broken, good)"]


# ---- finite MDP blocks -----------------------------------------------------------------------
MDP_HEAD = 'id: "m"\ntitle: "M"\nstatement: "S"\nsolution:\n'
COIN = """\
  - mdp:
      name: coin
      states: [s, t]
      actions: [go]
      transitions:
        s: {go: {s: 0.5, t: "1/2"}}
        t: {go: t}
      rewards: {s: {go: 1}}
"""


def test_mdp_blocks_load_with_exact_fractions(tmp_path: Path) -> None:
    from fractions import Fraction

    from derive.spec import EvaluateSpec, MdpSpec, PoliciesSpec, RefSpec
    path = write(tmp_path, "m", MDP_HEAD + COIN + """\
  - policies: {label: a, mdp: coin, gamma: 0.5, optimal: {policy: {s: go}, values: {s: "4/3", t: 0}}}
  - evaluate: {label: c, mdp: coin, gamma: 0.5, policy: a, compare: a, values: {s: 1.5}}
  - say: "Cited: $v = @{a.v(s)}$ and $@{c.loss(t):4}$, $q = @{a.q(s, go)}$."
""")
    spec, issues = load_problem(path)
    assert issues == []
    m, a, c, say = spec.solution
    assert isinstance(m, MdpSpec) and m.states == ("s", "t") and m.actions == ("go",)
    assert m.transitions == {("s", "go"): (("s", Fraction(1, 2)), ("t", Fraction(1, 2))),
                             ("t", "go"): (("t", Fraction(1)),)}
    assert m.rewards == {("s", "go"): Fraction(1)}
    assert isinstance(a, PoliciesSpec) and a.gamma == Fraction(1, 2)
    assert [(s, act) for s, act, _ in a.policy] == [("s", "go")]
    assert [(s, t.value) for s, t in a.values] == [("s", "4/3"), ("t", "0")]
    assert isinstance(c, EvaluateSpec) and (c.policy_of, c.compare) == ("a", "a")
    assert [(s, t.value) for s, t in c.values] == [("s", "1.5")]
    assert say.refs == (RefSpec("@{a.v(s)}", "a", "v", ("s",), None), RefSpec("@{c.loss(t):4}", "c", "loss", ("t",), 4),
                        RefSpec("@{a.q(s, go)}", "a", "q", ("s", "go"), None))


def test_bad_mdp_data_is_reported_with_file_line_and_key(tmp_path: Path) -> None:
    path = write(tmp_path, "m", MDP_HEAD + """\
  - mdp:
      name: bad
      states: [s, t, s]
      actions: [go, stay]
      transitions:
        s: {go: {s: 0.5, t: 0.25}, stay: u}
        t: {go: {t: 2, s: -1}, fly: t}
        w: {go: t}
      rewards: {s: {go: "x"}}
  - policies: {label: a, mdp: bad, gamma: 1}
  - policies: {label: b, mdp: nope, gamma: 0.9, optimal: {policy: {s: jump}}}
  - evaluate: {label: c, mdp: bad, gamma: 0.5, policy: {s: go}, loss: {s: 1}}
  - say: "Cite $@{zz.v(s)}$, @{b.v(s)} and $@{b.w}$."
""")
    f = str(path)
    assert issues_of(path) == [
        f"{f}:7: solution[0].mdp.states[2]: state 's' listed twice",
        f"{f}:9: solution[0].mdp.transitions: no transition for (t, stay)",
        f"{f}:10: solution[0].mdp.transitions.s.go: probabilities of the next states sum to 3/4, not 1",
        f"{f}:10: solution[0].mdp.transitions.s.stay: unknown next state 'u'; states: s, t",
        f"{f}:11: solution[0].mdp.transitions.t.fly: unknown action 'fly'; actions: go, stay",
        f"{f}:11: solution[0].mdp.transitions.t.go.t: a probability must lie in [0, 1], got 2",
        f"{f}:11: solution[0].mdp.transitions.t.go.s: a probability must lie in [0, 1], got -1",
        f"{f}:12: solution[0].mdp.transitions.w: unknown state 'w'; states: s, t",
        f"{f}:13: solution[0].mdp.rewards.s.go: expected a number or a fraction like \"1/3\", got 'x'",
        f"{f}:14: solution[1].policies.gamma: the discount gamma must lie in [0, 1), got 1",
        f"{f}:15: solution[2].policies: no MDP named 'nope' defined before this block",
        f"{f}:16: solution[3].evaluate.loss: a claimed loss needs 'compare'",
        f"{f}:16: solution[3].evaluate.policy.s: a policy needs an action for every state: s, t",
        f"{f}:17: solution[4].say: citation '@{{b.v(s)}}' must stand inside $...$",
        f"{f}:17: solution[4].say: citation '@{{zz.v(s)}}': no policies or evaluate block labelled 'zz' before it",
        f"{f}:17: solution[4].say: citation '@{{b.w}}': a policies block offers v, q, gamma",
    ]


def test_claimed_policy_names_are_checked_against_the_mdp(tmp_path: Path) -> None:
    path = write(tmp_path, "m", MDP_HEAD + COIN + """\
  - policies: {label: a, mdp: coin, gamma: 0.5, optimal: {policy: {s: jump, u: go}, values: {v: 1}}}
  - evaluate: {label: c, mdp: coin, gamma: 0.25, policy: a, compare: a}
""")
    f = str(path)
    assert issues_of(path) == [
        f"{f}:13: solution[1].policies.optimal.policy.s: unknown action 'jump'; actions: go",
        f"{f}:13: solution[1].policies.optimal.policy.u: unknown state 'u'; states: s, t",
        f"{f}:13: solution[1].policies.optimal.values.v: unknown state 'v'; states: s, t",
        f"{f}:14: solution[2].evaluate: compare: block 'a' has gamma 1/2, not 1/4",
    ]

def test_definition_given_is_checked(tmp_path: Path) -> None:
    """A definition may print with a conditioning bar; `given` counts at most its arguments."""
    path = write(tmp_path, "given", """\
id: "1"
title: "T"
statement: "S"
definitions:
  q: {args: [u], body: "u", given: 2}
  pol: {args: [u, v], body: "u*v", given: 1}
solution:
  - say: "a"
""")
    assert issues_of(path) == [f"{path}:5: definitions.q.given: expected a whole number from 0 to 0 (fewer than the arguments), got 2"]


def test_definition_given_prints_a_conditional(tmp_path: Path) -> None:
    """A definition may put its last `given` parameters after the conditioning bar; the count
    must be a whole number from 0 to the number of parameters."""
    path = write(tmp_path, "given", """\
id: "1"
title: "T"
statement: "S"
definitions:
  post: {args: [z, x], given: 1, body: "z*x"}
  bad: {args: [u], given: 2, body: "u"}
solution:
  - chain: {label: c, start: "1", steps: [{to: "1"}]}
""")
    spec, issues = load_problem(path)
    assert [str(i) for i in issues] == [f"{path}:6: definitions.bad.given: expected a whole number from 0 to 0 (fewer than the arguments), got 2"]
    assert [(d.name, d.given) for d in spec.definitions] == [("post", 1), ("bad", 0)]

def test_structure_needs_a_known_name_and_a_shape(tmp_path: Path) -> None:
    """`structure` is one of the known kinds and needs a shape; a shape has two entries."""
    path = tmp_path / "p.yaml"
    path.write_text("""\
id: "1"
title: "T"
statement: "S"
symbols:
  A: {shape: [2, 2], structure: sparse}
  B: {structure: diagonal}
  C: {shape: [2]}
solution:
  - say: "s"
""")
    f = str(path)
    assert issues_of(path) == [
        f"{f}:5: symbols.A.structure: unknown structure 'sparse'; expected one of: orthonormal_columns, "
        "diagonal, positive_diagonal, identity, permutation, invertible, ones, symmetric, spd",
        f"{f}:6: symbols.B.structure: a structure needs a shape: declare `shape: [rows, cols]`",
        f"{f}:7: symbols.C.shape: a shape is [rows, columns]",
    ]

def test_sigma_max_needs_a_shape_and_a_number(tmp_path: Path) -> None:
    path = write(tmp_path, "p", 'id: "1"\ntitle: "T"\nstatement: "S"\nsymbols:\n'
                 '  W: {sigma_max: [1]}\nsolution:\n  - chain: {label: c, start: "1", steps: [{to: "1"}]}\n')
    f = str(path)
    assert issues_of(path) == [f"{f}:5: symbols.W.sigma_max: expected an expression or a number, got a list"]
    path.write_text(path.read_text().replace("[1]", '"1/2"'))
    assert issues_of(path) == [f"{f}:5: symbols.W.sigma_max: sigma_max needs a matrix: declare its shape too"]


# ---- errata ----------------------------------------------------------------------------------
ERRATUM = """\
errata:
  - source: "The handout"
    place: "problem 2.1"
    says: "$x \\\\le 2x$"
    correction: "$x \\\\le x$ holds too."
    chain: first
"""


def test_errata_are_read_with_their_chain(tmp_path: Path) -> None:
    path = write(tmp_path, "ok", VALID + ERRATUM)
    spec, issues = load_problem(path)
    assert issues == []

    def text(value: str, line: int, key: str) -> Text:
        return Text(value, Loc(str(path), line, f"errata[0].{key}"))

    assert spec.errata == (ErratumSpec(text("The handout", 32, "source"), text("problem 2.1", 33, "place"),
                                       text("$x \\le 2x$", 34, "says"), text("$x \\le x$ holds too.", 35, "correction"),
                                       "first", Loc(str(path), 32, "errata[0]")),)


def test_errata_issues_name_file_line_and_key(tmp_path: Path) -> None:
    """Structural issues of an erratum (its missing and broken keys take the stand-in `?`),
    and the chain and TeX of a complete one."""
    text = VALID + """\
errata:
  - source: "The handout"
    place: ""
    colour: red
  - source: "The handout"
    place: "p. 2"
    says: "$\\\\input{/etc/passwd}$"
    correction: "c"
    chain: nowhere
"""
    path = write(tmp_path, "bad", text)
    spec, issues = load_problem(path)
    f = str(path)
    assert [str(i) for i in issues] == [
        f"{f}:32: errata[0]: missing required key 'says'",
        f"{f}:32: errata[0]: missing required key 'correction'",
        f"{f}:33: errata[0].place: must not be empty",
        f"{f}:34: errata[0].colour: unknown key; expected one of: chain, correction, place, says, source",
        f"{f}:37: errata[1].says: control sequence \\input is not allowed in math: '\\\\input{{/etc/passwd}}'",
        f"{f}:39: errata[1].chain: not a chain label of this problem: 'nowhere' (known: first)",
    ]
    assert [(e.place.value, e.says.value, e.chain) for e in spec.errata] == [
        ("?", "?", None), ("p. 2", "$\\input{/etc/passwd}$", None)]
