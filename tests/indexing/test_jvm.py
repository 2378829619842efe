"""The JVM bootstrap leaves the user's environment as it found it (no lasting dummy OpenAI key)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from braid.indexing.jvm import _dummy_openai_key

_START_JAVA = "import os\nfrom braid.indexing.jvm import java_class\njava_class('java.lang.String')\nprint(repr(os.environ.get('OPENAI_API_KEY')))\n"


def _key_after_java_starts(key: str | None) -> str:
    env = {name: value for name, value in os.environ.items() if name != "OPENAI_API_KEY"}
    if key is not None:
        env["OPENAI_API_KEY"] = key
    finished = subprocess.run([sys.executable, "-c", _START_JAVA], env=env, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr[-2000:]
    return finished.stdout.strip().splitlines()[-1]


def test_starting_java_sets_no_openai_key_in_the_users_environment() -> None:
    assert _key_after_java_starts(None) == "None"
    assert _key_after_java_starts("user-key") == "'user-key'"


def test_dummy_key_lives_only_inside_the_import(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with _dummy_openai_key():
        assert os.environ["OPENAI_API_KEY"]
    assert "OPENAI_API_KEY" not in os.environ
    monkeypatch.setenv("OPENAI_API_KEY", "")
    with _dummy_openai_key():
        assert os.environ["OPENAI_API_KEY"]
    assert os.environ["OPENAI_API_KEY"] == ""
    monkeypatch.setenv("OPENAI_API_KEY", "user-key")
    with _dummy_openai_key():
        assert os.environ["OPENAI_API_KEY"] == "user-key"
    assert os.environ["OPENAI_API_KEY"] == "user-key"
