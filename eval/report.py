"""What every benchmark report carries and how it is written."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any


def machine() -> dict[str, Any]:
    """Where a number was measured: speed figures mean little without it."""
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "processor": platform.machine()}


def write_json(report: dict[str, Any], out: str | Path) -> Path:
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    return path
