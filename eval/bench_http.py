"""Benchmark: `braid serve` under concurrent load from another process, beside the engine in-process.

    python -m braid.eval.bench_http INDEX_DIR --dataset scifact --clients 8 --requests 2000 --out results/http_load.json

Starts the server on a free loopback port, drives it from this process with `--clients` threads
(each a keep-alive HTTP connection sending `--requests` searches over the dataset's queries), counts
errors and measures q/s and latency; then stops it and runs the same searches with the same
concurrency straight on an in-process Engine. The HTTP overhead is 1 - (HTTP q/s / in-process q/s).
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from braid.eval.datasets import resolve_dataset
from braid.eval.latency import percentiles
from braid.eval.report import machine, write_json
from braid.indexing.readers import read_queries

if TYPE_CHECKING:
    from braid.engine.engine import Engine


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(index_dir: str, port: int, log: Any = subprocess.DEVNULL, timeout: float = 300) -> subprocess.Popen[bytes]:
    """`braid serve` on 127.0.0.1:`port`, once /health answers; its stderr goes to `log` (a file,
    never a pipe: a chatty server must not block on a full one)."""
    process = subprocess.Popen([sys.executable, "-m", "braid.cli", "serve", index_dir, "--port", str(port)], stderr=log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise click.ClickException(f"braid serve exited with code {process.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise click.ClickException(f"braid serve did not answer within {timeout:.0f} s")


def drive(clients: int, per_client: int, queries: Sequence[str], send: Callable[[Any, str], str | None], connect: Callable[[], Any]) -> dict[str, Any]:
    """`clients` threads, each sending `per_client` requests over its own connection; `send`
    returns None on success, else what went wrong (a few of which are kept in the report)."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    samples: list[str] = []

    def client(number: int) -> None:
        connection = connect()
        for request in range(per_client):
            query = queries[(number * per_client + request) % len(queries)]
            started = time.perf_counter()
            try:
                problem = send(connection, query)
            except Exception as error:  # a refused or dropped connection counts as an error, then reconnect
                problem = f"{type(error).__name__}: {error}"
                connection = connect()
            latencies[number].append(1000 * (time.perf_counter() - started))
            if problem is not None:
                errors[number] += 1
                if len(samples) < 5:
                    samples.append(f"{query[:60]!r}: {problem[:200]}")

    threads = [threading.Thread(target=client, args=(number,)) for number in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    total = clients * per_client
    return {
        "clients": clients,
        "requests": total,
        "errors": sum(errors),
        "error_samples": samples,
        "seconds": round(seconds, 2),
        "queries_per_second": round(total / seconds, 1),
        **percentiles([value for values in latencies for value in values]),
    }


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (Linux /proc), None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _round(after: float | None, before: float | None) -> float | None:
    return None if after is None or before is None else round(after - before, 1)


def http_send(k: int) -> Callable[[http.client.HTTPConnection, str], str | None]:
    def send(connection: http.client.HTTPConnection, query: str) -> str | None:
        connection.request("POST", "/search", body=json.dumps({"query": query, "k": k}), headers={"content-type": "application/json"})
        response = connection.getresponse()
        body = response.read()
        return None if response.status == 200 and b'"hits"' in body else f"HTTP {response.status}: {body[:200]!r}"

    return send


def engine_send(engine: Engine, k: int) -> Callable[[Any, str], str | None]:
    """In-process searches counted as HTTP counts them: any answer, even one with no hits, is a
    success; only an exception (caught by `drive`) is an error."""

    def send(_connection: Any, query: str) -> str | None:
        engine.search(query, k=k)
        return None

    return send


@click.command()
@click.argument("index_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--dataset", "dataset_name", default="scifact", show_default=True, help="Whose queries to send (all of them, cycled).")
@click.option("--data-dir", default=None, help="Where named datasets live (env BRAID_DATA).")
@click.option("--clients", type=click.IntRange(min=1), default=8, show_default=True)
@click.option("--requests", "per_client", type=click.IntRange(min=1), default=2000, show_default=True, help="Requests per client.")
@click.option("-k", "k", type=click.IntRange(min=1, max=1000), default=10, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), default="results/http_load.json", show_default=True)
def main(index_dir: str, dataset_name: str, data_dir: str | None, clients: int, per_client: int, k: int, out: str) -> None:
    """Load-test `braid serve` and compare with the in-process engine at the same concurrency."""
    dataset = resolve_dataset(dataset_name, data_dir)
    queries = (
        [query.text for query in read_queries(dataset.root / "queries.jsonl").values()]
        if dataset.layout == "beir"
        else list(dataset.load_split(dataset.splits()[0]).queries.values())
    )
    port = free_port()
    server = start_server(index_dir, port)
    try:
        server_cpu, client_cpu = _cpu_seconds(server.pid), time.process_time()
        over_http = drive(clients, per_client, queries, http_send(k), lambda: http.client.HTTPConnection("127.0.0.1", port, timeout=120))
        over_http["server_cpu_seconds"] = _round(_cpu_seconds(server.pid), server_cpu)
        over_http["load_generator_cpu_seconds"] = round(time.process_time() - client_cpu, 1)
    finally:
        server.terminate()
        server.wait(timeout=60)
    click.echo(f"HTTP: {over_http}", err=True)

    from braid.engine.engine import Engine

    with Engine.open(index_dir) as engine:
        engine.search("warm up", k=1)
        engine.forget_queries()
        started_cpu = time.process_time()
        in_process = drive(clients, per_client, queries, engine_send(engine, k), lambda: None)
        in_process["cpu_seconds"] = round(time.process_time() - started_cpu, 1)
    click.echo(f"in-process: {in_process}", err=True)
    report = {
        "benchmark": "braid serve under load",
        "index": str(Path(index_dir).absolute()),
        "dataset": dataset.name,
        "distinct_queries": len(queries),
        "k": k,
        "machine": machine(),
        "http": over_http,
        "in_process": in_process,
        "http_overhead": round(1 - over_http["queries_per_second"] / in_process["queries_per_second"], 3),
    }
    write_json(report, out)
    click.echo(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
