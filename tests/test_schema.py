"""derive.schema: one declaration, published as the JSON Schemas editors use; they agree with
the validator on every shipped file and on files it refuses."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from derive.cli import main
from derive.safeyaml import read_yaml
from derive.schema import json_schema, schema_file, schema_text
from derive.spec import load_problem

ROOT = Path(__file__).resolve().parents[1]
PROBLEMS = sorted(p for p in (ROOT / "problems").glob("*/*.yaml") if p.name != "set.yaml")
SETS = sorted((ROOT / "problems").glob("*/set.yaml"))


@pytest.mark.parametrize("kind", ["problem", "set"])
def test_published_schema_is_current(kind: str) -> None:
    """derive/schemas/derive-KIND.schema.json is `derive schema KIND` (regenerate:
    `derive schema KIND > derive/schemas/derive-KIND.schema.json`)."""
    result = CliRunner().invoke(main, ["schema", kind])
    assert result.exit_code == 0
    assert result.output == schema_text(kind)
    assert schema_file(kind).read_text(encoding="utf-8") == result.output
    jsonschema.Draft202012Validator.check_schema(json.loads(result.output))


def _validator(kind: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json_schema(kind))


def _plain(node):
    """ruamel's tree as JSON-like data (keys as strings, as an editor sees them)."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


@pytest.mark.parametrize("path", PROBLEMS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_shipped_problem_passes_both(path: Path) -> None:
    """The JSON Schema accepts every shipped problem file, and so does the validator."""
    assert list(_validator("problem").iter_errors(_plain(read_yaml(path)))) == []
    assert load_problem(path)[1] == []


@pytest.mark.parametrize("path", SETS, ids=lambda p: p.parent.name)
def test_every_shipped_set_passes_the_schema(path: Path) -> None:
    assert list(_validator("set").iter_errors(_plain(read_yaml(path)))) == []


BASE = {"id": "1", "title": "T", "statement": "S", "solution": [{"say": "s"}]}


@pytest.mark.parametrize("change", [
    {"colour": "red"},
    {"id": 1},
    {"title": " "},
    {"symbols": {"x": "real shiny"}},
    {"symbols": {"9x": "real"}},
    {"symbols": {"x": {"random": "yes"}}},
    {"spaces": {"S": 9}},
    {"solution": [{"say": "a", "answer": "c"}]},
    {"solution": [{"sey": "a"}]},
    {"solution": [{"chain": {"label": "c", "start": "x", "steps": []}}]},
    {"solution": [{"chain": {"label": "c", "start": "x", "steps": [{"wibble": 1}]}}]},
    {"solution": [{"chain": {"label": "c", "start": "x", "steps": [{"to": "x", "rel": "~"}]}}]},
    {"solution": [{"figure": {"label": "f", "caption": "c", "mdp": "m", "values": ["a"]}}]},
    {"solution": [{"mdp": {"name": "m", "states": [], "actions": ["a"], "transitions": {}}}]},
    {"errata": [{"source": "book", "place": "p. 1", "says": "x"}]},
])
def test_what_the_validator_refuses_the_schema_refuses(tmp_path: Path, change: dict) -> None:
    """A structural error is caught by both: the editor shows what `derive build` reports."""
    data = {**BASE, **change}
    path = tmp_path / "p.yaml"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert load_problem(path)[1] != []
    assert list(_validator("problem").iter_errors(data)) != []


def test_a_valid_problem_with_every_block_kind_passes_the_schema() -> None:
    """Steps with rule parameters, answers as text or mapping, MDP blocks, figures and errata."""
    data = {**BASE, "symbols": {"x": "real", "W": {"shape": ["n", 2], "sigma_max": "1/2"}},
            "definitions": {"f": "x", "h": {"args": ["k"], "body": "h(k-1)", "at": {"0": "x"}}},
            "errata": [{"source": "book", "place": "p. 1", "says": "$x$", "correction": "$y$", "chain": "c"}],
            "solution": [
                {"chain": {"label": "c", "start": "x", "steps": [{"by": "collect", "var": "x"}, {"to": "x"}]}},
                {"answer": "c"}, {"answer": {"chain": "c", "long": True}},
                {"mdp": {"name": "m", "states": [-1, "s"], "actions": ["+"],
                         "transitions": {"-1": {"+": "s"}, "s": {"+": {"s": 0.5, "-1": "1/2"}}}}},
                {"policies": {"label": "a", "mdp": "m", "gamma": 0.5}},
                {"evaluate": {"label": "b", "mdp": "m", "gamma": "1/2", "policy": "a"}},
                {"figure": {"label": "g", "caption": "c", "values": "a"}},
                {"figure": {"label": "p", "caption": "c",
                            "plot": {"x": "x", "from": -1, "to": "1/2", "curves": [{"y": "x"}]}}}]}
    assert list(_validator("problem").iter_errors(data)) == []
