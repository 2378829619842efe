"""`braid serve`: the JSON API and search page for one index."""

from __future__ import annotations

import logging
import socket

import click

from braid.cli.options import dense_options, dense_query_encoder_option, execution_option, shard_ray_option
from braid.fusion.errors import BraidError


@click.command("serve")
@click.argument("index_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on (loopback unless you mean to share it).")
@click.option(
    "--port",
    type=click.IntRange(min=0, max=65535),
    default=8000,
    show_default=True,
    help="Port to listen on; 0 takes a free one (the address served is printed).",
)
@click.option("--threads", type=click.IntRange(min=1, max=256), default=16, show_default=True, help="Requests handled at once.")
@click.option(
    "--keep-alive",
    type=click.IntRange(min=1, max=3600),
    default=5,
    show_default=True,
    metavar="SECONDS",
    help="Close a connection idle this long: one that sends no request after connecting, or none after its last answer.",
)
@click.option(
    "--request-timeout",
    type=click.IntRange(min=1, max=3600),
    default=10,
    show_default=True,
    metavar="SECONDS",
    help="Close a connection whose request (headers and body) is not all in this long after its first byte, so slow clients cannot hold connections.",
)
@click.option(
    "--limit-concurrency",
    type=click.IntRange(min=1),
    default=512,
    show_default=True,
    metavar="N",
    help="At most N open connections (idle ones count) and N requests in progress; past it, requests get 503.",
)
@execution_option
@dense_query_encoder_option
@shard_ray_option
@click.option("--writable", is_flag=True, help="Also serve POST /docs (add or replace documents) and DELETE /docs/{id}, for clients with the token.")
@click.option(
    "--token",
    envvar="BRAID_WRITE_TOKEN",
    metavar="TOKEN",
    help="The bearer token writes must send (env BRAID_WRITE_TOKEN; prefer the variable: arguments show in process lists).",
)
def serve_command(
    index_dir: str,
    host: str,
    port: int,
    threads: int,
    keep_alive: int,
    request_timeout: int,
    limit_concurrency: int,
    execution: str | None,
    dense_query_encoder: str,
    ray: str | None,
    writable: bool,
    token: str | None,
) -> None:
    """Serve INDEX_DIR: POST /search, GET /doc/{id}, GET|HEAD /health, /openapi.json and a page at /.

    The server moves to a newer generation of the index (a `braid add`, `delete` or `compact`)
    before each request."""
    import uvicorn

    from braid.cli.web.app import create_app
    from braid.cli.web.limits import guarded_http_protocol
    from braid.engine.engine import Engine

    if writable and not (token and token.strip()):
        raise BraidError("--writable needs a token: set BRAID_WRITE_TOKEN (or pass --token)")
    listener = _listen(host, port)  # first: a port in use fails now, before anything loads
    try:
        engine = Engine.open(index_dir, execution=execution, ray=ray, options=dense_options(index_dir, dense_query_encoder))
        try:
            click.echo(f"loading models for {', '.join(engine.retrievers)} ...", err=True)
            engine.search("warm up", k=1)  # models and index files load now, not on the first request
            engine.forget_queries()
            choice = engine.execution_choice()
            if choice is not None:
                click.echo(f"one query's retrievers run {choice.strategy} (measured p50 ms: {choice.p50_ms}, stored {choice.measured})", err=True)
            config = uvicorn.Config(
                create_app(engine, threads, write_token=token.strip() if writable and token else None),
                log_level="warning",
                access_log=False,
                timeout_keep_alive=keep_alive,
                limit_concurrency=limit_concurrency,
                http=guarded_http_protocol(request_timeout),
            )
            _log_server_errors()
            click.echo(f"braid: serving {index_dir} on {_url(listener, host)} (Ctrl-C stops)", err=True)
            uvicorn.Server(config).run(sockets=[listener])
        finally:
            engine.close()
    finally:
        listener.close()


def _listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (IPv6 if the host has a colon, as uvicorn decides)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a restart need not wait out TIME_WAIT
        listener.bind((host, port))
        listener.listen(2048)  # requests that arrive while models load wait in the queue
    except OSError as error:
        listener.close()
        reason = error.strerror or str(error) or type(error).__name__
        raise BraidError(f"cannot listen on {host}:{port}: {reason}") from None
    return listener


def _url(listener: socket.socket, host: str) -> str:
    port = listener.getsockname()[1]
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def _log_server_errors() -> None:
    """The app logs the causes of its 500s under braid.cli.web: one line each on stderr, with the traceback."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("braid: %(levelname)s: %(message)s"))
    logger = logging.getLogger("braid.cli.web")
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
