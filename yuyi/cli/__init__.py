"""The `yuyi` command line (Typer). Errors a user can fix print as one line, exit code 2."""

from __future__ import annotations

import sys

import typer

from yuyi.cli import (
    backup,
    bench,
    bench_commands,
    classify,
    config,
    demo,
    doctor,
    embed,
    evaluate,
    export,
    files,
    index,
    migrate,
    models,
    pairs,
    serve,
    text,
    train,
    tune,
)
from yuyi.cli.common import err_console
from yuyi.errors import YuyiError

app = typer.Typer(
    name="yuyi",
    help="yuyi (语义): semantic search for Chinese, Japanese and Korean text.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help wraps every default at 80 columns; Rich's boxes cut them
)
app.add_typer(models.app, name="models")
app.add_typer(text.app, name="text")
app.add_typer(index.collections_app, name="collections")
index.collections_app.command("backup")(backup.collections_backup)
index.collections_app.command("restore")(backup.collections_restore)
app.command("index")(files.index)
app.command("extract")(files.extract)
app.command("documents")(files.documents)
app.command("delete")(files.delete)
app.command("search")(index.search)
app.command("serve")(serve.serve)
app.command("eval")(evaluate.evaluate)
app.add_typer(bench.bench_app, name="bench")
for _name in ("backends", "serve", "qa", "report"):
    bench.bench_app.command(_name)(getattr(bench_commands, _name))
app.command("tune")(tune.tune)
app.command("train")(train.train)
app.command("embed")(embed.embed)
app.command("similarity")(embed.similarity)
app.command("demo")(demo.demo)
app.command("export")(export.export)
app.command("config")(config.config)
app.command("migrate")(migrate.migrate)
app.command("mine")(pairs.mine)
app.command("dedup")(pairs.dedup)
app.add_typer(classify.app, name="classify")
app.command("doctor")(doctor.doctor)


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings from yuyi itself as one line for the user, without a source path."""
    err_console.print(f"[yellow]warning:[/yellow] {message}", highlight=False, soft_wrap=True)


def main() -> None:
    import warnings

    from yuyi.models.encoder import TruncationWarning

    default_show = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, TruncationWarning):
            return _one_line_warning(message, category, filename, lineno, file, line)
        return default_show(message, category, filename, lineno, file, line)

    warnings.showwarning = show
    try:
        app()
    except YuyiError as exc:
        err_console.print(f"[bold red]error:[/bold red] {exc}", highlight=False, soft_wrap=True)  # one line in logs
        sys.exit(2)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
