"""Split a document's text into token-sized, overlapping chunks on sentence boundaries.

Sizes are counted in tiktoken tokens (settings), and every chunk is checked
against the embedding model's own word-piece limit, because the model
silently cuts off whatever lies past it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from seedqa.text import Span, sentences


@dataclass(frozen=True)
class Chunker:
    """Packs sentences into chunks of at most `max_tokens`, overlapping by about `overlap_tokens`."""

    count_tokens: Callable[[str], int]
    max_tokens: int
    overlap_tokens: int
    # Word pieces the embedding model reads (special tokens included), and how to count them.
    model_max_tokens: int = 256
    count_model_tokens: Callable[[Sequence[str]], list[int]] | None = None
    token_offsets: Callable[[str], list[int]] | None = None  # start offset of each token

    def split(self, text: str) -> list[Span]:
        pieces = []
        for begin, end in sentences(text):
            pieces.extend(self._fit(text, begin, end))
        sizes = [self.count_tokens(text[b:e]) for b, e in pieces]
        chunks = self._pack(pieces, sizes)
        return self._fit_model(text, chunks)

    def _fit(self, text: str, begin: int, end: int) -> list[Span]:
        """A sentence longer than a chunk is cut into chunk-sized token windows."""
        if self.count_tokens(text[begin:end]) <= self.max_tokens or self.token_offsets is None:
            return [(begin, end)]
        offsets = self.token_offsets(text[begin:end])
        cuts = offsets[:: self.max_tokens] + [end - begin]
        return [(begin + a, begin + b) for a, b in zip(cuts, cuts[1:]) if b > a]

    def _pack(self, pieces: list[Span], sizes: list[int]) -> list[Span]:
        chunks, first = [], 0
        while first < len(pieces):
            last, total = first, sizes[first]
            while last + 1 < len(pieces) and total + sizes[last + 1] <= self.max_tokens:
                last += 1
                total += sizes[last]
            chunks.append((pieces[first][0], pieces[last][1]))
            if last + 1 >= len(pieces):
                break
            # Step back over whole sentences for the overlap, always moving forward.
            next_first, overlap = last + 1, 0
            while next_first - 1 > first and overlap + sizes[next_first - 1] <= self.overlap_tokens:
                next_first -= 1
                overlap += sizes[next_first]
            first = next_first
        return chunks

    def _fit_model(self, text: str, chunks: list[Span]) -> list[Span]:
        """Halve any chunk the embedding model would truncate, until all fit."""
        if self.count_model_tokens is None:
            return chunks
        counts = self.count_model_tokens([text[b:e] for b, e in chunks])
        fitted = []
        for (begin, end), count in zip(chunks, counts):
            if count <= self.model_max_tokens:
                fitted.append((begin, end))
                continue
            halves = self._halve(text, begin, end)
            fitted.extend(self._fit_model(text, halves))
        return fitted

    def _halve(self, text: str, begin: int, end: int) -> list[Span]:
        inner = [(b, e) for b, e in sentences(text, (begin, end))]
        if len(inner) > 1:
            middle = len(inner) // 2
            return [(inner[0][0], inner[middle - 1][1]), (inner[middle][0], inner[-1][1])]
        middle = text.rfind(" ", begin, (begin + end) // 2) + 1 or (begin + end) // 2
        if middle <= begin:
            middle = (begin + end) // 2
        return [(begin, middle), (middle, end)]
