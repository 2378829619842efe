"""A corpus of any size for scale benchmarks, made from real SciFact and NFCorpus sentences.

    python -m braid.eval.scale_corpus --docs 1000000 --out data/scale-1m

The output is a BEIR folder: every real SciFact document (so SciFact's test queries and qrels,
copied alongside, still score) followed by distractor documents, each a title and three to nine
sentences drawn from both corpora. The same size and seed always give the same bytes. It is a
benchmark input for build time, memory and latency; quality claims come from the real datasets.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import click
import numpy as np
from tqdm import tqdm

from braid.eval.datasets import default_data_dir
from braid.fusion.errors import BraidError
from braid.indexing.readers import read_corpus

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
# Sentences per distractor document (its text), drawn uniformly.
_SENTENCES = (3, 9)
# Distractors drawn at a time (the draws, and so the bytes, depend on it).
_BLOCK = 10_000


def sentences_of(corpora: list[Path]) -> list[str]:
    """Every sentence of the given corpora's titles and texts, in file order, without repeats."""
    found: dict[str, None] = {}
    for path in corpora:
        for document in read_corpus(path):
            for part in (document.title, *_SENTENCE_END.split(document.text)):
                part = part.strip()
                if len(part) > 20:
                    found.setdefault(part, None)
    return list(found)


@dataclass(frozen=True)
class DistractorBlock:
    """Consecutive distractor documents as indexes into the sentence pool."""

    titles: np.ndarray  # one pool sentence per document
    lengths: np.ndarray  # sentences in each document's text
    picks: np.ndarray  # the texts' sentences, document after document

    @property
    def count(self) -> int:
        return len(self.titles)

    def documents(self) -> Iterator[tuple[int, np.ndarray]]:
        """(title, text sentences) per document."""
        ends = np.cumsum(self.lengths)
        for number, end in enumerate(ends.tolist()):
            yield int(self.titles[number]), self.picks[end - int(self.lengths[number]) : end]


def distractor_blocks(pool_size: int, count: int, seed: int = 0) -> Iterator[DistractorBlock]:
    """The `count` distractors drawn from a pool of `pool_size` sentences: the same seed always
    draws the same documents, so vectors can be made for them from their sentences' vectors."""
    chooser = np.random.default_rng(seed)
    made = 0
    while made < count:
        size = min(_BLOCK, count - made)
        titles = chooser.integers(0, pool_size, size=size)
        lengths = chooser.integers(_SENTENCES[0], _SENTENCES[1] + 1, size=size)
        yield DistractorBlock(titles, lengths, chooser.integers(0, pool_size, size=int(lengths.sum())))
        made += size


def write_scale_corpus(data_dir: Path, out: Path, docs: int, seed: int = 0, progress: bool = True) -> dict[str, int]:
    """Write `out` (corpus.jsonl, queries.jsonl, qrels/test.tsv) with `docs` documents in all."""
    scifact, nfcorpus = data_dir / "scifact", data_dir / "nfcorpus"
    for folder in (scifact, nfcorpus):
        if not (folder / "corpus.jsonl").is_file():
            raise BraidError(f"{folder}: no corpus.jsonl (the scale corpus is made from SciFact and NFCorpus)")
    real = list(read_corpus(scifact / "corpus.jsonl"))
    if docs < len(real):
        raise BraidError(f"--docs must be at least {len(real):,}: every SciFact document is included")
    pool = sentences_of([scifact / "corpus.jsonl", nfcorpus / "corpus.jsonl"])
    out.mkdir(parents=True, exist_ok=True)
    (out / "qrels").mkdir(exist_ok=True)
    shutil.copyfile(scifact / "queries.jsonl", out / "queries.jsonl")
    shutil.copyfile(scifact / "qrels" / "test.tsv", out / "qrels" / "test.tsv")
    written = 0
    partial = out / "corpus.jsonl.partial"
    with partial.open("w", encoding="utf-8") as handle, tqdm(total=docs, desc="writing documents", unit=" docs", disable=None if progress else True) as bar:
        for document in real:
            handle.write(json.dumps({"_id": document.doc_id, "title": document.title, "text": document.text}) + "\n")
        written = len(real)
        bar.update(written)
        for block in distractor_blocks(len(pool), docs - len(real), seed):
            for number, (title, picks) in enumerate(block.documents()):
                handle.write(json.dumps({"_id": f"scale-{written + number}", "title": pool[title], "text": " ".join(pool[pick] for pick in picks)}) + "\n")
            written += block.count
            bar.update(block.count)
    partial.replace(out / "corpus.jsonl")
    return {"documents": written, "real_documents": len(real), "sentences": len(pool)}


@click.command()
@click.option("--docs", type=click.IntRange(min=1), required=True, help="Documents in all (SciFact's 5,183 included).")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="The BEIR folder to write.")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None, help="Where scifact/ and nfcorpus/ live (env BRAID_DATA).")
@click.option("--seed", type=int, default=0, show_default=True)
def main(docs: int, out: Path, data_dir: Path | None, seed: int) -> None:
    """Write a deterministic scale corpus made from SciFact and NFCorpus sentences."""
    try:
        summary = write_scale_corpus(data_dir or default_data_dir(), out, docs, seed)
    except BraidError as error:
        raise click.ClickException(str(error)) from None
    click.echo(json.dumps(summary))


if __name__ == "__main__":
    main()
