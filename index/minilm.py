"""all-MiniLM-L6-v2 in NumPy: the sentence-transformers vectors without torch.

A question needs one short embedding, and importing torch, transformers and
sentence-transformers to compute it costs 5-11 s of a cold `seedqa ask`. The
model is small (6 layers, 384 wide) and its forward pass is a few matrix
products, so this module runs it on NumPy from the same files: the weights in
`model.safetensors`, word pieces from `tokenizer.json` (the Rust `tokenizers`
library), mean pooling over real tokens, then L2 normalisation; exactly the
modules sentence-transformers stacks for this model. tests/test_embedder.py
checks that the vectors match SentenceTransformer.encode.

Only models of that shape are supported (`NumpyMiniLM.supports`): a BERT
encoder with mean pooling and a Normalize module. For any other model the
Embedder (index/embedder.py) keeps using sentence-transformers.

Only index/embedder.py imports this module.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

_MODULES = [
    "sentence_transformers.models.Transformer",
    "sentence_transformers.models.Pooling",
    "sentence_transformers.models.Normalize",
]


# Abramowitz & Stegun 7.1.26: erf(z) = 1 - t (a1 + t (a2 + ... + t a5)) exp(-z^2) for z >= 0,
# t = 1 / (1 + p z); within 1.5e-7, below float32's resolution here.
_ERF_P = np.float32(0.3275911)
_ERF_A = tuple(np.float32(a) for a in (0.254829592, -0.284496736, 1.421413741, -1.453152027,
                                       1.061405429))


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact (erf) GELU, x * Phi(x), as 0.5 * (x + |x| * erf(|x| / sqrt 2)).

    NumPy has no erf, and scipy.special costs more to import than this whole
    module. In place on four work arrays: the naive form allocated a new
    array per operation and took a third of a forward pass.
    """
    magnitude = np.abs(x)
    z = magnitude * np.float32(0.7071067811865476)
    t = z * _ERF_P
    t += 1.0
    np.reciprocal(t, out=t)
    poly = t * _ERF_A[4]
    for coefficient in reversed(_ERF_A[:4]):
        poly += coefficient
        poly *= t
    np.square(z, out=z)
    np.negative(z, out=z)
    np.exp(z, out=z)
    poly *= z  # 1 - erf(|x| / sqrt 2)
    poly *= magnitude
    np.subtract(magnitude, poly, out=magnitude)
    magnitude += x
    magnitude *= 0.5
    return magnitude


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    """LayerNorm down each column of (width, tokens), in place on the caller's work array."""
    x -= x.mean(axis=0)
    variance = np.einsum("ij,ij->j", x, x)
    variance /= x.shape[0]
    variance += eps
    x /= np.sqrt(variance, out=variance)
    x *= weight[:, None]
    x += bias[:, None]
    return x


class _Layer:
    """One transformer block's weights, as (out, in) matrices and column biases.

    The blocks work on (width, tokens) arrays, weight @ tokens: with a
    question's few tokens OpenBLAS runs that product about a third faster
    than tokens @ weight.T (a 13-token question's whole embedding took 17.1
    against 25.7 ms on one thread; 32 passages of 180 words, 1.69 against
    1.74 s).
    """

    def __init__(self, weights: dict[str, np.ndarray], prefix: str, heads: int) -> None:
        def w(name: str) -> np.ndarray:
            return np.ascontiguousarray(weights[f"{prefix}.{name}"])

        def column(name: str) -> np.ndarray:
            return w(name)[:, None]

        # Query, key and value in one product: one BLAS call instead of three. The
        # attention's 1/sqrt(head width) is folded into the query's weights, which
        # spares a pass over every (token, token) score.
        query_weight, query_bias = w("attention.self.query.weight"), w("attention.self.query.bias")
        scale = np.float32(1.0 / np.sqrt(query_weight.shape[0] // heads))
        self.qkv_weight = np.concatenate([query_weight * scale, w("attention.self.key.weight"),
                                          w("attention.self.value.weight")])
        self.qkv_bias = np.concatenate([query_bias * scale, w("attention.self.key.bias"),
                                        w("attention.self.value.bias")])[:, None]
        self.out_weight = w("attention.output.dense.weight")
        self.out_bias = column("attention.output.dense.bias")
        self.norm1 = (w("attention.output.LayerNorm.weight"), w("attention.output.LayerNorm.bias"))
        self.up_weight = w("intermediate.dense.weight")
        self.up_bias = column("intermediate.dense.bias")
        self.down_weight = w("output.dense.weight")
        self.down_bias = column("output.dense.bias")
        self.norm2 = (w("output.LayerNorm.weight"), w("output.LayerNorm.bias"))


class NumpyMiniLM:
    """A sentence-transformers BERT model with mean pooling and normalisation, on NumPy."""

    def __init__(self, model_path: Path, max_tokens: int = 256, workers: int | None = None) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        model_path = Path(model_path)
        config = json.loads((model_path / "config.json").read_text())
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.max_tokens = max_tokens
        self.workers = workers or len(os.sched_getaffinity(0))

        weights = load_file(str(model_path / "model.safetensors"))
        weights = {key.removeprefix("bert."): value.astype(np.float32, copy=False)
                   for key, value in weights.items()}
        self.word_embeddings = weights["embeddings.word_embeddings.weight"]
        self.position_embeddings = weights["embeddings.position_embeddings.weight"]
        # Every token has type 0 for single texts: fold it into the positions once.
        self.position_embeddings = self.position_embeddings + weights[
            "embeddings.token_type_embeddings.weight"][0]
        self.embedding_norm = (weights["embeddings.LayerNorm.weight"],
                               weights["embeddings.LayerNorm.bias"])
        self.layers = [_Layer(weights, f"encoder.layer.{i}", self.heads)
                       for i in range(int(config["num_hidden_layers"]))]
        self.dimension = self.word_embeddings.shape[1]

        tokenizer = Tokenizer.from_file(str(model_path / "tokenizer.json"))
        # tokenizer.json says 128 and fixed padding; sentence-transformers reads
        # max_seq_length (256) and pads each batch to its longest text.
        tokenizer.enable_truncation(max_length=max_tokens)
        tokenizer.no_padding()
        self.tokenizer = tokenizer

        from threadpoolctl import ThreadpoolController

        # OpenBLAS threads spin while they wait: on 2 busy cores, OpenBLAS's own
        # two threads made a batch 10x slower and a query 5x slower than one.
        # So each batch runs on one BLAS thread, and batches are spread over
        # the cores by `workers` Python threads instead.
        self._threads = ThreadpoolController()

    @staticmethod
    def supports(model_path: Path) -> bool:
        """Is this a model folder this class computes exactly (BERT, mean pooling, normalised)?"""
        model_path = Path(model_path)
        try:
            modules = json.loads((model_path / "modules.json").read_text())
            config = json.loads((model_path / "config.json").read_text())
            pooling = json.loads((model_path / "1_Pooling" / "config.json").read_text())
        except (OSError, ValueError):
            return False
        pooling_modes = {key for key, value in pooling.items()
                         if key.startswith("pooling_mode") and value}
        return (
            [module.get("type") for module in modules] == _MODULES
            and config.get("model_type") == "bert"
            and config.get("hidden_act") == "gelu"
            and config.get("position_embedding_type", "absolute") == "absolute"
            and pooling_modes == {"pooling_mode_mean_tokens"}
            and (model_path / "model.safetensors").exists()
            and (model_path / "tokenizer.json").exists()
        )

    def encode(self, texts: Sequence[str], batch_size: int = 32,
               spans: Sequence[Sequence[tuple[int, int]]] | None = None):
        """Unit-length embeddings, one float32 row per text, in the order given.

        With `spans` (character spans per text, its sentences say), also a
        unit vector per span, pooled from the same pass over the whole text:
        returns (embeddings, [array (len(spans), dim) per text]). A span with
        no token left after truncation gets the whole text's vector.
        """
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        pooled: list[np.ndarray] = [np.zeros((0, self.dimension), np.float32)] * len(texts)
        if not texts:
            return out if spans is None else (out, pooled)
        encodings = self.tokenizer.encode_batch(list(texts))
        # Longest first, like sentence-transformers: batches of similar length pad little.
        order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))
        batches = [order[begin : begin + batch_size] for begin in range(0, len(order), batch_size)]

        def run(rows: list[int]) -> None:
            hidden, mask = self._hidden([encodings[i].ids for i in rows])
            out[rows] = _unit(np.einsum("bld,bl->bd", hidden, mask)
                              / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9))
            if spans is not None:
                for position, i in enumerate(rows):
                    pooled[i] = _pool_spans(hidden[position], encodings[i].offsets, spans[i],
                                            out[i])

        with self._threads.limit(limits=1, user_api="blas"):
            if len(batches) == 1 or self.workers == 1:
                for rows in batches:
                    run(rows)
            else:
                # One batch per core, each on a single BLAS thread: NumPy releases
                # the GIL in matmuls and large element-wise steps.
                with ThreadPoolExecutor(min(self.workers, len(batches))) as pool:
                    list(pool.map(run, batches))
        return out if spans is None else (out, pooled)

    def _hidden(self, batch: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        """The last layer's token vectors (batch, length, dim) and the real-token mask."""
        length = max(len(ids) for ids in batch)
        ids = np.zeros((len(batch), length), dtype=np.int64)
        mask = np.zeros((len(batch), length), dtype=np.float32)
        for row, tokens in enumerate(batch):
            ids[row, : len(tokens)] = tokens
            mask[row, : len(tokens)] = 1.0

        batch_size = len(batch)
        hidden = self.word_embeddings[ids] + self.position_embeddings[:length]
        # (width, tokens) from here on: see _Layer.
        hidden = np.ascontiguousarray(hidden.reshape(batch_size * length, -1).T)
        hidden = _layer_norm(hidden, *self.embedding_norm, self.eps)
        # Padding gets a large negative score before the softmax, as in transformers.
        bias = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]
        for layer in self.layers:
            hidden = self._block(hidden, bias, layer, batch_size)
        return hidden.T.reshape(batch_size, length, -1), mask

    def _block(self, hidden: np.ndarray, bias: np.ndarray, layer: _Layer,
               batch: int) -> np.ndarray:
        """One transformer block on (width, batch * length) token columns."""
        width, tokens = hidden.shape
        length, head = tokens // batch, width // self.heads
        # Linear layers are one BLAS call each over all the batch's tokens.
        # Biases and residuals are added in place: each new array is a pass over memory.
        qkv = layer.qkv_weight @ hidden
        qkv += layer.qkv_bias
        qkv = qkv.reshape(3, self.heads, head, batch, length)
        query = qkv[0].transpose(2, 0, 3, 1)  # (batch, heads, length, head)
        key = qkv[1].transpose(2, 0, 1, 3)  # (batch, heads, head, length)
        value = qkv[2].transpose(2, 0, 3, 1)
        scores = query @ key  # already scaled (see _Layer)
        scores += bias
        scores -= scores.max(axis=-1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=-1, keepdims=True)
        context = (scores @ value).transpose(1, 3, 0, 2).reshape(width, tokens)
        attended = layer.out_weight @ context
        attended += layer.out_bias
        attended += hidden
        hidden = _layer_norm(attended, *layer.norm1, self.eps)
        inner = layer.up_weight @ hidden
        inner += layer.up_bias
        inner = _gelu(inner)
        out = layer.down_weight @ inner
        out += layer.down_bias
        out += hidden
        return _layer_norm(out, *layer.norm2, self.eps)


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.maximum(np.linalg.norm(rows, axis=-1, keepdims=True), 1e-12)


def _pool_spans(hidden: np.ndarray, offsets: Sequence[tuple[int, int]],
                spans: Sequence[tuple[int, int]], whole: np.ndarray) -> np.ndarray:
    """Mean of the token vectors inside each character span, as unit rows (`whole` if none)."""
    bounds = np.asarray(offsets, dtype=np.int64).reshape(-1, 2)
    real = bounds[:, 1] > bounds[:, 0]  # special tokens have empty offsets
    rows = np.empty((len(spans), hidden.shape[-1]), dtype=np.float32)
    for row, (begin, end) in enumerate(spans):
        inside = real & (bounds[:, 0] >= begin) & (bounds[:, 1] <= end)
        rows[row] = _unit(hidden[: len(bounds)][inside].mean(axis=0)) if inside.any() else whole
    return rows
