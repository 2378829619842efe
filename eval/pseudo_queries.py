"""Queries made from the corpus itself, each with its source document as the one relevant answer:
what `braid tune --unsupervised` tunes fusion on when a collection has no labelled queries.

Three kinds: a document's `title`, one `sentence` of its text, or a `keyphrase` (the document's
rarest words, in the order they appear). Documents are drawn with a fixed seed, so the same index
gives the same queries. Nothing here looks at any real query.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Literal, Protocol, get_args

from braid.fusion.errors import BraidError
from braid.indexing.readers import Document

PseudoKind = Literal["title", "sentence", "keyphrase"]
PSEUDO_KINDS: tuple[PseudoKind, ...] = get_args(PseudoKind)
DEFAULT_PSEUDO_QUERIES = 200  # SciFact: ~1 minute of `braid tune --unsupervised` on 2 cores
# Titles: the one kind at or above equal weights on every check of bench_label_free (SciFact,
# NFCorpus, nDCG@10 and R@100); sentences fell below dense alone on NFCorpus R@100 (README).
DEFAULT_PSEUDO_KIND: PseudoKind = "title"
FREQUENCY_SAMPLE = 2000  # documents whose words give `keyphrase` its rarity counts
DEFAULT_SEED = 13
KEYPHRASE_WORDS = 5
SENTENCE_WORDS = (6, 30)  # a sentence shorter or longer than this is not a query
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9\-]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


@dataclass(frozen=True)
class PseudoQuery:
    query_id: str  # never a doc id, so the self-hit rule of evaluation cannot drop the answer
    text: str
    doc_id: str  # the one relevant document


def sample_ids(doc_ids: Sequence[str], count: int, seed: int = DEFAULT_SEED) -> list[str]:
    """`count` ids drawn without replacement (all of them, shuffled, when there are fewer)."""
    chosen = list(doc_ids)
    random.Random(seed).shuffle(chosen)
    return chosen[:count]


def pseudo_queries(
    documents: Iterable[Document], kind: str, document_frequency: Callable[[str], int] | None = None, seed: int = DEFAULT_SEED
) -> Iterator[PseudoQuery]:
    """One query per document that yields one (a document without a title gives no title query),
    lazily, so a caller takes only as many documents as it needs. `keyphrase` ranks words by
    `document_frequency` (lower first); without it, longer words first."""
    if kind not in PSEUDO_KINDS:
        raise BraidError(f"unknown pseudo-query kind {kind!r}; choose from {', '.join(PSEUDO_KINDS)}")
    rng = random.Random(seed)
    for document in documents:
        text = _query_text(document, kind, document_frequency, rng)
        if text:
            yield PseudoQuery(f"pseudo-{kind}-{document.doc_id}", text, document.doc_id)


def word_frequencies(documents: Iterable[Document]) -> Counter[str]:
    """In how many of `documents` each lower-cased word occurs (the rarity `keyphrase` ranks by)."""
    counts: Counter[str] = Counter()
    for document in documents:
        counts.update(set(_words(f"{document.title} {document.text}")))
    return counts


def _words(text: str) -> list[str]:
    return [word.lower() for word in _WORD.findall(text)]


def _query_text(document: Document, kind: str, document_frequency: Callable[[str], int] | None, rng: random.Random) -> str:
    if kind == "title":
        return " ".join(document.title.split())
    if kind == "sentence":
        sentences = [" ".join(part.split()) for part in _SENTENCE_END.split(document.text)]
        usable = [sentence for sentence in sentences if SENTENCE_WORDS[0] <= len(sentence.split()) <= SENTENCE_WORDS[1]]
        return rng.choice(usable) if usable else ""
    words = list(dict.fromkeys(word for word in _words(f"{document.title} {document.text}") if len(word) > 3))
    rarity = document_frequency or (lambda word: -len(word))
    chosen = set(sorted(words, key=lambda word: (rarity(word), word))[:KEYPHRASE_WORDS])
    return " ".join(word for word in words if word in chosen)


class Documents(Protocol):
    """What pseudo-queries read from an index: its live ids and each document (an engine's docstore)."""

    def ids(self) -> list[str]: ...

    def get(self, doc_id: str) -> Document | None: ...


def corpus_pseudo_queries(
    store: Documents, count: int = DEFAULT_PSEUDO_QUERIES, kind: str = DEFAULT_PSEUDO_KIND, seed: int = DEFAULT_SEED
) -> list[PseudoQuery]:
    """`count` pseudo-queries from documents drawn with `seed` (documents that give none, e.g.
    untitled ones for `title`, are skipped and others drawn instead)."""
    if kind not in PSEUDO_KINDS:
        raise BraidError(f"unknown pseudo-query kind {kind!r}; choose from {', '.join(PSEUDO_KINDS)}")
    ids = store.ids()
    rarity = None
    if kind == "keyphrase":
        counts = word_frequencies(_documents(store, sample_ids(ids, FREQUENCY_SAMPLE, seed + 1)))
        rarity = counts.__getitem__
    made = pseudo_queries(_documents(store, sample_ids(ids, len(ids), seed)), kind, rarity, seed)
    queries = list(islice(made, count))
    if not queries:
        raise BraidError(f"no document of this index gives a {kind} pseudo-query; try another --pseudo-kind ({', '.join(PSEUDO_KINDS)})")
    return queries


def _documents(store: Documents, ids: Iterable[str]) -> Iterator[Document]:
    for doc_id in ids:
        document = store.get(doc_id)
        if document is not None:
            yield document
