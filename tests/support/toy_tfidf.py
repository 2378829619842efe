"""A fourth retriever kind written the way a plugin would: TF-IDF cosine over word counts.

Everything a kind needs is here (config, builder, retriever, open function, the `RetrieverKind`);
tests register it through the `braid.retrievers` entry-point group, touching no braid module.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from braid.engine.registry import RetrieverKind
from braid.engine.retriever import OpenRequest
from braid.fusion.types import Ranking
from braid.indexing.build_context import BuildContext
from braid.indexing.config import RetrieverConfig
from braid.indexing.manifest import RetrieverEntry
from braid.indexing.readers import Document

COUNTS_FILE = "counts.jsonl"
_WORD = re.compile(r"[a-z0-9]+")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


@dataclass(frozen=True)
class ToyConfig(RetrieverConfig):
    _label: ClassVar[str] = "toy"
    sublinear_tf: bool = True


class ToyBuilder:
    name = "toy"

    def __init__(self, staging: Path, config: ToyConfig, threads: int) -> None:
        self._folder = staging / self.name
        self._folder.mkdir()
        self._config = config
        self._out = (self._folder / COUNTS_FILE).open("w", encoding="utf-8")

    def add(self, document: Document) -> None:
        self._out.write(json.dumps(Counter(words(f"{document.title} {document.text}"))) + "\n")

    def finish(self, context: BuildContext) -> RetrieverEntry:
        self._out.close()
        return RetrieverEntry(self.name, self.name, self._config.to_dict())


class ToyRetriever:
    name = "toy"

    def __init__(self, folder: Path, config: ToyConfig, doc_ids: Sequence[str]) -> None:
        self._doc_ids = list(doc_ids)
        with (folder / COUNTS_FILE).open(encoding="utf-8") as lines:
            counts = [json.loads(line) for line in lines]
        document_frequency = Counter(term for count in counts for term in count)
        self._idf = {term: math.log(len(counts) / df) for term, df in document_frequency.items()}
        self._vectors = [self._weigh(count, config.sublinear_tf) for count in counts]
        self._sublinear = config.sublinear_tf

    def _weigh(self, count: dict[str, int], sublinear: bool) -> dict[str, float]:
        weights = {term: (1 + math.log(tf) if sublinear else tf) * self._idf.get(term, 0.0) for term, tf in count.items()}
        norm = math.sqrt(sum(value * value for value in weights.values())) or 1.0
        return {term: value / norm for term, value in weights.items()}

    def _scores(self, query: str) -> list[float]:
        vector = self._weigh(Counter(words(query)), self._sublinear)
        return [sum(weight * document.get(term, 0.0) for term, weight in vector.items()) for document in self._vectors]

    def search(self, queries: Sequence[str], depth: int) -> list[Ranking]:
        results = []
        for query in queries:
            scores = self._scores(query)
            best = sorted((position for position, score in enumerate(scores) if score > 0), key=lambda position: (-scores[position], position))
            results.append([(self._doc_ids[position], scores[position]) for position in best[:depth]])
        return results

    def score(self, queries: Sequence[str], doc_ids: Sequence[Sequence[str]]) -> list[dict[str, float]]:
        position = {doc_id: index for index, doc_id in enumerate(self._doc_ids)}
        return [{doc: self._scores(query)[position[doc]] for doc in wanted} for query, wanted in zip(queries, doc_ids, strict=True)]

    def forget_queries(self) -> None:
        """No query cache."""

    def close(self) -> None:
        self._vectors = []


def open_toy(request: OpenRequest) -> ToyRetriever:
    return ToyRetriever(request.folder, ToyConfig.from_dict(request.entry.params), request.doc_ids())


KIND = RetrieverKind("toy", ToyConfig, ToyBuilder, open_toy)
