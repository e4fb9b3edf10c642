"""Read one YAML file under limits: size, encoding, characters, aliases, nesting, number length.

Rules (each breach is a SpecError `file:line: key: message`, never a traceback):
- Only regular files, read without blocking (a FIFO or device is refused, not waited on), at
  most MAX_FILE_BYTES; a bigger file is refused before it is parsed.
- UTF-8 only (a UTF-8 byte order mark is dropped); UTF-16/UTF-32 and invalid bytes are
  refused with the line of the first bad byte; control characters (other than tab and line
  breaks), DEL and C1 controls are refused.
- Aliases (`*name`, also in merge keys) are refused: a 400-byte "billion laughs" must not
  expand in the parent process. Anchors alone are harmless and pass.
- Nesting deeper than MAX_DEPTH is refused (the composer is recursive); a plain number longer
  than MAX_DIGITS digits is refused (Python refuses to read ints past 4300 digits).
- Duplicate keys are errors (ruamel's default), reported with their line.
- `top_scalars` reads a few top-level scalars (a problem's id and title for the set's listing)
  from the event stream only as far as they are, composing nothing: listing a set does not
  parse each problem file whole; the file is read in full, under every rule above, when it is
  derived.
"""

from __future__ import annotations

import codecs
import os
import re
import stat
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (AliasEvent, CollectionEndEvent, CollectionStartEvent, MappingStartEvent,
                                ScalarEvent)

from derive.errors import Loc, SpecError, SpecIssue

MAX_FILE_BYTES = 256 * 1024
MAX_DEPTH = 40
MAX_DIGITS = 100
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
_DIGITS = re.compile(r"[-+]?[0-9][0-9_]*")
_WIDE_BOMS = ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
              (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"))


def _fail(path: Path, line: int, key: str, message: str) -> SpecError:
    return SpecError([SpecIssue(Loc(str(path), line, key), message)])


def read_bytes(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most `limit` bytes, else SpecError."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise _fail(path, 0, "file", f"cannot read: {exc.strerror}") from exc
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise _fail(path, 0, "file", "not a regular file")
        data = f.read(limit + 1)
    if len(data) > limit:
        raise _fail(path, 0, "file", f"file is larger than the limit of {limit // 1024} KiB")
    return data


def decode(path: Path, data: bytes) -> str:
    """UTF-8 text without control characters, else SpecError naming the line."""
    for bom, name in _WIDE_BOMS:
        if data.startswith(bom):
            raise _fail(path, 1, "file", f"the file is {name} (byte order mark); save it as UTF-8")
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _fail(path, line, "file", f"not UTF-8: byte 0x{data[exc.start]:02x} cannot be decoded; "
                                        "save the file as UTF-8") from None
    bad = _CONTROL.search(text)
    if bad:
        line = text[: bad.start()].count("\n") + 1
        raise _fail(path, line, "file", f"control character U+{ord(bad.group()):04X} is not allowed")
    return text


def _scan(path: Path, text: str) -> None:
    """Refuse aliases, deep nesting and over-long numbers from the event stream (no composing)."""
    depth = 0
    for event in YAML(typ="rt").parse(text):
        line = event.start_mark.line + 1 if event.start_mark else 0
        if isinstance(event, AliasEvent):
            raise _fail(path, line, "yaml", f"aliases (*{str(event.anchor)[:40]}) are not allowed; "
                                            "write the value out")
        if isinstance(event, CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise _fail(path, line, "yaml", f"nested deeper than the limit of {MAX_DEPTH} levels")
        elif isinstance(event, CollectionEndEvent):
            depth -= 1
        elif (isinstance(event, ScalarEvent) and event.style is None and len(event.value) > MAX_DIGITS
              and _DIGITS.fullmatch(event.value)):
            raise _fail(path, line, "yaml", f"a number of {len(event.value)} digits is longer than the "
                                            f"limit of {MAX_DIGITS}")


def read_yaml(path: Path) -> Any:
    """Parse one YAML file under the module's limits, keeping line numbers."""
    text = decode(path, read_bytes(path))
    try:
        _scan(path, text)
        return YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        msg = " ".join(str(exc.problem or exc.context or "invalid YAML").split())
        raise _fail(path, line, "yaml", msg[:300]) from None
    except (YAMLError, ValueError, RecursionError) as exc:
        raise _fail(path, 0, "yaml", f"invalid YAML: {' '.join(str(exc).split())[:300]}") from None


def top_scalars(path: Path, keys: frozenset[str]) -> dict[str, str]:
    """The text of each of `keys` whose value is a scalar of the file's top-level mapping, read
    from the event stream up to the last of them (or the mapping's end); SpecError when the
    bytes or the YAML up to there are unreadable."""
    text = decode(path, read_bytes(path))
    found: dict[str, str] = {}
    depth, key = 0, None  # depth 1: inside the top-level mapping; key: the last key read there
    try:
        for event in YAML(typ="safe", pure=True).parse(text):  # rt marks folds with \a
            if isinstance(event, CollectionStartEvent):
                depth += 1
                if depth == 1 and not isinstance(event, MappingStartEvent):
                    break
                if depth == 2:
                    key = None  # a collection value: not a scalar
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
                if depth == 0:
                    break
            elif depth == 1 and isinstance(event, (ScalarEvent, AliasEvent)):
                if key is None:
                    key = event.value if isinstance(event, ScalarEvent) else ""
                    continue
                if key in keys and isinstance(event, ScalarEvent):
                    found.setdefault(key, event.value)
                    if len(found) == len(keys):
                        break
                key = None
    except (YAMLError, ValueError, RecursionError) as exc:
        raise _fail(path, 0, "yaml", f"invalid YAML: {' '.join(str(exc).split())[:300]}") from None
    return found
