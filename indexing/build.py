"""Write an index directory: one streaming pass over the corpus feeds the docstore and every sub-index builder."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

from tqdm import tqdm

from braid.fusion.errors import DataError
from braid.indexing.atomic import atomic_directory
from braid.indexing.build_context import BuildContext, DocumentEncoding
from braid.indexing.docstore import DocStoreWriter
from braid.indexing.fingerprint import CorpusFingerprint
from braid.indexing.integrity import record_files
from braid.indexing.layout import DOCSTORE_NAME
from braid.indexing.manifest import Manifest, RetrieverEntry
from braid.indexing.metadata_columns import MetadataColumnsWriter
from braid.indexing.readers import Document, count_lines, read_corpus


class SubIndexBuilder(Protocol):
    """One retriever's part of a build: sees every document once, then writes its sub-folder."""

    name: str

    def add(self, document: Document) -> None: ...

    def finish(self, context: BuildContext) -> RetrieverEntry: ...


# Makes a retriever's builder inside the staging folder of the index being written.
BuilderFactory = Callable[[Path], SubIndexBuilder]


def write_index(
    corpus_path: str | Path,
    out: str | Path,
    builders: Mapping[str, BuilderFactory],
    overwrite: bool = False,
    progress: bool = True,
    metadata: str | Path | None = None,
    given: Mapping[str, Path] | None = None,
    encoding: DocumentEncoding | None = None,
) -> Manifest:
    """Index the corpus at `corpus_path` (with fields from the `metadata` side file, if given) into
    directory `out`, which appears only when complete (braid.engine.build_index picks the builders
    from the retriever registry); `given` names vector files made elsewhere, by retriever;
    `encoding` encodes documents elsewhere (e.g. on Ray)."""
    expected = count_lines(corpus_path) if progress else None
    return write_documents(
        read_corpus(corpus_path, metadata), Path(corpus_path).absolute(), out, builders, overwrite, progress, given=given, expected=expected, encoding=encoding
    )


def write_documents(
    documents: Iterable[Document],
    source: Path,
    out: str | Path,
    builders: Mapping[str, BuilderFactory],
    overwrite: bool = False,
    progress: bool = True,
    reuse: Mapping[str, Any] | None = None,
    declared: Mapping[str, str] | None = None,
    given: Mapping[str, Path] | None = None,
    expected: int | None = None,
    encoding: DocumentEncoding | None = None,
) -> Manifest:
    """Index `documents` (read from `source`, which errors name) into directory `out`, which appears
    only when complete; `reuse` hands builders vectors already made for these documents;
    `declared` is the metadata schema of the index a new segment joins; `expected`, about how many
    documents come (the progress bar's total, for time left)."""
    with atomic_directory(out, overwrite=overwrite) as staging:
        made = [factory(staging) for factory in builders.values()]
        docstore = DocStoreWriter(staging / DOCSTORE_NAME)
        columns = MetadataColumnsWriter(declared)
        fingerprint = CorpusFingerprint()
        try:
            for document in tqdm(documents, desc="reading documents", unit=" docs", total=expected, disable=None if progress else True):
                fingerprint.update(document)
                docstore.add(document)
                columns.add(document.doc_id, document.metadata)
                for builder in made:
                    builder.add(document)
        finally:
            docstore.close()
        if fingerprint.doc_count == 0:
            raise DataError(source, None, "the corpus holds no documents")
        schema = columns.finish(staging)
        context = BuildContext(
            staging, staging / DOCSTORE_NAME, source, fingerprint.hexdigest(), fingerprint.doc_count, progress, reuse or {}, given or {}, encoding
        )
        entries = {builder.name: builder.finish(context) for builder in made}
        manifest = Manifest(
            corpus_source=str(source),
            corpus_fingerprint=context.fingerprint,
            doc_count=fingerprint.doc_count,
            retrievers=entries,
            files=record_files(staging),
            metadata=schema,
        )
        manifest.write(staging)
    return manifest
