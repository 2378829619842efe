"""The name of every file and folder in an index directory, in one place (readers and writers share them)."""

from __future__ import annotations

MANIFEST_NAME = "manifest.json"
DOCSTORE_NAME = "docs.sqlite"
FUSION_FILE = "fusion.json"  # written by `braid tune`
# Inside a retriever's sub-folder:
LUCENE_FOLDER = "lucene"  # Anserini's index (bm25, splade)
VOCABULARY_FILE = "vocabulary.json"  # term -> row of the matrix below
TERM_DOCS_FILE = "term_docs.npz"  # bm25: term frequencies, term x document
IMPACTS_FILE = "impacts.npz"  # splade: integer impacts, term x document
EMBEDDINGS_FILE = "embeddings.npy"  # dense: one vector per document, docstore order
HNSW_FILE = "hnsw.bin"  # dense: the HNSW graph over those vectors
