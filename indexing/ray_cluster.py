"""Joining a Ray cluster (`--ray ADDRESS`; `pip install 'braid[ray]'`): nothing else in braid imports Ray."""

from __future__ import annotations

import os
from typing import Any

from braid.fusion.errors import BraidError

# `--ray local` starts a cluster on this machine; `auto` joins a running one; anything else is its address.
LOCAL = "local"


def ray_module() -> Any:
    try:
        import ray
    except ImportError:
        raise BraidError("--ray needs Ray: pip install 'braid[ray]'") from None
    return ray


class RayConnection:
    """This process's connection to the cluster at `address`; closing it stops a cluster only if
    this connection started it (a test's or a caller's own `ray.init` is left running)."""

    def __init__(self, address: str) -> None:
        ray = ray_module()
        self.started = not ray.is_initialized()
        if self.started:
            try:
                if address == LOCAL:
                    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, logging_level="warning")
                else:
                    ray.init(address=address, logging_level="warning")
            except (ConnectionError, RuntimeError, ValueError) as error:
                raise BraidError(f"cannot join the Ray cluster at {address!r}: {str(error).splitlines()[0]}") from None

    @property
    def cpus(self) -> int:
        return int(ray_module().cluster_resources().get("CPU", 0))

    def close(self) -> None:
        if self.started:
            ray_module().shutdown()
            self.started = False
