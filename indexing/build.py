"""Build an index directory: one streaming pass over the corpus feeds the docstore and every builder."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from tqdm import tqdm

from braid.engine.config import BM25Config, DenseConfig, SpladeConfig
from braid.engine.errors import BraidError, DataError
from braid.indexing.atomic import atomic_directory
from braid.indexing.bm25 import BM25Builder
from braid.indexing.build_context import BuildContext
from braid.indexing.dense import DenseBuilder
from braid.indexing.docstore import DOCSTORE_NAME, DocStoreWriter
from braid.indexing.fingerprint import CorpusFingerprint
from braid.indexing.manifest import Manifest, RetrieverEntry
from braid.indexing.readers import Document, read_corpus
from braid.indexing.splade import SpladeBuilder

BUILDABLE_RETRIEVERS = ("bm25", "splade", "dense")


class SubIndexBuilder(Protocol):
    name: str

    def add(self, document: Document) -> None: ...

    def finish(self, context: BuildContext) -> RetrieverEntry: ...


def check_retriever_names(names: Sequence[str]) -> list[str]:
    chosen = list(dict.fromkeys(name.strip() for name in names if name.strip()))
    if not chosen:
        raise BraidError(f"no retriever named; choose from {', '.join(BUILDABLE_RETRIEVERS)}")
    for name in chosen:
        if name not in BUILDABLE_RETRIEVERS:
            raise BraidError(f"unknown retriever {name!r}; choose from {', '.join(BUILDABLE_RETRIEVERS)}")
    return chosen


def build_index(
    corpus_path: str | Path,
    out: str | Path,
    retrievers: Sequence[str] = ("bm25",),
    bm25: BM25Config = BM25Config(),
    dense: DenseConfig = DenseConfig(),
    splade: SpladeConfig = SpladeConfig(),
    overwrite: bool = False,
    threads: int = 2,
    progress: bool = True,
) -> Manifest:
    """Index the corpus at `corpus_path` into directory `out`, which appears only when complete."""
    names = check_retriever_names(retrievers)
    corpus_path = Path(corpus_path)
    with atomic_directory(out, overwrite=overwrite) as staging:
        builders: list[SubIndexBuilder] = []
        for name in names:
            if name == "bm25":
                builders.append(BM25Builder(staging, bm25, threads=threads))
            elif name == "dense":
                builders.append(DenseBuilder(staging, dense, threads=threads))
            elif name == "splade":
                builders.append(SpladeBuilder(staging, splade, threads=threads))
        docstore = DocStoreWriter(staging / DOCSTORE_NAME)
        fingerprint = CorpusFingerprint()
        try:
            for document in tqdm(read_corpus(corpus_path), desc="reading corpus", unit=" docs", disable=None if progress else True):
                fingerprint.update(document)
                docstore.add(document)
                for builder in builders:
                    builder.add(document)
        finally:
            docstore.close()
        if fingerprint.doc_count == 0:
            raise DataError(corpus_path, None, "the corpus holds no documents")
        context = BuildContext(staging, staging / DOCSTORE_NAME, fingerprint.hexdigest(), fingerprint.doc_count, progress)
        entries = {builder.name: builder.finish(context) for builder in builders}
        manifest = Manifest(
            corpus_source=str(corpus_path.absolute()),
            corpus_fingerprint=context.fingerprint,
            doc_count=fingerprint.doc_count,
            retrievers=entries,
        )
        manifest.write(staging)
    return manifest
