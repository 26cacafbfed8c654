"""The `bookingkit` command line."""

import sys
import warnings
from pathlib import Path

import click

from .resources import DEFAULT_FIXTURES


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """bookingkit: stateful mock server and contract suite for partner booking APIs.

    Exit codes: 0 success, 1 failure reported by the command, 2 bad usage, bad option or bad world file.
    """


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="TCP port.")
@click.option(
    "--fixtures",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_FIXTURES,
    show_default="fixtures/default.yaml",
    help="World file to start with.",
)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    help="Server log level.",
)
def mock(host: str, port: int, fixtures: Path, log_level: str) -> None:
    """Serve the stateful mock of the Wingfield Partner API.

    The state lives in this one process: run a single worker.
    """
    warnings.filterwarnings("ignore", module="connexion")  # its imports' deprecation notes are not the user's concern
    import uvicorn  # imported late, like the app: `--help` stays fast

    from .app import create_app
    from .world import WorldError

    try:
        app = create_app(fixtures)
    except WorldError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    base = f"http://{host}:{port}/api/v1"
    click.echo(f"bookingkit mock of the Wingfield Partner API, world {fixtures}")
    click.echo(f"  base URL: {base}")
    click.echo(f"  API docs: {base}/ui/")
    click.echo("  tokens:")
    for token in app.mock.store.tokens():
        click.echo(f"    {token.value:<28} {token.description}")
    sys.stdout.flush()
    uvicorn.run(app, host=host, port=port, workers=1, log_level=log_level)


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.option(
    "--target",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Target profile (YAML). Without it, the bundled mock is started on a free port and tested.",
)
@click.pass_context
def test(ctx: click.Context, target: Path | None) -> None:
    """Run the contract suite against an implementation: `bookingkit test --target FILE [pytest options]`.

    Any pytest option passes through, e.g. `-m documented` (only what the public docs promise), `-k B17`,
    `--junitxml report.xml`, `--summary-json verdicts.json`, `--summary-md verdicts.md`.
    Exit code: pytest's (0 all passed, 1 a test failed, 2 interrupted, 4 usage error, 5 nothing collected).
    """
    import pytest

    args = ["--pyargs", "contract_tests", *(["--target", str(target)] if target else []), *ctx.args]
    sys.exit(pytest.main(args))


if __name__ == "__main__":
    main()
