"""Cheaper query encoders, judged by what they do to rankings: `python -m braid.eval.bench_query_encoders
--index scifact=DIR --index nfcorpus=DIR --out results/query_encoders.json`.

Each variant replaces the dense and SPLADE query encoders of an open index (documents stay encoded
as built) and runs the dataset's whole test split: nDCG@10 and Recall@100 of dense alone, SPLADE
alone and the default fused search, and each encoder's single-query time (cold, p50). Vector
cosine says little about rankings; this says what a user would lose. Variants: the index's own
precision (`auto`: bfloat16 where the CPU has it), float32, braid's int8 dense query encoder
(`query_encoder="int8"`: ONNX Runtime, per output channel; SPLADE as built), torch's int8 dynamic
quantization of every linear layer of both models (per tensor, and per output channel: experiments
on a deprecated torch API, not offered), and queries cut at 32 tokens.
"""

from __future__ import annotations

import dataclasses
import datetime
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from braid.engine.engine import Engine
from braid.eval.datasets import resolve_dataset
from braid.eval.latency import interleaved_latency
from braid.eval.metrics import evaluate
from braid.eval.report import machine, write_json
from braid.fusion.config import FusionConfig
from braid.fusion.types import EVAL_DEPTH
from braid.indexing.dense_encoder import DenseEncoder
from braid.indexing.int8_query_encoder import Int8QueryEncoder
from braid.indexing.sparse_encoder import SpladeEncoder
from braid.indexing.traced import SingleTextTrace

METRICS = ("ndcg@10", "recall@100")
ENCODERS = {"dense": DenseEncoder, "splade": SpladeEncoder}
BRAID_INT8 = "int8 dense (onnx runtime)"
VARIANTS = ("as built", "float32", BRAID_INT8, "int8 per tensor", "int8 per channel", "query max length 32")
LATENCY_QUERIES = 150


def variant_encoder(variant: str, kind: str, config: Any) -> Any:
    """A loaded query encoder of `kind` built from the index's `config`, changed as `variant` says."""
    if variant == "as built" or (variant == BRAID_INT8 and kind == "splade"):
        encoder = ENCODERS[kind](config)
    elif variant == BRAID_INT8:
        encoder = Int8QueryEncoder(config)
    elif variant == "query max length 32":
        encoder = ENCODERS[kind](dataclasses.replace(config, max_seq_length=32))
    else:
        encoder = ENCODERS[kind](dataclasses.replace(config, precision="float32"))
        if variant.startswith("int8"):
            quantize(encoder, kind, per_channel=variant.endswith("channel"))
    encoder.encode_queries(["warm up"])
    return encoder


def quantize(encoder: Any, kind: str, per_channel: bool) -> None:
    """Int8 dynamic quantization of the encoder's linear layers, in place, with a fresh single-text trace.
    Reaches into the encoders' loaded modules: this is an experiment, not a setting braid offers."""
    import torch
    from torch.ao.quantization import default_dynamic_qconfig, per_channel_dynamic_qconfig, quantize_dynamic

    qconfig = per_channel_dynamic_qconfig if per_channel else default_dynamic_qconfig
    model = encoder._loaded()
    target = model if kind == "dense" else model[0].auto_model
    with warnings.catch_warnings():  # torch.ao's eager quantization is deprecated in favour of torchao
        warnings.simplefilter("ignore", DeprecationWarning)
        quantize_dynamic(target, {torch.nn.Linear: qconfig}, dtype=torch.qint8, inplace=True)
    if kind == "dense":
        encoder._trace = SingleTextTrace(model, lambda module, features: module(features)["sentence_embedding"], "dense int8")
    else:
        encoder._trace = SingleTextTrace(target, encoder._single_text_weights, "splade int8")


def measure_dataset(engine: Engine, dataset: Any, variants: Sequence[str], say: Callable[[str], None]) -> list[dict[str, Any]]:
    test = dataset.load_split("test")
    encoders = {variant: {kind: variant_encoder(variant, kind, engine.retrievers[kind].config) for kind in ENCODERS} for variant in variants}  # type: ignore[attr-defined]

    def encode_one(encoder: Any) -> Callable[[str], object]:
        return lambda query: encoder.encode_queries([query])

    # Every encoder takes its turn on every query (see interleaved_latency): load drifts hit all alike.
    timed = interleaved_latency(
        {f"{variant}/{kind}": encode_one(encoder) for variant, kinds in encoders.items() for kind, encoder in kinds.items()},
        list(test.queries.values())[:LATENCY_QUERIES],
        lambda: None,  # the encoders themselves keep no cache
    )
    rows = []
    for variant, kinds in encoders.items():
        row: dict[str, Any] = {"variant": variant, "encode_p50_ms": {kind: timed[f"{variant}/{kind}"]["p50_ms"] for kind in kinds}, "metrics": {}}
        for kind, encoder in kinds.items():
            retriever: Any = engine.retrievers[kind]
            retriever._encoder = encoder  # the experiment's swap; documents untouched
        for method, view in {"dense": engine.view(["dense"], FusionConfig()), "splade": engine.view(["splade"], FusionConfig()), "fused": engine}.items():
            engine.forget_queries()
            scores = evaluate(view.run(test.queries, depth=EVAL_DEPTH), test.qrels, METRICS).means
            row["metrics"][method] = {name: round(value, 4) for name, value in scores.items()}
        say(f"{dataset.name} {variant}: {row}")
        rows.append(row)
    return rows


@click.command()
@click.option("--index", "indexes", multiple=True, required=True, help="DATASET=INDEX_DIR (an index with dense and splade), once per dataset.")
@click.option("--data-dir", default=None, help="Where named datasets live (env BRAID_DATA).")
@click.option("--variants", default=",".join(VARIANTS), show_default=True, help="Comma-separated variants to run.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("results/query_encoders.json"), show_default=True)
def main(indexes: Sequence[str], data_dir: str | None, variants: str, out: Path) -> None:
    """nDCG@10 / Recall@100 and single-query encode time of cheaper query encoders, per dataset."""
    chosen = [variant.strip() for variant in variants.split(",") if variant.strip()]
    unknown = [variant for variant in chosen if variant not in VARIANTS]
    if unknown:
        raise click.BadParameter(f"unknown variant {unknown[0]!r}; choose from {', '.join(VARIANTS)}", param_hint="--variants")
    report: dict[str, Any] = {"benchmark": "query encoders", "date": datetime.date.today().isoformat(), "machine": machine(), "datasets": {}}
    for spec in indexes:
        name, equals, index_dir = spec.partition("=")
        if not equals:
            raise click.BadParameter(f"{spec!r} is not DATASET=INDEX_DIR", param_hint="--index")
        dataset = resolve_dataset(name, data_dir)
        with Engine.open(index_dir) as engine:
            report["datasets"][dataset.name] = measure_dataset(engine, dataset, chosen, lambda line: click.echo(line, err=True))
    click.echo(f"wrote {write_json(report, out)}")


if __name__ == "__main__":
    main()
