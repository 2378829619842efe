"""A local Ray cluster for tests, started and stopped without taking the JVM's crash handlers
away (see braid.indexing.ray_cluster.kept_crash_handlers)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def local_cluster(cpus: int = 2) -> Iterator[None]:
    import ray

    from braid.indexing.ray_cluster import kept_crash_handlers

    with kept_crash_handlers():
        ray.init(num_cpus=cpus, include_dashboard=False, logging_level="warning")
    try:
        yield
    finally:
        with kept_crash_handlers():
            ray.shutdown()
