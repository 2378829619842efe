"""Fetch an official BEIR zip into the data directory, atomically, when a named set is missing."""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from tqdm import tqdm

from braid.fusion.errors import BraidError

BEIR_URL_ENV = "BRAID_BEIR_URL"
DEFAULT_BEIR_URL = "https://public.ukp.informatik.tu-darmstadt.de/thakur/BEIR/datasets"
_CHUNK = 1 << 20


def beir_url(name: str) -> str:
    base = os.environ.get(BEIR_URL_ENV) or DEFAULT_BEIR_URL
    return f"{base.rstrip('/')}/{name}.zip"


def download_beir(name: str, data_dir: Path, progress: bool = True, timeout: float = 30.0) -> Path:
    """Download and unpack `<name>.zip` to `data_dir/<name>`; nothing is left behind on failure."""
    url = beir_url(name)
    data_dir.mkdir(parents=True, exist_ok=True)
    target = data_dir / name
    with tempfile.TemporaryDirectory(dir=data_dir, prefix=f".{name}.download-") as scratch:
        archive_path = Path(scratch) / f"{name}.zip"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response, archive_path.open("wb") as out:
                total = int(response.headers.get("Content-Length") or 0) or None
                with tqdm(total=total, unit="B", unit_scale=True, desc=f"downloading {name}", disable=None if progress else True) as bar:
                    while chunk := response.read(_CHUNK):
                        out.write(chunk)
                        bar.update(len(chunk))
        except (urllib.error.URLError, OSError, ValueError) as error:
            reason = getattr(error, "reason", None) or error
            raise BraidError(f"dataset {name!r} is not under {data_dir}, and downloading {url} failed: {reason}") from error
        unpacked = Path(scratch) / "unpacked"
        try:
            with zipfile.ZipFile(archive_path) as archive:
                archive.extractall(unpacked)  # zipfile strips absolute paths and '..' components
        except zipfile.BadZipFile as error:
            raise BraidError(f"{url} did not return a valid zip archive ({error})") from error
        folder = unpacked / name
        if not folder.is_dir():
            folders = [path for path in unpacked.iterdir() if path.is_dir()]
            folder = folders[0] if len(folders) == 1 else unpacked
        if not (folder / "corpus.jsonl").is_file():
            raise BraidError(f"{url} holds no {name}/corpus.jsonl; is it a BEIR dataset zip?")
        if target.exists():
            raise BraidError(f"{target} appeared while downloading; leaving it as it is")
        shutil.move(str(folder), str(target))
    return target
