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
Embedder in seedqa/store.py keeps using sentence-transformers.

Only seedqa/store.py imports this module.
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


def _erf(x: np.ndarray) -> np.ndarray:
    """erf to about 1e-7 (Abramowitz & Stegun 7.1.26), below float32's resolution here.

    BERT's "gelu" is the exact erf form; NumPy has no erf, and scipy.special
    costs more to import than this whole module.
    """
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741
                + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-a * a))


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _erf(x * np.float32(0.7071067811865476)))


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    variance = np.mean(centred * centred, axis=-1, keepdims=True)
    return centred / np.sqrt(variance + eps) * weight + bias


class _Layer:
    """One transformer block's weights, arranged for row-major matmuls."""

    def __init__(self, weights: dict[str, np.ndarray], prefix: str) -> None:
        def w(name: str) -> np.ndarray:
            return weights[f"{prefix}.{name}"]

        # Query, key and value in one product: one BLAS call instead of three.
        self.qkv_weight = np.ascontiguousarray(np.concatenate(
            [w("attention.self.query.weight"), w("attention.self.key.weight"),
             w("attention.self.value.weight")]).T)
        self.qkv_bias = np.concatenate(
            [w("attention.self.query.bias"), w("attention.self.key.bias"),
             w("attention.self.value.bias")])
        self.out_weight = np.ascontiguousarray(w("attention.output.dense.weight").T)
        self.out_bias = w("attention.output.dense.bias")
        self.norm1 = (w("attention.output.LayerNorm.weight"), w("attention.output.LayerNorm.bias"))
        self.up_weight = np.ascontiguousarray(w("intermediate.dense.weight").T)
        self.up_bias = w("intermediate.dense.bias")
        self.down_weight = np.ascontiguousarray(w("output.dense.weight").T)
        self.down_bias = w("output.dense.bias")
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
        self.layers = [_Layer(weights, f"encoder.layer.{i}")
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

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Unit-length embeddings, one float32 row per text, in the order given."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        encodings = self.tokenizer.encode_batch(list(texts))
        # Longest first, like sentence-transformers: batches of similar length pad little.
        order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))
        batches = [order[begin : begin + batch_size] for begin in range(0, len(order), batch_size)]

        def run(rows: list[int]) -> None:
            out[rows] = self._forward([encodings[i].ids for i in rows])

        with self._threads.limit(limits=1, user_api="blas"):
            if len(batches) == 1 or self.workers == 1:
                for rows in batches:
                    run(rows)
            else:
                # One batch per core, each on a single BLAS thread: NumPy releases
                # the GIL in matmuls and large element-wise steps.
                with ThreadPoolExecutor(min(self.workers, len(batches))) as pool:
                    list(pool.map(run, batches))
        return out

    def _forward(self, batch: list[list[int]]) -> np.ndarray:
        length = max(len(ids) for ids in batch)
        ids = np.zeros((len(batch), length), dtype=np.int64)
        mask = np.zeros((len(batch), length), dtype=np.float32)
        for row, tokens in enumerate(batch):
            ids[row, : len(tokens)] = tokens
            mask[row, : len(tokens)] = 1.0

        hidden = self.word_embeddings[ids] + self.position_embeddings[:length]
        hidden = _layer_norm(hidden, *self.embedding_norm, self.eps)
        # Padding gets a large negative score before the softmax, as in transformers.
        bias = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]
        for layer in self.layers:
            hidden = self._block(hidden, bias, layer)

        summed = np.einsum("bld,bl->bd", hidden, mask)
        pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return pooled / np.maximum(norms, 1e-12)

    def _block(self, hidden: np.ndarray, bias: np.ndarray, layer: _Layer) -> np.ndarray:
        batch, length, width = hidden.shape
        head = width // self.heads
        # Linear layers on (tokens, width) matrices: one BLAS call each, not one per text.
        flat = hidden.reshape(batch * length, width)
        qkv = flat @ layer.qkv_weight + layer.qkv_bias
        qkv = qkv.reshape(batch, length, 3, self.heads, head).transpose(2, 0, 3, 1, 4)
        query, key, value = qkv[0], qkv[1], qkv[2]  # each (batch, heads, length, head)
        scores = query @ key.transpose(0, 1, 3, 2) * np.float32(1.0 / np.sqrt(head)) + bias
        scores -= scores.max(axis=-1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=-1, keepdims=True)
        context = (scores @ value).transpose(0, 2, 1, 3).reshape(batch * length, width)
        attended = context @ layer.out_weight + layer.out_bias
        flat = _layer_norm(attended + flat, *layer.norm1, self.eps)
        inner = _gelu(flat @ layer.up_weight + layer.up_bias)
        flat = _layer_norm(inner @ layer.down_weight + layer.down_bias + flat,
                           *layer.norm2, self.eps)
        return flat.reshape(batch, length, width)
