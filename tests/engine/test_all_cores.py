"""The all-cores thread: one thread runs what every caller hands it, nested calls run in place,
and results, exceptions and context variables come back."""

from __future__ import annotations

import contextvars
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from braid.engine.all_cores import on_all_cores

SETTING: contextvars.ContextVar[str] = contextvars.ContextVar("SETTING", default="unset")


def test_every_caller_is_served_by_one_thread_that_is_none_of_theirs() -> None:
    callers = {threading.get_ident()}
    with ThreadPoolExecutor(4) as pool:
        served = set(pool.map(lambda _: (callers.add(threading.get_ident()), on_all_cores(threading.get_ident))[1], range(16)))
    served.add(on_all_cores(threading.get_ident))
    assert len(served) == 1 and not served & callers


def test_a_nested_call_runs_in_place_and_errors_reach_the_caller() -> None:
    outer, inner = on_all_cores(lambda: (threading.get_ident(), on_all_cores(threading.get_ident)))
    assert outer == inner

    def fail() -> None:
        raise ValueError("bad query")

    with pytest.raises(ValueError, match="bad query"):
        on_all_cores(fail)


def test_the_callers_context_goes_with_the_call() -> None:
    token = SETTING.set("partial results accepted")
    try:
        assert on_all_cores(SETTING.get) == "partial results accepted"
    finally:
        SETTING.reset(token)
    assert on_all_cores(SETTING.get) == "unset"
