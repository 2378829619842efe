"""A SPLADE encoder whose memory does not grow with the 30,522-wide vocabulary at every token.

sentence-transformers' SparseEncoder computes the MLM logits of every token of a batch before
pooling: 32 passages x 256 tokens x 30,522 floats is 1 GB (128 passages: 4 GB). SPLADE's document
weight is log(1 + relu(max over tokens of the logit)) — the activation is monotone, so it commutes
with the max — so braid runs the model up to the MLM head's last linear layer, then applies that
layer to a few tokens at a time and keeps a running maximum. Peak memory is one token chunk's logits.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from tqdm import tqdm

from braid.fusion.errors import BraidError
from braid.indexing.config import SpladeConfig
from braid.indexing.models import load_on_cpu, resolve_model
from braid.indexing.traced import SingleTextTrace

# Logit values held at once per batch (batch x tokens x vocabulary): ~64 MB of float32.
_LOGITS_PER_CHUNK = 16_000_000
_ACTIVATIONS = ("relu", "log1p_relu")


class SpladeEncoder:
    """Encodes texts to sparse vocabulary-weight vectors (rows of a CSR matrix, float32)."""

    def __init__(self, config: SpladeConfig) -> None:
        self.config = config.with_concrete_precision()
        self.resolved = resolve_model(self.config.model)
        self._lock = threading.Lock()
        self._model: Any = None
        self._trace: Any = None
        self._decoder_weight: Any = None
        self._decoder_bias: Any = None
        self._activation = "relu"
        self._pooling = "max"
        self._vocabulary: list[str] = []

    def _loaded(self) -> Any:
        with self._lock:
            if self._model is None:
                self._load()
            return self._model

    def _load(self) -> None:
        import torch
        from sentence_transformers import SparseEncoder

        model = load_on_cpu(SparseEncoder, self.resolved, self.config.model, self.config.precision)
        transformer: Any = model[0]  # sentence-transformers' Transformer module
        pooling = model[len(model) - 1]
        masked_lm = getattr(transformer, "auto_model", None)
        decoder = masked_lm.get_output_embeddings() if masked_lm is not None and hasattr(masked_lm, "get_output_embeddings") else None
        if masked_lm is None or type(pooling).__name__ != "SpladePooling" or not isinstance(decoder, torch.nn.Linear):
            raise BraidError(
                f"model {self.config.model!r} is not a SPLADE model: it needs a masked-language-model head "
                f"(found {type(masked_lm).__name__}) followed by SPLADE pooling (found {type(pooling).__name__})"
            )
        self._activation = getattr(pooling, "activation_function", "relu")
        self._pooling = getattr(pooling, "pooling_strategy", "max")
        if self._activation not in _ACTIVATIONS or self._pooling not in ("max", "sum"):
            raise BraidError(f"model {self.config.model!r}: unsupported SPLADE pooling {self._pooling}/{self._activation}")
        self._decoder_weight = decoder.weight.detach().clone()
        self._decoder_bias = (decoder.bias.detach().clone() if decoder.bias is not None else torch.zeros(decoder.out_features)).float()
        _replace_module(masked_lm, decoder, torch.nn.Identity())
        masked_lm.eval()
        transformer.max_seq_length = self.config.max_seq_length
        self._vocabulary = [""] * decoder.out_features
        for token, index in model.tokenizer.get_vocab().items():
            if index < len(self._vocabulary):
                self._vocabulary[index] = token
        self._model = model
        # One unpadded text runs model, decoder and pooling in one trace: no Python (and no lock) between ops.
        self._trace = SingleTextTrace(masked_lm, self._single_text_weights, f"splade model {self.config.model}")

    @property
    def vocabulary(self) -> list[str]:
        """The model's tokens by id: column i of an encoded vector is token vocabulary[i]."""
        self._loaded()
        return self._vocabulary

    def input_tokens(self, texts: Sequence[str]) -> list[list[str]]:
        """The word pieces the model reads for each text, special tokens excluded."""
        tokenizer = self._loaded().tokenizer
        return [tokenizer.tokenize(text)[: self.config.max_seq_length] for text in texts]

    def encode_documents(self, texts: Sequence[str], progress: bool = False) -> sp.csr_matrix:
        return self._encode(texts, progress)

    def encode_queries(self, texts: Sequence[str]) -> sp.csr_matrix:
        return self._encode(texts, False)

    def encode_queries_read(self, texts: Sequence[str]) -> tuple[sp.csr_matrix, list[list[str]]]:
        """`encode_queries` and the word pieces the model read for each text (special tokens
        excluded): one query is tokenized once for both, where asking `input_tokens` after it
        tokenized it again (0.05 of a ~3.4 ms SPLADE query, Intel Xeon, 2026-12-05)."""
        if len(texts) != 1:
            return self.encode_queries(texts), self.input_tokens(texts)
        tokenizer = self._loaded().tokenizer
        features = self._features(list(texts))
        single = self._encode_batch(list(texts), features)
        single.sort_indices()
        return single, [tokenizer.convert_ids_to_tokens(features["input_ids"][0].tolist(), skip_special_tokens=True)]

    def _encode(self, texts: Sequence[str], progress: bool) -> sp.csr_matrix:
        self._loaded()  # the vocabulary's width comes with the model
        width = len(self._vocabulary)
        if not texts:
            return sp.csr_matrix((0, width), dtype=np.float32)
        if len(texts) == 1:  # the interactive path: no sorting, no progress bar
            single = self._encode_batch([texts[0]])
            single.sort_indices()
            return single
        plan = self.batch_plan(texts)
        batches: list[sp.csr_matrix] = []
        with tqdm(total=len(texts), desc="encoding (splade)", unit=" docs", disable=None if progress else True) as bar:
            for positions in plan:
                batches.append(self._encode_batch([texts[i] for i in positions]))
                bar.update(len(positions))
        in_length_order = sp.vstack(batches, format="csr")
        matrix = in_length_order[np.argsort(np.concatenate(plan))]
        matrix.sort_indices()
        return matrix

    def batch_plan(self, texts: Sequence[str]) -> list[np.ndarray]:
        """The positions of `texts` each forward pass of encode_documents takes, in order: by token
        count, longest first, so the batches with the most padding-free tokens come first and memory
        peaks early. Another process can then encode exactly these batches (braid.indexing.ray_encoding)."""
        tokenizer = self._loaded().tokenizer
        lengths = [len(ids) for ids in tokenizer(list(texts), add_special_tokens=True, truncation=True, max_length=self.config.max_seq_length)["input_ids"]]
        order = np.argsort(-np.asarray(lengths), kind="stable")
        return [order[start : start + self.config.batch_size] for start in range(0, len(texts), self.config.batch_size)]

    def _single_text_weights(self, masked_lm: Any, features: dict[str, Any]) -> Any:
        """Vocabulary weights of one unpadded text (every token counts), as a 1-D float32 tensor."""
        hidden = masked_lm(**features).logits[0]
        logits = hidden @ self._decoder_weight.to(hidden.dtype).T
        if self._pooling == "max":
            return self._activate(logits.amax(dim=0).float() + self._decoder_bias)
        return self._activate(logits.float() + self._decoder_bias).sum(dim=0)

    def _features(self, texts: list[str]) -> Any:
        return self._loaded().tokenizer(texts, padding=True, truncation=True, max_length=self.config.max_seq_length, return_tensors="pt")

    def _encode_batch(self, texts: list[str], features: Any = None) -> sp.csr_matrix:
        import torch

        model = self._loaded()
        features = self._features(texts) if features is None else features
        if len(texts) == 1:
            traced = self._trace(dict(features))
            if traced is not None:
                return _row(traced.numpy().reshape(-1))
        masked_lm = model[0].auto_model
        with torch.inference_mode():
            # Without its decoder the model returns the MLM head's hidden states (batch x tokens x hidden).
            hidden = masked_lm(**features).logits
            weight = self._decoder_weight.to(hidden.dtype)
            mask = features["attention_mask"].bool()
            batch, tokens, _ = hidden.shape
            step = max(1, _LOGITS_PER_CHUNK // max(1, batch * weight.shape[0]))
            pooled = None
            for begin in range(0, tokens, step):
                chunk = hidden[:, begin : begin + step]
                width = chunk.shape[1]
                # A 2-D product: torch's bfloat16 matmul over a strided 3-D slice is ~25x slower.
                logits = (chunk.reshape(batch * width, -1) @ weight.T).view(batch, width, -1)
                valid = mask[:, begin : begin + step, None]
                if self._pooling == "max":
                    # The bias is the same at every token, so it is added after the max.
                    part = logits.masked_fill_(~valid, float("-inf")).amax(dim=1)
                    pooled = part if pooled is None else torch.maximum(pooled, part)
                else:
                    part = (self._activate(logits.float() + self._decoder_bias) * valid).sum(dim=1)
                    pooled = part if pooled is None else pooled + part
            assert pooled is not None
            if self._pooling == "max":
                pooled = self._activate(pooled.float() + self._decoder_bias)
            return sp.csr_matrix(pooled.numpy().astype(np.float32, copy=False))

    def _activate(self, logits: Any) -> Any:
        weights = logits.relu().log1p()
        return weights.log1p() if self._activation == "log1p_relu" else weights


def _row(weights: np.ndarray) -> sp.csr_matrix:
    """One text's vocabulary weights as a one-row CSR matrix, columns ascending (from the nonzero
    positions directly: scipy's conversion of a dense row took ~0.15 ms of a ~2.4 ms query)."""
    columns = np.flatnonzero(weights)
    return sp.csr_matrix((weights[columns].astype(np.float32, copy=False), columns, np.array([0, len(columns)])), shape=(1, len(weights)))


def _replace_module(root: Any, target: Any, replacement: Any) -> None:
    for _name, module in root.named_modules():
        for child_name, child in module.named_children():
            if child is target:
                setattr(module, child_name, replacement)
                return
    raise BraidError("could not find the MLM decoder inside the model")
