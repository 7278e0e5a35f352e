"""The command line: parse options and dispatch, nothing else.

Each command's work lives in `curvedoc/commands/<name>.py` and returns an exit code.
Heavy modules (pandas, plotext) are imported there, not here, so `curvedoc --help`
starts in a fraction of a second.  Exit codes: 0 clean, 1 findings at or above
`--fail-on`, 2 bad input or usage, 3 an internal error (a bug: please report it).
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Annotated

import typer

from curvedoc import __version__
from curvedoc.render import OUTPUT_FORMATS

__all__ = ["app", "main"]

app = typer.Typer(
    name="curvedoc",
    help="A linter for learning curves: reads training logs and explains what the curves mean.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

PathsArg = Annotated[list[str], typer.Argument(
    help="Log files or directories of runs; '-' reads standard input.", show_default=False)]
FormatOpt = Annotated[str | None, typer.Option(
    "--format", "-f",
    help=f"Output format ({', '.join(OUTPUT_FORMATS)}) or, with a log-format name, the "
         "reader to use (see `curvedoc formats`).")]
OutputFormatOpt = Annotated[str | None, typer.Option(
    "--output-format", help=f"Output format: {', '.join(OUTPUT_FORMATS)}.")]
LogFormatOpt = Annotated[str | None, typer.Option(
    "--log-format", help="Read every input with this reader instead of sniffing.")]
XOpt = Annotated[str | None, typer.Option("--x", help="Column to use as the x axis.")]
PlotOpt = Annotated[bool | None, typer.Option(
    "--plot/--no-plot", help="Draw the curves (default: only when stdout is a terminal).",
    show_default=False)]
ColorOpt = Annotated[str, typer.Option(
    "--color", help="Colour: auto (terminal, unless NO_COLOR is set), always or never.")]
LogYOpt = Annotated[bool, typer.Option("--log-y", help="Plot loss on a log scale.")]
SummaryOpt = Annotated[bool, typer.Option(
    "--summary", help="Only the table of runs, without each run's details.")]
SaveSvgOpt = Annotated[str | None, typer.Option(
    "--save-svg", metavar="FILE", help="Also save the report, plots included, as SVG.")]
SaveHtmlOpt = Annotated[str | None, typer.Option(
    "--save-html", metavar="FILE", help="Also save the report, plots included, as HTML.")]
OutputOpt = Annotated[str | None, typer.Option(
    "--output", "-o", help="Write the report to this file instead of standard output.")]
ConfigOpt = Annotated[str | None, typer.Option(
    "--config", help="Settings file (default: the nearest curvedoc.toml, or pyproject.toml "
                     "with [tool.curvedoc], from the current directory up).")]
MaxSizeOpt = Annotated[str | None, typer.Option(
    "--max-size", help="Refuse to read a file bigger than this into memory, e.g. 2G, or "
                       "none (default: $CURVEDOC_MAX_BYTES, else 1G; see docs/limits.md).")]
IgnoreOpt = Annotated[list[str] | None, typer.Option(
    "--ignore", help="Finding codes to leave out (comma-separated or repeated); added to "
                     "the config file's ignore list.", show_default=False)]
SameDataOpt = Annotated[bool, typer.Option(
    "--same-data", help="Training and validation use the same data: report any lasting "
                        "gap between their losses (same-data-gap).")]
FAIL_ON_HELP = ("Exit 1 when a finding is at least this severe: info, warning, error or "
                "never (default: {}).")


def _role_option(role: str) -> object:
    return typer.Option(f"--{role.replace('_', '-')}", help=f"Column to use as {role}.")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"curvedoc {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version and exit.")] = False,
) -> None:
    """curvedoc reads training logs and tells you what the learning curves mean."""


@app.command()
def diagnose(
    paths: PathsArg,
    format: FormatOpt = None,
    output_format: OutputFormatOpt = None,
    log_format: LogFormatOpt = None,
    x: XOpt = None,
    train_loss: Annotated[str | None, _role_option("train_loss")] = None,
    val_loss: Annotated[str | None, _role_option("val_loss")] = None,
    train_acc: Annotated[str | None, _role_option("train_acc")] = None,
    val_acc: Annotated[str | None, _role_option("val_acc")] = None,
    lr: Annotated[str | None, _role_option("lr")] = None,
    fail_on: Annotated[str | None, typer.Option(
        "--fail-on", help=FAIL_ON_HELP.format("never"))] = None,
    plot: PlotOpt = None,
    color: ColorOpt = "auto",
    log_y: LogYOpt = False,
    summary: SummaryOpt = False,
    save_svg: SaveSvgOpt = None,
    save_html: SaveHtmlOpt = None,
    output: OutputOpt = None,
    config: ConfigOpt = None,
    ignore: IgnoreOpt = None,
    max_size: MaxSizeOpt = None,
    same_data: SameDataOpt = False,
    verify_checksums: Annotated[bool, typer.Option(
        "--verify-checksums", help="Check every record's checksum in TensorBoard event "
                                   "files (slower; damaged records are reported).")] = False,
) -> None:
    """Load training logs, find what happens in their curves, and explain it."""
    from curvedoc.commands import diagnose as command

    out_format, in_format = _split_format(format, output_format, log_format)
    roles = {name: column for name, column in (
        ("train_loss", train_loss), ("val_loss", val_loss), ("train_acc", train_acc),
        ("val_acc", val_acc), ("lr", lr)) if column}
    raise typer.Exit(command.run(
        paths, output_format=out_format, log_format=in_format, x=x, roles=roles,
        fail_on=fail_on or "never", output=output, config_file=config, ignore=ignore or (),
        max_size=max_size,
        display=command.Display(plot=plot, color=color, log_y=log_y, summary=summary,
                                save_svg=save_svg, save_html=save_html),
        same_data=same_data, verify_checksums=verify_checksums))


@app.command()
def check(
    paths: PathsArg,
    format: FormatOpt = None,
    output_format: OutputFormatOpt = None,
    log_format: LogFormatOpt = None,
    fail_on: Annotated[str | None, typer.Option(
        "--fail-on", help=FAIL_ON_HELP.format("warning, or the config file's fail-on"))] = None,
    output: OutputOpt = None,
    config: ConfigOpt = None,
    ignore: IgnoreOpt = None,
    max_size: MaxSizeOpt = None,
    same_data: SameDataOpt = False,
) -> None:
    """Lint training logs for pre-commit and CI: one line per finding, exit 1 on a warning."""
    from curvedoc.commands import check as command

    out_format, in_format = _split_format(format, output_format, log_format, default="concise")
    raise typer.Exit(command.run(
        paths, output_format=out_format, output=output, log_format=in_format,
        config_file=config, ignore=ignore or (), fail_on=fail_on, max_size=max_size,
        same_data=same_data))


@app.command()
def compare(
    paths: Annotated[list[str], typer.Argument(
        help="Two or more runs: log files or folders (each may hold several runs).",
        show_default=False)],
    format: Annotated[str | None, typer.Option(
        "--format", "-f", help="Output format (text or json) or, with a log-format name, "
                               "the reader to use.")] = None,
    log_format: LogFormatOpt = None,
    plot: PlotOpt = None,
    color: ColorOpt = "auto",
    log_y: LogYOpt = False,
    config: ConfigOpt = None,
    ignore: IgnoreOpt = None,
) -> None:
    """Compare runs: their curves on shared plots, key numbers, how their findings differ."""
    from curvedoc.commands import compare as command

    out_format, in_format = _split_format(format, None, log_format)
    raise typer.Exit(command.run(paths, output_format=out_format, log_format=in_format,
                                 plot=plot, color=color, log_y=log_y, config_file=config,
                                 ignore=ignore or ()))


@app.command()
def watch(
    path: Annotated[str, typer.Argument(
        help="The log (or folder of logs) being written; it may not exist yet.",
        show_default=False)],
    interval: Annotated[float, typer.Option(
        "--interval", help="Seconds between checks for changes.")] = 1.0,
    idle: Annotated[float | None, typer.Option(
        "--idle", help="Stop once the log exists and has not changed for this many "
                       "seconds (training has ended): exit 0, or 2 if it could not be "
                       "read.  Waiting for it to appear is not limited.  Default: follow "
                       "until Ctrl-C.", show_default=False)] = None,
    log_format: LogFormatOpt = None,
    plot: PlotOpt = None,
    color: ColorOpt = "auto",
    log_y: LogYOpt = False,
    config: ConfigOpt = None,
    ignore: IgnoreOpt = None,
) -> None:
    """Follow a log while training writes it: redraw plots and findings as they change
    (piped: print each new finding as a line)."""
    from curvedoc.commands import watch as command

    raise typer.Exit(command.run(path, interval=interval, idle=idle, log_format=log_format,
                                 plot=plot, color=color, log_y=log_y, config_file=config,
                                 ignore=ignore or ()))


@app.command()
def formats() -> None:
    """List the log formats curvedoc reads."""
    from curvedoc.commands import formats as command

    raise typer.Exit(command.run())


@app.command()
def explain(
    code: Annotated[str | None, typer.Argument(help="A finding code; omit to list all.")] = None,
    markdown_all: Annotated[bool, typer.Option(
        "--markdown-all", hidden=True, help="Print docs/findings.md.")] = False,
) -> None:
    """Print the documentation of a finding code, or list every code."""
    from curvedoc.commands import explain as command

    raise typer.Exit(command.run(code, markdown_all=markdown_all))


def _split_format(format: str | None, output_format: str | None, log_format: str | None,
                  default: str = "text") -> tuple[str, str | None]:
    """`--format` takes an output format or a reader name: the two sets do not overlap,
    so a name in neither is an error that lists both."""
    from curvedoc import readers
    from curvedoc.errors import CurvedocError

    if format is None:
        return output_format or default, log_format
    if format in OUTPUT_FORMATS:
        return format if output_format is None else output_format, log_format
    if format not in readers.names():
        raise CurvedocError(f"unknown format {format!r} for --format; output formats: "
                            f"{', '.join(OUTPUT_FORMATS)}; log formats: "
                            f"{', '.join(readers.names())}")
    return output_format or default, log_format or format


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (tests call `main([...])`).

    Click prints usage errors itself and exits 2; a `CurvedocError` (bad input) is one
    line on stderr and exit 2; anything else is a bug, reported in one line with exit 3.
    """
    from curvedoc.errors import CurvedocError

    try:
        app(args=argv, prog_name="curvedoc")
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except CurvedocError as exc:
        from curvedoc.render.safe import printable

        typer.echo(f"curvedoc: error: {printable(str(exc))}", err=True)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001  # anything else is a bug: one line, exit 3
        typer.echo(f"curvedoc: internal error: {type(exc).__name__}: {exc} "
                   "(this is a bug; please report it)", err=True)
        return 3
    return 0


def run() -> None:
    """The `curvedoc` executable: `main`, then a fast exit.

    Tearing down pandas and numpy at interpreter exit costs about 0.1 s, felt on every
    pre-commit run; once the output is flushed nothing is left to clean up, so the
    process ends at once.  (Tests call `main` and are not affected.)
    """
    if hasattr(signal, "SIGPIPE"):
        # `curvedoc ... | head`: end quietly when the reader goes, as `cat` does, rather
        # than exit 1 (which means "findings") after click catches the broken pipe.
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):  # `curvedoc ... | head`: the reader left
        pass
    os._exit(code)


if __name__ == "__main__":
    run()
