"""The allow-list for spec text that reaches LaTeX: math commands, environments, characters.

Rules:
- Math (`$...$`, `$$...$$`, `latex:` and `long:` fields) may use only the control sequences in
  ALLOWED_COMMANDS and the environments in ALLOWED_ENVIRONMENTS; everything else is refused
  (an allow-list: `\\begin{X}` runs `\\X`, so environments are names on the list too).
- The math must also be well formed where TeX would stop the whole booklet: balanced braces,
  `\\begin`/`\\end` and `\\left`/`\\right`; a delimiter after `\\left`, `\\right` and `\\big`-type
  commands; an argument for every command that takes one (a script's unbraced argument only a
  command without arguments or one of SCRIPT_UNBRACED); `&` and `\\\\` only inside an environment,
  no more `&` in a row than the environment has columns (TABS_PER_ROW, an array's column letters);
  no double super- or subscript; plain words inside `\\text{...}`; an environment name and
  array columns plain letters (`\\begin{mat rix}` or `\\begin{matrix\\X` is refused).
- Characters: printable ASCII, tab and newline (text only), the Latin letters and punctuation
  of TEXT_CHARACTERS (text only) and the Unicode math symbols of UNICODE_MATH, which print as
  their LaTeX command in math and in text. Control characters, DEL and anything else (emoji,
  CJK, ...) are refused, naming the character.
- `^^`, `$`, an unescaped `%` or `#` are refused in math.
This module builds no LaTeX beyond the Unicode translation (`math_tex`, `text_char_tex`).
"""

from __future__ import annotations

import re
import unicodedata

from derive.texnames import (
    ALLOWED_COMMANDS, ALLOWED_ENVIRONMENTS, ARITY, ARRAY_COLUMNS, DELIMITER_COMMANDS, DELIMITERS, ENVIRONMENT_NAME,
    LIMITS_AFTER, SCRIPT_UNBRACED, SIZED_COMMANDS, TABS_PER_ROW, TEXT_CHARACTERS, TEXT_COMMANDS, UNICODE_MATH,
)

MAX_SHOWN = 60
MAX_GROUP_DEPTH = 30


class TexError(ValueError):
    """Spec text that may not reach LaTeX; the message says why."""


def shown(text: str, limit: int = MAX_SHOWN) -> str:
    """`repr(text)`, cut to about `limit` characters with a note of how much was left out."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text) - limit} more characters)"


def _char_name(ch: str) -> str:
    return f"U+{ord(ch):04X} {unicodedata.name(ch, 'unnamed')}"


def check_chars(text: str, math: bool) -> None:
    """Every character printable in its mode (see the module rules), else TexError naming it."""
    for ch in text:
        if " " <= ch <= "~" or ch in UNICODE_MATH or (not math and (ch in "\n\t" or ch in TEXT_CHARACTERS)):
            continue
        if math and ch in "\n\t":
            continue
        where = "math" if math else "text"
        raise TexError(f"character {_char_name(ch)} cannot be typeset in {where}: {shown(text)}")


_TOKEN = re.compile(r"\\(operatorname\*|[A-Za-z]+|.)|(\s+)|(.)", re.S)


class _Math:
    """One pass over tokenized math, enforcing the module rules."""

    def __init__(self, tex: str):
        self.tex = tex
        matches = [m for m in _TOKEN.finditer(tex) if m.group(2) is None]
        self.tokens = [(m.group(1), m.group(3)) for m in matches]
        self.starts = [m.start() for m in matches]
        self.i = 0
        self.depth = 0

    def fail(self, why: str) -> None:
        raise TexError(f"{why} in math: {shown(self.tex)}")

    def peek(self) -> tuple[str | None, str | None] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def run(self) -> None:
        self.sequence(env=None, closer=None)
        if self.peek() is not None:
            self.fail("unbalanced braces")

    def sequence(self, env: str | None, closer: str | None, tabs: int | None = None) -> None:
        """Tokens up to `closer` ('}', ']', 'end' or None for the end of the text); at most `tabs`
        '&' per row (None: any number)."""
        scripts: set[str] = set()
        lefts = 0
        row_tabs = 0
        prev: str | None = None
        while (tok := self.peek()) is not None:
            name, char = tok
            if name in ("limits", "nolimits") and prev not in LIMITS_AFTER:
                self.fail(f"\\{name} must follow an operator such as \\sum or \\int")
            prev = name if name not in ("limits", "nolimits") else prev
            if char == "}":
                if closer != "}":
                    self.fail("unbalanced braces")
                break
            if char == "]" and closer == "]":
                break
            if name == "end":
                if closer != "end":
                    self.fail("\\end without \\begin")
                break
            self.i += 1
            if char in ("^", "_", "'"):
                if char == "'":
                    if "^" in scripts:
                        self.fail("double superscript")
                    continue
                if char in scripts:
                    self.fail("double " + ("superscript" if char == "^" else "subscript"))
                scripts.add(char)
                self.argument(f"'{char}'", script=True)
                continue
            scripts = set()
            if lefts and (char == "&" or name == "\\"):
                self.fail("\\left ... \\right must not span '&' or '\\\\'")
            row_tabs = 0 if name == "\\" else row_tabs + (char == "&")
            if tabs is not None and row_tabs > tabs:
                self.fail(f"a row of {env} has at most {tabs + 1} column{'s' * (tabs > 0)} ('&' separates them)")
            if char is not None:
                self.char(char, env)
            elif name == "left":
                self.delimiter("\\left")
                lefts += 1
            elif name in ("right", "middle"):
                if lefts == 0:
                    self.fail(f"\\{name} without \\left")
                self.delimiter(f"\\{name}")
                lefts -= name == "right"
            else:
                self.command(name, env)
        if lefts:
            self.fail("\\left without \\right")

    def char(self, char: str, env: str | None) -> None:
        if char == "\\":
            self.fail("a lone backslash at the end is not allowed")
        if char in "$%#":
            self.fail(f"unescaped {char!r} is not allowed (write \\{char})")
        if char == "&" and env is None:
            self.fail("'&' outside an environment")
        if char == "{":
            self.group()

    def group(self, env: str | None = None, tabs: int | None = None) -> None:
        self.depth += 1
        if self.depth > MAX_GROUP_DEPTH:
            self.fail(f"braces nested deeper than {MAX_GROUP_DEPTH} levels")
        self.sequence(env=env, closer="}", tabs=tabs)
        self.depth -= 1
        if self.peek() is None:
            self.fail("unbalanced braces")
        self.i += 1

    def command(self, name: str, env: str | None) -> None:
        base = name.rstrip("*")
        if base not in ALLOWED_COMMANDS:
            self.fail(f"control sequence \\{name} is not allowed")
        if name == "\\" and env is None:
            self.fail("'\\\\' outside an environment")
        if name == "\\" and self.peek() in ((None, "["), (None, "*")):
            self.fail("'[' or '*' right after '\\\\' is read as an option; write {[} instead")
        if base == "sqrt" and self.peek() == (None, "["):
            self.i += 1
            self.sequence(env=None, closer="]")
            if self.peek() is None:
                self.fail("\\sqrt[ needs its closing ]")
            self.i += 1
        if name == "begin":
            self.environment()
        elif base in SIZED_COMMANDS:
            self.delimiter(f"\\{name}")
        elif base in TEXT_COMMANDS:
            self.text_argument(name)
        elif base == "substack":  # rows separated by \\ inside its argument
            tok = self.peek()
            if tok is None or tok[1] != "{":
                self.fail("\\substack needs {rows}")
            self.i += 1
            self.group(env="substack", tabs=0)
        else:
            for _ in range(ARITY.get(base, 0)):
                self.argument(f"\\{name}")

    def argument(self, what: str, script: bool = False) -> None:
        """One argument: a brace group or a single token (not a closing brace or script); after a
        script (`script`) a command with arguments must be braced unless TeX takes it bare."""
        tok = self.peek()
        if tok is None or tok[1] in ("}", "^", "_", "&") or tok[0] in ("end", "\\"):
            self.fail(f"{what} needs an argument")
        name, char = tok
        self.i += 1
        if char == "{":
            self.group()
        elif char is not None:
            self.char(char, None)
        elif name in ("left", "right", "middle", "begin") or name in SIZED_COMMANDS or (
                script and name not in SCRIPT_UNBRACED and (name.rstrip("*") in ARITY or name in TEXT_COMMANDS
                                                            or name == "substack")):
            self.fail(f"{what} needs a braced argument here")
        else:
            self.command(name, None)

    def name_argument(self, what: str, kind: str = "name") -> str:
        """The braced text after \\begin, \\end or \\begin{array}, as written: characters only (a
        control sequence there is refused, never taken for the closing brace)."""
        tok = self.peek()
        if tok is None or tok[1] != "{":
            self.fail(f"{what} needs {{{kind}}}")
        opened = self.i
        self.i += 1
        while (tok := self.peek()) is not None and tok[1] is not None and tok[1] != "}":
            self.i += 1
        if tok is None:
            self.fail("unbalanced braces")
        if tok[1] is None:
            self.fail(f"{what} needs {{{kind}}} of plain characters")
        self.i += 1
        return self.tex[self.starts[opened] + 1:self.starts[self.i - 1]]

    def environment(self) -> None:
        env = self.name_argument("\\begin")
        if not ENVIRONMENT_NAME.match(env):
            self.fail(f"environment name {env!r} must be letters")
        self.depth += 1
        if self.depth > MAX_GROUP_DEPTH:
            self.fail(f"environments nested deeper than {MAX_GROUP_DEPTH} levels")
        if env not in ALLOWED_ENVIRONMENTS:
            self.fail(f"environment {env!r} is not allowed")
        tabs = TABS_PER_ROW.get(env)
        if env == "array":
            columns = re.sub(r"\s", "", self.name_argument("\\begin{array}", "columns"))
            if not ARRAY_COLUMNS.match(columns):
                self.fail("array columns must be letters l, c, r and |")
            tabs = len(columns.replace("|", "")) - 1
        self.sequence(env=env, closer="end", tabs=tabs)
        if self.peek() is None:
            self.fail(f"\\begin{{{env}}} without \\end")
        self.i += 1
        end = self.name_argument("\\end")
        self.depth -= 1
        if end != env:
            self.fail(f"\\begin{{{env}}} ended by \\end{{{end}}}")

    def delimiter(self, what: str) -> None:
        tok = self.peek()
        if tok is None or not (tok[1] in DELIMITERS or tok[0] in DELIMITER_COMMANDS):
            self.fail(f"{what} needs a delimiter such as ( [ | . \\{{ \\langle")
        self.i += 1

    def text_argument(self, name: str) -> None:
        """`\\text{words}`: letters, digits, spaces and punctuation only."""
        tok = self.peek()
        if tok is None or tok[1] != "{":
            self.fail(f"\\{name} needs {{words}}")
        self.i += 1
        while (tok := self.peek()) is not None and tok != (None, "}"):
            tname, char = tok
            if tname in (",", " ", ";", "!") or (char is not None and (char.isalnum() or char in " .,;:!?'()/+-=*<>[]")):
                self.i += 1
                continue
            self.fail(f"\\{name}{{...}} holds plain words only")
        if tok is None:
            self.fail("unbalanced braces")
        self.i += 1


def check_math(tex: str) -> str:
    """`tex` with its Unicode symbols as LaTeX commands, if it passes the allow-list (module
    rules); else raise TexError."""
    if "^^" in tex:
        raise TexError(f"'^^' is not allowed in math: {shown(tex)}")
    check_chars(tex, math=True)
    translated = math_tex(tex)
    _Math(translated).run()
    return translated


def prose_parts(text: str, display: bool = True) -> list[tuple[str, str]]:
    """Prose as ("text" | "inline" | "display", piece) pairs, text checked by `check_chars` and
    math by `check_math` (translated). `$$` always opens or closes display math, every other
    `$` inline math (there is no literal dollar sign); unbalanced or empty math is a TexError,
    and so is display math where `display` is false (titles, step notes, set title and course: TeX stops there)."""
    if not display and "$$" in text:
        raise TexError(f"display math $$...$$ is not allowed here (use $...$): {shown(text)}")
    pieces = text.split("$$")
    if len(pieces) % 2 == 0:
        raise TexError(f"unbalanced '$$' in text: {shown(text)}")
    out: list[tuple[str, str]] = []
    for i, piece in enumerate(pieces):
        if i % 2:
            if not piece.strip():
                raise TexError(f"empty display math '$$$$' in text: {shown(text)}")
            out.append(("display", check_math(piece.strip())))
            continue
        parts = piece.split("$")
        if len(parts) % 2 == 0:
            raise TexError(f"unbalanced '$' in text: {shown(text)}")
        for j, part in enumerate(parts):
            if j % 2 == 0:
                check_chars(part, math=False)
                out.append(("text", part))
            elif not part.strip():
                raise TexError(f"empty math in text: {shown(text)}")
            else:
                out.append(("inline", check_math(part)))
    return out


def math_tex(tex: str) -> str:
    """Math with its Unicode symbols replaced by their LaTeX commands (`∀x` -> `\\forall x`)."""
    out = []
    for ch in tex:
        cmd = UNICODE_MATH.get(ch)
        out.append(ch if cmd is None else cmd + (" " if cmd[-1].isalpha() else ""))
    return "".join(out)


def text_char_tex(ch: str) -> str:
    """A Unicode math symbol standing in text, as LaTeX (`∀` -> `\\ensuremath{\\forall}`)."""
    return f"\\ensuremath{{{UNICODE_MATH[ch]}}}"


def inline_prose(text: str) -> None:
    """Prose with inline math only (see `prose_parts`)."""
    prose_parts(text, display=False)


def check_line(value: str, what: str, limit: int = 40) -> None:
    """A one-line name (an id): 1..limit printable characters, no line break or control byte."""
    if not value or len(value) > limit or value != value.strip():
        raise TexError(f"{what} must be 1 to {limit} characters without surrounding spaces, got {shown(value)}")
    if any(ch in "\n\r\t" for ch in value):
        raise TexError(f"{what} must be a single line, got {shown(value)}")
    check_chars(value, math=False)
