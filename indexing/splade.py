"""Build the SPLADE sub-index: document vectors (cached), quantized to integer impacts, indexed by
Lucene as an impact index (Anserini JsonVectorCollection, pretokenized) and kept as a matrix too."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import scipy.sparse as sp

from braid.fusion.errors import BraidError
from braid.indexing.build_context import BuildContext
from braid.indexing.config import SpladeConfig
from braid.indexing.embedding_cache import EmbeddingCache, cache_key, load_or_encode
from braid.indexing.impact_matrix import ImpactMatrix
from braid.indexing.impacts import quantize
from braid.indexing.jvm import java_class
from braid.indexing.layout import LUCENE_FOLDER
from braid.indexing.manifest import RetrieverEntry
from braid.indexing.models import model_identity
from braid.indexing.readers import Document
from braid.indexing.sparse_encoder import SpladeEncoder
from braid.indexing.splade_vector_files import read_given_weights
from braid.indexing.text_chunks import text_chunks

_SHARD_SIZE = 100_000  # documents per staged JsonVectorCollection file


class SpladeBuilder:
    name = "splade"

    def __init__(self, index_root: Path, config: SpladeConfig, threads: int = 2, cache: EmbeddingCache | None = None) -> None:
        self._folder = index_root / self.name
        self._folder.mkdir()
        self._input = index_root / "_splade_input"
        self._config = config.with_concrete_precision()
        self._threads = threads
        self._cache = cache or EmbeddingCache()

    def add(self, document: Document) -> None:
        """Encoding waits for finish(): it reads the docstore back in bounded chunks."""

    def finish(self, context: BuildContext) -> RetrieverEntry:
        encoder = SpladeEncoder(self._config)
        started = time.perf_counter()
        reused: ImpactMatrix | None = context.reuse.get(self.name)
        given = context.given.get(self.name)
        made_by: dict[str, Any] | None = None
        if reused is not None:  # merging segments: their stored impacts (already quantized)
            impacts, vocabulary, source = reused.impacts.T.tocsr(), reused.vocabulary, "segments"
        elif given is not None:  # made elsewhere: checked, laid out in corpus order, quantized like braid's own
            vocabulary = encoder.vocabulary
            weights, made_by = read_given_weights(given, context.doc_ids(), self._config, vocabulary)
            impacts, source = quantize(weights, self._config.scale, self._config.doc_top_terms, copy=False), "given"
        else:
            key = cache_key("splade", model_identity(encoder.resolved), self._config.encoding_settings(), context.fingerprint)
            weights, cached = load_or_encode(self._cache, key, context.doc_count, lambda: self._encode_corpus(encoder, context), sparse=True)
            impacts, vocabulary = quantize(weights, self._config.scale, self._config.doc_top_terms), encoder.vocabulary
            source = "cache" if cached else "encoded"
        encode_seconds = time.perf_counter() - started
        started = time.perf_counter()
        if self._config.lucene_index:
            self._stage_collection(impacts, vocabulary, context)
            self._run_lucene()
        lucene_seconds = time.perf_counter() - started
        matrix_stats = ImpactMatrix(impacts.T.tocsr(), vocabulary).save(self._folder)
        if self._config.lucene_index:
            self._check_against_lucene(matrix_stats)
        return RetrieverEntry(
            kind="splade",
            path=self.name,
            params=self._config.to_dict(),
            details={
                "model_path": encoder.resolved,
                "vectors": source,
                **({"vectors_file": str(given), "vectors_made_with": made_by} if made_by is not None else {}),
                "encode_seconds": round(encode_seconds, 2),
                "docs_per_second": round(context.doc_count / encode_seconds, 1) if source == "encoded" else None,
                "lucene_seconds": round(lucene_seconds, 2) if self._config.lucene_index else None,
                "lucene_index": LUCENE_FOLDER if self._config.lucene_index else None,
                "impact_matrix": matrix_stats,
                "terms_per_doc": round(impacts.nnz / max(1, context.doc_count), 1),
            },
        )

    def _encode_corpus(self, encoder: SpladeEncoder, context: BuildContext) -> sp.csr_matrix:
        documents = context.document_encoder(encoder)
        return sp.vstack([documents.encode_documents(chunk) for chunk in text_chunks(context, "splade")], format="csr")

    def _stage_collection(self, impacts: sp.csr_matrix, vocabulary: list[str], context: BuildContext) -> None:
        """Anserini's JsonVectorCollection: {"id", "contents", "vector": {token: impact}} per line."""
        self._input.mkdir()
        doc_ids = context.doc_ids()
        handle = None
        try:
            for row, doc_id in enumerate(doc_ids):
                if row % _SHARD_SIZE == 0:
                    if handle is not None:
                        handle.close()
                    handle = (self._input / f"part-{row // _SHARD_SIZE:05d}.jsonl").open("w", encoding="utf-8")
                begin, end = impacts.indptr[row], impacts.indptr[row + 1]
                vector = {vocabulary[column]: int(value) for column, value in zip(impacts.indices[begin:end], impacts.data[begin:end])}
                assert handle is not None  # opened at row 0
                handle.write(json.dumps({"id": doc_id, "contents": "", "vector": vector}) + "\n")
        finally:
            if handle is not None:
                handle.close()

    def _run_lucene(self) -> None:
        indexer = java_class("io.anserini.index.IndexCollection")
        indexer.main([
            "-collection", "JsonVectorCollection",
            "-generator", "DefaultLuceneDocumentGenerator",
            "-input", str(self._input),
            "-index", str(self._folder / LUCENE_FOLDER),
            "-threads", str(self._threads),
            "-impact", "-pretokenized",
            "-quiet",
        ])  # fmt: skip
        shutil.rmtree(self._input)

    def _check_against_lucene(self, matrix_stats: dict[str, int]) -> None:
        """Every token must survive the round trip through Lucene with its impact (e.g. `##ing`)."""
        index_path = self._folder / LUCENE_FOLDER
        if not any(index_path.glob("segments_*")):
            raise BraidError(f"Lucene produced no impact index at {index_path}; see the Java log above")
        utils = java_class("io.anserini.index.IndexReaderUtils")
        reader = utils.getReader(str(index_path))
        try:
            stats = utils.getIndexStats(reader)
            lucene = {str(key): int(stats.get(key)) for key in stats.keySet().toArray()}
        finally:
            reader.close()
        expected = {"unique_terms": matrix_stats["terms"], "total_terms": matrix_stats["total_impact"]}
        found = {name: lucene.get(name) for name in expected}
        if found != expected:
            raise BraidError(f"the Lucene impact index disagrees with braid's impact matrix: {found} vs {expected}")
