"""The soak benchmark's per-window summary, on constructed samples (no server runs here)."""

from __future__ import annotations

from braid.eval.bench_soak import Sample, summarize_window


def test_a_window_counts_its_own_samples_by_class_and_takes_percentiles_of_successful_searches() -> None:
    samples = [
        *(Sample(1.0 + n / 100, "search", "2xx", float(n + 1)) for n in range(100)),  # 1..100 ms
        Sample(2.0, "search", "5xx", 5000.0),  # a failure's time is not a search latency
        Sample(3.0, "search", "connection_error", None, "ConnectionResetError"),
        Sample(4.0, "bad", "4xx", 2.0, "malformed_json:422"),
        Sample(4.5, "bad", "4xx", 2.0, "oversized_body:413"),
        Sample(5.0, "idle", "closed_by_server", 5000.0),
        Sample(6.0, "idle", "closed_by_server", 5200.0),
        Sample(7.0, "slow_header", "closed_by_server", 10100.0),
        Sample(9.0, "slow_header", "held_too_long", 120000.0),
        Sample(10.0, "search", "2xx", 9999.0),  # the next window's (the end is exclusive)
        Sample(0.5, "search", "2xx", 9999.0),  # the previous window's
    ]
    window = summarize_window(samples, 1.0, 10.0)
    assert window["counts"] == {
        "search": {"2xx": 100, "5xx": 1, "connection_error": 1},
        "bad": {"4xx": 2},
        "idle": {"closed_by_server": 2},
        "slow_header": {"closed_by_server": 1, "held_too_long": 1},
    }
    assert window["searches"] == 100 and window["searches_per_second"] == round(100 / 9, 1)
    assert (window["p50_ms"], window["p99_ms"]) == (50.5, 99.0)
    assert window["held_seconds"] == {"idle": {"median_s": 5.1, "max_s": 5.2}, "slow_header": {"median_s": 10.1, "max_s": 10.1}}
    assert (window["start_s"], window["end_s"]) == (1.0, 10.0)

    empty = summarize_window(samples, 20.0, 30.0)
    assert empty["searches"] == 0 and (empty["p50_ms"], empty["p99_ms"]) == (0.0, 0.0)
    assert empty["counts"] == {"search": {}, "bad": {}, "idle": {}, "slow_header": {}} and empty["held_seconds"] == {}
