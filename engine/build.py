"""Build an index with the registered retriever kinds: each kind's config picks its builder."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from braid.engine.registry import RetrieverKind, check_retriever_names, retriever_kind
from braid.fusion.errors import BraidError
from braid.indexing.build import BuilderFactory, write_index
from braid.indexing.build_context import DocumentEncoding
from braid.indexing.config import DEFAULT_RETRIEVERS, RetrieverConfig
from braid.indexing.manifest import Manifest

# Retrievers that build from vectors made elsewhere instead of encoding.
VECTOR_TAKERS = ("dense", "splade")


def build_index(
    corpus_path: str | Path,
    out: str | Path,
    retrievers: Sequence[str] = DEFAULT_RETRIEVERS,
    configs: Mapping[str, RetrieverConfig] | None = None,
    overwrite: bool = False,
    threads: int = 2,
    progress: bool = True,
    metadata: str | Path | None = None,
    vectors: Mapping[str, str | Path] | None = None,
    encoding: DocumentEncoding | None = None,
) -> Manifest:
    """Index the corpus at `corpus_path` into directory `out` (which appears only when complete),
    with one sub-index per retriever; `configs` maps a retriever to its parameters (default: the
    kind's defaults); `metadata` names a side file of filterable fields by document id; `vectors`
    names vector files made elsewhere (`braid encode`), e.g. {"dense": "vectors/scifact.npy", "splade": "vectors/scifact.jsonl"};
    `encoding` encodes documents elsewhere, e.g. `braid.indexing.ray_encoding.RayEncoding("local")`."""
    names = check_retriever_names(retrievers)
    configs = dict(configs or {})
    for name in configs:
        if name not in names:
            raise BraidError(f"settings given for {name!r}, which is not built (building: {', '.join(names)})")
    given = {name: Path(path) for name, path in (vectors or {}).items()}
    for name in given:
        if name not in names or name not in VECTOR_TAKERS:
            raise BraidError(f"vectors given for {name!r}: only built {' and '.join(VECTOR_TAKERS)} retrievers take them (building: {', '.join(names)})")
    builders: dict[str, BuilderFactory] = {}
    for name in names:
        kind = retriever_kind(name)
        config = configs.get(name, kind.config())
        if not isinstance(config, kind.config):
            raise BraidError(f"settings for {name!r} must be a {kind.config.__name__}, got {type(config).__name__}")
        builders[name] = _factory(kind, config, threads)
    return write_index(corpus_path, out, builders, overwrite=overwrite, progress=progress, metadata=metadata, given=given, encoding=encoding)


def _factory(kind: RetrieverKind, config: RetrieverConfig, threads: int) -> BuilderFactory:
    return lambda staging: kind.builder(staging, config, threads)
