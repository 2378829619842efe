"""Document encoding on a Ray cluster (`--ray ADDRESS`; `pip install 'braid[ray]'`).

The build streams its corpus in bounded chunks to an encoder (braid.indexing.text_chunks); here each
chunk's batches go to a pool of Ray actors, each holding one loaded model, and come back in place.
The batches are exactly those local encoding makes (the encoder's `batch_plan`: the same texts
padded together), so vectors match local encoding up to the last bits of a thread count's
summation order. One pool serves the whole build, so every actor loads its model once (a Ray Data
pipeline per chunk would start a new pool, and load the models again, for every chunk).

Ray restarts an actor whose process dies and retries the batch it was encoding
(`max_restarts`, `max_task_retries`): a killed worker costs a model load, not the build.
Nothing else in braid imports Ray.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from braid.fusion.errors import BraidError
from braid.indexing.ray_cluster import RayConnection, ray_module

# How often Ray may restart one encoder actor, and retry one batch, before the build fails.
RESTARTS = 3


class EncoderWorker:
    """One Ray actor: a loaded document encoder of one kind and settings."""

    def __init__(self, kind: str, config: Any, threads: int) -> None:
        import torch

        torch.set_num_threads(threads)
        if kind == "dense":
            from braid.indexing.dense_encoder import DenseEncoder

            self._encoder: Any = DenseEncoder(config)
        else:
            from braid.indexing.sparse_encoder import SpladeEncoder

            self._encoder = SpladeEncoder(config)

    def encode(self, texts: list[str]) -> Any:
        return self._encoder.encode_documents(texts)

    def pid(self) -> int:
        return os.getpid()


class RayDocumentEncoder:
    """`encode_documents` of a local encoder, run by a pool of Ray actors batch by batch."""

    def __init__(self, local: Any, actors: list[Any]) -> None:
        from ray.util import ActorPool

        self.local = local  # plans the batches, and answers for the model (dimension, vocabulary, identity)
        self.actors = actors
        self._pool = ActorPool(actors)

    def encode_documents(self, texts: Sequence[str], progress: bool = False) -> Any:
        if not texts:
            return self.local.encode_documents(texts)
        plan = self.local.batch_plan(texts)
        try:
            results = list(self._pool.map(lambda actor, positions: actor.encode.remote([texts[i] for i in positions]), plan))
        except Exception as error:  # Ray's errors carry the worker's traceback; one line is enough here
            raise BraidError(f"encoding on Ray failed after {RESTARTS} restarts of a worker: {type(error).__name__}: {str(error).splitlines()[0]}") from None
        order = np.argsort(np.concatenate(plan))
        if sp.issparse(results[0]):
            matrix = sp.vstack(results, format="csr")[order]
            matrix.sort_indices()
            return matrix
        return np.concatenate(results)[order]


class RayEncoding:
    """A connection to a Ray cluster that encodes documents for builds (`with RayEncoding("local") as ray: ...`).

    `workers` actors per encoder kind (default: one per CPU of the cluster / `threads`), each with
    `threads` torch threads and that many CPUs reserved."""

    def __init__(self, address: str, workers: int | None = None, threads: int = 1) -> None:
        self._connection = RayConnection(address)
        self.threads = threads
        self._pool: tuple[tuple[str, Any], list[Any]] | None = None
        cpus = self._connection.cpus
        self.workers = workers or max(1, cpus // threads)
        if self.workers * threads > cpus:
            self.close()
            raise BraidError(f"--ray-workers {self.workers} x {threads} thread(s) needs {self.workers * threads} CPUs; the Ray cluster has {cpus}")

    def wrap(self, local: Any) -> RayDocumentEncoder:
        """The distributed twin of `local` (a DenseEncoder or SpladeEncoder): same model, same batches.
        One model's actors at a time (each holds its CPUs while it lives; a build encodes one model
        after the other): wrapping another model stops the previous one's actors."""
        from braid.indexing.dense_encoder import DenseEncoder

        kind = "dense" if isinstance(local, DenseEncoder) else "splade"
        key = (kind, local.config)
        if self._pool is None or self._pool[0] != key:
            self._stop_actors()
            actor = ray_module().remote(num_cpus=self.threads, max_restarts=RESTARTS, max_task_retries=RESTARTS)(EncoderWorker)
            self._pool = (key, [actor.remote(kind, local.config, self.threads) for _ in range(self.workers)])
        return RayDocumentEncoder(local, self._pool[1])

    def _stop_actors(self) -> None:
        if self._pool is not None:
            for actor in self._pool[1]:
                ray_module().kill(actor)
            self._pool = None

    def close(self) -> None:
        self._stop_actors()
        self._connection.close()

    def __enter__(self) -> RayEncoding:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
