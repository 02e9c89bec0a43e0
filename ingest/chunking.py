"""Split a document's text into passages that follow its paragraphs.

A paragraph that fits the budget is one chunk: it is the unit a writer made
to hold one topic, and a chunk that straddles two paragraphs ranks lower for
questions on either. A longer paragraph is cut on sentence boundaries into
pieces of about equal size, overlapping by about `overlap_tokens`. A short
heading line ("Harvard University") opens the chunk that follows it rather
than standing alone, since a title-only chunk matches every question about
its subject and answers none. On SQuAD, paragraph chunks lifted recall@1
from 0.833 to 0.857 against 160-token chunks packed across paragraph ends,
under the same fusion (benchmarks/README.md).

The budget is both `max_tokens` tiktoken tokens (settings) and `max_chars`
characters (the passage size the benchmarks compare at), and every chunk is
checked against the embedding model's own word-piece limit, because the
model silently cuts off whatever lies past it.

Why not langchain-text-splitters: its RecursiveCharacterTextSplitter merges
small paragraphs up to the size limit, the packing across paragraph ends that
measured 0.024 lower recall@1 on SQuAD (above); it does not know the model's
word-piece window; and its start offsets are found by searching the text
again, where this chunker carries them from the cut itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from seedqa.text import Span, paragraphs, sentences

CHUNKER_VERSION = 2
"""Bumped whenever the way text is cut changes, so stored documents get re-chunked."""

# A paragraph this short without a sentence end is a heading: it joins the next one.
_HEADING_CHARS = 100
_COUNT_GROUP = 256  # chunks whose word pieces are counted in one call


@dataclass(frozen=True)
class Chunker:
    """Cuts text into paragraph-aligned chunks of at most `max_tokens` and `max_chars`."""

    count_tokens: Callable[[str], int]
    max_tokens: int
    overlap_tokens: int
    max_chars: int = 1000
    # Word pieces the embedding model reads (special tokens included), and how to count them.
    model_max_tokens: int = 256
    count_model_tokens: Callable[[Sequence[str]], list[int]] | None = None
    token_offsets: Callable[[str], list[int]] | None = None  # start offset of each token

    def split(self, text: str) -> list[Span]:
        chunks = []
        for begin, end in self._blocks(text):
            if self._fits(text, begin, end):
                chunks.append((begin, end))
                continue
            pieces = []
            for sentence in sentences(text, (begin, end)):
                pieces.extend(self._fit(text, *sentence))
            chunks.extend(self._pack(pieces, [self.count_tokens(text[b:e]) for b, e in pieces]))
        return self._fit_model(text, chunks)

    def _fits(self, text: str, begin: int, end: int) -> bool:
        if end - begin > self.max_chars:
            return False
        return self.count_tokens(text[begin:end]) <= self.max_tokens

    def _blocks(self, text: str) -> list[Span]:
        """Paragraphs, each heading joined to the paragraph after it."""
        blocks: list[Span] = []
        heading: int | None = None
        for begin, end in paragraphs(text):
            if heading is not None:
                begin, heading = heading, None
            piece = text[begin:end]
            if len(piece) <= _HEADING_CHARS and "\n" not in piece and piece[-1] not in ".!?:;":
                heading = begin
                continue
            blocks.append((begin, end))
        if heading is not None:  # a heading at the very end stands alone
            blocks.append((heading, len(text.rstrip())))
        return blocks

    def _fit(self, text: str, begin: int, end: int) -> list[Span]:
        """A sentence longer than a chunk is cut into chunk-sized windows."""
        if self._fits(text, begin, end):
            return [(begin, end)]
        if self.token_offsets is None:
            return [(begin + a, min(end, begin + a + self.max_chars))
                    for a in range(0, end - begin, self.max_chars)]
        offsets = self.token_offsets(text[begin:end]) + [end - begin]
        windows, first = [], 0
        while first < len(offsets) - 1:
            last = min(first + self.max_tokens, len(offsets) - 1)
            while last > first + 1 and offsets[last] - offsets[first] > self.max_chars:
                last -= 1
            windows.append((begin + offsets[first], begin + offsets[last]))
            first = last
        return [(b, e) for b, e in windows if e > b]

    def _pack(self, pieces: list[Span], sizes: list[int]) -> list[Span]:
        """Sentences into as few chunks as the budget allows, of about equal size.

        Packing greedily to the full budget leaves a scrap at the end; so find the
        fewest chunks at full budget, then the smallest budget that still needs no more.
        """
        fewest = self._pack_greedy(pieces, sizes, 1.0)
        low, high = 0.0, 1.0
        for _ in range(12):
            middle = (low + high) / 2
            if len(self._pack_greedy(pieces, sizes, middle)) <= len(fewest):
                high = middle
            else:
                low = middle
        return self._pack_greedy(pieces, sizes, high)

    def _pack_greedy(self, pieces: list[Span], sizes: list[int], scale: float) -> list[Span]:
        """Greedy packing to `scale` of the budget (a single piece always fits)."""
        token_limit, char_limit = scale * self.max_tokens, scale * self.max_chars
        chunks, first = [], 0
        while first < len(pieces):
            last, total = first, sizes[first]
            while (last + 1 < len(pieces) and total + sizes[last + 1] <= token_limit
                   and pieces[last + 1][1] - pieces[first][0] <= char_limit):
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
        # In groups: the tokenizer's per-text encodings (ids, offsets, masks) of all of a
        # 50 MB document's chunks at once would take gigabytes.
        counts = []
        for first in range(0, len(chunks), _COUNT_GROUP):
            group = chunks[first : first + _COUNT_GROUP]
            counts.extend(self.count_model_tokens([text[b:e] for b, e in group]))
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
