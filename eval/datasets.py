"""Find a dataset by path or by name, and load a split's queries and qrels.

Layouts understood:
- BEIR: `corpus.jsonl`, `queries.jsonl` (every split's queries), `qrels/<split>.tsv`.
- MS MARCO: `collection.tsv`, `queries.<split>.tsv`, TREC qrels `qrels.<split>.tsv` (or `.txt`).
- A single JSONL file: a corpus only (nothing to evaluate).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from braid.eval.qrels import Qrels, read_qrels
from braid.fusion.errors import BraidError
from braid.indexing.readers import read_queries

DATA_DIR_ENV = "BRAID_DATA"

# The BEIR sets published as zips by the BEIR authors (the others need separate licences).
BEIR_DOWNLOADABLE = (
    "arguana", "climate-fever", "cqadupstack", "dbpedia-entity", "fever", "fiqa", "hotpotqa", "msmarco",
    "nfcorpus", "nq", "quora", "scidocs", "scifact", "trec-covid", "webis-touche2020",
)  # fmt: skip


def default_data_dir() -> Path:
    configured = os.environ.get(DATA_DIR_ENV)
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "braid" / "datasets"


@dataclass(frozen=True)
class Split:
    """The queries that have judgements in one split, and those judgements."""

    name: str
    queries: dict[str, str]
    qrels: Qrels


@dataclass(frozen=True)
class Dataset:
    name: str
    root: Path
    layout: str  # "beir", "msmarco" or "jsonl"
    corpus_path: Path | None

    def require_corpus(self) -> Path:
        if self.corpus_path is None or not self.corpus_path.is_file():
            raise BraidError(f"dataset {self.name!r} at {self.root} has no corpus file ({self._corpus_name()})")
        return self.corpus_path

    def _corpus_name(self) -> str:
        return "collection.tsv" if self.layout == "msmarco" else "corpus.jsonl"

    def splits(self) -> list[str]:
        if self.layout == "beir":
            return sorted(path.stem for path in (self.root / "qrels").glob("*.tsv"))
        if self.layout == "msmarco":
            return sorted({path.name[len("qrels.") :].rsplit(".", 1)[0] for path in self.root.glob("qrels.*.*")})
        return []

    def _split_files(self, split: str) -> tuple[Path, Path]:
        if self.layout == "beir":
            return self.root / "queries.jsonl", self.root / "qrels" / f"{split}.tsv"
        if self.layout == "msmarco":
            qrels = next((p for p in (self.root / f"qrels.{split}.tsv", self.root / f"qrels.{split}.txt") if p.is_file()), self.root / f"qrels.{split}.tsv")
            return self.root / f"queries.{split}.tsv", qrels
        raise BraidError(f"{self.root} is a bare corpus file: it has no queries or qrels to evaluate")

    def load_split(self, split: str) -> Split:
        """Queries restricted to those judged in `split` (BEIR keeps every split's queries in one file)."""
        queries_path, qrels_path = self._split_files(split)
        if not qrels_path.is_file():
            known = ", ".join(self.splits()) or "none"
            raise BraidError(f"dataset {self.name!r} has no split {split!r} ({qrels_path} is missing); splits: {known}")
        queries = read_queries(queries_path)
        qrels = read_qrels(qrels_path, known_queries=queries)
        return Split(split, {query_id: queries[query_id].text for query_id in qrels}, qrels)


def dataset_at(path: Path) -> Dataset:
    """Recognise the layout of an existing file or folder."""
    path = path.absolute()
    if path.is_file():
        return Dataset(path.stem, path.parent, "jsonl", path)
    if (path / "collection.tsv").is_file():
        return Dataset(path.name, path, "msmarco", path / "collection.tsv")
    if (path / "corpus.jsonl").is_file() or (path / "queries.jsonl").is_file():
        corpus = path / "corpus.jsonl"
        return Dataset(path.name, path, "beir", corpus if corpus.is_file() else None)
    raise BraidError(f"{path} is not a dataset: expected corpus.jsonl (BEIR), collection.tsv (MS MARCO) or a JSONL file")


def resolve_dataset(spec: str, data_dir: str | Path | None = None, download: bool = True) -> Dataset:
    """A dataset argument is a path, or a name under the data directory (fetched there if it is a BEIR set)."""
    as_path = Path(spec).expanduser()
    if as_path.exists():
        return dataset_at(as_path)
    root = Path(data_dir).expanduser() if data_dir else default_data_dir()
    if os.sep not in spec and spec not in (".", ".."):
        candidate = root / spec
        if candidate.exists():
            return dataset_at(candidate)
        if download and spec in BEIR_DOWNLOADABLE:
            from braid.eval.download import download_beir

            return dataset_at(download_beir(spec, root))
    hint = f"; BEIR names that can be downloaded: {', '.join(BEIR_DOWNLOADABLE)}" if os.sep not in spec else ""
    raise BraidError(f"dataset {spec!r} not found: no such path, and nothing at {root / spec}{hint}")
