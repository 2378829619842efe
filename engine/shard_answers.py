"""Partial results from a sharded index, for callers who ask for them: which shards answered.

By default a shard that does not answer fails the query (braid.engine.shard_group). A caller that
would rather have the other shards' hits passes a ShardAnswers: shards that fail within its `wait`
are left out, and it records which, so the response can say what it covers.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

# Seconds a partial search waits for a shard before leaving it out.
PARTIAL_WAIT = 5.0


class ShardAnswers:
    def __init__(self, shards: int, wait: float = PARTIAL_WAIT) -> None:
        self.shards = shards
        self.wait = wait
        self.missing: dict[int, str] = {}  # shard number -> why it gave no answer
        self._lock = threading.Lock()

    def failed(self, number: int, reason: str) -> None:
        with self._lock:
            self.missing.setdefault(number, reason)

    @property
    def answered(self) -> list[int]:
        return [number for number in range(self.shards) if number not in self.missing]

    def to_dict(self) -> dict[str, Any]:
        return {"shards": self.shards, "answered": self.answered, "missing": {str(number): reason for number, reason in sorted(self.missing.items())}}


_accepting: ContextVar[ShardAnswers | None] = ContextVar("braid_shard_answers", default=None)


@contextmanager
def accepting_partial(answers: ShardAnswers | None) -> Iterator[None]:
    """Within the block (and the engine's retriever threads it starts), shard failures are recorded in `answers`."""
    token = _accepting.set(answers)
    try:
        yield
    finally:
        _accepting.reset(token)


def partial_answers() -> ShardAnswers | None:
    """The ShardAnswers of the search running here, if it accepts partial results."""
    return _accepting.get()
