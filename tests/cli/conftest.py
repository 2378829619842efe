"""A real `braid serve` process on 127.0.0.1, shared by the API and page tests of a module."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
import pytest

from braid.eval.bench_http import free_port
from braid.eval.bench_http import start_server as launch


def start_server(index: Path) -> tuple[subprocess.Popen[bytes], str]:
    """The server process and its base URL; its log is shown if it fails to start."""
    port = free_port()
    log = tempfile.TemporaryFile(mode="w+")
    try:
        process = launch(str(index), port, log)
    except click.ClickException as error:
        log.seek(0)
        raise AssertionError(f"{error.message}: {log.read()[-2000:]}") from None
    return process, f"http://127.0.0.1:{port}"


@contextmanager
def running_server(index: Path) -> Iterator[str]:
    """The base URL of a server over `index`, stopped on exit."""
    process, url = start_server(index)
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def server(three_way_small_index: Path) -> Iterator[str]:
    with running_server(three_way_small_index) as url:
        yield url


SLASHED_IDS = ("pubmed/{}", "nested/path/{}", "a%2Fb/{}")


@pytest.fixture(scope="session")
def slashed_index(scifact_small: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """BM25 over 60 SciFact documents, most of whose ids contain "/" (some a literal "%2F" too)."""
    import json

    from braid.engine.build import build_index

    folder = tmp_path_factory.mktemp("data") / "slashed"
    folder.mkdir()
    lines = (scifact_small / "corpus.jsonl").read_text(encoding="utf-8").splitlines()[:60]
    documents = [json.loads(line) for line in lines]
    for number, document in enumerate(documents):
        if number % 4:
            document["_id"] = SLASHED_IDS[number % 4 - 1].format(document["_id"])
    (folder / "corpus.jsonl").write_text("".join(json.dumps(document) + "\n" for document in documents), encoding="utf-8")
    out = tmp_path_factory.mktemp("indexes") / "slashed"
    build_index(folder / "corpus.jsonl", out, retrievers=["bm25"], progress=False)
    return out


@pytest.fixture(scope="session")
def metadata_index(scifact_small: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """BM25 over the 200-document slice with synthetic metadata (braid.eval.synthetic_metadata), built by `braid index --metadata`."""
    from braid.eval.synthetic_metadata import write_side_file
    from braid.indexing.readers import read_corpus
    from tests.support.cli import braid

    folder = tmp_path_factory.mktemp("metadata")
    side = write_side_file((document.doc_id for document in read_corpus(scifact_small / "corpus.jsonl")), folder / "metadata.jsonl")
    out = folder / "index"
    result = braid("index", str(scifact_small), "--out", str(out), "--retrievers", "bm25", "--metadata", str(side))
    assert result.returncode == 0, result.stderr
    assert "metadata fields: bucket (integer), category (keyword), published (date)" in result.stdout
    return out
