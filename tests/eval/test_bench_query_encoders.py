"""The query-encoder benchmark on a 200-document slice: the index's own encoder reproduces a plain
run, and the int8 variants really run quantized layers."""

from __future__ import annotations

from pathlib import Path

import pytest

from braid.engine import Engine
from braid.eval.bench_query_encoders import measure_dataset, variant_encoder
from braid.eval.datasets import resolve_dataset
from braid.eval.metrics import evaluate


def test_as_built_reproduces_a_plain_run_and_int8_quantizes(three_way_small_index: Path, scifact_small: Path) -> None:
    import torch

    dataset = resolve_dataset(str(scifact_small))
    test = dataset.load_split("test")
    with Engine.open(three_way_small_index) as engine:
        plain = evaluate(engine.view(["dense"]).run(test.queries), test.qrels, ["ndcg@10"]).means["ndcg@10"]
        rows = measure_dataset(engine, dataset, ["as built", "int8 per channel"], lambda _: None)
        config = engine.retrievers["dense"].config  # type: ignore[attr-defined]
    assert [row["variant"] for row in rows] == ["as built", "int8 per channel"]
    assert rows[0]["metrics"]["dense"]["ndcg@10"] == pytest.approx(plain, abs=5e-5)
    assert set(rows[1]["metrics"]) == {"dense", "splade", "fused"} and all(value > 0 for value in rows[1]["encode_p50_ms"].values())
    quantized = variant_encoder("int8 per channel", "dense", config)
    modules = list(quantized._loaded().modules())
    assert not any(type(module) is torch.nn.Linear for module in modules)
    assert any(type(module).__module__.startswith("torch.ao.nn.quantized.dynamic") for module in modules)
    assert quantized.encode_queries(["vitamin D"]).shape == (1, 384)
