"""The fusion settings `braid tune` stores in an index directory, so later searches use them by default."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from braid.fusion.config import FusionConfig
from braid.fusion.errors import BraidError
from braid.indexing.layout import FUSION_FILE


def read_tuned(index_dir: str | Path) -> tuple[FusionConfig, dict[str, Any]] | None:
    """The fusion config `braid tune` stored in this index, and how it was chosen; None if untuned."""
    path = Path(index_dir) / FUSION_FILE
    if not path.is_file():
        return None
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        return FusionConfig.from_dict(stored["config"]), dict(stored.get("tuned_on", {}))
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise BraidError(f"{path}: damaged fusion settings ({type(error).__name__}: {error}); run `braid tune` again") from error


def stored_or_default(index_dir: str | Path, retrievers: Sequence[str] | None) -> FusionConfig:
    """The tuned settings when they fit the retrievers searched (None: all), else the default."""
    tuned = read_tuned(index_dir)
    if tuned is not None and (retrievers is None or tuned[0].fits(retrievers)):
        return tuned[0]
    return FusionConfig()


def write_tuned(index_dir: str | Path, config: FusionConfig, tuned_on: Mapping[str, Any]) -> Path:
    """Written beside the manifest under a temporary name and renamed: never half-written."""
    path = Path(index_dir) / FUSION_FILE
    temporary = path.with_name(f".{FUSION_FILE}.{uuid.uuid4().hex[:8]}")
    temporary.write_text(json.dumps({"config": config.to_dict(), "tuned_on": dict(tuned_on)}, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)
    return path
