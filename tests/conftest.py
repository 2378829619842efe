"""Shared fixtures: real BEIR data from ../shared/data (or $BRAID_DATA), never copied into the repo."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", help="also run end-to-end checks on whole datasets")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="slow: pass --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def _data_root() -> Path:
    configured = os.environ.get("BRAID_DATA")
    return Path(configured) if configured else REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def data_root() -> Path:
    root = _data_root()
    if not (root / "scifact" / "corpus.jsonl").is_file():
        pytest.fail(f"real test data not found under {root}; set BRAID_DATA to the folder holding scifact/ and nfcorpus/")
    return root


@pytest.fixture(scope="session")
def scifact_dir(data_root: Path) -> Path:
    return data_root / "scifact"


@pytest.fixture(scope="session")
def nfcorpus_dir(data_root: Path) -> Path:
    return data_root / "nfcorpus"


def write_beir_slice(source: Path, target: Path, num_docs: int) -> Path:
    """A small BEIR folder: the first `num_docs` documents and the test queries judged only on them."""
    import json

    target.mkdir(parents=True, exist_ok=True)
    (target / "qrels").mkdir(exist_ok=True)
    kept: set[str] = set()
    with (source / "corpus.jsonl").open(encoding="utf-8") as corpus, (target / "corpus.jsonl").open("w", encoding="utf-8") as out:
        for line in corpus:
            if len(kept) == num_docs:
                break
            kept.add(json.loads(line)["_id"])
            out.write(line)
    rows = (source / "qrels" / "test.tsv").read_text(encoding="utf-8").splitlines()
    judged: dict[str, list[str]] = {}
    for row in rows[1:]:
        query_id, doc_id, _ = row.split("\t")
        judged.setdefault(query_id, []).append(doc_id)
    usable = {query_id for query_id, docs in judged.items() if all(doc in kept for doc in docs)}
    (target / "qrels" / "test.tsv").write_text("\n".join([rows[0]] + [row for row in rows[1:] if row.split("\t")[0] in usable]) + "\n", encoding="utf-8")
    (target / "queries.jsonl").write_bytes((source / "queries.jsonl").read_bytes())
    return target


@pytest.fixture(scope="session")
def scifact_slice(scifact_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 400 SciFact documents with the test queries whose relevant docs are among them."""
    return write_beir_slice(scifact_dir, tmp_path_factory.mktemp("data") / "scifact-slice", 400)


@pytest.fixture(scope="session")
def scifact_slice_index(scifact_slice: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from braid.engine.build import build_index

    out = tmp_path_factory.mktemp("indexes") / "scifact-slice"
    build_index(scifact_slice / "corpus.jsonl", out, ["bm25"], progress=False)
    return out


@pytest.fixture(scope="session")
def embedding_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Tests never write to the user's ~/.cache: every build uses this folder (the variable is
    restored when the session ends)."""
    folder = tmp_path_factory.mktemp("braid-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BRAID_CACHE", str(folder))
        yield folder


@pytest.fixture(scope="session")
def scifact_small(scifact_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """200 SciFact documents: enough for dense tests, cheap to encode on 2 cores."""
    return write_beir_slice(scifact_dir, tmp_path_factory.mktemp("data") / "scifact-small", 200)


@pytest.fixture(scope="session")
def hybrid_small_index(scifact_small: Path, embedding_cache_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from braid.engine.build import build_index

    out = tmp_path_factory.mktemp("indexes") / "scifact-small"
    build_index(scifact_small / "corpus.jsonl", out, retrievers=["bm25", "dense"], progress=False)
    return out


@pytest.fixture(scope="session")
def splade_small_index(scifact_small: Path, embedding_cache_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from braid.engine.build import build_index

    out = tmp_path_factory.mktemp("indexes") / "scifact-small-splade"
    build_index(scifact_small / "corpus.jsonl", out, retrievers=["splade"], progress=False)
    return out


@pytest.fixture(scope="session")
def three_way_small_index(scifact_small: Path, embedding_cache_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """BM25, SPLADE and dense over the same 200 documents (vectors come from the shared cache)."""
    from braid.engine.build import build_index

    out = tmp_path_factory.mktemp("indexes") / "scifact-small-three-way"
    build_index(scifact_small / "corpus.jsonl", out, retrievers=["bm25", "splade", "dense"], progress=False)
    return out
