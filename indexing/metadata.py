"""Document metadata: the fields beyond id, title and text that filters test, and their types.

A document's metadata is a flat dict: nested objects become dotted names ({"journal": {"name": x}}
is "journal.name"), null and empty lists mean the field is missing. Values are strings, lists of
strings, numbers or booleans; each field keeps one family across a corpus (a number in one
document and a string in another is an error naming both lines). Within a family the type is
inferred over the whole column: integer or float; keyword, keywords (any list) or date (every
value an ISO 8601 date).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from braid.fusion.errors import BraidError

KEYWORD = "keyword"
KEYWORDS = "keywords"
INTEGER = "integer"
FLOAT = "float"
BOOLEAN = "boolean"
DATE = "date"
TYPES = (KEYWORD, KEYWORDS, INTEGER, FLOAT, BOOLEAN, DATE)

# The family decides what a value may be compared with; types within one family widen.
FAMILY = {KEYWORD: "string", KEYWORDS: "string", DATE: "string", INTEGER: "number", FLOAT: "number", BOOLEAN: "boolean"}
# Each type's values, in the words errors use.
DESCRIBED = {
    KEYWORD: "strings",
    KEYWORDS: "lists of strings",
    DATE: "ISO 8601 dates",
    INTEGER: "integers",
    FLOAT: "numbers",
    BOOLEAN: "true/false",
}

Metadata = dict[str, Any]

_DATE_SHAPE = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?)?")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def flatten(raw: Mapping[str, Any], prefix: str = "") -> Metadata:
    """The flat form of one document's metadata; raises BraidError naming the field it cannot hold."""
    flat: Metadata = {}
    for key, value in raw.items():
        if not isinstance(key, str) or not key or "." in key:
            raise BraidError(f"metadata field name {prefix + str(key)!r} must be a non-empty string without '.'")
        name = prefix + key
        if value is None or value == []:
            continue
        if isinstance(value, dict):
            flat.update(flatten(value, name + "."))
        elif isinstance(value, list):
            if not all(isinstance(item, str) for item in value):
                kinds = sorted({_kind(item) for item in value if not isinstance(item, str)})
                raise BraidError(f"field {name!r} holds a list with {' and '.join(kinds)}; lists may hold strings only (keywords)")
            flat[name] = list(value)
        elif isinstance(value, float) and not math.isfinite(value):
            raise BraidError(f"field {name!r} holds {value}, which is not a finite number")
        elif isinstance(value, (str, bool, int, float)):
            flat[name] = value
        else:
            raise BraidError(f"field {name!r} holds a {type(value).__name__}, which metadata cannot hold")
    return flat


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "booleans"
    if isinstance(value, (int, float)):
        return "numbers"
    if isinstance(value, dict):
        return "objects"
    if isinstance(value, list):
        return "lists"
    return "nulls" if value is None else type(value).__name__


def family_of(value: Any) -> str:
    """The family of a value: string (a string or list of strings), number or boolean."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return "string"


def value_kind(value: Any) -> str:
    """How an error describes one value: "a string", "a list", "a number", "true/false"."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    return "a list" if isinstance(value, list) else "a string"


def parse_date(text: str) -> int | None:
    """Microseconds since 1970-01-01 UTC for an ISO 8601 date or date-time (a time without an offset
    is UTC); None when `text` is not one."""
    if not _DATE_SHAPE.fullmatch(text):
        return None
    try:
        moment = datetime.fromisoformat(text.replace(" ", "T").replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def widen(known: str, found: str) -> str | None:
    """The type a field has once values of type `found` join ones of type `known` (None: they cannot)."""
    if known == found:
        return known
    pair = {known, found}
    if pair == {INTEGER, FLOAT}:
        return FLOAT
    if pair == {KEYWORD, KEYWORDS}:
        return KEYWORDS
    return None


def merge_schemas(first: Mapping[str, str], second: Mapping[str, str]) -> dict[str, str]:
    """The union of two segments' field types (raises when one field's types cannot widen)."""
    merged = dict(first)
    for name, kind in second.items():
        if name in merged:
            wider = widen(merged[name], kind)
            if wider is None:
                raise BraidError(f"field {name!r} holds {DESCRIBED[merged[name]]} in one segment and {DESCRIBED[kind]} in another")
            merged[name] = wider
        else:
            merged[name] = kind
    return dict(sorted(merged.items()))


def column_type(values: list[Any], declared: str | None = None) -> str:
    """The type of one segment's column of present values (one family, checked by the reader), given
    the type the index already holds for it (`declared`), which strings keep or must parse as."""
    family = family_of(values[0])
    if family == "boolean":
        return BOOLEAN
    if family == "number":
        found = INTEGER if all(isinstance(value, int) for value in values) else FLOAT
        return FLOAT if declared == FLOAT else found
    if any(isinstance(value, list) for value in values) or declared == KEYWORDS:
        return KEYWORDS
    if declared == KEYWORD:
        return KEYWORD
    if declared == DATE or all(parse_date(value) is not None for value in values):
        return DATE
    return KEYWORD
