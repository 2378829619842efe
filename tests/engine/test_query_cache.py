"""The query-vector cache encodes each distinct text once and forgets the oldest beyond capacity."""

from __future__ import annotations

from braid.engine.query_cache import QueryCache


def test_encodes_only_unseen_texts_once_and_keeps_order() -> None:
    calls: list[list[str]] = []

    def encode(texts: list[str]) -> list[str]:
        calls.append(texts)
        return [text.upper() for text in texts]

    cache = QueryCache(capacity=2)
    assert cache.encode(["a", "b", "a"], encode) == ["A", "B", "A"]
    assert cache.encode(["b"], encode) == ["B"]
    assert cache.encode(["c", "b"], encode) == ["C", "B"]  # "a" is now the oldest and is dropped
    assert cache.encode(["a"], encode) == ["A"]
    assert calls == [["a", "b"], ["c"], ["a"]]
