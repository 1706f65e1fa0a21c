"""The `minsheng` command. Exit codes: 0 ok, 1 invalid data, 2 usage or runtime error."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .config import Settings
from .errors import InvalidData, MinshengError


def _settings(dist: Path | None) -> Settings:
    settings = Settings()
    if dist is not None:
        return Settings(root=settings.root, dist_dir_name=str(dist.resolve().relative_to(settings.root))
                        if dist.resolve().is_relative_to(settings.root) else str(dist.resolve()))
    return settings


def _fail(exc: MinshengError) -> None:
    click.echo(str(exc), err=True)
    sys.exit(exc.exit_code)


@click.group()
@click.version_option(package_name="minsheng")
def main() -> None:
    """minsheng: livelihood-project reports as a validated knowledge graph with a SPARQL endpoint."""


@main.command()
@click.option("--dist", type=click.Path(path_type=Path), default=None, help="Release directory (default dist/).")
def build(dist: Path | None) -> None:
    """Compile data/ and ontology/, validate, and write the release to dist/ (atomically)."""
    from .build import build_dataset
    from .release import write_release
    from .validate import validate_dataset

    settings = _settings(dist)
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
def validate() -> None:
    """Compile and validate without writing anything; print the SHACL and Data Cube report."""
    from .build import build_dataset
    from .validate import validate_dataset

    settings = Settings()
    try:
        dataset = build_dataset(settings)
    except InvalidData as exc:
        _fail(exc)
        return
    outcome = validate_dataset(dataset, settings)
    click.echo(outcome.report())
    sys.exit(0 if outcome.conforms else 1)
