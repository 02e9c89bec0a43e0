"""The `seedqa` command: ingest | ask | chat | eval | documents.

Each command is a few lines over library calls; errors a user can fix become
one line on stderr and a non-zero exit.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from seedqa.errors import SeedqaError
from seedqa.eval_command import eval_command
from seedqa.settings import Settings
from seedqa.terminal import safe


def _settings(ctx: click.Context) -> Settings:
    overrides = {key: value for key, value in ctx.obj.items() if value is not None}
    try:
        return Settings(**overrides)
    except ValueError as error:  # pydantic's ValidationError is a ValueError
        raise click.ClickException(f"bad setting: {error}") from error


class _Group(click.Group):
    """Any SeedqaError a command lets through (a full disk, a busy index) is one line, exit 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except SeedqaError as error:
            raise click.ClickException(safe(error)) from error


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--data-dir", type=click.Path(path_type=Path), default=None,
              help="Index directory [env SEEDQA_DATA_DIR; default: your user data folder].")
@click.version_option(package_name="seedqa")
@click.pass_context
def main(ctx: click.Context, data_dir: Path | None) -> None:
    """Ask questions about your documents; every answer cites its passages.

    \b
    Start with:
      seedqa ingest seeds/                 # index the files in seeds/
      seedqa ask "How many drones did Russia fire at Ukraine overnight?"
      seedqa chat                          # the web chat, on http://127.0.0.1:7860

    Settings come from SEEDQA_* environment variables (see README).
    """
    ctx.obj = {"data_dir": data_dir}


EXIT_OK, EXIT_NOTHING, EXIT_SOME_FAILED = 0, 1, 2


@main.command(epilog="""\b
Exit status:
  0  every file was ingested (or was already, unchanged)
  2  some files could not be read; the others were ingested
  1  nothing could be read, or an error (a full disk, a busy index)""")
# readable=False: an unreadable file is the loader's to report, with the others.
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path, readable=False))
@click.option("--prune", is_flag=True,
              help="Also forget documents under PATHS whose files are gone (or came in "
                   "through a link that is gone or no longer followed).")
@click.option("--prune-all", is_flag=True,
              help="Also forget every document whose file is gone, wherever it was "
                   "(an unmounted disk's too).")
@click.option("--follow-links", is_flag=True,
              help="Read files that symbolic links inside a folder point to outside it "
                   "(default: pass over them and report them).")
@click.pass_context
def ingest(ctx: click.Context, paths: tuple[Path, ...], prune: bool, prune_all: bool,
           follow_links: bool) -> None:
    """Add files or folders (recursively) to the index.

    Reads .txt, .md, .html and .pdf; skips other files with a note. Running it
    again on the same files changes nothing; changed files are re-indexed. A
    file that cannot be read is reported and passed over; the rest are ingested.
    """
    report = _ingest(_settings(ctx), list(paths), prune, follow_links=follow_links,
                     prune_all=prune_all)
    for result in report.files:
        if result.status in ("failed", "skipped") or result.message:
            click.echo(f"{result.status}: {safe(result.source, one_line=True)}: "
                       f"{safe(result.message, one_line=True)}", err=True)
    click.echo(safe(report.summary(), one_line=True))
    sys.exit(ingest_exit_code(report, paths))


def ingest_exit_code(report, paths) -> int:
    """0 all read, 2 some failed and some were read, 1 none read (see `ingest --help`)."""
    from ingest.walk import named_source

    # A file named on the command line that was not read is an error too (a .zip, say);
    # files passed over inside a folder are only noted.
    named = {named_source(path) for path in paths if not path.is_dir()}
    refused = [r for r in report.files if r.status == "skipped" and r.source in named]
    if not (report.errors or refused):
        return EXIT_OK
    read = sum(report.count(status) for status in ("added", "updated", "unchanged"))
    return EXIT_SOME_FAILED if read else EXIT_NOTHING


def _ingest(settings: Settings, paths: list[Path], prune: bool = False, **options):
    from tqdm import tqdm

    from ingest import ingest_paths

    with tqdm(total=0, unit="file", desc="ingest", disable=None) as bar:
        def progress(done: int, total: int, name: str) -> None:
            bar.total = total
            bar.n = done
            bar.set_postfix_str(safe(name, one_line=True)[-60:])
            bar.refresh()

        def waiting(message: str) -> None:
            bar.clear()
            click.echo(safe(message), err=True)

        return ingest_paths(paths, settings, prune=prune, progress=progress, on_wait=waiting,
                            **options)


BACKENDS = ("extractive", "openai", "ollama", "llamacpp")
backend_option = click.option(
    "--backend", type=click.Choice(BACKENDS), default=None,
    help="Who writes the answers: extractive (quotes a passage; no LLM) or an LLM backend "
         "configured by SEEDQA_LLM_* (see README) [env SEEDQA_LLM_BACKEND; default extractive].")


def _with_backend(settings: Settings, backend: str | None) -> Settings:
    return settings.model_copy(update={"llm_backend": backend}) if backend else settings


@main.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
@backend_option
@click.pass_context
def ask(ctx: click.Context, question: str, as_json: bool, backend: str | None) -> None:
    """Answer QUESTION from the indexed documents, with numbered citations.

    With an LLM backend the answer streams as it is written, and sentences the
    cited passages do not support are listed as such.
    """
    from qa import Assistant

    settings = _with_backend(_settings(ctx), backend)
    streamed = ""
    try:
        assistant = Assistant(settings)
        if as_json or settings.llm_backend == "extractive":
            answer = assistant.answer(question)
        else:
            answer, streamed = _stream(assistant, question)
    except SeedqaError as error:
        raise click.ClickException(safe(error)) from error
    if as_json:
        click.echo(answer.to_json())
        return
    if answer.meta.get("fallback"):
        if streamed:
            click.echo("\n(The passages do not support what the model wrote; quoting them instead.)")
        click.echo(safe(answer.text.replace("**", "")))
    elif not streamed or answer.abstained:
        click.echo(safe(answer.text.replace("**", "")))
    if answer.unsupported:
        click.echo("\nNot supported by the cited passages:")
        for sentence in answer.unsupported:
            click.echo(f"  ✗ {safe(sentence, one_line=True)}")
    heading = "Closest passages:" if answer.abstained else "Sources:"
    click.echo(f"\n{heading}")
    for number, citation in enumerate(answer.citations, 1):
        where = safe(Path(citation.source).name, one_line=True)
        details = ", ".join(
            part for part in (citation.date, f"page {citation.page}" if citation.page else None)
            if part
        )
        title = safe(citation.title, one_line=True)
        details = safe(details, one_line=True)
        click.echo(f"[{number}] {title} ({where}{', ' + details if details else ''})")
        click.echo(f"    “{safe(_excerpt(citation.text, answer.text))}”")


def _stream(assistant, question: str):
    """Print an LLM's answer as it arrives; returns the final Answer and the text printed."""
    shown = ""
    answer = None
    for answer in assistant.stream(question):
        if answer.meta.get("partial") and answer.text.startswith(shown):
            click.echo(safe(answer.text[len(shown):].replace("**", "")), nl=False)
            shown = answer.text
    if shown:
        click.echo()
    return answer, shown


def _excerpt(passage: str, answer_text: str, width: int = 50) -> str:
    """About `width` words of the passage, around the answer's sentence when it is there."""
    passage = " ".join(passage.split())
    words = passage.split()
    if len(words) <= width:
        return passage
    quoted = " ".join(answer_text.replace("**", "").rsplit("[", 1)[0].strip(" …").split())
    found = passage.find(quoted[:60]) if quoted else -1
    first = max(0, len(passage[:found].split()) - 8) if found >= 0 else 0
    last = min(len(words), first + width)
    return ("… " if first else "") + " ".join(words[first:last]) + (" …" if last < len(words) else "")


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--host", default=None, help="Address to listen on [default 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port [default 7860; 0 picks a free one].")
@click.option("--share", is_flag=True, help="Also open a public Gradio share link (off by default).")
@backend_option
@click.pass_context
def chat(ctx: click.Context, paths: tuple[Path, ...], host: str | None, port: int | None,
         share: bool, backend: str | None) -> None:
    """Open the web chat. Ingests PATHS first (default: ./seeds when the index is empty)."""
    from qa import Assistant

    settings = _with_backend(_settings(ctx), backend)
    assistant = Assistant(settings)
    to_ingest = list(paths)
    if not to_ingest and not assistant.documents() and Path("seeds").is_dir():
        to_ingest = [Path("seeds")]
    if to_ingest:
        click.echo(safe(_ingest(settings, to_ingest).summary(), one_line=True))
    import ui

    ui.serve(assistant, settings, host=host, port=port, share=share)


@main.command()
@click.pass_context
def documents(ctx: click.Context) -> None:
    """List the indexed documents."""
    from qa import Assistant

    records = Assistant(_settings(ctx)).documents()
    if not records:
        click.echo("The index is empty; add documents with: seedqa ingest PATH")
    for record in records:
        fields = (record.title, record.date or "no date", f"{record.chunks} chunks", record.source)
        click.echo(" | ".join(safe(field, one_line=True) for field in fields))


main.add_command(eval_command)


if __name__ == "__main__":
    main()
