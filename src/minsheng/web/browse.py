"""/browse: the cube browser. Pick values of each dimension (facets with counts that narrow as values are
picked), see the figures as a table and one chart per unit; /browse.csv and /browse.json give the same
selection. The selection is the query string, so every view is a URL to share.

Both queries are canned ones (queries/browse-figures.rq, queries/browse-facets.rq): the selection is bound as
typed parameters by the catalog, never written into SPARQL text, and the figures are paged by key as the
other list queries are (`limit`, `after`, Link rel=next).
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from flask import Blueprint, Response, jsonify, render_template, request, url_for

from minsheng.core.errors import NotFound, ParameterError
from minsheng.query.execute import canned_request
from minsheng.query.paging import AFTER, LIMIT, cursor
from minsheng.web import language
from minsheng.web.answers import raw_response, run, select
from minsheng.web.charts import charts
from minsheng.web.service import service

browse = Blueprint("browse", __name__)

FIGURES, FACETS = "browse-figures", "browse-facets"
# (dimension as browse-facets names it, the parameter that picks one of its values), in the page's order
DIMENSIONS = (
    ("region", "region"),
    ("report", "report"),
    ("topic", "topic_code"),
    ("category", "category"),
    ("indicator", "indicator_code"),
    ("period", "period"),
    ("value_type", "value_type"),
)
SELECTION = tuple(parameter for _, parameter in DIMENSIONS)
EXTENSIONS = ("csv", "json")


def _given() -> dict[str, str]:
    """The request's parameters, each once: a repeated one is ambiguous (which value is picked?)."""
    repeated = sorted(key for key, values in request.args.lists() if len(values) > 1)
    if repeated:
        raise ParameterError(
            f"give parameter '{repeated[0]}' once, not {len(request.args.getlist(repeated[0]))} times",
            parameter=repeated[0],
            expected="a single value",
        )
    given = {k: v for k, v in request.args.to_dict().items() if k != "format"}
    known = (*SELECTION, language.PARAMETER, LIMIT, AFTER)
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise ParameterError(
            f"unknown parameter(s) {', '.join(unknown)} for /browse; its parameters: {', '.join(known)}",
            parameter=unknown[0],
            expected="one of: " + ", ".join(known),
        )
    return given


def _url(selection: dict[str, str], ext: str | None = None, **extra: str) -> str:
    args = {**selection, **extra}
    query = urlencode({k: v for k, v in args.items() if v})
    return url_for("browse.view", ext=ext) + ("?" + query if query else "")


@browse.route("/browse")
@browse.route("/browse.<ext>")
def view(ext: str | None = None) -> Response:
    if ext is not None and ext not in EXTENSIONS:
        raise NotFound(
            f"the browser's figures are offered as /browse, /browse.csv and /browse.json, not .{ext}"
        )
    given = _given()
    lang = language.choose()
    svc = service()
    selection = {p: given[p] for p in SELECTION if given.get(p)}
    paging = {k: given[k] for k in (LIMIT, AFTER) if given.get(k)}
    figures_query = svc.catalog[FIGURES]
    asked = canned_request(
        figures_query, {**selection, **paging, "lang": lang}, svc.settings.max_result_rows, svc.regions
    )
    if ext == "csv":
        answer, _ = run(asked, "csv")
        return _linked(raw_response(answer, filename="browse"), _next(answer.next_key, selection, lang))
    answer, _ = run(asked, "json")
    bindings = json.loads(answer.body)["results"]["bindings"]
    rows = [{name: term["value"] for name, term in row.items()} for row in bindings]
    facets = _facets(selection, lang)
    next_url = _next(answer.next_key, selection, lang)
    if ext == "json":
        document = {
            "selection": selection,
            "lang": lang,
            "facets": {
                dimension: [
                    {key: value for key, value in item.items() if key not in ("href", "selected")}
                    for item in items
                ]
                for dimension, items in facets.items()
            },
            "figures": rows,
            "next": next_url,
        }
        return _linked(jsonify(document), next_url)
    page = render_template(
        "browse.html",
        dimensions=DIMENSIONS,
        facets=facets,
        selection=selection,
        chosen=_chosen(facets, selection, lang),
        rows=rows,
        figure_links={row["obs"]: svc.local_path(row["obs"]) or row["obs"] for row in rows},
        charts=charts(rows),
        next_url=next_url,
        downloads=[
            ("CSV", _url(selection, "csv", lang=lang)),
            ("JSON", _url(selection, "json", lang=lang)),
        ],
        clear_url=_url({}, lang=lang),
    )
    return _linked(Response(page, mimetype="text/html"), next_url)


def _facets(selection: dict[str, str], lang: str) -> dict[str, list[dict[str, object]]]:
    """Each dimension's values among the selection's figures, with counts and the URL that picks each."""
    svc = service()
    parameters_given = {**selection, "lang": lang}
    asked = canned_request(svc.catalog[FACETS], parameters_given, svc.settings.max_result_rows, svc.regions)
    facets: dict[str, list[dict[str, object]]] = {dimension: [] for dimension, _ in DIMENSIONS}
    parameters = dict(DIMENSIONS)
    for row in select(asked):
        dimension = row["dimension"]["value"]
        if dimension not in parameters:
            continue
        parameter, code = parameters[dimension], row["code"]["value"]
        picked = selection.get(parameter) == code
        facets[dimension].append(
            {
                "code": code,
                "label": row["label"]["value"] if "label" in row else code,
                "figures": int(row["figures"]["value"]),
                "item": row["item"]["value"],
                "selected": picked,
                "href": _url({**selection, parameter: code}, lang=lang),
            }
        )
    return facets


def _chosen(
    facets: dict[str, list[dict[str, object]]], selection: dict[str, str], lang: str
) -> list[dict[str, str]]:
    """The values picked, each with its label and the URL that removes it."""
    chosen = []
    for dimension, parameter in DIMENSIONS:
        if parameter not in selection:
            continue
        label = next(
            (str(f["label"]) for f in facets[dimension] if f["code"] == selection[parameter]),
            selection[parameter],
        )
        rest = {k: v for k, v in selection.items() if k != parameter}
        chosen.append({"dimension": dimension, "label": label, "remove": _url(rest, lang=lang)})
    return chosen


def _next(key: tuple[str, ...] | None, selection: dict[str, str], lang: str) -> str | None:
    if key is None:
        return None
    limit = request.args.get(LIMIT)
    extra = {"lang": lang, AFTER: cursor(key), **({LIMIT: limit} if limit else {})}
    return request.base_url + "?" + urlencode({**selection, **extra})


def _linked(response: Response, next_url: str | None) -> Response:
    if next_url is not None:
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    return response
