"""Limits on what one client can hold: request bodies over a size are refused before anything
parses them (ASGI middleware), and connections that send nothing, or send too slowly, are closed
(a protocol for uvicorn)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

Scope = dict[str, Any]


class BodySizeLimit:
    """413 for a body longer than `max_bytes`, whether its length is declared or streamed in chunks."""

    def __init__(self, app: Any, max_bytes: int, larger: dict[str, int] | None = None) -> None:
        """`larger`: a higher limit for requests whose path starts with a key (document uploads)."""
        self.app = app
        self.max_bytes = max_bytes
        self.larger = larger or {}

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = next((size for prefix, size in self.larger.items() if scope.get("path", "").startswith(prefix)), self.max_bytes)
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._refuse(send, limit)
            return
        # Read the whole body first (it is small by definition): an app reading it lazily would turn
        # an exception raised mid-stream into its own 400.
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > limit:
                await self._refuse(send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Any, limit: int) -> None:
        body = json.dumps({"detail": f"request body larger than {limit} bytes"}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def guarded_http_protocol(request_timeout: float) -> type[asyncio.Protocol]:
    """uvicorn's HTTP/1.1 protocol (httptools, else h11) with deadlines for clients that send nothing
    or send slowly, which uvicorn alone would wait for forever.

    uvicorn closes a keep-alive connection idle for `timeout_keep_alive` seconds after a response,
    but not one that never sent a request, and it stops counting as soon as any byte arrives. Here a
    new connection gets the same idle time as one between requests, and once a request's first byte
    arrives, its headers and body must all be in within `request_timeout` seconds; otherwise the
    connection is closed. The protocol's own `cycle` (the request being answered) tells the phases
    apart, so the same code serves both uvicorn implementations.
    """
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    base: Any = AutoHTTPProtocol

    class GuardedHTTPProtocol(base):
        _deadline: asyncio.TimerHandle | None = None
        _reading = False  # a request has started arriving and is not complete yet

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)
            self._arm(self.timeout_keep_alive)

        def data_received(self, data: bytes) -> None:
            if not self._reading and (self.cycle is None or self.cycle.response_complete):
                self._reading = True  # the first bytes of a new request
                self._arm(request_timeout)
            super().data_received(data)
            if self._reading and self.cycle is not None and not self.cycle.response_complete and not self.cycle.more_body:
                self._reading = False  # all in: the request is the application's now; uvicorn's keep-alive timer follows its response
                self._disarm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self, seconds: float) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(seconds, self._expired)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _expired(self) -> None:
            self._deadline = None
            if not self.transport.is_closing():
                self.transport.close()

    return GuardedHTTPProtocol
