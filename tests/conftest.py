"""Shared fixtures: real BEIR data from ../shared/data (or $BRAID_DATA), never copied into the repo."""

from __future__ import annotations

import os
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
