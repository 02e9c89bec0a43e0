"""The one progress bar for ingests (seedqa ingest, chat, eval), on standard error."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from qa import Assistant
from seedqa.terminal import safe


def ingest_with_progress(assistant: Assistant, paths: Sequence[Path], *, prune: bool = False,
                         show: bool | None = None, **options):
    """`assistant.add_documents` with a bar per file and the lock-wait notice; its IngestReport.

    `show=None` shows the bar only on a terminal; `options` go to `add_documents`
    (`prune_all`, `follow_links`).
    """
    from tqdm import tqdm

    with tqdm(total=0, unit="file", desc="ingest", disable=None if show is None else not show,
              file=sys.stderr) as bar:

        def progress(done: int, total: int, name: str) -> None:
            bar.total = total
            bar.n = done
            bar.set_postfix_str(safe(name, one_line=True)[-60:])
            bar.refresh()

        def waiting(message: str) -> None:
            bar.clear()
            click.echo(safe(message), err=True)

        return assistant.add_documents(list(paths), progress=progress, prune=prune,
                                       on_wait=waiting, **options)
