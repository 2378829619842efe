"""`braid serve`: the JSON API and search page for one index."""

from __future__ import annotations

import click


@click.command("serve")
@click.argument("index_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on (loopback unless you mean to share it).")
@click.option("--port", type=click.IntRange(min=0, max=65535), default=8000, show_default=True)
@click.option("--threads", type=click.IntRange(min=1, max=256), default=16, show_default=True, help="Requests handled at once.")
def serve_command(index_dir: str, host: str, port: int, threads: int) -> None:
    """Serve INDEX_DIR: POST /search, GET /doc/{id}, GET /health, /openapi.json and a page at /."""
    import uvicorn

    from braid.cli.web.app import create_app
    from braid.engine.engine import Engine

    engine = Engine.open(index_dir)
    click.echo(f"loading models for {', '.join(engine.retrievers)} ...", err=True)
    engine.search("warm up", k=1)  # models and index files load now, not on the first request
    engine.forget_queries()
    app = create_app(engine, threads)
    click.echo(f"braid: serving {index_dir} on http://{host}:{port}/ (Ctrl-C stops)", err=True)
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    finally:
        engine.close()
