"""Benchmark: `braid serve` soaked for minutes with mixed traffic: searches, bad requests, idle and
slow-header connections, watching errors, latency and the server's memory over time.

    python -m braid.eval.bench_soak INDEX_DIR --dataset scifact --minutes 10 --out results/soak.json

Starts the server on a free loopback port and, from this process, runs for `--minutes`:
`--clients` threads sending searches (the dataset's queries, each made unique by a counter unless
--repeat-queries, so the server's query-vector cache churns instead of answering from memory), one
thread sending bad requests (malformed JSON, wrong types, an unknown retriever, an oversized body,
an unknown document id, a wrong method), and a pool of `--idle` connections, half of which send
nothing and half a request's headers one line every few seconds, reopened when the server closes
them. Every `--interval` seconds it records per class the answers (2xx/4xx/5xx), connection errors
and server closes, the searches' p50/p99 latency in that window, and the server's RSS. Writes JSON
and a PNG of latency and RSS over time.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import statistics
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import click

from braid.eval.bench_http import free_port, start_server
from braid.eval.datasets import resolve_dataset
from braid.eval.latency import percentiles
from braid.eval.report import machine, write_json
from braid.indexing.readers import read_queries

CLASSES = ("search", "bad", "idle", "slow_header")
HOST = "127.0.0.1"


class Sample(NamedTuple):
    at: float  # seconds since the soak started, when the request or connection ended
    kind: str  # one of CLASSES
    outcome: str  # "2xx", "4xx", "5xx", "connection_error", "closed_by_server", "held_too_long", "bad_answer" (200 without hits)
    milliseconds: float | None = None  # a request's latency; for idle/slow connections, how long they were held
    detail: str = ""  # the bad request's variant and its status, or an error's name


def outcome_of(status: int) -> str:
    return f"{status // 100}xx"


def summarize_window(samples: Sequence[Sample], start: float, end: float) -> dict[str, Any]:
    """Counts per class and outcome of the samples that ended in [start, end), the searches' p50/p99
    (successful ones only), and how long the server let idle and slow-header connections live."""
    inside = [sample for sample in samples if start <= sample.at < end]
    counts = {kind: dict(Counter(sample.outcome for sample in inside if sample.kind == kind)) for kind in CLASSES}
    searches = [sample.milliseconds for sample in inside if sample.kind == "search" and sample.outcome == "2xx" and sample.milliseconds is not None]
    held: dict[str, dict[str, float]] = {}
    for kind in ("idle", "slow_header"):
        seconds = [sample.milliseconds / 1000 for sample in inside if sample.kind == kind and sample.outcome == "closed_by_server" and sample.milliseconds]
        if seconds:
            held[kind] = {"median_s": round(statistics.median(seconds), 2), "max_s": round(max(seconds), 2)}
    return {
        "start_s": round(start, 1),
        "end_s": round(end, 1),
        "counts": counts,
        "searches": len(searches),
        "searches_per_second": round(len(searches) / (end - start), 1) if end > start else 0.0,
        **percentiles(searches),
        "held_seconds": held,
    }


def process_status(pid: int) -> dict[str, float | int | None]:
    """The server's resident memory now and at its peak (MB), open descriptors and CPU seconds (Linux /proc)."""
    values: dict[str, float | int | None] = {"rss_mb": None, "peak_rss_mb": None, "open_fds": None, "cpu_s": None}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                values["rss_mb"] = round(int(line.split()[1]) / 1024, 1)
            elif line.startswith("VmHWM:"):
                values["peak_rss_mb"] = round(int(line.split()[1]) / 1024, 1)
        values["open_fds"] = len(os.listdir(f"/proc/{pid}/fd"))
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        values["cpu_s"] = round((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), 1)
    except (OSError, ValueError, IndexError):
        pass
    return values


class Recorder:
    """Samples from every thread, timed from one start."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.samples: list[Sample] = []
        self._lock = threading.Lock()

    def now(self) -> float:
        return time.monotonic() - self.started

    def add(self, kind: str, outcome: str, milliseconds: float | None = None, detail: str = "") -> None:
        with self._lock:
            self.samples.append(Sample(self.now(), kind, outcome, milliseconds, detail))

    def snapshot(self) -> list[Sample]:
        with self._lock:
            return list(self.samples)


def search_client(port: int, number: int, queries: Sequence[str], unique: bool, stop: threading.Event, recorder: Recorder, k: int) -> None:
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    sent = 0
    while not stop.is_set():
        query = queries[(number * 7919 + sent) % len(queries)]
        text = f"{query} {number}-{sent}" if unique else query
        sent += 1
        started = time.perf_counter()
        try:
            connection.request("POST", "/search", body=json.dumps({"query": text, "k": k}), headers={"content-type": "application/json"})
            response = connection.getresponse()
            body = response.read()
            milliseconds = 1000 * (time.perf_counter() - started)
            ok = response.status != 200 or b'"hits"' in body
            recorder.add("search", outcome_of(response.status) if ok else "bad_answer", milliseconds, "" if ok else "200 without hits")
        except (OSError, http.client.HTTPException) as error:
            recorder.add("search", "connection_error", None, type(error).__name__)
            connection.close()
            connection = http.client.HTTPConnection(HOST, port, timeout=60)
            stop.wait(0.2)  # no hot loop against a dead server
    connection.close()


BAD_REQUESTS: list[tuple[str, str, str, bytes]] = [
    ("malformed_json", "POST", "/search", b'{"query": "cells", "k": '),
    ("wrong_types", "POST", "/search", json.dumps({"query": 5, "k": "10"}).encode()),
    ("unknown_retriever", "POST", "/search", json.dumps({"query": "cells", "retrievers": ["no-such-retriever"]}).encode()),
    ("oversized_body", "POST", "/search", json.dumps({"query": "x" * 40_000}).encode()),
    ("unknown_doc_id", "GET", "/doc/no-such-document-0000", b""),
    ("wrong_method", "GET", "/search", b""),
]


def bad_client(port: int, stop: threading.Event, recorder: Recorder, pause: float) -> None:
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    sent = 0
    while not stop.is_set():
        name, method, path, body = BAD_REQUESTS[sent % len(BAD_REQUESTS)]
        sent += 1
        started = time.perf_counter()
        try:
            headers = {"content-type": "application/json"} if body else {}
            connection.request(method, path, body=body or None, headers=headers)
            response = connection.getresponse()
            response.read()
            recorder.add("bad", outcome_of(response.status), 1000 * (time.perf_counter() - started), f"{name}:{response.status}")
            if response.will_close:
                connection.close()
                connection = http.client.HTTPConnection(HOST, port, timeout=30)
        except (OSError, http.client.HTTPException) as error:
            recorder.add("bad", "connection_error", None, f"{name}:{type(error).__name__}")
            connection.close()
            connection = http.client.HTTPConnection(HOST, port, timeout=30)
        stop.wait(pause)
    connection.close()


class _Held(NamedTuple):
    sock: socket.socket
    kind: str
    opened: float


def idle_pool(port: int, size: int, stop: threading.Event, recorder: Recorder, drip_every: float, give_up_after: float) -> None:
    """Keep `size` connections open: even ones send nothing, odd ones a request's headers one line
    every `drip_every` seconds (never the blank line that ends them). A connection the server closes
    is recorded with how long it lived and replaced; one it keeps past `give_up_after` seconds is
    recorded as held too long and closed here."""
    held: list[_Held | None] = [None] * size
    dripped: dict[int, float] = {}
    while not stop.is_set():
        now = time.monotonic()
        for slot in range(size):
            entry = held[slot]
            if entry is None:
                kind = "idle" if slot % 2 == 0 else "slow_header"
                try:
                    sock = socket.create_connection((HOST, port), timeout=5)
                    sock.setblocking(False)
                    if kind == "slow_header":
                        sock.send(f"POST /search HTTP/1.1\r\nHost: {HOST}\r\n".encode())
                        dripped[slot] = now
                    held[slot] = _Held(sock, kind, now)
                except OSError as error:
                    recorder.add(kind, "connection_error", None, type(error).__name__)
                continue
            closed, answer = False, b""
            try:
                data = entry.sock.recv(4096)
                closed, answer = (True, b"") if data == b"" else (False, data)
            except BlockingIOError:
                pass
            except OSError:
                closed = True
            if answer:  # the server answered something (a 408, say) instead of just closing
                status = answer.split(b" ", 2)[1] if answer.startswith(b"HTTP/") else b"0"
                recorder.add(
                    entry.kind, outcome_of(int(status)) if status.isdigit() else "5xx", 1000 * (now - entry.opened), answer[:60].decode(errors="replace")
                )
                closed = True
            elif closed:
                recorder.add(entry.kind, "closed_by_server", 1000 * (now - entry.opened))
            elif now - entry.opened > give_up_after:
                recorder.add(entry.kind, "held_too_long", 1000 * (now - entry.opened))
                closed = True
            elif entry.kind == "slow_header" and now - dripped.get(slot, now) >= drip_every:
                try:
                    entry.sock.send(f"X-Slow-{int(now)}: 1\r\n".encode())
                    dripped[slot] = now
                except OSError:
                    pass  # closed: the next pass sees it
            if closed:
                entry.sock.close()
                held[slot] = None
        stop.wait(0.25)
    for entry in held:
        if entry is not None:
            entry.sock.close()


def _health(port: int) -> int | None:
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        connection.request("GET", "/health")
        return connection.getresponse().status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


def plot(windows: Sequence[dict[str, Any]], rss_start: float | None, title: str, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    minutes = [window["end_s"] / 60 for window in windows]
    figure, (latency, memory) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    latency.plot(minutes, [window["p50_ms"] for window in windows], marker="o", label="p50")
    latency.plot(minutes, [window["p99_ms"] for window in windows], marker="o", label="p99")
    latency.set_ylabel("search latency (ms)")
    latency.set_ylim(bottom=0)
    latency.legend()
    latency.grid(alpha=0.3)
    latency.set_title(title)
    memory.plot([0.0, *minutes], [rss_start, *(window["server"]["rss_mb"] for window in windows)], marker="o", color="tab:red")
    memory.set_ylabel("server RSS (MB)")
    memory.set_ylim(bottom=0)
    memory.set_xlabel("minutes")
    memory.grid(alpha=0.3)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _totals(samples: Sequence[Sample]) -> dict[str, Any]:
    by_class = {kind: dict(Counter(sample.outcome for sample in samples if sample.kind == kind)) for kind in CLASSES}
    bad = Counter(sample.detail for sample in samples if sample.kind == "bad")
    errors = Counter(f"{sample.kind}:{sample.detail}" for sample in samples if sample.outcome == "connection_error")
    return {
        "by_class": by_class,
        "bad_requests_by_variant": dict(sorted(bad.items())),
        "server_errors_5xx": sum(counts.get("5xx", 0) for counts in by_class.values()),
        "connection_errors": dict(errors),
        "held_too_long": sum(counts.get("held_too_long", 0) for counts in by_class.values()),
        "searches": percentiles([s.milliseconds for s in samples if s.kind == "search" and s.outcome == "2xx" and s.milliseconds is not None]),
    }


@click.command()
@click.argument("index_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--dataset", "dataset_name", default="scifact", show_default=True, help="Whose queries to send.")
@click.option("--data-dir", default=None, help="Where named datasets live (env BRAID_DATA).")
@click.option("--minutes", type=click.FloatRange(min=0.1, max=240), default=10, show_default=True)
@click.option("--interval", type=click.FloatRange(min=1), default=30, show_default=True, help="Seconds per recorded window.")
@click.option("--clients", type=click.IntRange(min=1, max=32), default=2, show_default=True, help="Search threads (closed loop, no pause).")
@click.option("--idle", type=click.IntRange(min=0, max=200), default=16, show_default=True, help="Idle and slow-header connections held open.")
@click.option("--bad-pause", type=click.FloatRange(min=0), default=0.05, show_default=True, help="Seconds between bad requests.")
@click.option("--drip-every", type=click.FloatRange(min=0.1), default=2, show_default=True, help="Seconds between a slow client's header lines.")
@click.option("--repeat-queries", is_flag=True, help="Send the queries as they are (the server's query cache answers repeats).")
@click.option("-k", "k", type=click.IntRange(min=1, max=1000), default=10, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), default="results/soak.json", show_default=True)
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None, help="PNG of latency and RSS over time [default: --out with .png].")
def main(
    index_dir: str,
    dataset_name: str,
    data_dir: str | None,
    minutes: float,
    interval: float,
    clients: int,
    idle: int,
    bad_pause: float,
    drip_every: float,
    repeat_queries: bool,
    k: int,
    out: str,
    plot_path: str | None,
) -> None:
    """Soak `braid serve` with searches, bad requests and idle/slow connections; track errors, latency and RSS."""
    dataset = resolve_dataset(dataset_name, data_dir)
    queries = (
        [query.text for query in read_queries(dataset.root / "queries.jsonl").values()]
        if dataset.layout == "beir"
        else list(dataset.load_split(dataset.splits()[0]).queries.values())
    )
    port = free_port()
    log_path = Path(out).with_suffix(".server.log")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w+") as log:
        server = start_server(index_dir, port, log=log)
        try:
            report = _soak(server.pid, port, queries, minutes, interval, clients, idle, bad_pause, drip_every, not repeat_queries, k)
            report["health_after"] = _health(port)
        finally:
            server.terminate()
            try:
                report_exit: int | None = server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()
                report_exit = server.wait()
        log.seek(0)
        server_log = log.read()
    report["server_exit_code"] = report_exit
    report["server_log_errors"] = [line for line in server_log.splitlines() if "ERROR" in line or "Traceback" in line][:20]
    report = {
        "benchmark": "braid serve soak",
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine(),
        "settings": {
            "index": str(Path(index_dir).absolute()),
            "dataset": dataset.name,
            "minutes": minutes,
            "interval_s": interval,
            "search_clients": clients,
            "idle_connections": idle,
            "bad_pause_s": bad_pause,
            "drip_every_s": drip_every,
            "unique_queries": not repeat_queries,
            "k": k,
            "server_options": "defaults (keep-alive 5 s, request-timeout 10 s, limit-concurrency 512, threads 16)",
            "server_log": str(log_path),
        },
        **report,
    }
    path = write_json(report, out)
    picture = plot(
        report["windows"],
        report["rss_mb"]["start"],
        f"braid serve soak: {Path(index_dir).name}, {minutes:g} min",
        Path(plot_path or Path(out).with_suffix(".png")),
    )
    report_lines(report, path, picture)


def _soak(
    pid: int, port: int, queries: Sequence[str], minutes: float, interval: float, clients: int, idle: int, bad_pause: float, drip: float, unique: bool, k: int
) -> dict[str, Any]:
    recorder = Recorder()
    stop = threading.Event()
    workers: list[tuple[str, Callable[..., None], tuple[Any, ...]]] = [
        *((f"search-{n}", search_client, (port, n, queries, unique, stop, recorder, k)) for n in range(clients)),
        ("bad", bad_client, (port, stop, recorder, bad_pause)),
    ]
    if idle:
        workers.append(("idle", idle_pool, (port, idle, stop, recorder, drip, 120.0)))
    threads = [threading.Thread(target=target, args=args, name=name, daemon=True) for name, target, args in workers]
    first = process_status(pid)
    for thread in threads:
        thread.start()
    windows: list[dict[str, Any]] = []
    end = 60 * minutes
    try:
        window_start = 0.0
        while window_start < end - 0.5:
            window_end = min(window_start + interval, end)
            stop.wait(max(0.0, window_end - recorder.now()))
            window = summarize_window(recorder.snapshot(), window_start, window_end)
            window["server"] = process_status(pid)
            windows.append(window)
            counts = window["counts"]
            click.echo(
                f"{window_end / 60:5.1f} min: {window['searches']} searches p50 {window['p50_ms']} p99 {window['p99_ms']} ms, "
                f"RSS {window['server']['rss_mb']} MB, fds {window['server']['open_fds']}, "
                + ", ".join(f"{kind} {dict(sorted(counts[kind].items()))}" for kind in CLASSES),
                err=True,
            )
            window_start = window_end
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=90)
    last = process_status(pid)
    rss = [value for value in [first["rss_mb"], *(window["server"]["rss_mb"] for window in windows), last["rss_mb"]] if value is not None]
    return {
        "windows": windows,
        "totals": _totals(recorder.snapshot()),
        "rss_mb": {"start": first["rss_mb"], "end": last["rss_mb"], "max_sampled": max(rss) if rss else None, "peak_vmhwm": last["peak_rss_mb"]},
        "open_fds": {"start": first["open_fds"], "end": last["open_fds"]},
        "server_cpu_s": round(last["cpu_s"] - first["cpu_s"], 1) if last["cpu_s"] is not None and first["cpu_s"] is not None else None,
        "threads_still_running": [thread.name for thread in threads if thread.is_alive()],
    }


def report_lines(report: dict[str, Any], path: Path, picture: Path) -> None:
    totals, windows = report["totals"], report["windows"]
    click.echo(f"soak of {report['settings']['minutes']:g} min -> {path}, {picture}")
    for kind, counts in totals["by_class"].items():
        click.echo(f"  {kind:12s} {dict(sorted(counts.items()))}")
    click.echo(f"  5xx: {totals['server_errors_5xx']}, connection errors: {totals['connection_errors'] or 0}, held too long: {totals['held_too_long']}")
    if windows:
        click.echo(f"  search p50/p99 first window {windows[0]['p50_ms']}/{windows[0]['p99_ms']} ms, last {windows[-1]['p50_ms']}/{windows[-1]['p99_ms']} ms")
    click.echo(f"  RSS MB: {report['rss_mb']}, fds {report['open_fds']}, health after: {report['health_after']}, server exit {report['server_exit_code']}")


if __name__ == "__main__":
    main()
