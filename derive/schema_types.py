"""The value types of derive/schema.py: scalars with a rule of their own, and unions.

Rules:
- A scalar type is one check function, which returns the value read or raises with the
  spec's own message, and the JSON Schema it stands for (`_scalar`).
- A union is told apart by a discriminator whose tags start with `~` (`union`), so that a
  key path never shows them (derive/validate.py drops them).
- Numbers are exact: a decimal is read from its shortest repr (0.1 is 1/10).
"""

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Annotated, Any, Callable, Union

from pydantic import Discriminator, GetJsonSchemaHandler, PlainValidator, Tag, WithJsonSchema
from pydantic_core import PydanticCustomError

from derive.model import RELATIONS, STRUCTURES

ASSUMPTIONS = ("real", "positive", "nonnegative", "negative", "nonzero", "integer")
IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
MDP_NAME = re.compile(r"^[A-Za-z0-9+-]{1,12}$")
MAX_SPACE = 6


def kind(value: Any) -> str:
    """How an error message names the type of a YAML value."""
    if value is None:
        return "nothing"
    for types, name in ((bool, "a boolean"), ((int, float), "a number"), (str, "a string"),
                        (list, "a list"), (dict, "a mapping")):
        if isinstance(value, types):
            return name
    return type(value).__name__


def refuse(message: str) -> PydanticCustomError:
    return PydanticCustomError("spec", message)


def _scalar(check: Callable[[Any], Any], schema: dict[str, Any]) -> Any:
    """A scalar type: `check` returns the value read or raises with the spec's message."""
    return Annotated[Any, PlainValidator(check), WithJsonSchema(schema)]


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _ident(value: Any) -> str:
    if not isinstance(value, str) or not IDENT.match(value):
        raise refuse(f"expected a plain identifier (a letter, then letters, digits and _), got {value!r}")
    return value


def _nonempty(value: Any) -> str:
    if not isinstance(value, str):
        raise refuse(f"expected a string, got {kind(value)}")
    if not value.strip():
        raise refuse("must not be empty")
    return value


def _id(value: Any) -> str:
    if not isinstance(value, str):
        raise refuse(f'expected a string (quote numbers like "1.1.1"), got {kind(value)}')
    return value


def _points(value: Any) -> float:
    if not _number(value):
        raise refuse(f"expected a number, got {kind(value)}")
    return float(value)


def _expr(value: Any) -> str:
    """An expression written as a string, or a plain number (kept as written)."""
    if isinstance(value, str) or _number(value):
        return repr(value) if isinstance(value, float) else str(value)
    raise refuse(f"expected an expression or a number, got {kind(value)}")


def _exact(value: Any) -> Fraction:
    """An integer, a decimal (read from its shortest repr: 0.1 is 1/10) or a string p/q."""
    try:
        if isinstance(value, str) or _number(value):
            return Fraction(repr(value) if isinstance(value, float) else str(value).strip())
    except (ValueError, ZeroDivisionError):
        pass
    raise refuse(f'expected a number or a fraction like "1/3", got {value!r}')


def _state(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not MDP_NAME.match(str(value)):
        raise refuse(f"expected a whole number or up to 12 letters, digits, '+' or '-', got {value!r}")
    return str(value)


def _whole(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise refuse(f"expected a whole number, got {value!r}")
    return value


def _words(value: Any) -> tuple[str, ...]:
    words = tuple(str(value).replace(",", " ").split())
    bad = [w for w in words if w not in ASSUMPTIONS]
    if bad:
        raise refuse(f"unknown assumption {bad[0]!r}; expected some of: {', '.join(ASSUMPTIONS)}")
    return words


def _one_of(names: tuple[str, ...], message: str) -> Callable[[Any], str]:
    """A value from `names`; `message` is formatted with `names` and `value`."""
    def check(value: Any) -> str:
        if not isinstance(value, str) or value not in names:
            raise refuse(message.format(names=", ".join(names), value=value))
        return value
    return check


def _space_size(value: Any) -> int | str:
    if (_number(value) and isinstance(value, int) and 1 <= value <= MAX_SPACE) or (
            isinstance(value, str) and IDENT.match(value)):
        return value
    raise refuse(f"a space's size must be a whole number from 1 to {MAX_SPACE}, or the name of a positive "
                  f"integer symbol (a space of any size), got {value!r}")


_IDENT_SCHEMA = {"type": "string", "pattern": IDENT.pattern}
ProblemId = _scalar(_id, {"type": "string"})
Points = _scalar(_points, {"type": "number"})
_NUMBER_OR_TEXT = {"anyOf": [{"type": "number"}, {"type": "string"}]}
Ident = _scalar(_ident, _IDENT_SCHEMA)
Nonempty = _scalar(_nonempty, {"type": "string", "pattern": r"\S"})
Expr = _scalar(_expr, _NUMBER_OR_TEXT)
_FRACTION = r"^\s*[-+]?([0-9]+/[0-9]+|([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?)\s*$"  # as Fraction reads
Exact = _scalar(_exact, {"anyOf": [{"type": "number"}, {"type": "string", "pattern": _FRACTION}]})
State = _scalar(_state, {"anyOf": [{"type": "integer"}, {"type": "string", "pattern": MDP_NAME.pattern}]})
Whole = _scalar(_whole, {"type": "integer", "minimum": 0})
Relation = _scalar(_one_of(RELATIONS, "relation must be one of {names}, got {value!r}"), {"enum": list(RELATIONS)})
Structure = _scalar(_one_of(STRUCTURES, "unknown structure {value!r}; expected one of: {names}"),
                    {"enum": list(STRUCTURES)})
_WORD = "(" + "|".join(ASSUMPTIONS) + ")"
Words = _scalar(_words, {"type": "string", "pattern": rf"^[\s,]*({_WORD}([\s,]+|$))*$"})
SpaceSize = _scalar(_space_size, {"anyOf": [{"type": "integer", "minimum": 1, "maximum": MAX_SPACE},
                                            _IDENT_SCHEMA]})


@dataclass(frozen=True)
class Keys:
    """JSON Schema of the keys of a mapping whose keys are checked by a `_scalar` type."""

    pattern: str

    def __get_pydantic_json_schema__(self, core: Any, handler: GetJsonSchemaHandler) -> dict[str, Any]:
        return {**handler(core), "propertyNames": {"pattern": self.pattern}}


def by_state(value: Any) -> Any:
    """A mapping keyed by state (or action) names."""
    return Annotated[dict[State, value], Keys(MDP_NAME.pattern)]


def union(tag: Callable[[Any], str], *members: tuple[Any, str]) -> Any:
    """Members told apart by `tag(value)` (a member's name, `~...`)."""
    return Annotated[Union[tuple(Annotated[m, Tag(name)] for m, name in members)], Discriminator(tag)]


def by_type(value: Any) -> str:
    return "~map" if isinstance(value, dict) else "~text"
