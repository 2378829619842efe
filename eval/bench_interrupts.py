"""Benchmark: `braid index` killed at many moments of a build, by SIGINT, SIGTERM and SIGKILL.

    python -m braid.eval.bench_interrupts --dataset scifact --docs 300 --moments 20 --out results/interrupts.json

Writes the first `--docs` documents of the dataset to a temporary BEIR folder, times one full build
of it (bm25, splade and dense, with an empty BRAID_CACHE so that it really encodes), then for every
signal and each of `--moments` moments spread evenly over that time starts a fresh build (fresh
cache, its own working directory), sends the signal at that moment and records what it left.

Clean means: SIGINT exits 130 and SIGTERM 143, the last stderr line is "braid: interrupted", no
index and no hidden `.NAME.building-*` / `.NAME.replaced-*` folder is left, no `hs_err_pid*.log`
appeared and no process of the build outlived it. SIGKILL may leave a staging folder, but the next
build of the same target (same cache) must remove it and succeed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from braid.eval.datasets import resolve_dataset
from braid.eval.report import machine, write_json
from braid.indexing.config import DEFAULT_RETRIEVERS
from braid.indexing.layout import MANIFEST_NAME

SIGNALS = {"SIGINT": signal.SIGINT, "SIGTERM": signal.SIGTERM, "SIGKILL": signal.SIGKILL}
EXPECTED_CODE = {"SIGINT": 130, "SIGTERM": 143, "SIGKILL": -signal.SIGKILL}
INTERRUPTED = "braid: interrupted"
RETRIEVERS = ",".join(DEFAULT_RETRIEVERS)
TARGET = "index"  # the index folder's name inside each trial's output folder
REMOVED = re.compile(r"^braid: removed \.\S+, left by an interrupted build", re.MULTILINE)


def write_beir_slice(source: Path, target: Path, num_docs: int) -> Path:
    """A BEIR folder holding the first `num_docs` documents of `source`, its queries, and the test
    qrels of the queries whose judged documents are all among them."""
    target.mkdir(parents=True, exist_ok=True)
    (target / "qrels").mkdir(exist_ok=True)
    kept: set[str] = set()
    with (source / "corpus.jsonl").open(encoding="utf-8") as corpus, (target / "corpus.jsonl").open("w", encoding="utf-8") as out:
        for line in corpus:
            if len(kept) == num_docs:
                break
            if line.strip():
                kept.add(json.loads(line)["_id"])
                out.write(line)
    qrels = source / "qrels" / "test.tsv"
    if qrels.is_file():
        header, *rows = qrels.read_text(encoding="utf-8").splitlines()
        judged: dict[str, set[str]] = {}
        for row in rows:
            query_id, doc_id = row.split("\t")[:2]
            judged.setdefault(query_id, set()).add(doc_id)
        usable = {query_id for query_id, docs in judged.items() if docs <= kept}
        kept_rows = [row for row in rows if row.split("\t")[0] in usable]
        (target / "qrels" / "test.tsv").write_text("\n".join([header, *kept_rows]) + "\n", encoding="utf-8")
    if (source / "queries.jsonl").is_file():
        (target / "queries.jsonl").write_bytes((source / "queries.jsonl").read_bytes())
    return target


def moments(duration: float, count: int, first: float = 0.5, last_fraction: float = 0.95) -> list[float]:
    """`count` moments (seconds after the start) spread evenly from `first` to `last_fraction` of `duration`."""
    last = max(first, last_fraction * duration)
    if count == 1:
        return [round(first, 2)]
    step = (last - first) / (count - 1)
    return [round(first + step * number, 2) for number in range(count)]


def last_line(text: str) -> str:
    """The last non-blank line of a stream that may hold progress bars (carriage returns)."""
    lines = [line.strip() for line in re.split(r"[\r\n]+", text) if line.strip()]
    return lines[-1] if lines else ""


def remains(out_dir: Path) -> dict[str, Any]:
    """What a build of `out_dir/TARGET` left beside it: hidden staging/retired folders, the index."""
    names = sorted(entry.name for entry in out_dir.iterdir()) if out_dir.is_dir() else []
    hidden = [name for name in names if name.startswith(f".{TARGET}.building-") or name.startswith(f".{TARGET}.replaced-")]
    return {"hidden": hidden, "index": TARGET in names, "index_complete": (out_dir / TARGET / MANIFEST_NAME).is_file()}


def _completed(trial: dict[str, Any]) -> bool:
    """The build had finished when the signal came (braid ignores signals while it exits after a
    finished command): exit 0, the index complete, nothing hidden left, no crash log."""
    left = trial["left"]
    return trial["exit_code"] == 0 and left["index_complete"] and not left["hidden"] and not trial["hs_err"] and not trial["orphans"]


def classify(trial: dict[str, Any]) -> str:
    """One trial's verdict: "clean", "not clean", "finished before signal" or "hung"."""
    if trial.get("hung"):
        return "hung"
    if trial["finished_before_signal"] or _completed(trial):
        return "finished before signal"
    crash_free = not trial["hs_err"] and not trial["orphans"]
    if trial["signal"] == "SIGKILL":
        after = trial.get("next_build") or {}
        ok = (
            trial["exit_code"] == EXPECTED_CODE["SIGKILL"]
            and after.get("exit_code") == 0
            and not after.get("hidden")
            and after.get("index_complete", False)
            and not after.get("hs_err")
            and (not trial["left"]["hidden"] or after.get("removed_leftovers", 0) >= len(trial["left"]["hidden"]))
        )
        return "clean" if ok and crash_free else "not clean"
    ok = (
        trial["exit_code"] == EXPECTED_CODE[trial["signal"]]
        and trial["last_stderr_line"] == INTERRUPTED
        and not trial["left"]["hidden"]
        and not trial["left"]["index"]
    )
    return "clean" if ok and crash_free else "not clean"


def totals(trials: Sequence[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Per signal: clean trials out of those the signal really interrupted, and the rest by verdict."""
    result: dict[str, dict[str, int]] = {}
    for name in SIGNALS:
        mine = [trial for trial in trials if trial["signal"] == name]
        verdicts = [trial["verdict"] for trial in mine]
        result[name] = {
            "clean": verdicts.count("clean"),
            "total": verdicts.count("clean") + verdicts.count("not clean") + verdicts.count("hung"),
            "not_clean": verdicts.count("not clean"),
            "hung": verdicts.count("hung"),
            "finished_before_signal": verdicts.count("finished before signal"),
        }
    return result


def _command(slice_dir: Path, out_dir: Path, overwrite: bool = False) -> list[str]:
    command = [sys.executable, "-m", "braid.cli", "index", str(slice_dir), "--out", str(out_dir / TARGET), "--retrievers", RETRIEVERS]
    return command + ["--overwrite"] if overwrite else command


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run_build(
    command: list[str], cwd: Path, cache: Path, log: Path, signum: int | None = None, at: float | None = None, timeout: float = 1800
) -> dict[str, Any]:
    """Run one build in its own session; send `signum` `at` seconds after the start unless it has
    finished by then. Returns its exit code, timings and stderr's last line."""
    cwd.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "BRAID_CACHE": str(cache)}
    with log.open("w") as stderr:
        started = time.monotonic()
        build = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)
        signalled_at = None
        try:
            if signum is not None and at is not None:
                try:
                    build.wait(timeout=max(0.0, at - (time.monotonic() - started)))
                except subprocess.TimeoutExpired:
                    build.send_signal(signum)
                    signalled_at = time.monotonic()
            code = build.wait(timeout=timeout)
            hung = False
        except subprocess.TimeoutExpired:
            os.killpg(build.pid, signal.SIGKILL)
            code = build.wait()
            hung = True
        ended = time.monotonic()
    orphans = _group_alive(build.pid)  # a child (or the JVM's helper) still running after the build exited
    if orphans:
        os.killpg(build.pid, signal.SIGKILL)
    text = log.read_text(errors="replace")
    return {
        "exit_code": code,
        "hung": hung,
        "seconds": round(ended - started, 2),
        "signalled": signalled_at is not None,
        "exit_seconds_after_signal": round(ended - signalled_at, 2) if signalled_at is not None else None,
        "last_stderr_line": last_line(text)[:300],
        "stderr_tail": [line.strip()[:300] for line in re.split(r"[\r\n]+", text) if line.strip()][-6:],
        "removed_leftovers": len(REMOVED.findall(text.replace("\r", "\n"))),
        "orphans": orphans,
    }


def run_trial(slice_dir: Path, work: Path, number: int, name: str, at: float, timeout: float) -> dict[str, Any]:
    trial_dir = work / f"trial-{number:03d}-{name}"
    cwd, out_dir, cache = trial_dir / "cwd", trial_dir / "out", trial_dir / "cache"
    out_dir.mkdir(parents=True)
    build = run_build(_command(slice_dir, out_dir), cwd, cache, trial_dir / "stderr.log", SIGNALS[name], at, timeout)
    trial: dict[str, Any] = {
        "signal": name,
        "moment_seconds": at,
        "seconds": build["seconds"],
        "exit_code": build["exit_code"],
        "last_stderr_line": build["last_stderr_line"],
        "exit_seconds_after_signal": build["exit_seconds_after_signal"],
        "finished_before_signal": not build["signalled"],
        "hung": build["hung"],
        "orphans": build["orphans"],
        "left": remains(out_dir),
        "hs_err": sorted(path.name for path in cwd.glob("hs_err_pid*.log")),
    }
    if name == "SIGKILL" and build["signalled"]:
        # The user runs the same command again; a build that got as far as its final rename left a
        # complete index, which only --overwrite replaces.
        again = run_build(_command(slice_dir, out_dir, overwrite=trial["left"]["index"]), cwd, cache, trial_dir / "next.log", timeout=timeout)
        trial["next_build"] = {
            "exit_code": again["exit_code"],
            "seconds": again["seconds"],
            "last_stderr_line": again["last_stderr_line"],
            "removed_leftovers": again["removed_leftovers"],
            "overwrite": trial["left"]["index"],
            "hs_err": sorted(path.name for path in cwd.glob("hs_err_pid*.log")),
            **remains(out_dir),
        }
        trial["orphans"] = trial["orphans"] or again["orphans"]
    trial["verdict"] = classify(trial)
    if trial["verdict"] in ("not clean", "hung"):
        trial["stderr_tail"] = build["stderr_tail"]
    return trial


@click.command()
@click.option("--dataset", "dataset_name", default="scifact", show_default=True, help="A BEIR dataset (name under --data-dir, or a path).")
@click.option("--data-dir", default=None, help="Where named datasets live (env BRAID_DATA).")
@click.option("--docs", type=click.IntRange(min=1), default=300, show_default=True, help="Index the first N documents.")
@click.option("--moments", "count", type=click.IntRange(min=1), default=20, show_default=True, help="Moments per signal, spread over a build.")
@click.option("--first", type=click.FloatRange(min=0), default=0.5, show_default=True, help="Earliest moment (seconds).")
@click.option("--last-fraction", type=click.FloatRange(min=0, max=1), default=0.95, show_default=True, help="Latest moment, as a fraction of a build.")
@click.option("--build-seconds", type=click.FloatRange(min=0, min_open=True), default=None, help="Skip timing a build; use this duration.")
@click.option("--max-minutes", type=click.FloatRange(min=1), default=40, show_default=True, help="Start no new trial after this long.")
@click.option("--keep", is_flag=True, help="Keep the temporary folders (printed) for inspection.")
@click.option("--out", type=click.Path(dir_okay=False), default="results/interrupts.json", show_default=True)
def main(
    dataset_name: str,
    data_dir: str | None,
    docs: int,
    count: int,
    first: float,
    last_fraction: float,
    build_seconds: float | None,
    max_minutes: float,
    keep: bool,
    out: str,
) -> None:
    """Kill `braid index` at many moments with SIGINT, SIGTERM and SIGKILL; check what each leaves."""
    dataset = resolve_dataset(dataset_name, data_dir)
    if dataset.layout != "beir":
        raise click.ClickException(f"{dataset.name} is not a BEIR folder")
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="braid-interrupts-"))
    try:
        slice_dir = write_beir_slice(dataset.root, work / "slice", docs)
        written = sum(1 for _ in (slice_dir / "corpus.jsonl").open(encoding="utf-8"))
        baseline: dict[str, Any] = {"measured": build_seconds is None}
        if build_seconds is None:
            click.echo(f"timing a full build of {written} documents ...", err=True)
            (work / "baseline" / "out").mkdir(parents=True)
            timed = run_build(
                _command(slice_dir, work / "baseline" / "out"), work / "baseline" / "cwd", work / "baseline" / "cache", work / "baseline" / "stderr.log"
            )
            if timed["exit_code"] != 0:
                raise click.ClickException(f"the timing build failed ({timed['exit_code']}): {timed['last_stderr_line']}")
            build_seconds = timed["seconds"]
            baseline["last_stderr_line"] = timed["last_stderr_line"]
        baseline["seconds"] = build_seconds
        click.echo(f"a full build takes {build_seconds:.1f} s", err=True)
        plan = moments(build_seconds, count, first, last_fraction)
        trials: list[dict[str, Any]] = []
        stopped_early = False
        names = list(SIGNALS)
        timeout = max(300.0, 4 * build_seconds)
        for position, at in enumerate(plan):
            for name in names[position % len(names) :] + names[: position % len(names)]:  # rotate: slow spells hit every signal alike
                if time.monotonic() - started > 60 * max_minutes:
                    stopped_early = True
                    break
                trial = run_trial(slice_dir, work, len(trials), name, at, timeout)
                trials.append(trial)
                click.echo(
                    f"{len(trials):3d} {name:7s} at {at:6.2f} s: {trial['verdict']} (exit {trial['exit_code']}, {trial['last_stderr_line'][:80]!r})", err=True
                )
            if stopped_early:
                break
        report: dict[str, Any] = {
            "benchmark": "braid index interrupted by signals",
            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "machine": machine(),
            "settings": {
                "dataset": dataset.name,
                "documents": written,
                "retrievers": RETRIEVERS,
                "moments_per_signal": count,
                "first_moment_seconds": first,
                "last_fraction": last_fraction,
                "moments_seconds": plan,
                "max_minutes": max_minutes,
            },
            "build": baseline,
            "minutes": round((time.monotonic() - started) / 60, 1),
            "stopped_early": stopped_early,
            "totals": totals(trials),
            "trials": trials,
        }
    finally:
        if keep:
            click.echo(f"kept {work}", err=True)
        else:
            shutil.rmtree(work, ignore_errors=True)
    path = write_json(report, out)
    click.echo(f"build: {build_seconds:.1f} s for {written} documents; {len(trials)} trials in {report['minutes']} min -> {path}")
    for name, counts in report["totals"].items():
        click.echo(
            f"{name:7s} clean {counts['clean']}/{counts['total']}"
            + (f" (+{counts['finished_before_signal']} finished first)" if counts["finished_before_signal"] else "")
        )
    for trial in trials:
        if trial["verdict"] not in ("clean", "finished before signal"):
            click.echo(
                f"NOT CLEAN: {trial['signal']} at {trial['moment_seconds']} s: exit {trial['exit_code']}, {trial['last_stderr_line']!r}, left {trial['left']}"
            )


if __name__ == "__main__":
    main()
