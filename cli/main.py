"""The `seedqa` command: ingest | ask | search | chat | serve | eval | documents | adopt | repair.

Each command is a few lines over `qa.Assistant`; every write goes through
`Assistant.add_documents`. Errors a user can fix (any `SeedqaError`) become
one line on stderr and exit status 1, in one place: `cli.common.Group`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from cli.common import (
    Group,
    assistant_from,
    backend_option,
    data_dir_option,
    question_argument,
    settings_from,
)
from cli.eval import eval_command
from seedqa.errors import IndexNotReadyError
from seedqa.offline import quiet_environment
from seedqa.paths import named_source
from seedqa.terminal import safe


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
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
    quiet_environment()
    ctx.obj = {"data_dir": data_dir}


EXIT_OK, EXIT_NOTHING, EXIT_SOME_FAILED = 0, 1, 2


@main.command(epilog="""\b
Exit status:
  0  every file was ingested (or was already, unchanged)
  2  some files could not be read; the others were ingested
  1  nothing could be read, or an error (a full disk, a busy index)""")
@data_dir_option
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
    from cli.progress import ingest_with_progress

    report = ingest_with_progress(assistant_from(ctx), paths, prune=prune, prune_all=prune_all,
                                  follow_links=follow_links)
    for result in report.files:
        if result.status in ("failed", "skipped") or result.message:
            click.echo(f"{result.status}: {safe(result.source, one_line=True)}: "
                       f"{safe(result.message, one_line=True)}", err=True)
    click.echo(safe(report.summary(), one_line=True))
    sys.exit(ingest_exit_code(report, paths))


def ingest_exit_code(report, paths) -> int:
    """0 all read, 2 some failed and some were read, 1 none read (see `ingest --help`)."""
    # A file named on the command line that was not read is an error too (a .zip, say);
    # files passed over inside a folder are only noted.
    named = {named_source(path) for path in paths if not path.is_dir()}
    refused = [r for r in report.files if r.status == "skipped" and r.source in named]
    if not (report.errors or refused):
        return EXIT_OK
    read = sum(report.count(status) for status in ("added", "updated", "unchanged"))
    return EXIT_SOME_FAILED if read else EXIT_NOTHING


@main.command()
@data_dir_option
@click.argument("question", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
@backend_option
@click.pass_context
def ask(ctx: click.Context, question: str | None, as_json: bool, backend: str | None) -> None:
    """Answer QUESTION from the indexed documents, with numbered citations.

    QUESTION "-" (or none, with a question piped in) reads it from standard
    input. With an LLM backend the answer streams as it is written, and
    sentences the cited passages do not support are listed as such.
    """
    from cli.output import print_answer

    question = question_argument(ctx, question)
    print_answer(assistant_from(ctx, backend), question, as_json=as_json)


@main.command()
@data_dir_option
@click.argument("query", required=False)
@click.option("--k", type=click.IntRange(1, 100), default=5, show_default=True,
              help="How many passages.")
@click.option("--json", "as_json", is_flag=True, help="Print the passages as JSON.")
@click.pass_context
def search(ctx: click.Context, query: str | None, k: int, as_json: bool) -> None:
    """The K passages most likely to answer QUERY, best first: retrieval alone, no answer.

    QUERY "-" (or none, piped in) reads it from standard input.
    """
    from cli.output import print_passages

    passages = assistant_from(ctx).retrieve(question_argument(ctx, query), k)
    print_passages(passages, as_json=as_json)


@main.command()
@data_dir_option
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--host", default=None, help="Address to listen on [default 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port [default 7860; 0 picks a free one].")
@click.option("--share", is_flag=True, help="Also open a public Gradio share link (off by default).")
@backend_option
@click.pass_context
def chat(ctx: click.Context, paths: tuple[Path, ...], host: str | None, port: int | None,
         share: bool, backend: str | None) -> None:
    """Open the web chat. Ingests PATHS first (default: ./seeds when the index is empty)."""
    from cli.progress import ingest_with_progress

    assistant = assistant_from(ctx, backend)
    to_ingest = list(paths)
    try:
        empty = not assistant.documents()
    except IndexNotReadyError:  # no index yet: reads create none
        empty = True
    if not to_ingest and empty and Path("seeds").is_dir():
        to_ingest = [Path("seeds")]
    if to_ingest:
        click.echo(safe(ingest_with_progress(assistant, to_ingest).summary(), one_line=True))
    import ui

    ui.serve(assistant, assistant.settings, host=host, port=port, share=share)


@main.command()
@data_dir_option
@click.argument("collection")
@click.pass_context
def adopt(ctx: click.Context, collection: str) -> None:
    """Answer over a Chroma COLLECTION that another tool built (LangChain, say).

    COLLECTION is read, never changed: seedqa writes its own collections
    (SEEDQA_COLLECTION, default COLLECTION itself) beside it, reusing its
    vectors. Run it again after the collection changes.
    """
    from qa import Assistant

    settings = settings_from(ctx)
    if "collection" not in settings.model_fields_set:
        settings = settings.model_copy(update={"collection": collection})
    results = Assistant(settings).adopt_collection(collection)
    for source, status, chunks in results:
        click.echo(f"{status}: {source} ({chunks} chunks)")
    click.echo(f"{len(results)} documents from {collection!r}; ask with: "
               f"SEEDQA_COLLECTION={settings.collection} seedqa ask QUESTION")


@main.command()
@data_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print the documents as JSON.")
@click.pass_context
def documents(ctx: click.Context, as_json: bool) -> None:
    """List the indexed documents."""
    from cli.output import print_documents

    print_documents(assistant_from(ctx).documents(), as_json=as_json)


@main.command()
@data_dir_option
@click.option("--host", default=None, help="Address to listen on [default 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port [default 7860; 0 picks a free one].")
@click.option("--no-chat", is_flag=True, help="Serve the API alone, without the chat at /chat.")
@click.option("--sources-in-text", is_flag=True,
              help="Chat completions also list the sources at the end of the answer text "
                   "(for OpenAI-compatible chat UIs that show only the text).")
@backend_option
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, no_chat: bool,
          sources_in_text: bool, backend: str | None) -> None:
    """Serve the HTTP API (OpenAI-compatible /v1/chat/completions too; docs at /docs)
    and the web chat at /chat."""
    import api

    assistant = assistant_from(ctx, backend)
    api.serve(assistant, assistant.settings, host=host, port=port, chat=not no_chat,
              sources_in_text=sources_in_text)


@main.command()
@data_dir_option
@click.pass_context
def repair(ctx: click.Context) -> None:
    """Rebuild a damaged index from the chunks and documents it still holds.

    Embeds the stored chunk texts again where their vectors are lost, writes a
    new index beside the old one and swaps it in; the damaged one is kept as
    DATA_DIR.damaged-TIME. A sound index is left as it is.
    """
    assistant = assistant_from(ctx)
    click.echo(f"Checking the index at {assistant.settings.data_dir}…", err=True)
    report = assistant.repair(on_wait=lambda message: click.echo(message, err=True))
    click.echo(report.summary())
    if report.lost:
        sys.exit(1)


main.add_command(eval_command)
