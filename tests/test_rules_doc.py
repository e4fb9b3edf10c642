"""derive.rules_doc: docs/rules.md is generated from the registry and is current."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from derive.cli import main
from derive.rules import REGISTRY
from derive.rules_doc import listing, markdown

DOC = Path(__file__).resolve().parents[1] / "docs" / "rules.md"


def test_committed_rules_md_is_current() -> None:
    """Regenerate with `derive rules --markdown > docs/rules.md` when this fails."""
    assert DOC.read_text(encoding="utf-8") == markdown()


def test_every_rule_is_documented_with_its_parameters() -> None:
    text = markdown()
    for rule in REGISTRY.values():
        assert rule.apply.__doc__, rule.name
        section = text.split(f"### `{rule.name}`\n", 1)[1].split("\n### ", 1)[0]
        assert f'- statement: "{rule.statement}"' in section
        assert all(f"`{p.name}` ({p.kind}" in section for p in rule.params)


def test_cli_prints_the_list_and_the_markdown() -> None:
    short = CliRunner().invoke(main, ["rules"])
    assert short.exit_code == 0 and short.stdout == listing() + "\n"
    assert short.stdout.splitlines()[-1].split() == ["variance", "Var[X]", "=", "E[X^2]", "-", "E[X]^2"]
    assert CliRunner().invoke(main, ["rules", "--markdown"]).stdout == markdown()
