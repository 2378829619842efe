"""Datasets resolve by path or name, splits keep only judged queries, and BEIR zips download."""

from __future__ import annotations

import functools
import http.server
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from braid.eval.datasets import resolve_dataset
from braid.eval.download import BEIR_URL_ENV
from braid.fusion.errors import BraidError, DataError


def test_beir_split_keeps_only_judged_queries(scifact_dir: Path) -> None:
    dataset = resolve_dataset(str(scifact_dir))
    assert dataset.layout == "beir" and dataset.splits() == ["test", "train"]
    split = dataset.load_split("test")
    assert len(split.queries) == 300 and set(split.queries) == set(split.qrels)


def test_named_dataset_is_found_under_the_data_dir(data_root: Path) -> None:
    dataset = resolve_dataset("nfcorpus", data_dir=data_root, download=False)
    assert dataset.corpus_path == (data_root / "nfcorpus" / "corpus.jsonl").absolute()
    split = dataset.load_split("test")
    assert len(split.queries) == 323
    assert {grade for judged in split.qrels.values() for grade in judged.values()} == {1, 2}


def test_unknown_split_lists_the_known_ones(scifact_dir: Path) -> None:
    with pytest.raises(BraidError, match="no split 'dev'.*splits: test, train"):
        resolve_dataset(str(scifact_dir)).load_split("dev")


def test_missing_dataset_names_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(BraidError, match="dataset 'no-such-set' not found.*no-such-set"):
        resolve_dataset("no-such-set", data_dir=tmp_path)


def test_qrels_row_naming_an_unknown_query_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "qrels").mkdir()
    (tmp_path / "corpus.jsonl").write_text('{"_id": "d1", "text": "x"}\n')
    (tmp_path / "queries.jsonl").write_text('{"_id": "q1", "text": "x"}\n')
    (tmp_path / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq9\td1\t1\n")
    with pytest.raises(DataError, match="query id 'q9' is not in the queries file") as caught:
        resolve_dataset(str(tmp_path)).load_split("test")
    assert caught.value.line == 3


def test_msmarco_layout_with_trec_qrels(tmp_path: Path) -> None:
    (tmp_path / "collection.tsv").write_text("0\tfirst passage\n1\tsecond passage\n")
    (tmp_path / "queries.dev.small.tsv").write_text("7\tsecond\n8\tunjudged\n")
    (tmp_path / "qrels.dev.small.tsv").write_text("7 0 1 1\n")
    dataset = resolve_dataset(str(tmp_path))
    assert dataset.layout == "msmarco" and dataset.splits() == ["dev.small"]
    split = dataset.load_split("dev.small")
    assert split.queries == {"7": "second"} and split.qrels == {"7": {"1": 1}}


def _beir_zip(source: Path, path: Path, name: str, num_docs: int) -> Path:
    lines = (source / "corpus.jsonl").read_text(encoding="utf-8").splitlines()[:num_docs]
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{name}/corpus.jsonl", "\n".join(lines) + "\n")
        archive.writestr(f"{name}/queries.jsonl", (source / "queries.jsonl").read_text(encoding="utf-8"))
        archive.writestr(f"{name}/qrels/test.tsv", (source / "qrels" / "test.tsv").read_text(encoding="utf-8"))
    return path


@pytest.fixture()
def local_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An HTTP server on 127.0.0.1 serving files from a temporary folder (never the internet)."""
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", served
    finally:
        server.shutdown()
        server.server_close()


def test_missing_beir_set_is_downloaded_into_the_data_dir(
    local_server: tuple[str, Path], scifact_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, served = local_server
    _beir_zip(scifact_dir, served / "scifact.zip", "scifact", num_docs=50)
    monkeypatch.setenv(BEIR_URL_ENV, url)
    data_dir = tmp_path / "data"
    dataset = resolve_dataset("scifact", data_dir=data_dir)
    assert dataset.root == (data_dir / "scifact").absolute()
    assert len((data_dir / "scifact" / "corpus.jsonl").read_text().splitlines()) == 50
    assert len(dataset.load_split("test").queries) == 300
    assert [p.name for p in data_dir.iterdir()] == ["scifact"]  # no scratch left behind
    # Found locally the second time: the server is no longer needed.
    (served / "scifact.zip").unlink()
    assert resolve_dataset("scifact", data_dir=data_dir).root == dataset.root


def test_failed_download_says_what_failed_and_leaves_nothing(local_server: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url, served = local_server
    monkeypatch.setenv(BEIR_URL_ENV, url)
    data_dir = tmp_path / "data"
    with pytest.raises(BraidError, match=r"dataset 'nfcorpus' is not under .* downloading http://127\.0\.0\.1:\d+/nfcorpus\.zip failed"):
        resolve_dataset("nfcorpus", data_dir=data_dir)
    (served / "fiqa.zip").write_bytes(b"this is not a zip")
    with pytest.raises(BraidError, match="did not return a valid zip"):
        resolve_dataset("fiqa", data_dir=data_dir)
    assert list(data_dir.iterdir()) == []
