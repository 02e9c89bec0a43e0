"""What every command shares: its settings, its assistant, the error handling, --backend."""

from __future__ import annotations

import click

from seedqa.errors import SeedqaError
from seedqa.settings import BACKENDS, Settings


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
            raise click.ClickException(str(error)) from error


backend_option = click.option(
    "--backend", type=click.Choice(BACKENDS), default=None,
    help="Who writes the answers: extractive (quotes a passage; no LLM) or an LLM backend "
         "configured by SEEDQA_LLM_* (see README) [env SEEDQA_LLM_BACKEND; default extractive].")
