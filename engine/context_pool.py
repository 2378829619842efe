"""A thread pool whose tasks see the submitting thread's context variables (a request's settings,
such as accepting partial results from shards, reach the retriever threads)."""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class ContextThreadPool(ThreadPoolExecutor):
    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        context = contextvars.copy_context()  # one copy per task: a context runs in one thread at a time
        return super().submit(context.run, fn, *args, **kwargs)  # type: ignore[arg-type]


__all__ = ["ContextThreadPool"]
