"""The NumPy MiniLM (index/minilm.py) against sentence-transformers, the reference.

Queries and ingest both go through the NumPy forward pass, so its vectors must
be the ones SentenceTransformer.encode gives for the same model files: same
direction (cosine >= 0.9999) on varied texts, and the same nearest chunks on
the seed index. Also: `seedqa ask` must not import torch on its way.
"""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys

import numpy as np
import pytest

from index.minilm import NumpyMiniLM, _gelu
from index import Embedder, Index, shared_embedder

from .conftest import ROOT, SEEDS, seed_questions


@pytest.fixture(scope="module")
def reference():
    """sentence-transformers itself, loaded once for this module (imports torch)."""
    from sentence_transformers import SentenceTransformer

    path = Embedder().model_path
    model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
    return lambda texts: model.encode(list(texts), batch_size=32, normalize_embeddings=True,
                                      convert_to_numpy=True, show_progress_bar=False)


def _texts() -> list[str]:
    """Varied texts: sentences and word windows of the seed report, word salad drawn
    from the model's vocabulary (rare pieces, subwords, numbers), and edge cases."""
    text = " ".join(path.read_text(encoding="utf-8") for path in sorted(SEEDS.glob("*.txt")))
    words = text.split()
    rng = random.Random(7)
    texts = [line.strip() for line in text.splitlines() if line.strip()][:40]
    for length in (1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 300, 400):
        start = rng.randrange(max(1, len(words) - length))
        texts.append(" ".join(words[start : start + length]))
    vocab = json.loads((Embedder().model_path / "tokenizer.json").read_text())["model"]["vocab"]
    pieces = [piece for piece in vocab if not piece.startswith("[")]
    for length in (1, 4, 16, 64, 250, 600):
        for _ in range(3):
            texts.append(" ".join(rng.choice(pieces) for _ in range(length)))
    texts += [q["question"] for q in seed_questions()]
    texts += [
        "", " ", "a", "?", "UPPER CASE AND lower case", "Ünïcödé façade — naïve café",
        "中文文本和 emoji 🎉🚀", "2026-01-27: 165 drones, 24 hits, 7 regions (AP)",
        "tab\tand\nnewline\r\nseparated", "word " * 700,  # past the 256-piece window
    ]
    return texts


def test_packaged_model_runs_on_numpy():
    assert NumpyMiniLM.supports(Embedder().model_path)
    assert Embedder().backend == "numpy"


def test_same_vectors_as_sentence_transformers(reference):
    texts = _texts()
    ours = shared_embedder().encode(texts)
    theirs = reference(texts)
    assert ours.shape == theirs.shape == (len(texts), 384)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cosines = (ours * theirs).sum(axis=1)
    worst = int(np.argmin(cosines))
    assert cosines.min() >= 0.9999, f"cosine {cosines[worst]:.6f} for {texts[worst][:80]!r}"


def test_a_text_gets_the_same_vector_alone_or_in_a_padded_batch():
    model = shared_embedder()._load()
    texts = ["short", "a somewhat longer sentence about drones over Odesa", "x " * 300]
    together = model.encode(texts, batch_size=8)
    for row, text in enumerate(texts):
        alone = model.encode([text], batch_size=8)[0]
        assert float(alone @ together[row]) >= 0.99999


def test_gelu_is_the_exact_erf_form():
    values = np.concatenate([np.linspace(-9, 9, 721), [0.0, -1e-6, 1e-6, -30.0, 30.0]])
    x = values.astype(np.float32).reshape(2, -1)
    expected = np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in values])
    got = _gelu(x.copy())
    assert got.dtype == np.float32
    np.testing.assert_allclose(got.ravel(), expected, atol=2e-6)


def test_sentences_are_pooled_from_the_passage_pass():
    model = shared_embedder()._load()
    text = "Drones struck Odesa overnight. The port lost power. Repairs began at dawn."
    spans = [(0, 30), (31, 50), (51, 73)]
    vectors, [pooled] = model.encode([text], spans=[spans])
    assert pooled.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(pooled, axis=1), 1.0, atol=1e-5)
    # The same rows alone or beside a longer text (padding must not leak in).
    _, [_, beside] = model.encode(["word " * 200, text], spans=[[(0, 5)], spans])
    assert (pooled * beside).sum(axis=1).min() >= 0.99999
    # The whole text's span is nearly the text's own vector ([CLS] and [SEP] aside).
    _, [whole] = model.encode([text], spans=[[(0, len(text))]])
    assert float(whole[0] @ vectors[0]) >= 0.98
    # A sentence cut off by the model's window gets the whole text's vector.
    long = "word " * 400 + "Last sentence."
    [vector], [cut] = model.encode([long], spans=[[(0, 4), (2000, len(long))]])
    assert len(cut) == 2 and np.array_equal(cut[1], vector)


def test_same_nearest_chunks_on_the_seed_index(seed_index, reference):
    from qa.retrieval import Corpus

    corpus = Corpus.of(Index(seed_index).live())
    texts = [chunk.text for chunk in corpus.chunks]
    assert len(texts) >= 3
    # What the store holds is the reference model's embedding of each chunk.
    assert (corpus.vectors * reference(texts)).sum(axis=1).min() >= 0.9999
    questions = [q["question"] for q in seed_questions()]
    for question, theirs in zip(questions, reference(questions)):
        ours = shared_embedder().encode([question])[0]
        k = min(5, len(texts))
        assert list(corpus.nearest(ours, k)) == list(corpus.nearest(theirs, k)), question


def test_ask_imports_neither_torch_nor_the_ui(seed_index):
    """The query path needs one short embedding: no torch, transformers or gradio."""
    script = (
        "import sys\n"
        "from cli import main\n"
        "main(['--data-dir', sys.argv[1], 'ask', 'How many drones did Russia fire?'],"
        " standalone_mode=False)\n"
        "heavy = ['torch', 'transformers', 'sentence_transformers', 'gradio',"
        " 'langchain_chroma', 'langchain_huggingface', 'sklearn']\n"
        "print('LOADED', [name for name in heavy if name in sys.modules])\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(seed_index.data_dir)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "LOADED []" in done.stdout, done.stdout


def test_recent_query_texts_are_remembered_not_shared():
    embedder = Embedder(batch_size=8)
    first = embedder.encode(["a question about drones", "another one"])
    first[:] = 0.0  # the caller's copy; the remembered vectors must not change
    again = embedder.encode(["another one", "a question about drones"])
    batch = embedder.encode(["a question about drones", "another one", "x", "y", "z"])
    np.testing.assert_allclose(again[::-1], batch[:2], atol=1e-6)
    assert len(embedder._recent) == 2
