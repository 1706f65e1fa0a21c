"""The `minsheng` command. Exit codes: 0 ok, 1 invalid data, 2 usage or runtime error."""

from __future__ import annotations

import math
import re
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from minsheng.core.config import Settings
from minsheng.core.errors import DataProblem, InvalidData, MinshengError

if TYPE_CHECKING:  # only for annotations: the commands import what they run when they run
    from flask.testing import FlaskClient
    from werkzeug.test import TestResponse

    from minsheng.validate.shapes import ValidationOutcome


class Seconds(click.FloatRange):
    """Seconds within a range. click's FloatRange lets NaN through (every comparison with it is false), and
    `serve --timeout nan` then died in the query host with a traceback."""

    name = "seconds"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        seconds: float = super().convert(value, param, ctx)
        if math.isnan(seconds):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        return seconds


_ROOT = click.option(
    "--root",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    default=None,
    help="Project directory holding data/, ontology/ and queries/ (default: the bundled sources).",
)
# Kept in the invocation's context rather than in every command's signature: only _settings reads it.
_DIST = click.option(
    "--dist",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    expose_value=False,
    callback=lambda ctx, _param, value: ctx.meta.__setitem__("dist", value),
    help="The release directory (default: ROOT/dist with --root, else ./dist).",
)


def ROOT_OPTION(command: Callable[..., None]) -> Callable[..., None]:
    return _ROOT(_DIST(command))


def _settings(root: Path | None, **overrides: object) -> Settings:
    if root is not None:
        overrides["root"] = root.resolve()
    dist = click.get_current_context().meta.get("dist")
    if dist is not None:
        overrides["dist"] = dist.resolve()
    return Settings(**overrides)  # type: ignore[arg-type]


def _fail(exc: MinshengError) -> None:
    click.echo(str(exc), err=True)
    sys.exit(exc.exit_code)


@click.group()
@click.version_option(package_name="minsheng")
def main() -> None:
    """minsheng: livelihood-project reports as a validated knowledge graph with a SPARQL endpoint."""


STORE_OPTION = click.option(
    "--store",
    "store",
    default=None,
    metavar="DIR|sparql+http://HOST:PORT/sparql",
    help="A persistent pyoxigraph store directory (build writes it; serve opens it without parsing), "
    "or, for serve, a remote SPARQL 1.1 endpoint holding the release (see load).",
)


ENGINE_OPTION = click.option(
    "--engine",
    type=click.Choice(["auto", "pyshacl", "sparql"]),
    default="auto",
    show_default=True,
    help="SHACL engine: pyshacl (per report graph), the same shapes compiled to SPARQL on pyoxigraph "
    "(fast, for large releases), or auto (pyshacl up to 200,000 quads).",
)


@main.command()
@ROOT_OPTION
@STORE_OPTION
@ENGINE_OPTION
def build(root: Path | None, store: str | None, engine: str) -> None:
    """Compile data/ and ontology/, validate, and write the release to dist/ (atomically)."""
    from minsheng.build.compile import build_dataset
    from minsheng.query.catalog import indexes, load_catalog
    from minsheng.release.writer import write_release
    from minsheng.validate.shapes import validate_dataset

    settings = _settings(root)
    if store is not None and "://" in store:
        raise click.BadParameter(
            "build writes a local store directory; load a remote one with `minsheng load`"
        )
    try:
        dataset = build_dataset(settings)
    except InvalidData as exc:
        click.echo("build failed; the previous release is untouched:", err=True)
        _fail(exc)
        return
    outcome = validate_dataset(dataset, settings, engine)
    if not outcome.conforms:
        click.echo(outcome.report(), err=True)
        click.echo("build failed validation; the previous release is untouched.", err=True)
        sys.exit(1)
    manifest = write_release(dataset, settings, indexes(load_catalog(settings.queries_dir)))
    for warning in outcome.warnings:
        click.echo(str(warning), err=True)
    click.echo(f"release {manifest.release}: {manifest.triples} quads written to {settings.dist_dir}")
    if store is not None:
        from minsheng.stores.embedded import write_persistent

        write_persistent(settings.dist_dir, Path(store).resolve(), manifest.release)
        click.echo(f"persistent store written to {store}")


@main.command()
@ROOT_OPTION
@ENGINE_OPTION
@click.option(
    "--release",
    "release_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Validate a written release directory (its minsheng.nq) instead of compiling data/; "
    "the SPARQL engine unless --engine pyshacl.",
)
def validate(root: Path | None, engine: str, release_dir: Path | None) -> None:
    """Compile and validate without writing anything; print the SHACL and Data Cube report."""
    settings = _settings(root)
    try:
        outcome = _validation_outcome(settings, engine, release_dir)
    except InvalidData as exc:
        _fail(exc)
        return
    click.echo(outcome.report())
    sys.exit(0 if outcome.conforms else 1)


def _validation_outcome(settings: Settings, engine: str, release_dir: Path | None) -> ValidationOutcome:
    from rdflib import Dataset
    from rdflib.exceptions import ParserError

    from minsheng.build.compile import build_dataset
    from minsheng.validate.shapes import validate_dataset, validate_release_file

    if release_dir is None:
        return validate_dataset(build_dataset(settings), settings, engine)
    nquads = release_dir / "minsheng.nq"
    if not nquads.is_file():
        problem = "no minsheng.nq here: give a release directory written by `minsheng build`"
        raise InvalidData([DataProblem(str(release_dir), problem)])
    try:
        if engine != "pyshacl":
            return validate_release_file(nquads, settings)
        dataset = Dataset()
        dataset.parse(nquads, format="nquads")
    except (SyntaxError, ParserError) as exc:  # pyoxigraph's and rdflib's parse errors
        raise InvalidData([DataProblem(str(nquads), f"not valid N-Quads: {exc}")]) from exc
    return validate_dataset(dataset, settings, engine)


@main.command()
@ROOT_OPTION
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64), help="Web processes.")
@click.option(
    "--threads",
    default=64,
    show_default=True,
    type=click.IntRange(1, 1024),
    help="Request threads per web process (a thread waiting for its query costs only its stack).",
)
@click.option(
    "--query-processes",
    default=Settings.query_processes,
    show_default=True,
    type=click.IntRange(1, 256),
    help="Query processes, sharing one copy of the release.",
)
@click.option(
    "--timeout",
    "query_timeout",
    default=Settings.query_timeout,
    show_default=True,
    type=Seconds(0.1, 3600),
    help="Seconds a query may run before its process is killed and the client gets a 503.",
)
@click.option(
    "--query-memory",
    "query_memory_mib",
    default=Settings.query_memory // 2**20,
    show_default=True,
    type=click.IntRange(64, 1_000_000),
    help="MiB a query process may allocate beyond the release it shares; past it the query gets a 503.",
)
@click.option(
    "--client-queries",
    default=Settings.client_queries,
    show_default=True,
    type=click.IntRange(1, 1024),
    help="Queries one client (address) may run at once; more wait their turn, then get 429.",
)
@click.option(
    "--client-waiting",
    default=Settings.client_waiting,
    show_default=True,
    type=click.IntRange(0, 100_000),
    help="Further queries one client may have waiting for a process; past them it gets 429.",
)
@click.option(
    "--queue-wait",
    default=Settings.queue_wait,
    show_default=True,
    type=Seconds(0.01, 3600),
    help="Seconds a query may wait for a free process before a 503 with Retry-After.",
)
@click.option(
    "--allow-service",
    "allowed_services",
    multiple=True,
    metavar="URL",
    help="A SPARQL endpoint queries may call with SERVICE (repeatable); none by default.",
)
@click.option(
    "--public-url",
    metavar="URL",
    help="The URL users reach the service at (e.g. https://data.example.org/), used for every absolute URL "
    "the service writes; default http://HOST:PORT/.",
)
@click.option(
    "--trusted-proxy",
    "trusted_proxies",
    multiple=True,
    metavar="ADDRESS",
    help="A proxy whose X-Forwarded-For and X-Forwarded-Proto are believed (repeatable); none by default.",
)
@click.option(
    "--no-network-isolation",
    is_flag=True,
    help="Serve even where query processes cannot be kept off the network (a warning is printed).",
)
@click.option(
    "--result-cache",
    "result_cache_size",
    default=Settings.result_cache_size,
    show_default=True,
    type=click.IntRange(0, 1_000_000),
    help="Serialised answers kept per web process (0 turns the result cache off).",
)
@click.option(
    "--no-fast-path",
    is_flag=True,
    help="Answer every request through Flask, /sparql and canned-query answers too (the fast path's "
    "answers are the same; this is for comparing them and for ruling it out).",
)
@STORE_OPTION
def serve(
    root: Path | None,
    host: str,
    port: int,
    workers: int,
    threads: int,
    query_processes: int,
    query_timeout: float,
    query_memory_mib: int,
    client_queries: int,
    client_waiting: int,
    queue_wait: float,
    allowed_services: tuple[str, ...],
    public_url: str | None,
    trusted_proxies: tuple[str, ...],
    no_network_isolation: bool,
    result_cache_size: int,
    no_fast_path: bool,
    store: str | None,
) -> None:
    """Serve the release in dist/ (granian in front; each query in a supervised, network-less process)."""
    from minsheng.stores.base import is_remote
    from minsheng.web import front
    from minsheng.web.access import configure_logging

    configure_logging()
    if public_url is not None and not re.match(r"^https?://[^/\s]+(/[^\s]*)?$", public_url):
        raise click.BadParameter("give an absolute http(s) URL", param_hint="--public-url")
    settings = _settings(
        root,
        query_processes=query_processes,
        query_timeout=query_timeout,
        query_memory=query_memory_mib * 2**20,
        client_queries=client_queries,
        client_waiting=client_waiting,
        queue_wait=queue_wait,
        allowed_services=tuple(allowed_services),
        public_url=(public_url or f"http://{host}:{port}/").rstrip("/") + "/",
        trusted_proxies=tuple(trusted_proxies),
        network_isolation=not no_network_isolation,
        result_cache_size=result_cache_size,
        store=store if store is None or is_remote(store) else str(Path(store).resolve()),
    )
    try:
        front.serve(settings, host, port, workers, threads, fast_path=not no_fast_path)
    except (MinshengError, InvalidData) as exc:
        _fail(exc)


@main.command()
@ROOT_OPTION
@click.argument("report", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option(
    "--year", type=click.IntRange(1949, 2100), default=None, help="The report's year (default: guessed)."
)
@click.option(
    "-o", "--output", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Write here."
)
def extract(root: Path | None, report: Path, year: int | None, output: Path | None) -> None:
    """Draft curation rows for every quantity in REPORT.txt (a CSV in the data/reports format)."""
    from minsheng.extract.assistant import draft_csv, extract, guess_year, read_indicators

    text = report.read_text(encoding="utf-8")
    year = year or guess_year(text)
    if year is None:
        raise click.UsageError("the text names no year (20xx年): give --year")
    settings = _settings(root)
    indicators = read_indicators(settings.data_dir / "indicators.csv")
    drafts = extract(text, year, indicators)
    table = draft_csv(drafts)
    if output is None:
        click.echo(table, nl=False)
    else:
        output.write_text(table, encoding="utf-8")
    click.echo(f"{len(drafts)} quantities drafted from {report.name} (year {year})", err=True)


@main.command()
@ROOT_OPTION
def coverage(root: Path | None) -> None:
    """Per source text, every number not yet covered by a curated observation's quote, with its sentence."""
    from minsheng.build.rows import ObservationRow, read_rows
    from minsheng.extract.assistant import guess_year, uncovered

    settings = _settings(root)
    total = 0
    problems: list[DataProblem] = []
    for text_file in sorted((settings.data_dir / "sources").glob("*.txt")):
        text = text_file.read_text(encoding="utf-8")
        curated = settings.data_dir / "reports" / f"{text_file.stem}.csv"
        rows = read_rows(curated, ObservationRow, problems) if curated.exists() else []
        quotes = [quote for row in rows for quote in row.quotes]
        missing = uncovered(text, quotes, guess_year(text) or 2000)
        total += len(missing)
        click.echo(f"{text_file.name}: {len(missing)} number(s) not covered by a curated observation")
        for draft, sentence in missing:
            click.echo(f"  {draft.start}-{draft.end} {draft.written}: {sentence}")
    click.echo(f"{total} uncovered in all", err=True)
    if problems:  # the rows that could be read were counted; the others are errors to fix, like in build
        _fail(InvalidData(problems))


@main.command()
@ROOT_OPTION
@click.option(
    "--into", "target", required=True, metavar="isql://USER:PASSWORD@HOST:PORT", help="Virtuoso's isql."
)
def load(root: Path | None, target: str) -> None:
    """Bulk-load the release in dist/ into Virtuoso (its DirsAllowed must include dist/), then serve it with
    `minsheng serve --store sparql+http://HOST:HTTP-PORT/sparql`."""
    from minsheng.release.manifest import verify_release
    from minsheng.stores.base import ReleaseUnavailable
    from minsheng.stores.remote import load_into_virtuoso, release_graphs

    if not target.startswith("isql://"):
        raise click.BadParameter(
            "give Virtuoso's isql address as isql://USER:PASSWORD@HOST:PORT", param_hint="--into"
        )
    settings = _settings(root)
    try:
        manifest = verify_release(settings.dist_dir)
        graphs = list(release_graphs(settings.dist_dir, manifest))
        load_into_virtuoso(settings.dist_dir, target, manifest.release, graphs)
    except ValueError as exc:
        _fail(ReleaseUnavailable(str(exc)))
    except ReleaseUnavailable as exc:
        _fail(exc)
    click.echo(f"release {manifest.release} loaded into {target.split('@')[-1]}")


def _client(root: Path | None) -> FlaskClient:
    from minsheng.stores.base import ReleaseUnavailable
    from minsheng.web import create_app

    try:
        # In-process commands run queries in this process: no query processes, so no deadline.
        return create_app(_settings(root, query_processes=0)).test_client()
    except (ReleaseUnavailable, InvalidData) as exc:
        _fail(exc)
        raise AssertionError("unreachable") from exc


def _print_response(response: TestResponse, expect_ok: bool = True) -> None:
    sys.stdout.buffer.write(response.get_data())
    if not response.get_data().endswith(b"\n"):
        sys.stdout.buffer.write(b"\n")
    if "Link" in response.headers:  # a page of a paged query: the next one, on standard error
        click.echo(f"Link: {response.headers['Link']}", err=True)
    if expect_ok and not 200 <= response.status_code < 300:
        click.echo(f"HTTP {response.status_code}", err=True)
        sys.exit(1 if response.status_code < 500 else 2)


FORMAT_OPTION = click.option(
    "--format",
    "format_name",
    default=None,
    help="json, xml, csv, tsv or ttl, nt, jsonld, rdf (CONSTRUCT/DESCRIBE); default csv or ttl.",
)


@main.command()
@ROOT_OPTION
@click.argument("sparql_text", metavar="SPARQL")
@FORMAT_OPTION
def query(root: Path | None, sparql_text: str, format_name: str | None) -> None:
    """Run a SPARQL query on the release, in-process; '-' reads the query from standard input."""
    if sparql_text == "-":
        sparql_text = sys.stdin.read()
    accept = "text/csv;q=1, text/turtle;q=0.9, application/sparql-results+json;q=0.8"
    data = {"query": sparql_text, **({"format": format_name} if format_name else {})}
    _print_response(_client(root).post("/sparql", data=data, headers={"Accept": accept}))


@main.group()
def queries() -> None:
    """The canned-query catalog (queries/*.rq)."""


@queries.command("list")
@ROOT_OPTION
@click.option("--markdown", is_flag=True, help="Print the README's table instead.")
def queries_list(root: Path | None, markdown: bool) -> None:
    """Name, parameters and title of every canned query."""
    from minsheng.query.catalog import load_catalog, markdown_table

    try:
        catalog = load_catalog(_settings(root).queries_dir)
    except InvalidData as exc:
        _fail(exc)
        return
    if markdown:
        click.echo(markdown_table(catalog), nl=False)
        return
    for name, canned in catalog.items():
        parameters = " ".join(
            f"{p.name}:{p.type}" + (f"={p.default}" if p.default else "") for p in canned.parameters
        )
        click.echo(f"{name:28} {canned.title}" + (f"  [{parameters}]" if parameters else ""))


@queries.command("run")
@ROOT_OPTION
@click.argument("name")
@click.option("-p", "--param", "params", multiple=True, metavar="KEY=VALUE", help="A parameter; repeatable.")
@FORMAT_OPTION
def queries_run(root: Path | None, name: str, params: tuple[str, ...], format_name: str | None) -> None:
    """Run canned query NAME with typed parameters (-p region=330105), in-process."""
    given: dict[str, str] = {}
    for item in params:
        key, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"'{item}' is not KEY=VALUE", param_hint="-p")
        given[key] = value
    if format_name:
        given["format"] = format_name
    accept = "text/csv;q=1, text/turtle;q=0.9, application/sparql-results+json;q=0.8"
    response = _client(root).get(f"/queries/{name}", query_string=given, headers={"Accept": accept})
    _print_response(response)
    link = response.headers.get("Link")
    if link:  # the same command for the next page, on standard error (the answer stays alone on stdout)
        from urllib.parse import parse_qsl, urlsplit

        url = link[1 : link.index(">")]
        asked = [f"-p {shlex.quote(f'{k}={v}')}" for k, v in parse_qsl(urlsplit(url).query) if k != "format"]
        option = f" --format {shlex.quote(format_name)}" if format_name else ""
        click.echo(f"next page: minsheng queries run {name} {' '.join(asked)}{option}", err=True)


@main.command()
@ROOT_OPTION
@click.argument("path")
@click.option("--accept", default="*/*", show_default=True, help="The Accept header to send.")
def get(root: Path | None, path: str, accept: str) -> None:
    """An in-process GET of PATH (e.g. /queries/regions.json); exits non-zero unless the answer is 2xx."""
    if not path.startswith("/"):
        raise click.BadParameter("give a path starting with /", param_hint="PATH")
    _print_response(_client(root).get(path, headers={"Accept": accept}))


if __name__ == "__main__":
    main()
