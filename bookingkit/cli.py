"""The `bookingkit` command line."""

import sys
import warnings
from pathlib import Path

import click
from click.core import ParameterSource

from bookingkit.files import DEFAULT_WORLD


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="bookingkit", message="%(prog)s %(version)s")
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
    default=DEFAULT_WORLD,
    show_default="fixtures/default.yaml",
    help="World file to start with.",
)
@click.option(
    "--admin-token",
    envvar="BOOKINGKIT_ADMIN_TOKEN",
    show_envvar=True,
    help="Token of the admin API under /__admin (default: generated and printed).",
)
@click.option("--seed", type=int, help="Seed for generated ids and fault injection, so a run can be repeated.")
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    help="info: one access-log line per request (method, path, operationId, status, duration).",
)
@click.option(
    "--store",
    default="memory",
    show_default=True,
    envvar="BOOKINGKIT_STORE",
    show_envvar=True,
    help="Where the state lives: memory (one process, fastest), sqlite:///path.db (durable, one host, several "
    "workers) or postgresql://user@host/db (shared by workers and replicas on any hosts).",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes; more than one needs a SQL --store.",
)
@click.option("--reset-store", is_flag=True, help="Load the world into a SQL store that already holds state.")
@click.option("--cors/--no-cors", default=True, show_default=True, help="Answer browsers on other origins (CORS).")
@click.option(
    "--cors-origin",
    "cors_origins",
    multiple=True,
    help="An origin allowed by CORS, e.g. http://localhost:3000; repeat for more (default: any origin).",
)
@click.option(
    "--watch",
    is_flag=True,
    help="Reload the --fixtures file when it changes: the state goes back to the new world; a bad file is "
    "refused (logged, naming the entry) and the state stays. Needs --fixtures.",
)
def mock(
    host: str,
    port: int,
    fixtures: Path,
    admin_token: str | None,
    seed: int | None,
    log_level: str,
    store: str,
    workers: int,
    reset_store: bool,
    cors: bool,
    cors_origins: tuple[str, ...],
    watch: bool,
) -> None:
    """Serve the stateful mock of the Wingfield Partner API and ONLIVE.SITE.

    With the default memory store the state lives in this one process. A SQL store keeps it across restarts
    (the world seeds an empty store only; --reset-store starts from the world again) and shares it between
    --workers. Exit codes: 0 stopped, 2 bad option, store or world file.
    """
    warnings.filterwarnings("ignore", module="connexion")  # its imports' deprecation notes are not the user's concern
    import logging
    import secrets

    from mock_server.app import create_app
    from mock_server.control.access_log import AccessLog
    from mock_server.server import serve
    from mock_server.store.backend import StoreError
    from mock_server.workers import serve_workers, settings_for_workers
    from mock_server.world import WorldError

    if workers > 1 and store == "memory":
        raise click.BadParameter(
            "the memory store lives in one process; for several workers give a SQL store, e.g. "
            "--store sqlite:///bookingkit.db or --store postgresql://user@host/db",
            param_hint="--workers",
        )
    if watch and click.get_current_context().get_parameter_source("fixtures") is ParameterSource.DEFAULT:
        raise click.BadParameter(
            "give the world file to watch with --fixtures PATH (the bundled default world is not for editing: "
            "copy fixtures/default.yaml and watch the copy)",
            param_hint="--watch",
        )
    if port and not _port_free(host, port):
        click.echo(f"error: port {port} on {host} is in use; choose another with --port", err=True)
        sys.exit(2)
    logged = logging.getLevelName(log_level.upper()) <= logging.INFO
    admin_token = admin_token or secrets.token_urlsafe(18)
    origins = (list(cors_origins) or ["*"]) if cors else None
    try:
        app = create_app(
            fixtures,
            store=store,
            admin_token=admin_token,
            seed=seed,
            access_log=AccessLog(sys.stderr) if logged and workers == 1 else None,
            reset_store=reset_store,
            cors_origins=origins,
            watch=fixtures if watch and workers == 1 else None,
        )
    except (WorldError, StoreError, ValueError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    base = f"http://{host}:{port}"
    click.echo(
        f"bookingkit mock, world {fixtures}"
        + (" (watched: reloaded when it changes)" if watch else "")
        + f", store {store}"
        + (f", {workers} workers" if workers > 1 else "")
    )
    click.echo(f"  Wingfield and ONLIVE.SITE APIs: {base}/api/v1   (docs: {base}/api/v1/ui/)")
    click.echo(f"  admin API: {base}/__admin   (docs: {base}/__admin/ui/)   admin token: {app.mock.admin_token}")
    click.echo("  Wingfield tokens:")
    for token in app.mock.store.tokens():
        click.echo(f"    {token.value:<28} {token.description}")
    click.echo("  ONLIVE.SITE access keys (sign with `bookingkit sign`):")
    for key in app.mock.onlive_store.access_keys():
        click.echo(f"    {key.id:<28} secret: {key.secret}")
    sys.stdout.flush()
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("connexion").setLevel(max(logging.WARNING, logging.getLogger().level))
    if workers == 1:
        serve(app, host=host, port=port, log_level=log_level)
        return
    settings_for_workers(
        fixtures=str(fixtures), store=store, admin_token=admin_token, seed=seed, access_log=logged, cors=origins
    )
    if not watch:
        app.mock.backend.close()  # prepared; each worker opens its own connections
        serve_workers(host=host, port=port, workers=workers, log_level=log_level)
        return
    from mock_server.control.watch import watch_in_thread

    stop, watcher = watch_in_thread(app.mock, fixtures)  # the parent alone reloads, into the shared store
    try:
        serve_workers(host=host, port=port, workers=workers, log_level=log_level)
    finally:
        stop.set()
        watcher.join(timeout=5)
        app.mock.backend.close()


def _port_free(host: str, port: int) -> bool:
    """Checked before the banner, so a busy port is one clear line (uvicorn would print a traceback, exit 3)."""
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is no conflict
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.option(
    "--target",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Target profile (YAML). Without it, the bundled mock is started on a free port and tested.",
)
@click.option("--list-rules", is_flag=True, help="Print the rule catalogue (id, kind, rule) and exit.")
@click.pass_context
def test(ctx: click.Context, target: Path | None, list_rules: bool) -> None:
    """Run the contract suite against an implementation: `bookingkit test --target FILE [pytest options]`.

    Any pytest option passes through, e.g. `-m documented` (only what the public docs promise), `-k B17`,
    `--junitxml report.xml`, `--summary-json verdicts.json`, `--summary-md verdicts.md`.
    Exit code: pytest's (0 all passed, 1 a test failed, 2 interrupted, 4 usage error, 5 nothing collected).
    """
    if list_rules:
        from contract_tests.catalogue import load_catalogue, render

        click.echo(render(load_catalogue()))
        return
    import pytest

    args = ["--pyargs", "contract_tests", *(["--target", str(target)] if target else []), *ctx.args]
    sys.exit(pytest.main(args))


@main.command()
@click.argument("method", type=click.Choice(["GET", "POST", "PUT", "PATCH", "DELETE"], case_sensitive=False))
@click.argument("url")
@click.option("--data", "-d", default="", help="The body exactly as it will be sent (`@file` reads a file).")
@click.option(
    "--access-key-id",
    envvar="ONLIVE_ACCESS_KEY_ID",
    required=True,
    show_envvar=True,
    help="Access Key ID (default world: ONLIVEDEMOACCESSKEY).",
)
@click.option(
    "--secret-access-key",
    envvar="ONLIVE_SECRET_ACCESS_KEY",
    required=True,
    show_envvar=True,
    help="Secret Access Key (default world: demo-secret-access-key).",
)
@click.option("--curl", "as_curl", is_flag=True, help="Print a ready curl command instead of the two headers.")
@click.option("--show-canonical", is_flag=True, help="Also print the canonical request that was signed.")
def sign(
    method: str, url: str, data: str, access_key_id: str, secret_access_key: str, as_curl: bool, show_canonical: bool
) -> None:
    """Sign an ONLIVE.SITE request: print `x-onlive-site-date` and `Authorization` for METHOD and URL.

    URL is the full URL as it will be sent (path and query are signed exactly as written). Signatures are
    valid for 15 minutes. Example:

        bookingkit sign DELETE http://127.0.0.1:8000/api/v1/booking-services/2721d636-0a2b-41e1-9de2-14ebcb5e3ea9
    """
    import shlex

    from bookingkit.signing import sign as sign_request

    if not url.startswith(("http://", "https://")):
        raise click.BadParameter("give the full URL, e.g. http://127.0.0.1:8000/api/v1/services", param_hint="URL")
    if data.startswith("@"):
        data = Path(data[1:]).read_text(encoding="utf-8")
    signed = sign_request(method.upper(), url, data.encode("utf-8"), access_key_id, secret_access_key)
    if show_canonical:
        click.echo("# canonical request:\n" + "\n".join(f"#   {line}" for line in signed.canonical_request.split("\n")))
    if not as_curl:
        for name, value in signed.as_dict().items():
            click.echo(f"{name}: {value}")
        return
    parts = ["curl", "-sS", "-X", method.upper(), url, "-H", "Content-Type: application/json"]
    for name, value in signed.as_dict().items():
        parts += ["-H", f"{name}: {value}"]
    if data:
        parts += ["--data-binary", data]
    click.echo(" ".join(shlex.quote(part) for part in parts))


@main.group()
def spec() -> None:
    """Tools for spec authors: check a spec, find the breaking changes between two versions."""


@spec.command("check")
@click.argument("file", required=False, default=None)
@click.option("--format", "form", type=click.Choice(["text", "json"]), default="text", show_default=True)
def spec_check(file: str | None, form: str) -> None:
    """Check FILE (default: the project's openapi.yaml): validity, examples and defaults, $refs, conventions.

    One line per finding: its JSON pointer, rule name and message. Exit code: 0 nothing found, 1 findings,
    2 the file cannot be read.
    """
    from bookingkit.files import SPEC_PATH
    from bookingkit.openapi import SpecSourceError, load
    from bookingkit.spec_check import check
    from bookingkit.spec_reports import check_report

    try:
        document = load(file or str(SPEC_PATH))
    except SpecSourceError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    findings = check(document)
    click.echo(check_report(findings, form))
    sys.exit(1 if findings else 0)


@spec.command("diff")
@click.argument("old")
@click.argument("new")
@click.option(
    "--format", "form", type=click.Choice(["text", "json", "markdown", "junit"]), default="text", show_default=True
)
@click.option(
    "--fail-on",
    type=click.Choice(["breaking", "any", "none"]),
    default="breaking",
    show_default=True,
    help="Exit 1 when a change of this kind is found.",
)
def spec_diff(old: str, new: str, form: str, fail_on: str) -> None:
    """The changes from OLD to NEW, each `breaking` or `compatible`, with where it is.

    OLD and NEW are files, or git:REF:PATH (e.g. git:main:openapi.yaml). Exit code: 0 below the --fail-on
    threshold, 1 at or above it, 2 a spec cannot be read.
    """
    from bookingkit.openapi import SpecSourceError, load
    from bookingkit.spec_diff import diff
    from bookingkit.spec_reports import diff_report, should_fail

    try:
        changes = diff(load(old), load(new))
    except SpecSourceError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    click.echo(diff_report(changes, form, old, new))
    sys.exit(1 if should_fail(changes, fail_on) else 0)


if __name__ == "__main__":
    main()
