"""The corpus read back from the docstore in bounded chunks for an encoder, with a progress bar."""

from __future__ import annotations

from collections.abc import Iterator

from tqdm import tqdm

from braid.indexing.build_context import BuildContext
from braid.indexing.docstore import DocStore
from braid.indexing.readers import Document

# Documents per chunk: bounds the raw text held in memory while encoding.
ENCODE_CHUNK = 8192


def encoder_text(document: Document) -> str:
    """BEIR's convention for neural encoders: title and text joined by a space."""
    return f"{document.title} {document.text}".strip()


def text_chunks(context: BuildContext, label: str, size: int = ENCODE_CHUNK) -> Iterator[list[str]]:
    """Lists of at most `size` texts in docstore order; the bar advances as each chunk is consumed."""
    store = DocStore(context.docstore_path)
    try:
        with tqdm(total=context.doc_count, desc=f"encoding ({label})", unit=" docs", disable=None if context.progress else True) as bar:
            chunk: list[str] = []
            for document in store:
                chunk.append(encoder_text(document))
                if len(chunk) == size:
                    yield chunk
                    bar.update(len(chunk))
                    chunk = []
            if chunk:
                yield chunk
                bar.update(len(chunk))
    finally:
        store.close()
