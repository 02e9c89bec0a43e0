"""What every command shares: its settings, its assistant, the error handling, --backend."""

from __future__ import annotations

from pathlib import Path

import click

from seedqa.errors import SeedqaError
from seedqa.settings import BACKENDS, Settings
from seedqa.terminal import safe


def settings_from(ctx: click.Context, backend: str | None = None) -> Settings:
    """Settings from SEEDQA_* variables, `seedqa`'s own options (--data-dir) and --backend."""
    root = ctx.find_root().obj
    overrides = {key: value for key, value in (root or {}).items() if value is not None}
    if backend:
        overrides["llm_backend"] = backend
    try:
        return Settings(**overrides)
    except ValueError as error:  # pydantic's ValidationError is a ValueError
        raise click.ClickException(f"bad setting: {error}") from error


def assistant_from(ctx: click.Context, backend: str | None = None):
    from qa import Assistant

    return Assistant(settings_from(ctx, backend))


class Group(click.Group):
    """Any SeedqaError a command lets through (a full disk, a busy index) is one line, exit 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except SeedqaError as error:
            raise click.ClickException(safe(error)) from error


backend_option = click.option(
    "--backend", type=click.Choice(BACKENDS), default=None,
    help="Who writes the answers: extractive (quotes a passage; no LLM) or an LLM backend "
         "configured by SEEDQA_LLM_* (see README) [env SEEDQA_LLM_BACKEND; default extractive].")


def _remember_data_dir(ctx: click.Context, _param, value):
    if value is not None:
        root = ctx.find_root()
        root.obj = {**(root.obj or {}), "data_dir": value}


# `seedqa ask --data-dir DIR ...` as well as `seedqa --data-dir DIR ask ...`.
data_dir_option = click.option(
    "--data-dir", type=click.Path(path_type=Path), default=None, expose_value=False,
    is_eager=True, callback=_remember_data_dir,
    help="Index directory [env SEEDQA_DATA_DIR; default: your user data folder].")


def question_argument(ctx: click.Context, question: str | None) -> str:
    """QUESTION as given, or read from standard input for "-" or when it is piped in."""
    if question not in (None, "-"):
        return question
    stream = click.get_text_stream("stdin", errors="surrogateescape")  # bad bytes: refused later, in words
    if question is None and stream.isatty():
        raise click.UsageError("Give a QUESTION, or pipe one in (echo QUESTION | seedqa ask -).", ctx)
    return stream.read()
