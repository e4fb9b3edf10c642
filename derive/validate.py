"""Check a parsed YAML file against its model in derive/schema.py; issues carry file:line.

Rules:
- Every structural issue of a file is reported at once, as `file:line: key: message`: the
  line is ruamel.yaml's position of the key (or list item) the issue is about, the key path
  is written `solution[1].chain.steps[0].to`.
- pydantic's error types are put in the spec's words (`expected a string, got a number`,
  `unknown key; expected one of: ...`, `missing required key 'id'`); a model's `hints`
  replace them where it has its own.
- What can be read is still read: the offending values are left out and the rest is
  validated again, so that later checks (expressions, references) see every sound part of the
  file. A required key that is missing or broken takes its model's stand-in (derive/schema.py)
  where it has one, so the rest of its mapping (the whole file, for a top-level key) is still
  read; else it leaves out the mapping that lacks it. A broken entry of a mapping `KEY` whose
  model has a stand-in for `KEY.*` takes it (a symbol declared without assumptions), so that
  its name is still known. `Reader` walks the model beside ruamel's tree, so each value read
  keeps its original line and key path.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass, field
from typing import Any, Callable

from pydantic import BaseModel, Tag, ValidationError

from derive import texguard
from derive.errors import Loc, SpecIssue
from derive.safeyaml import MAX_DEPTH
from derive.schema import BLOCKS, Spec, kind
from derive.spec import Text

TOP = "(top)"
Path = tuple[Any, ...]
_MESSAGES = {"string_type": "expected a string", "bool_type": "expected true or false",
             "list_type": "expected a list", "dict_type": "expected a mapping", "model_type": "expected a mapping"}
_MAX_ROUNDS = MAX_DEPTH + 2  # a round leaves out at least one more level of a nested value


def key_path(root: Any, path: Path) -> str:
    """`('solution', 1, 'chain')` -> `solution[1].chain` (a list index in brackets, a mapping's
    key after a dot: `at.0`); the empty path is `(top)`."""
    out, node = "", root
    for part in path:
        out += f"[{part}]" if isinstance(node, list) else f".{part}" if out else str(part)
        node = node[part] if isinstance(node, (list, dict)) and _has(node, part) else None
    return out or TOP


def line_of(root: Any, path: Path) -> int:
    """ruamel's 1-based line of the key or item at `path` (of its nearest located parent)."""
    node, line = root, 1
    for part in path:
        try:
            line = (node.lc.item(part) if isinstance(node, list) else node.lc.key(part))[0] + 1
            node = node[part]
        except (AttributeError, KeyError, IndexError, TypeError):
            break
    return line


@dataclass
class Checked:
    """The model read from a file (None when nothing sound is left) and its issues."""

    model: BaseModel | None
    issues: list[SpecIssue]
    pruned: set[Path] = field(default_factory=set)
    filled: set[Path] = field(default_factory=set)  # where the model holds a stand-in

    def kept(self, path: Path, raw: list) -> list[int]:
        """Original indices of the items of the list at `path` that the model holds."""
        return [i for i in range(len(raw)) if (*path, i) not in self.pruned]


@dataclass
class Reader:
    """The raw tree, what validation left out, and the issues found while building."""

    file: str
    data: Any
    checked: Checked
    issues: list[SpecIssue]

    def loc(self, *path: Any) -> Loc:
        return Loc(self.file, line_of(self.data, path), key_path(self.data, path))

    def text(self, value: str | None, *path: Any) -> Text | None:
        return None if value is None else Text(value, self.loc(*path))

    def issue(self, loc: Loc, message: str) -> None:
        self.issues.append(SpecIssue(loc, message))

    def raw(self, *path: Any) -> Any:
        """The value at `path` in ruamel's tree (None where there is none: a default)."""
        node = self.data
        for part in path:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                return None
        return node

    def items(self, values: list, *path: Any) -> list[tuple[Any, tuple]]:
        """The model's list items with the original path of each (none where the file has no
        list there: a default or a stand-in)."""
        raw = self.raw(*path)
        return [(v, (*path, i)) for v, i in zip(values, self.checked.kept(path, raw if isinstance(raw, list) else []))]

    def entries(self, values: dict, *path: Any) -> list[tuple[str, Any, tuple]]:
        """The model's mapping entries (name, value, original path), keys as written."""
        raw = self.raw(*path)
        kept = [k for k in raw if (*path, k) not in self.checked.pruned] if isinstance(raw, dict) else []
        return [(str(k), v, (*path, k)) for k, (_, v) in zip(kept, values.items())]

    def tex(self, text: Text | None, check: Callable[[str], Any]) -> None:
        """`text` passes the allow-list `check`, else an issue at its line."""
        if text is None:
            return
        try:
            check(text.value)
        except texguard.TexError as exc:
            self.issue(text.loc, str(exc))


def check(model: type[Spec], data: Any, file: str) -> Checked:
    """Validate `data` (ruamel's tree) against `model`; see the module rules."""
    pruned: set[Path] = set()
    filled: dict[Path, Any] = {}  # stand-ins, by the original path of the key they fill
    changed: set[Path] = set()  # pruned or filled values other than unknown keys
    issues: list[SpecIssue] = []
    for round_ in range(_MAX_ROUNDS):
        try:
            return Checked(model.model_validate(_plain(data, (), pruned, filled)), issues, pruned, set(filled))
        except ValidationError as exc:
            kept: dict[Path, list[int]] = {}
            errors = [(_original(data, _untagged(e["loc"]), pruned, kept), e) for e in exc.errors()]
        issues += [_issue(model, data, file, path, e) for path, e in errors
                   if round_ == 0 or _first_seen(path, e, changed)]
        fills: dict[Path, Any] = {}
        cuts: list[tuple[Path, str]] = []
        for path, e in errors:
            cut = _prunable(data, path, pruned)
            stand_in = _stand_in(model, path, cut, e)
            if stand_in is None:
                cuts.append((cut, e["type"]))
            else:
                fills[stand_in[0]] = stand_in[1]
        cut = {c for c, _ in cuts}
        if () in cut or (cut <= pruned and fills.keys() <= filled.keys()):
            break
        pruned |= cut
        filled |= fills
        changed |= {c for c, etype in cuts if etype != "extra_forbidden"} | fills.keys()
    return Checked(None, issues, pruned)


def _stand_in(model: type[Spec], path: Path, cut: Path, error: dict) -> tuple[Path, Any] | None:
    """The path and stand-in value that replace what an issue at `path` would leave out
    (`cut`): the missing key, or the broken entry of a mapping; None where the model has none."""
    if error["type"] == "missing":
        owner, key, at = _model_at(model, error["loc"][:-1]), str(path[-1]), path
    elif len(cut) >= 2 and cut == path:
        owner, key, at = _model_at(model, _loc_prefix(error["loc"], len(cut) - 2)), f"{cut[-2]}.*", cut
    else:
        return None
    if owner is None or key not in owner.stand_ins:
        return None
    value = owner.stand_ins[key]
    return at, value(at) if callable(value) else value


def _loc_prefix(loc: tuple, n: int) -> tuple:
    """The shortest start of pydantic's `loc` that holds `n` parts other than union tags."""
    out: list[Any] = []
    for part in loc:
        if sum(not (isinstance(p, str) and p.startswith("~")) for p in out) == n:
            break
        out.append(part)
    return tuple(out)


def _first_seen(path: Path, error: dict, changed: set[Path]) -> bool:
    """An issue of a later round that is not a consequence of leaving values out: a check of a
    whole mapping (a model validator, which runs only once its keys pass) on a mapping whose
    values were all kept."""
    return error["type"] == "spec" and not any(p[: len(path)] == path for p in changed)


def _plain(node: Any, path: Path, pruned: set[Path], filled: dict[Path, Any]) -> Any:
    """ruamel's tree as plain dicts, lists and scalars, leaving out the pruned paths and
    putting the stand-ins in (in place, or after a mapping's keys for a missing key)."""
    if isinstance(node, dict):
        out = {k: filled[(*path, k)] if (*path, k) in filled else _plain(v, (*path, k), pruned, filled)
               for k, v in node.items() if (*path, k) in filled or (*path, k) not in pruned}
        return out | {at[-1]: v for at, v in filled.items() if at[:-1] == path and at[-1] not in out}
    if isinstance(node, list):
        return [_plain(v, (*path, i), pruned, filled) for i, v in enumerate(node) if (*path, i) not in pruned]
    if isinstance(node, bool) or node is None:
        return node
    for t in (str, int, float):
        if isinstance(node, t):
            return t(node)
    return node


def _untagged(loc: tuple) -> Path:
    """pydantic's error location without union tags (`~...`) and with `[key]` for a key's own issue."""
    return tuple(p for p in loc if not (isinstance(p, str) and p.startswith("~")))


def _original(data: Any, path: Path, pruned: set[Path], kept: dict[Path, list[int]]) -> Path:
    """`path` in the pruned copy -> the same place in the original tree (`kept`: the original
    indices of each list's remaining items, filled as needed)."""
    out: list[Any] = []
    node = data
    for part in path:
        if isinstance(node, list) and isinstance(part, int):
            at = tuple(out)
            if at not in kept:
                kept[at] = [i for i in range(len(node)) if (*at, i) not in pruned]
            part = kept[at][part] if part < len(kept[at]) else part
        out.append(part)
        node = node[part] if isinstance(node, (list, dict)) and _has(node, part) else None
    return tuple(out)


def _has(node: Any, part: Any) -> bool:
    return 0 <= part < len(node) if isinstance(node, list) else part in node


def _prunable(data: Any, path: Path, pruned: set[Path]) -> Path:
    """What to leave out for an issue at `path`: the value there, or (a missing key, an issue
    of a dict key) the mapping that holds it."""
    if path and path[-1] == "[key]":
        return path[:-1]
    node = data
    for i, part in enumerate(path):
        if not isinstance(node, (list, dict)) or not _has(node, part) or path[: i + 1] in pruned:
            return path[:i]
        node = node[part]
    return path


def _issue(model: type[Spec], data: Any, file: str, path: Path, error: dict) -> SpecIssue:
    """One pydantic error as a spec issue at its line."""
    etype, value = error["type"], error.get("input")
    owner = _model_at(model, error["loc"][:-1])
    last = str(path[-1]) if path else ""
    hints = owner.hints if owner else {}
    if path and path[-1] == "[key]":
        path = path[:-1]
        message = error["msg"]
    elif etype == "missing":
        message = hints.get(("missing", last), f"missing required key '{_alias(owner, last)}'")
        path = path[:-1]
    elif etype == "extra_forbidden":
        allowed = sorted(f.alias or n for n, f in owner.model_fields.items()) if owner else []
        message = hints.get(("extra_forbidden", ""), f"unknown key; expected one of: {', '.join(allowed)}")
    elif etype == "too_short":
        message = hints.get(("too_short", last), "needs at least one entry")
    elif etype in _MESSAGES:
        message = f"{_MESSAGES[etype]}, got {kind(value)}"
    elif etype == "block" and not isinstance(value, dict):
        message = f"expected a mapping, got {kind(value)}"
    elif etype == "block" and len(value) == 1:
        path = (*path, next(iter(value)))
        message = f"unknown key; expected one of: {', '.join(sorted(BLOCKS))}"
    else:
        message = error["msg"]
    return SpecIssue(Loc(file, line_of(data, path), key_path(data, path)), message)


def _alias(owner: type[Spec] | None, name: str) -> str:
    info = owner.model_fields.get(name) if owner else None
    return info.alias or name if info else name


def _model_at(model: type[Spec], loc: tuple) -> type[Spec] | None:
    """The model class of the mapping at pydantic's `loc` (union tags select members)."""
    tp: Any = model
    for part in loc:
        tp = _tagged(tp, part) if isinstance(part, str) and part.startswith("~") else _inner(tp, part)
    tp = _choices(tp)
    models = [t for t in tp if isinstance(t, type) and issubclass(t, Spec)]
    return models[0] if len(models) == 1 else None


def _choices(tp: Any) -> list[Any]:
    """The alternatives of a type: Annotated and Optional unwrapped, union members listed."""
    if typing.get_origin(tp) is typing.Annotated:
        return _choices(typing.get_args(tp)[0])
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return [c for arg in typing.get_args(tp) if arg is not type(None) for c in _choices(arg)]
    return [tp]


def _inner(tp: Any, part: Any) -> Any:
    """The type of the value at `part` inside a value of type `tp`."""
    for choice in _choices(tp):
        if isinstance(choice, type) and issubclass(choice, BaseModel):
            info = next((f for n, f in choice.model_fields.items() if part in (n, f.alias)), None)
            if info is not None:
                return info.annotation
        elif typing.get_origin(choice) is list and isinstance(part, int):
            return typing.get_args(choice)[0]
        elif typing.get_origin(choice) is dict:
            return typing.get_args(choice)[1]
    return None


def _tagged(tp: Any, tag: str) -> Any:
    """The member of a discriminated union that carries `tag`."""
    if typing.get_origin(tp) is typing.Annotated and not _tag_of(tp):
        return _tagged(typing.get_args(tp)[0], tag)
    return next((m for m in typing.get_args(tp) if _tag_of(m) == tag), None)


def _tag_of(tp: Any) -> str | None:
    meta = getattr(tp, "__metadata__", ())
    return next((m.tag for m in meta if isinstance(m, Tag)), None)


