"""The name of every file and folder in an index directory, in one place (readers and writers share them)."""

from __future__ import annotations

MANIFEST_NAME = "manifest.json"
DOCSTORE_NAME = "docs.sqlite"
METADATA_FILE = "metadata.npz"  # per segment: the documents' metadata as typed columns (filters)
FUSION_FILE = "fusion.json"  # written by `braid tune`
# Inside a retriever's sub-folder:
LUCENE_FOLDER = "lucene"  # Anserini's index (bm25, splade)
VOCABULARY_FILE = "vocabulary.json"  # term -> row of the matrix below
TERM_DOCS_FILE = "term_docs.npz"  # bm25: term frequencies, term x document
IMPACTS_FILE = "impacts.npz"  # splade: integer impacts, term x document
EMBEDDINGS_FILE = "embeddings.npy"  # dense: one vector per document, docstore order
HNSW_FILE = "hnsw.bin"  # dense: the HNSW graph over those vectors
# A live index (see indexing/segments.py): the top level is the first segment; later ones and the
# files that say which documents are deleted live beside it.
SEGMENTS_FOLDER = "segments"  # segments/seg-GGGGGG: a segment written by generation G
DELETES_FOLDER = "deletes"  # deletes/NAME.GGGGGG.npy: a segment's deleted ordinals as of generation G
READERS_FOLDER = "readers"  # readers/PID-TOKEN.json: what an open engine still reads (kept by cleanup)
WRITE_LOCK = "write.lock"  # held (flock) by the one writer
ROOT_SEGMENT = "."  # the segment `braid index` writes, at the index's top level
# A sharded index (indexing/shards.py): complete indexes side by side, described by one file.
SHARDS_NAME = "shards.json"
STATISTICS_FOLDER = "statistics"  # statistics/NAME.npz: corpus-wide term statistics of a BM25 retriever NAME
