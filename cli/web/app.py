"""The HTTP API and the page, over one engine opened once per process.

Endpoints are plain functions, so the server runs them in its worker threads; the engine is safe to
share between threads (its retrievers lock their lazily loaded state, and each request gets a view
with its own fusion settings over the same loaded models).

Errors are sorted by where they arise, never by their text: a request that breaks the schema is a 422,
one the schema allows but this index cannot take (a retriever it lacks, fusion settings that do not
add up) a 400, both naming the field (`loc`) as pydantic does. Anything that fails afterwards, in the
engine or the index (a model that cannot load, a damaged file), is the server's: a 500 with one
generic line for the client and the cause in the server's log.
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from importlib import resources
from typing import Any

import anyio.to_thread
from fastapi import Depends, FastAPI, HTTPException, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response

from braid.cli.web.limits import BodySizeLimit
from braid.cli.web.schemas import (
    MAX_BODY_BYTES,
    MAX_DEPTH,
    MAX_DOC_ID_CHARS,
    MAX_K,
    MAX_QUERY_CHARS,
    MAX_WRITE_BODY_BYTES,
    SNIPPET_CHARS,
    Document,
    DocumentBatch,
    FilterReport,
    Health,
    SearchHit,
    SearchRequest,
    SearchResponse,
    Source,
    WriteReport,
)
from braid.engine.engine import Engine
from braid.engine.filters import FilterError
from braid.engine.retriever import retriever_settings
from braid.engine.shard_answers import ShardAnswers
from braid.engine.sharded_writer import ShardedWriter, open_writer
from braid.engine.writer import CommitReport, IndexWriter
from braid.fusion.config import FusionConfig
from braid.fusion.errors import BraidError
from braid.indexing.readers import Document as Record
from braid.indexing.shards import ShardLayout, is_sharded

PAGE_FILES = {"app.js": "text/javascript", "style.css": "text/css"}
SERVER_FAULT = "internal error: the index could not answer this request (the server's log has the cause)"

log = logging.getLogger(__name__)


class RequestProblem(Exception):
    """Something the schema allows but this index cannot do with the request, blamed on one field."""

    def __init__(self, field: tuple[str, ...], message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@contextmanager
def blame(*field: str) -> Iterator[None]:
    """A BraidError raised inside comes from what the client sent in `field`: its 400, not the server's 500."""
    try:
        yield
    except BraidError as error:
        raise RequestProblem(field, str(error)) from error


def _problems(status: int, problems: list[dict[str, Any]]) -> Response:
    # ASCII-escaped: an error may quote the client's input, lone surrogates included, which
    # the default UTF-8 rendering cannot encode (a 500 instead of this 4xx).
    return Response(json.dumps({"detail": problems}, ensure_ascii=True, default=str), status_code=status, media_type="application/json")


def _server_fault() -> JSONResponse:
    return JSONResponse(status_code=500, content={"detail": SERVER_FAULT})


def create_app(engine: Engine, threads: int = 16, write_token: str | None = None) -> FastAPI:
    """`threads`: requests handled at once (the server's worker threads for plain-function endpoints).
    `write_token`: serve POST /docs and DELETE /docs/{id} to clients that send it as a bearer token
    (without it, those routes do not exist)."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        yield

    app = FastAPI(
        lifespan=lifespan,
        title="braid",
        summary="Hybrid search over BM25, learned-sparse and dense retrievers, fused and explained.",
        docs_url=None,  # the interactive docs load scripts from a CDN; /openapi.json is the description
        redoc_url=None,
    )
    app.add_middleware(BodySizeLimit, max_bytes=MAX_BODY_BYTES, larger={"/docs": MAX_WRITE_BODY_BYTES} if write_token else {})

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Any, error: RequestValidationError) -> Response:
        return _problems(422, [{key: value for key, value in problem.items() if key != "url"} for problem in error.errors()])

    @app.exception_handler(FilterError)
    async def bad_filter(_: Any, error: FilterError) -> Response:
        # The schema allows any object; the index's fields decide whether it is a filter: still a 422.
        return _problems(422, [{"type": "filter_error", "loc": ["body", *error.path], "msg": error.reason}])

    @app.exception_handler(RequestProblem)
    async def bad_request(_: Any, error: RequestProblem) -> Response:
        return _problems(400, [{"type": "value_error", "loc": ["body", *error.field], "msg": error.message}])

    @app.exception_handler(BraidError)
    async def index_failed(request: Request, error: BraidError) -> JSONResponse:
        # Only errors no endpoint blamed on the request get here: the engine's or the index's.
        log.error("%s %r failed: %s", request.method, request.url.path, error, exc_info=error)  # %r: the path is the client's text
        return _server_fault()

    @app.exception_handler(Exception)
    async def server_failed(_request: Any, _error: Exception) -> JSONResponse:
        return _server_fault()  # the server (uvicorn) logs the traceback: the error is raised on after this answer

    @app.head("/health")
    def health_probe() -> Response:
        """For load balancers and probes: 200 and no body."""
        return Response(status_code=200, media_type="application/json")

    @app.get("/health", response_model=Health)
    def health() -> Health:
        engine.refresh()
        limits = {"max_query_chars": MAX_QUERY_CHARS, "max_k": MAX_K, "max_depth": MAX_DEPTH, "max_body_bytes": MAX_BODY_BYTES}
        return Health(
            status="ok", index=engine.path.name, documents=engine.manifest.doc_count,
            retrievers=list(engine.retrievers), fusion=engine.fusion.applied(list(engine.retrievers)), fields=dict(engine.manifest.metadata), limits=limits,
            execution=engine.describe_execution(), shards=engine.describe_shards(),
            settings={name: retriever_settings(retriever) for name, retriever in engine.retrievers.items()},
        )  # fmt: skip

    @app.post("/search", response_model=SearchResponse)
    def search(request: SearchRequest) -> SearchResponse:
        engine.refresh()  # a writer's new generation, if any (a stat of the manifest otherwise)
        fusion, view = _settings_for(engine, request)
        applied = view.apply_filter(request.filter) if request.filter is not None else None  # FilterError: a 422
        timings: dict[str, float] = {}
        answers = ShardAnswers(len(ShardLayout.read(engine.path).shards)) if request.partial and is_sharded(engine.path) else None
        started = time.perf_counter()
        hits = view.search(request.query, k=request.k, depth=request.depth, timings=timings, offset=request.offset, filter=request.filter, partial=answers)
        texts = engine.docstore.snippets((hit.doc_id for hit in hits), SNIPPET_CHARS)
        timings["total"] = 1000 * (time.perf_counter() - started)
        return SearchResponse(
            query=request.query, k=request.k, depth=request.depth, offset=request.offset, retrievers=list(view.retrievers),
            fusion=fusion.applied(list(view.retrievers)) if len(view.retrievers) > 1 else None,
            filter=FilterReport(**applied.to_dict()) if applied is not None else None,
            hits=[
                SearchHit(
                    rank=hit.rank, doc_id=hit.doc_id, score=hit.score, title=hit.title, snippet=texts.get(hit.doc_id, ""),
                    sources={name: Source(rank=part.rank, score=part.score, normalized=part.normalized) for name, part in hit.sources.items()},
                )
                for hit in hits
            ],
            timings_ms={name: round(value, 3) for name, value in timings.items()},
            shards=answers.to_dict() if answers is not None else None,
        )  # fmt: skip

    # `path`: ids may hold "/" (sent as is or as %2F). The id is only ever a key into the docstore,
    # never a file name, so "..", "%2e%2e" or "%00" in it can name nothing but a missing document.
    @app.get("/doc/{doc_id:path}", response_model=Document)
    def document(doc_id: str = Path(min_length=1, max_length=MAX_DOC_ID_CHARS)) -> Document:
        engine.refresh()
        found = engine.docstore.get(doc_id)
        if found is None:
            raise HTTPException(status_code=404, detail=f"no document {doc_id!r} in index {engine.path.name}")
        return Document(doc_id=found.doc_id, title=found.title, text=found.text)

    if write_token is not None:
        _add_write_routes(app, engine, write_token)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> HTMLResponse:
        return HTMLResponse(_page_file("index.html"))

    @app.get("/page/{name}", include_in_schema=False)
    def page_asset(name: str) -> Response:
        if name not in PAGE_FILES:  # a fixed list: no path from a client ever reaches the file system
            raise HTTPException(status_code=404, detail="not found")
        return Response(_page_file(name), media_type=PAGE_FILES[name])

    return app


def _add_write_routes(app: FastAPI, engine: Engine, token: str) -> None:
    """POST /docs and DELETE /docs/{id}: each request one commit, then the engine moves to it."""
    one_at_a_time = threading.Lock()  # this server's own writes wait for each other; another writer is a 409

    def authorized(request: Request) -> None:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            raise HTTPException(status_code=401, detail="writes need the server's token: Authorization: Bearer TOKEN", headers={"WWW-Authenticate": "Bearer"})

    def commit(field: str, change: Callable[[IndexWriter | ShardedWriter], None]) -> CommitReport:
        with one_at_a_time:
            try:
                writer = open_writer(engine.path)
            except BraidError as error:
                raise HTTPException(status_code=409, detail=str(error)) from error
            try:
                with blame(field):
                    change(writer)
                    report = writer.commit()
            finally:
                writer.close()
        engine.refresh()
        return report

    @app.post("/docs", response_model=WriteReport, dependencies=[Depends(authorized)])
    def add_documents(batch: DocumentBatch) -> WriteReport:
        records = [Record(document.id, document.title, document.text, document.metadata or None) for document in batch.documents]
        return WriteReport(**commit("documents", lambda writer: writer.add(records)).to_dict())

    @app.delete("/docs/{doc_id:path}", response_model=WriteReport, dependencies=[Depends(authorized)])
    def delete_document(doc_id: str = Path(min_length=1, max_length=MAX_DOC_ID_CHARS)) -> WriteReport:
        report = commit("doc_id", lambda writer: writer.delete([doc_id]))
        if report.unknown:
            raise HTTPException(status_code=404, detail=f"no document {doc_id!r} in index {engine.path.name}")
        return WriteReport(**report.to_dict())


def _settings_for(engine: Engine, request: SearchRequest) -> tuple[FusionConfig, Engine]:
    """The fusion settings and engine view a request asks for; any problem here is the request's."""
    chosen = request.retrievers or list(engine.retrievers)
    missing = [name for name in chosen if name not in engine.retrievers]
    if missing:
        raise RequestProblem(("retrievers",), f"retriever {missing[0]!r} is not in index {engine.path.name}; it has: {', '.join(engine.retrievers)}")
    base = engine.fusion if engine.fusion.fits(chosen) else FusionConfig()
    if request.fusion is None:
        fusion = base
    else:
        with blame("fusion"):
            fusion = base.replace(**request.fusion.model_dump(exclude_none=True))
        with blame("fusion", "bounds" if set(fusion.bounds) - set(chosen) else "weights"):
            fusion.check_retrievers(chosen)
    return fusion, engine.view(chosen, fusion)  # checked above: a failure now is the engine's


def _page_file(name: str) -> str:
    return (resources.files("braid.cli.web") / "page" / name).read_text(encoding="utf-8")
