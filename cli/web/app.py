"""The HTTP API and the page, over one engine opened once per process.

Endpoints are plain functions, so the server runs them in its worker threads; the engine is safe to
share between threads (its retrievers lock their lazily loaded state, and each request gets a view
with its own fusion settings over the same loaded models).
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, HTTPException, Path
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response

from braid.cli.web.limits import BodySizeLimit
from braid.cli.web.schemas import (
    MAX_BODY_BYTES,
    MAX_DEPTH,
    MAX_DOC_ID_CHARS,
    MAX_K,
    MAX_QUERY_CHARS,
    SNIPPET_CHARS,
    Document,
    Health,
    SearchHit,
    SearchRequest,
    SearchResponse,
    Source,
)
from braid.engine.engine import Engine
from braid.engine.errors import BraidError
from braid.fusion.config import FusionConfig

PAGE_FILES = {"app.js": "text/javascript", "style.css": "text/css"}


def create_app(engine: Engine, threads: int = 16) -> FastAPI:
    """`threads`: requests handled at once (the server's worker threads for plain-function endpoints)."""

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
    app.add_middleware(BodySizeLimit, max_bytes=MAX_BODY_BYTES)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Any, error: RequestValidationError) -> Response:
        # ASCII-escaped: an error may quote the client's input, lone surrogates included, which
        # the default UTF-8 rendering cannot encode (a 500 instead of this 422).
        problems = [{key: value for key, value in problem.items() if key != "url"} for problem in error.errors()]
        return Response(json.dumps({"detail": problems}, ensure_ascii=True, default=str), status_code=422, media_type="application/json")

    @app.exception_handler(BraidError)
    async def bad_request(_: Any, error: BraidError) -> JSONResponse:
        return JSONResponse(status_code=400, content={"detail": str(error)})

    @app.get("/health", response_model=Health)
    def health() -> Health:
        limits = {"max_query_chars": MAX_QUERY_CHARS, "max_k": MAX_K, "max_depth": MAX_DEPTH, "max_body_bytes": MAX_BODY_BYTES}
        return Health(
            status="ok", index=engine.path.name, documents=engine.manifest.doc_count,
            retrievers=list(engine.retrievers), fusion=engine.fusion.to_dict(), limits=limits,
        )  # fmt: skip

    @app.post("/search", response_model=SearchResponse)
    def search(request: SearchRequest) -> SearchResponse:
        chosen = request.retrievers or list(engine.retrievers)
        base = engine.fusion if engine.fusion.fits(chosen) else FusionConfig()
        fusion = base.replace(**request.fusion.model_dump(exclude_none=True)) if request.fusion else base
        view = engine.view(chosen, fusion)
        timings: dict[str, float] = {}
        started = time.perf_counter()
        hits = view.search(request.query, k=request.k, depth=request.depth, timings=timings)
        texts = engine.docstore.snippets((hit.doc_id for hit in hits), SNIPPET_CHARS)
        timings["total"] = 1000 * (time.perf_counter() - started)
        return SearchResponse(
            query=request.query, k=request.k, depth=request.depth, retrievers=list(view.retrievers),
            fusion=fusion.to_dict() if len(view.retrievers) > 1 else None,
            hits=[
                SearchHit(
                    rank=hit.rank, doc_id=hit.doc_id, score=hit.score, title=hit.title, snippet=texts.get(hit.doc_id, ""),
                    sources={name: Source(rank=part.rank, score=part.score, normalized=part.normalized) for name, part in hit.sources.items()},
                )
                for hit in hits
            ],
            timings_ms={name: round(value, 3) for name, value in timings.items()},
        )  # fmt: skip

    @app.get("/doc/{doc_id}", response_model=Document)
    def document(doc_id: str = Path(max_length=MAX_DOC_ID_CHARS)) -> Document:
        found = engine.docstore.get(doc_id)
        if found is None:
            raise HTTPException(status_code=404, detail=f"no document {doc_id!r} in index {engine.path.name}")
        return Document(doc_id=found.doc_id, title=found.title, text=found.text)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> HTMLResponse:
        return HTMLResponse(_page_file("index.html"))

    @app.get("/page/{name}", include_in_schema=False)
    def page_asset(name: str) -> Response:
        if name not in PAGE_FILES:  # a fixed list: no path from a client ever reaches the file system
            raise HTTPException(status_code=404, detail="not found")
        return Response(_page_file(name), media_type=PAGE_FILES[name])

    return app


def _page_file(name: str) -> str:
    return (resources.files("braid.cli.web") / "page" / name).read_text(encoding="utf-8")
