"""The `minsheng` command. Exit codes: 0 ok, 1 invalid data, 2 usage or runtime error."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .config import Settings
from .errors import InvalidData, MinshengError

ROOT_OPTION = click.option(
    "--root",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    default=None,
    help="Project directory holding data/ and ontology/ (default: this checkout).",
)


def _settings(root: Path | None) -> Settings:
    return Settings() if root is None else Settings(root=root.resolve())


def _fail(exc: MinshengError) -> None:
    click.echo(str(exc), err=True)
    sys.exit(exc.exit_code)


@click.group()
@click.version_option(package_name="minsheng")
def main() -> None:
    """minsheng: livelihood-project reports as a validated knowledge graph with a SPARQL endpoint."""


@main.command()
@ROOT_OPTION
def build(root: Path | None) -> None:
    """Compile data/ and ontology/, validate, and write the release to dist/ (atomically)."""
    from .build import build_dataset
    from .release import write_release
    from .validate import validate_dataset

    settings = _settings(root)
    try:
        dataset = build_dataset(settings)
    except InvalidData as exc:
        click.echo("build failed; the previous release is untouched:", err=True)
        _fail(exc)
        return
    outcome = validate_dataset(dataset, settings)
    if not outcome.conforms:
        click.echo(outcome.report(), err=True)
        click.echo("build failed validation; the previous release is untouched.", err=True)
        sys.exit(1)
    manifest = write_release(dataset, settings)
    for warning in outcome.warnings:
        click.echo(str(warning), err=True)
    click.echo(f"release {manifest['release']}: {manifest['triples']} quads written to {settings.dist_dir}")


@main.command()
@ROOT_OPTION
def validate(root: Path | None) -> None:
    """Compile and validate without writing anything; print the SHACL and Data Cube report."""
    from .build import build_dataset
    from .validate import validate_dataset

    settings = _settings(root)
    try:
        dataset = build_dataset(settings)
    except InvalidData as exc:
        _fail(exc)
        return
    outcome = validate_dataset(dataset, settings)
    click.echo(outcome.report())
    sys.exit(0 if outcome.conforms else 1)


@main.command()
@ROOT_OPTION
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
def serve(root: Path | None, host: str, port: int, workers: int) -> None:
    """Serve the release in dist/ at /sparql under gunicorn (sync workers)."""
    from gunicorn.app.base import BaseApplication

    from .store import ReleaseUnavailable
    from .web import create_app

    settings = _settings(root)
    try:
        app = create_app(settings)  # load once before forking, so a bad release stops here with its reason
    except ReleaseUnavailable as exc:
        _fail(exc)
        return

    class Server(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("accesslog", "-")

        def load(self):
            return app

    click.echo(
        f"serving release {app.extensions['minsheng']['manifest']['release']} on http://{host}:{port}/sparql"
    )
    Server().run()


if __name__ == "__main__":
    main()
