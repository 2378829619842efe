"""Which interface a retriever answers is decided once per class: a class with the ordinal and
kept-score methods answers both, one with only the base interface answers neither."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from braid.engine.retriever import answers_ordinals, keeps_scores


class ByIds:
    name = "ids"

    def search(self, queries: Sequence[str], depth: int, allowed: np.ndarray | None = None) -> list[list[tuple[str, float]]]:
        return [[] for _ in queries]

    def score(self, queries: Sequence[str], doc_ids: Sequence[Sequence[str]]) -> list[dict[str, float]]:
        return [{} for _ in queries]

    def forget_queries(self) -> None: ...

    def close(self) -> None: ...


class ByOrdinals(ByIds):
    name = "ordinals"

    def search_ordinals(self, queries: Sequence[str], depth: int, allowed: np.ndarray | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
        return [(np.empty(0, dtype=np.int64), np.empty(0)) for _ in queries]

    def score_ordinals(self, queries: Sequence[str], ordinals: Sequence[np.ndarray]) -> list[np.ndarray]:
        return [np.zeros(len(rows)) for rows in ordinals]


class Keeping(ByOrdinals):
    def search_scored(self, queries: Sequence[str], depth: int, allowed: np.ndarray | None = None) -> tuple[list[tuple[np.ndarray, np.ndarray]], object]:
        return self.search_ordinals(queries, depth), self.score_ordinals


def test_interfaces_answered_by_class() -> None:
    for _ in range(2):  # the second round reads what the first decided
        assert not answers_ordinals(ByIds()) and not keeps_scores(ByIds())
        assert answers_ordinals(ByOrdinals()) and not keeps_scores(ByOrdinals())
        assert answers_ordinals(Keeping()) and keeps_scores(Keeping())
