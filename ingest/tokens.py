"""tiktoken counts and offsets in time linear in the text, whatever the text.

tiktoken's byte-pair merge is superlinear in the length of one pre-token
(its regex keeps a run of letters together): a 5 MB line of letters took
43 s and 16.7 GB. So runs of more than `MAX_RUN` characters without white
space are encoded in `MAX_RUN`-character slices. 100 characters is longer
than any word of prose (the longest English words are under 50 characters)
and than most URLs, so ordinary text is encoded exactly as before; a hash,
a base64 blob or a run of one letter costs at most a token more per slice,
and no piece handed to BPE is ever longer than 100 characters.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

MAX_RUN = 100
_LONG_RUN = re.compile(r"(?<!\S)\S{%d,}" % (MAX_RUN + 1))


def pieces(text: str, limit: int = MAX_RUN) -> Iterator[tuple[int, str]]:
    """(offset, piece) covering `text` in order, no piece holding a run longer than `limit`."""
    if limit == MAX_RUN:
        runs = _LONG_RUN.finditer(text)
    else:
        runs = re.finditer(r"(?<!\S)\S{%d,}" % (limit + 1), text)
    begin = 0
    for run in runs:
        if run.start() > begin:
            yield begin, text[begin : run.start()]
        for cut in range(run.start(), run.end(), limit):
            yield cut, text[cut : min(cut + limit, run.end())]
        begin = run.end()
    if begin < len(text) or not text:
        yield begin, text[begin:]


class BoundedEncoding:
    """A tiktoken encoding's `count` and `offsets`, long runs encoded in slices."""

    def __init__(self, encoding) -> None:
        self.encoding = encoding

    def count(self, text: str) -> int:
        return sum(len(self.encoding.encode_ordinary(piece)) for _, piece in pieces(text))

    def offsets(self, text: str) -> list[int]:
        """The character offset at which each token starts."""
        result: list[int] = []
        for begin, piece in pieces(text):
            if not piece:
                continue
            _, starts = self.encoding.decode_with_offsets(self.encoding.encode_ordinary(piece))
            result.extend(begin + start for start in starts)
        return result
