"""The language of a response: `lang=zh|en` first, else the client's Accept-Language, else the default.

Pages choose their chrome strings and the labels they show by it; a canned query with a `lang` parameter gets
it bound from Accept-Language when the request does not give one. Every response says `Vary: Accept-Language`
and its ETag includes the language chosen, since the same URL may now answer in either language.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from urllib.parse import urlencode

from flask import Flask, Response, g, request
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from minsheng.core.errors import ParameterError
from minsheng.query.catalog import CannedQuery

LANGUAGES = ("zh", "en")
PAGE_DEFAULT = "en"  # the chrome was English before there was a choice; labels fall back to Chinese
PARAMETER = "lang"

# Page chrome by its English text: a string missing here is shown in English in both languages.
ZH = {
    "SPARQL": "SPARQL 查询",
    "Browse": "浏览数据",
    "Canned queries": "预置查询",
    "Ontology": "本体",
    "Downloads": "下载",
    "API": "接口",
    "Data": "数据",
    "code": "代码",
    "version": "版本",
    "language": "语言",
    "Browse the figures": "浏览数据",
    "Pick values of each dimension; the counts say how many figures of the selection have each value.": (
        "为每个维度选择取值；数字表示当前选择中有该取值的数据条数。"
    ),
    "region": "地区",
    "report": "报告",
    "topic": "主题",
    "category": "类别",
    "indicator": "指标",
    "period": "时期",
    "value_type": "数值类型",
    "value type": "数值类型",
    "value": "数值",
    "counted item or unit": "计量单位",
    "qualifier": "限定",
    "figure": "数据",
    "figures": "条数据",
    "remove": "移除",
    "clear all": "全部清除",
    "Selected": "已选",
    "Charts": "图表",
    "one chart per unit, of the figures on this page": "每个单位一张图，仅含本页数据",
    "Table": "表格",
    "download": "下载",
    "Next page →": "下一页 →",
    "No figure has every value picked.": "没有数据同时符合所选的全部取值。",
    "This page's address is the selection: share it to share the view.": "本页地址即当前选择，可直接分享。",
    "SPARQL query": "SPARQL 查询",
    "Results": "结果",
    "Run": "运行",
    "Run query": "运行查询",
    "Open in the editor": "在编辑器中打开",
    "The SPARQL query": "SPARQL 查询语句",
    "How to cite": "如何引用",
    "Cite this": "引用",
    "Example queries": "示例查询",
    "Query editor": "查询编辑器",
    "The plain editor": "简易编辑器",
    "years": "年份",
    "Named graph": "命名图",
    "Parts of this description": "本描述的组成部分",
    "Referred to by": "被引用于",
    "Sources": "来源",
    "Query": "查询",
}
STRINGS = {"zh": ZH, "en": {}}


def choose(default: str = PAGE_DEFAULT) -> str:
    """The language of this request; a `lang` other than zh or en is a 400 naming the choices."""
    given = request.args.get(PARAMETER)
    if given is not None and given != "":
        if given not in LANGUAGES:
            raise ParameterError(
                f"parameter '{PARAMETER}': '{given}' is not one of {', '.join(LANGUAGES)}",
                parameter=PARAMETER,
                expected="one of " + ", ".join(LANGUAGES),
            )
        chosen = given
    else:
        chosen = from_header() or default
    g.lang = chosen
    return chosen


def from_header() -> str | None:
    """The client's preferred language of the two, if its Accept-Language names one."""
    return preferred(request.headers.get("Accept-Language"))


# Clients send a few Accept-Language headers over and over; the fast path (fastpath.py) asks on every
# canned request. Bounded: the header is the client's to write.
@lru_cache(maxsize=1024)
def preferred(header: str | None) -> str | None:
    """The preferred language of the two in this Accept-Language header (as werkzeug's
    `request.accept_languages` parses it), for the Flask path and the fast path alike."""
    return parse_accept_header(header, LanguageAccept).best_match(LANGUAGES)


def bind_language(query: CannedQuery, given: Mapping[str, str]) -> dict[str, str]:
    """The parameters with `lang` from Accept-Language when the query has one and the request gives none."""
    chosen = with_language(query, given, from_header)
    if chosen.get(PARAMETER):
        g.lang = chosen[PARAMETER]
    return chosen


def with_language(
    query: CannedQuery, given: Mapping[str, str], header: Callable[[], str | None]
) -> dict[str, str]:
    """`given` with `lang` from `header()` (the client's choice by Accept-Language) when the query has a
    `lang` parameter and the request gives none; the language of the response is then `lang` (if any)."""
    chosen = dict(given)
    if any(p.name == PARAMETER for p in query.parameters) and not chosen.get(PARAMETER):
        found = header()
        if found is not None:
            chosen[PARAMETER] = found
    return chosen


def translate(text: str) -> str:
    return STRINGS.get(g.get("lang") or PAGE_DEFAULT, {}).get(text, text)


def switch_url(lang: str) -> str:
    """This page's URL in the other language: the same query string with `lang` replaced."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != PARAMETER]
    return request.path + "?" + urlencode([*args, (PARAMETER, lang)])


def template_context() -> dict[str, object]:
    lang = g.get("lang")
    if lang is None:  # a page that did not ask (an error page, say) still shows the right chrome
        try:
            lang = choose()
        except ParameterError:
            lang = PAGE_DEFAULT
    return {"lang": lang, "t": translate, "switch_url": switch_url, "languages": LANGUAGES}


def register(app: Flask) -> None:
    app.context_processor(template_context)

    @app.after_request
    def _vary(response: Response) -> Response:
        response.vary.add("Accept-Language")
        return response
