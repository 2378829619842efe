"""The filter language: one JSON shape for Python, the CLI and HTTP, checked against the index's
metadata types before any search runs, then evaluated on a segment's columns.

Leaves follow Elasticsearch's query DSL: {"term": {FIELD: VALUE}}, {"terms": {FIELD: [VALUE, ...]}}
(set membership, "in"), {"range": {FIELD: {"gte": LOW, "lt": HIGH}}} (gt/gte/lt/lte; numbers and
dates), {"exists": {"field": FIELD}}. Combinators: {"and": [...]}, {"or": [...]}, {"not": {...}}.
A document without the field matches no term, terms or range; a keywords field matches when any
of its strings does; dates are ISO 8601 strings.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from braid.fusion.errors import BraidError
from braid.indexing.metadata import BOOLEAN, DATE, DESCRIBED, FLOAT, INTEGER, KEYWORD, KEYWORDS, parse_date
from braid.indexing.metadata_columns import MetadataColumns, NumberColumn

_BOUNDS = ("gt", "gte", "lt", "lte")

# Where in a filter a part sits: object keys and list positions from the root, e.g. ("filter", "and", 1).
Where = tuple[str | int, ...]


class FilterError(BraidError):
    """A filter that cannot run; `path` locates the offending part (("filter", "and", 1, "term", "year")),
    `where` is its text (filter.and[1].term.year) and `reason` what is wrong with it."""

    def __init__(self, path: Where, message: str) -> None:
        self.path = path
        self.where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path).removeprefix(".")
        self.reason = message
        super().__init__(f"{self.where}: {message}")


@dataclass(frozen=True)
class Match:
    """term (one value) or terms (any of several): values already in the column's representation."""

    field: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Range:
    field: str
    low: float | None
    low_inclusive: bool
    high: float | None
    high_inclusive: bool


@dataclass(frozen=True)
class Exists:
    field: str


@dataclass(frozen=True)
class And:
    parts: tuple[Filter, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[Filter, ...]


@dataclass(frozen=True)
class Not:
    part: Filter


Filter = Match | Range | Exists | And | Or | Not


def parse_filter(raw: Mapping[str, Any] | str, schema: Mapping[str, str], where: Where = ("filter",)) -> Filter:
    """Check `raw` (a dict, or its JSON text) against the index's field types; errors name the part."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as error:
            raise FilterError(where, f"not JSON ({error.msg} at column {error.colno})") from None
    return _parse(raw, schema, where)


def canonical(raw: Mapping[str, Any] | str) -> str:
    """One text per filter, whatever its spacing or key order (what caches key on)."""
    return json.dumps(json.loads(raw) if isinstance(raw, str) else raw, sort_keys=True, separators=(",", ":"))


def _parse(raw: Any, schema: Mapping[str, str], where: Where) -> Filter:
    if not isinstance(raw, dict) or len(raw) != 1:
        raise FilterError(where, "expected an object with one key: term, terms, range, exists, and, or, not")
    ((operator, body),) = raw.items()
    here = (*where, operator)
    if operator in ("and", "or"):
        if not isinstance(body, list) or not body:
            raise FilterError(here, "expected a non-empty list of filters")
        parts = tuple(_parse(part, schema, (*here, number)) for number, part in enumerate(body))
        return And(parts) if operator == "and" else Or(parts)
    if operator == "not":
        return Not(_parse(body, schema, here))
    if operator == "exists":
        if not isinstance(body, dict) or set(body) != {"field"}:
            raise FilterError(here, 'expected {"field": NAME}')
        return Exists(_field(body["field"], schema, (*here, "field")))
    if operator in ("term", "terms", "range"):
        if not isinstance(body, dict) or len(body) != 1:
            raise FilterError(
                here, f"expected {{FIELD: {'VALUE' if operator == 'term' else '[VALUES]' if operator == 'terms' else '{BOUNDS}'}}} with one field"
            )
        ((name, value),) = body.items()
        field = _field(name, schema, here)
        here = (*here, name)
        if operator == "term":
            return Match(field, (_value(value, schema[field], here),))
        if operator == "terms":
            if not isinstance(value, list) or not value:
                raise FilterError(here, "expected a non-empty list of values")
            return Match(field, tuple(_value(item, schema[field], (*here, number)) for number, item in enumerate(value)))
        return _range(field, value, schema[field], here)
    raise FilterError(where, f"unknown operator {operator!r}; use term, terms, range, exists, and, or, not")


def _field(name: Any, schema: Mapping[str, str], where: Where) -> str:
    if not isinstance(name, str) or name not in schema:
        known = ", ".join(sorted(schema)) if schema else "none: the index was built without metadata"
        raise FilterError(where, f"unknown field {name!r}; the index's fields: {known}")
    return name


def _value(value: Any, kind: str, where: Where) -> Any:
    """A filter value as the column holds it: a string (keyword), float (number, boolean, date)."""
    if kind in (KEYWORD, KEYWORDS):
        if not isinstance(value, str):
            raise FilterError(where, f"expected a string, got {_shown(value)}")
        return value
    if kind == BOOLEAN:
        if not isinstance(value, bool):
            raise FilterError(where, f"expected true or false, got {_shown(value)}")
        return 1.0 if value else 0.0
    if kind == DATE:
        moment = parse_date(value) if isinstance(value, str) else None
        if moment is None:
            raise FilterError(where, f'expected an ISO 8601 date such as "2015-06-30" or "2015-06-30T12:00:00Z", got {_shown(value)}')
        return float(moment)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise FilterError(where, f"expected a number, got {_shown(value)}")
    return float(value)


def _range(field: str, bounds: Any, kind: str, where: Where) -> Range:
    if kind not in (INTEGER, FLOAT, DATE):
        raise FilterError(where, f"range needs a number or date field; {field!r} holds {DESCRIBED[kind]}")
    if not isinstance(bounds, dict) or not bounds or set(bounds) - set(_BOUNDS):
        raise FilterError(where, f'expected bounds from {", ".join(_BOUNDS)}, e.g. {{"gte": 2010, "lt": 2020}}')
    if "gt" in bounds and "gte" in bounds or "lt" in bounds and "lte" in bounds:
        raise FilterError(where, "give at most one lower bound (gt or gte) and one upper bound (lt or lte)")
    values = {name: _value(value, kind, (*where, name)) for name, value in bounds.items()}
    low = values.get("gt", values.get("gte"))
    high = values.get("lt", values.get("lte"))
    return Range(field, low, "gte" in values, high, "lte" in values)


def _shown(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def matching(query: Filter, columns: MetadataColumns) -> np.ndarray:
    """Which of the segment's documents (deleted ones included) the filter keeps."""
    if isinstance(query, And):
        mask = matching(query.parts[0], columns)
        for part in query.parts[1:]:
            mask &= matching(part, columns)
        return mask
    if isinstance(query, Or):
        mask = matching(query.parts[0], columns)
        for part in query.parts[1:]:
            mask |= matching(part, columns)
        return mask
    if isinstance(query, Not):
        return ~matching(query.part, columns)
    column = columns.columns.get(query.field)
    if column is None:  # this segment has no document with the field
        return np.zeros(columns.docs, dtype=bool)
    if isinstance(query, Exists):
        return column.present()
    if isinstance(query, Match):
        return column.equals_any(list(query.values))
    assert isinstance(column, NumberColumn)
    return column.between(query.low, query.low_inclusive, query.high, query.high_inclusive)


def fields_used(query: Filter) -> Sequence[str]:
    """Every field the filter tests (for explanations)."""
    if isinstance(query, (And, Or)):
        return list(dict.fromkeys(name for part in query.parts for name in fields_used(part)))
    if isinstance(query, Not):
        return fields_used(query.part)
    return [query.field]


__all__ = ["Filter", "FilterError", "canonical", "fields_used", "matching", "parse_filter"]
