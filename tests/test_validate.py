"""derive.validate: a file checked against its model, issues at file:line, sound parts kept."""

from __future__ import annotations

from pathlib import Path

from ruamel.yaml import YAML

from derive.schema import ProblemFile, SetFile
from derive.validate import check, key_path, line_of

PROBLEM = """\
id: "1"
title: "T"
statement: "S"
definitions:
  h: {args: [k], body: "h(k - 1)", at: {0: "x"}}
solution:
  - say: "first"
  - chain:
      label: c
      start: "x"
      steps:
        - {by: expand, why: 3}
        - {to: "x", rel: "~"}
        - {to: "x"}
  - {sey: "typo"}
  - answer: c
"""


def tree(text: str):
    return YAML(typ="rt").load(text)


def test_key_paths_bracket_list_indices_only() -> None:
    """A list index is `[i]`, a mapping's key (also a number) follows a dot; () is (top)."""
    data = tree(PROBLEM)
    assert key_path(data, ("solution", 1, "chain", "steps", 0, "why")) == "solution[1].chain.steps[0].why"
    assert key_path(data, ("definitions", "h", "at", 0)) == "definitions.h.at.0"
    assert key_path(data, ()) == "(top)"


def test_line_of_a_key_an_item_and_a_missing_key() -> None:
    """The line of the key or item; a key that is not there takes its parent's line."""
    data = tree(PROBLEM)
    assert line_of(data, ("solution", 1, "chain", "steps", 1, "rel")) == 13
    assert line_of(data, ("solution", 3)) == 16
    assert line_of(data, ("solution", 1, "chain", "defines")) == 8


def test_every_issue_at_once_and_the_sound_parts_kept() -> None:
    """Issues in the spec's words; the values with issues are left out and the rest is read."""
    checked = check(ProblemFile, tree(PROBLEM), "p.yaml")
    assert [str(i) for i in checked.issues] == [
        "p.yaml:12: solution[1].chain.steps[0].why: expected a string, got a number",
        "p.yaml:13: solution[1].chain.steps[1].rel: relation must be one of =, <=, <, >=, >, got '~'",
        "p.yaml:15: solution[2].sey: unknown key; expected one of: answer, chain, evaluate, figure, mdp, "
        "policies, say",
    ]
    m = checked.model
    assert [next(iter(b.model_fields_set)) for b in m.solution] == ["say", "chain", "answer"]
    steps = m.solution[1].chain.steps
    assert [(type(s).__name__, s.rel, s.why) for s in steps] == [
        ("RuleStep", "=", None), ("ClaimStep", "=", None), ("ClaimStep", "=", None)]
    assert checked.pruned == {("solution", 1, "chain", "steps", 0, "why"),
                              ("solution", 1, "chain", "steps", 1, "rel"), ("solution", 2)}
    assert checked.kept(("solution",), [0, 1, 2, 3]) == [0, 1, 3]


def test_a_missing_key_takes_its_stand_in() -> None:
    """A chain without `start` is one issue at the chain's line; the chain is kept with the
    stand-in `0`, so its steps are still read."""
    text = PROBLEM.replace('      start: "x"\n', "")
    checked = check(ProblemFile, tree(text), "p.yaml")
    assert [str(i) for i in checked.issues][:1] == ["p.yaml:8: solution[1].chain: missing required key 'start'"]
    assert [next(iter(b.model_fields_set)) for b in checked.model.solution] == ["say", "chain", "answer"]
    chain = checked.model.solution[1].chain
    assert (chain.start, len(chain.steps)) == ("0", 3)
    assert checked.filled == {("solution", 1, "chain", "start")}


def test_a_missing_key_without_a_stand_in_takes_its_mapping_with_it() -> None:
    """A chain without `steps` (no stand-in: a chain needs one) is left out."""
    text = PROBLEM.replace('      steps:\n        - {by: expand, why: 3}\n        - {to: "x", rel: "~"}\n'
                           '        - {to: "x"}\n', "")
    checked = check(ProblemFile, tree(text), "p.yaml")
    assert [str(i) for i in checked.issues] == [
        "p.yaml:8: solution[1].chain: missing required key 'steps'",
        "p.yaml:11: solution[2].sey: unknown key; expected one of: answer, chain, evaluate, figure, mdp, "
        "policies, say",
    ]
    assert [next(iter(b.model_fields_set)) for b in checked.model.solution] == ["say", "answer"]


def test_a_missing_or_broken_top_level_key_keeps_the_file() -> None:
    """set.yaml with a number for a title: the issue, and a model with the stand-in (the rest of
    the file is still read). `order` and `chapters` are optional to the schema: `load_set`
    requires exactly one of them (tests/test_spec.py)."""
    checked = check(SetFile, tree("title: 5\ncourse: C\n"), "set.yaml")
    assert [str(i) for i in checked.issues] == ["set.yaml:1: title: expected a string, got a number"]
    assert (checked.model.title, checked.model.course, checked.model.order, checked.model.chapters) == ("?", "C", [], [])
    assert checked.filled == {("title",)}


def test_hints_word_issues_of_a_model_its_own_way(tmp_path: Path) -> None:
    """ClaimStep and Chain say what a step or a chain needs instead of the generic message."""
    text = PROBLEM.replace('        - {to: "x"}\n', "        - {wibble: 1}\n")
    issues = [str(i) for i in check(ProblemFile, tree(text), "p.yaml").issues]
    assert issues[-3:-1] == [
        "p.yaml:14: solution[1].chain.steps[2]: a step needs 'by' (a rule) or 'to' (a claimed expression)",
        "p.yaml:14: solution[1].chain.steps[2].wibble: unknown key; a claim step takes only to, rel, why "
        "(rule parameters need 'by')",
    ]


def test_a_check_of_a_whole_mapping_is_reported_with_its_unknown_key() -> None:
    """A figure with an unknown key and two kinds: both issues, though "exactly one kind" is
    checked only once the figure's keys pass; a figure whose plot was left out gets no
    "exactly one kind" (a consequence, not an issue of the file)."""
    text = PROBLEM.replace('  - {sey: "typo"}\n', '  - figure: {label: f, caption: c, colour: red, mdp: m, values: a}\n'
                           '  - figure: {label: g, caption: c, plot: {x: x, from: 0, to: 1, curves: []}}\n')
    assert [str(i) for i in check(ProblemFile, tree(text), "p.yaml").issues] == [
        "p.yaml:12: solution[1].chain.steps[0].why: expected a string, got a number",
        "p.yaml:13: solution[1].chain.steps[1].rel: relation must be one of =, <=, <, >=, >, got '~'",
        "p.yaml:15: solution[2].figure.colour: unknown key; expected one of: caption, label, mdp, plot, values",
        "p.yaml:16: solution[3].figure.plot.curves: a plot needs at least one curve",
        "p.yaml:15: solution[2].figure: a figure has exactly one of: plot, mdp, values",
    ]
