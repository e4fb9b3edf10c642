"""The one exception tree of derive. Only the CLI turns these into exit codes."""

from __future__ import annotations

import re
from dataclasses import dataclass

_EMPTY_FIELD = re.compile(r"(^|[:;,] )(?:[:;,] )+|^[:;,] ?")


def without_empty_fields(text: str) -> str:
    """`text` with empty `: `/`; `/`, ` separated fields dropped: `: left = 16` -> `left = 16`,
    `a; ; b` -> `a; b`."""
    return _EMPTY_FIELD.sub(lambda m: m.group(1), text.strip()).strip()


@dataclass(frozen=True)
class Loc:
    """Where a spec value came from: file, 1-based line and the key path."""

    file: str
    line: int
    key: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.key}"


class DeriveError(Exception):
    """Base of every error derive raises on purpose."""


@dataclass(frozen=True)
class SpecIssue:
    """One problem found in a spec, reported as `file:line: key: message`."""

    loc: Loc
    message: str

    def __str__(self) -> str:
        return f"{self.loc}: {cut(self.message, 500)}"


class SpecError(DeriveError):
    """One or more spec issues, all collected before reporting."""

    def __init__(self, issues: list[SpecIssue]):
        self.issues = list(issues)
        super().__init__("\n".join(str(i) for i in self.issues))


class VerificationError(DeriveError):
    """A step the verifier rejected: names the place, both sides and a counterexample."""

    def __init__(self, loc: Loc, step: str, message: str, counterexample: str):
        self.loc = loc
        self.step = step
        self.counterexample = without_empty_fields(counterexample)
        shown = f"\n  counterexample: {self.counterexample}" if self.counterexample else ""
        super().__init__(f"{loc}: step {step}: {without_empty_fields(message)}{shown}")


class EngineError(DeriveError):
    """A rule could not be applied where the spec asked for it."""

    def __init__(self, loc: Loc, message: str):
        self.loc = loc
        super().__init__(f"{loc}: {message}")


class CompileError(DeriveError):
    """LaTeX did not produce a PDF."""


class OutputError(DeriveError):
    """The build folder cannot be written (a file in its place, read-only, disk full, locked)."""


class LimitError(DeriveError):
    """Work refused because its estimated size passes a limit (derive/sizes.py)."""


MAX_MESSAGE = 2000


def cut(text: str, limit: int = MAX_MESSAGE) -> str:
    """`text`, cut to `limit` characters with a note of how much was left out."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text) - limit} more characters)"
