"""What clients may send and what they get back. Every limit lives here, so a request that breaks
one is refused (422) before it reaches the engine."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from braid.fusion.config import MAX_WEIGHT, FusionMethod, check_bounds, check_weight
from braid.fusion.convex import MissingPolicy
from braid.fusion.errors import BraidError
from braid.fusion.normalize import Normalization
from braid.fusion.types import SEARCH_DEPTH

MAX_QUERY_CHARS = 1000
MAX_K = 1000
MAX_DEPTH = 1000
MAX_BODY_BYTES = 16 * 1024
MAX_DOC_ID_CHARS = 512
# Writes (`braid serve --writable`): documents per POST /docs, characters per title or text, body bytes.
MAX_BATCH_DOCS = 1000
MAX_DOC_CHARS = 100_000
MAX_WRITE_BODY_BYTES = 8 * 1024 * 1024
SNIPPET_CHARS = 300


def _utf8(text: str) -> str:
    """Lone surrogates ("\\ud800" in JSON) are valid Python strings but no tokenizer accepts them."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (no lone surrogate code points)") from None
    return text


class FusionSettings(BaseModel):
    """Any field left out keeps the index's tuned (or default) value."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)

    method: FusionMethod | None = None
    norm: Normalization | None = None
    weights: dict[str, float] | None = Field(default=None, max_length=8)
    rrf_k: float | None = Field(default=None, ge=0, le=MAX_WEIGHT)
    missing: MissingPolicy | None = None
    bounds: dict[str, list[float | None]] | None = Field(
        default=None, max_length=8, description='Fixed normalization range per retriever for norm minmax/tmm, e.g. {"dense": [0, 1]}; null: from the list.'
    )

    @field_validator("bounds")
    @classmethod
    def _checked_bounds(cls, bounds: dict[str, list[float | None]] | None) -> dict[str, list[float | None]] | None:
        return _per_retriever(bounds, check_bounds)

    @field_validator("weights")
    @classmethod
    def _bounded_weights(cls, weights: dict[str, float] | None) -> dict[str, float] | None:
        return _per_retriever(weights, check_weight)


PerRetriever = TypeVar("PerRetriever", bound=dict[str, Any])


def _per_retriever(values: PerRetriever | None, rule: Callable[[str, Any], object]) -> PerRetriever | None:
    """Each retriever's value checked by the same rule as the CLI and Python (a 422 naming it)."""
    for name, value in (values or {}).items():
        _utf8(name)
        try:
            rule(name, value)
        except BraidError as error:
            raise ValueError(str(error)) from None
    return values


class SearchRequest(BaseModel):
    # strict: "5" or true is not a number here, nor 5 a string (422 naming the field).
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)

    query: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    k: int = Field(default=10, ge=1, le=MAX_K)
    depth: int = Field(default=SEARCH_DEPTH, ge=1, le=MAX_DEPTH, description="Candidates per retriever before fusion.")
    offset: int = Field(default=0, ge=0, le=MAX_DEPTH, description="Hits to skip (pagination); offset + k must fit in depth.")
    retrievers: list[str] | None = Field(default=None, min_length=1, max_length=8)
    fusion: FusionSettings | None = None
    partial: bool = Field(
        default=False,
        description="A sharded index: leave out shards that fail (the response's `shards` says which answered) instead of failing the search.",
    )
    filter: dict[str, Any] | None = Field(
        default=None,
        description='Keep only documents whose metadata match, e.g. {"range": {"year": {"gte": 2015}}}: term, terms, range, exists, and, or, not.',
    )

    @field_validator("offset")
    @classmethod
    def _page_in_window(cls, offset: int, info: ValidationInfo) -> int:
        k, depth = info.data.get("k"), info.data.get("depth")
        if offset and k is not None and depth is not None and offset + k > depth:
            raise ValueError(f"offset + k ({offset + k}) goes past the {depth} candidates fused per retriever (depth): raise depth")
        return offset

    @field_validator("query")
    @classmethod
    def _query_text(cls, query: str) -> str:
        if not query.strip():
            raise ValueError("must contain something besides white space")
        return _utf8(query)

    @field_validator("retrievers")
    @classmethod
    def _names(cls, names: list[str] | None) -> list[str] | None:
        return [_utf8(name) for name in names] if names is not None else None


class Source(BaseModel):
    rank: int | None = Field(description="Rank in this retriever's list; null if it did not return the document.")
    score: float | None = Field(
        description="This retriever's raw score. When rank is null: its own score for the document under the `exact` "
        "missing-document policy; null under `min` and `zero`, and with rrf."
    )
    normalized: float = Field(
        description="The value that entered the fused score: cc, the normalized score before weighting; rrf, weight / (k + rank); "
        "one retriever alone, its raw score. When rank is null: under `min` the lowest normalized score of the documents "
        "this retriever did return (0 if none), under `zero` 0, under `exact` its own score normalized with its list's "
        "statistics; with rrf 0."
    )


class SearchHit(BaseModel):
    rank: int
    doc_id: str
    score: float
    title: str
    snippet: str
    sources: dict[str, Source]


class FilterReport(BaseModel):
    filter: dict[str, Any]
    fields: list[str]
    matched: int = Field(description="Live documents the filter keeps; every retriever searched only these.")
    documents: int = Field(description="Live documents in the index.")


class SearchResponse(BaseModel):
    query: str
    k: int
    depth: int
    offset: int
    retrievers: list[str]
    fusion: dict[str, object] | None
    filter: FilterReport | None = None
    hits: list[SearchHit]
    timings_ms: dict[str, float] = Field(description="Wall time per retriever (they run in parallel), for fusion, and in total.")
    shards: dict[str, object] | None = Field(default=None, description="With `partial` on a sharded index: the shards that answered and why others did not.")


class Document(BaseModel):
    doc_id: str
    title: str
    text: str


class Health(BaseModel):
    status: Literal["ok"]
    index: str
    documents: int
    retrievers: list[str]
    fusion: dict[str, object]
    fields: dict[str, str] = Field(description="The metadata fields filters can use, with their types.")
    limits: dict[str, int]
    execution: dict[str, object] = Field(description="How one query's retrievers run: the setting, and what auto measured and chose.")
    settings: dict[str, dict[str, object]] = Field(
        default_factory=dict, description="What each retriever runs with: its built configuration and search-time options (e.g. the dense query encoder)."
    )
    shards: dict[str, object] | None = Field(default=None, description="A sharded index: how many shards, where they run (local or ray), their generations.")


class NewDocument(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    id: str = Field(min_length=1, max_length=MAX_DOC_ID_CHARS)
    title: str = Field(default="", max_length=MAX_DOC_CHARS)
    text: str = Field(default="", max_length=MAX_DOC_CHARS)
    metadata: dict[str, Any] | None = Field(default=None, description="Filterable fields; each keeps the type the index gives it.")

    @field_validator("id")
    @classmethod
    def _plain_id(cls, doc_id: str) -> str:
        if any(character.isspace() for character in doc_id):
            raise ValueError("must not contain white space (TREC run files cannot hold it)")
        return _utf8(doc_id)

    @field_validator("title", "text")
    @classmethod
    def _text(cls, text: str) -> str:
        return _utf8(text)


class DocumentBatch(BaseModel):
    """Documents to add; an id the index holds replaces that document (upsert)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    documents: list[NewDocument] = Field(min_length=1, max_length=MAX_BATCH_DOCS)

    @field_validator("documents")
    @classmethod
    def _distinct(cls, documents: list[NewDocument]) -> list[NewDocument]:
        seen: set[str] = set()
        for document in documents:
            if document.id in seen:
                raise ValueError(f"document id {document.id!r} appears twice in this batch")
            seen.add(document.id)
        return documents


class WriteReport(BaseModel):
    generation: int
    added: int
    replaced: int
    unchanged: int
    deleted: int
    unknown: list[str]
    encoded: int
    compacted: bool
    segments: int
    documents: int
    seconds: float
