"""Dependencies whose new release would silently change scores are pinned to what was measured."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

from braid.indexing.models import _DISTRIBUTIONS, PACKAGED_MODELS

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def test_packaged_model_weights_are_pinned_to_the_installed_release() -> None:
    dependencies = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["dependencies"]
    for package, _ in PACKAGED_MODELS.values():
        distribution = _DISTRIBUTIONS.get(package, package)
        declared = [entry for entry in dependencies if re.match(rf"{re.escape(distribution)}\b", entry)]
        assert declared == [f"{distribution}=={importlib.metadata.version(distribution)}"], declared
