"""What clients may send and what they get back. Every limit lives here, so a request that breaks
one is refused (422) before it reaches the engine."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_QUERY_CHARS = 1000
MAX_K = 1000
MAX_DEPTH = 1000
MAX_WEIGHT = 1e6
MAX_BODY_BYTES = 16 * 1024
MAX_DOC_ID_CHARS = 512
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

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    method: Literal["cc", "rrf"] | None = None
    norm: Literal["minmax", "zscore", "tmm", "none"] | None = None
    weights: dict[str, float] | None = Field(default=None, max_length=8)
    rrf_k: float | None = Field(default=None, ge=0, le=MAX_WEIGHT)
    missing: Literal["min", "zero", "exact"] | None = None

    @field_validator("weights")
    @classmethod
    def _bounded_weights(cls, weights: dict[str, float] | None) -> dict[str, float] | None:
        for name, value in (weights or {}).items():
            _utf8(name)
            if not 0 <= value <= MAX_WEIGHT:
                raise ValueError(f"weight {name}={value} must be between 0 and {MAX_WEIGHT:g}")
        return weights


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    query: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    k: int = Field(default=10, ge=1, le=MAX_K)
    depth: int = Field(default=100, ge=1, le=MAX_DEPTH, description="Candidates per retriever before fusion.")
    retrievers: list[str] | None = Field(default=None, min_length=1, max_length=8)
    fusion: FusionSettings | None = None

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
    score: float | None = Field(description="Raw score (filled in by the missing-document policy when rank is null).")
    normalized: float = Field(description="The value that entered the fused score.")


class SearchHit(BaseModel):
    rank: int
    doc_id: str
    score: float
    title: str
    snippet: str
    sources: dict[str, Source]


class SearchResponse(BaseModel):
    query: str
    k: int
    depth: int
    retrievers: list[str]
    fusion: dict[str, object] | None
    hits: list[SearchHit]
    timings_ms: dict[str, float] = Field(description="Wall time per retriever (they run in parallel), for fusion, and in total.")


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
    limits: dict[str, int]
