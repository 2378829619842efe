"""What every benchmark report carries and how it is written."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

from braid.indexing.host import cpu_model


def machine() -> dict[str, Any]:
    """Where a number was measured: speed figures mean little without it."""
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "processor": platform.machine(), "cpu_model": cpu_model()}


def folder_megabytes(folder: Path) -> float:
    """Megabytes on disk of every file below `folder`."""
    return round(sum(path.stat().st_size for path in folder.rglob("*") if path.is_file()) / 2**20, 1)


def write_json(report: dict[str, Any], out: str | Path) -> Path:
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    return path
