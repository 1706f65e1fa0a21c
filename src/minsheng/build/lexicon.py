"""The lexicons the extractor and the build share: CSV files in src/minsheng/data/, each row with a comment
saying why it is there.

- `units.csv`: every unit a figure may have. The extractor reads the unit words after a number from it, and
  the build compiles the same rows into the unit code list with their QUDT (or local /def/unit/) IRIs, so a
  unit the extractor drafts is one the build accepts.
- `not_quantities.csv`: the words of the grammar of numerals that are not quantities (see extract.py):
  idioms and set phrases, words after a numeral that make it a name, grade or session number, words after
  第N that make it an ordinal in a name, institution words after a place and a numeral (县一中), and
  words that make a numeral vague (数十, 十几).
- `time_bases.csv`: words before a figure that make it a flow per day, week, month or year (日均, 每月).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path

from rdflib import URIRef

from minsheng.core.namespaces import LOCAL_UNIT, UNIT

DATA_DIR = Path(str(files("minsheng.build") / "lexicons"))  # package data, in a wheel as in a checkout
UNITS_FILE = DATA_DIR / "units.csv"
NOT_QUANTITIES_FILE = DATA_DIR / "not_quantities.csv"
TIME_BASES_FILE = DATA_DIR / "time_bases.csv"
UNIT_PREFIXES = {"unit": str(UNIT), "mu": str(LOCAL_UNIT)}
NOT_QUANTITY_RULES = (
    "idiom",
    "name-after",
    "ordinal-after",
    "institution-after",
    "vague-before",
    "vague-after",
)


class LexiconError(ValueError):
    """A lexicon file that does not follow its format."""


@dataclass(frozen=True)
class Unit:
    code: str  # the notation in the curation CSV's unit column
    iri: URIRef
    label_en: str
    label_zh: str
    words: tuple[str, ...]  # how the unit is written after a number
    scale: str  # the number parser's scale that demands this unit (percent, fraction...), or ""
    per_time: bool  # whether a figure in this unit can be a flow per day/month/year (tonnes yes, % no)
    basis: str  # the per-time basis the unit itself carries (元/月: per-month), or ""
    multiplier: str  # qudt:conversionMultiplier of a local unit, or ""
    see_also: URIRef | None
    definition_en: str


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for number, row in enumerate(rows, 2):
        if None in row or any(value is None for value in row.values()):
            raise LexiconError(f"{path.name}, row {number}: wrong number of fields")
    return rows


def expand_unit_iri(curie: str) -> URIRef:
    prefix, _, local = curie.partition(":")
    if prefix not in UNIT_PREFIXES or not local:
        raise LexiconError(f"unit IRI {curie!r} must be unit:… (QUDT) or mu:… (local)")
    return URIRef(UNIT_PREFIXES[prefix] + local)


@cache
def units() -> tuple[Unit, ...]:
    table = []
    for row in _rows(UNITS_FILE):
        table.append(
            Unit(
                code=row["code"],
                iri=expand_unit_iri(row["iri"]),
                label_en=row["label_en"],
                label_zh=row["label_zh"],
                words=tuple(word for word in row["words"].split("|") if word),
                scale=row["scale"],
                per_time=row["per_time"] == "yes",
                basis=row["basis"],
                multiplier=row["multiplier"],
                see_also=expand_unit_iri(row["see_also"]) if row["see_also"] else None,
                definition_en=row["definition_en"],
            )
        )
    codes = [unit.code for unit in table]
    if len(set(codes)) != len(codes):
        raise LexiconError(f"{UNITS_FILE.name}: a unit code is repeated")
    return tuple(table)


def unit_by_code() -> dict[str, Unit]:
    return {unit.code: unit for unit in units()}


def scale_units() -> dict[str, str]:
    """The number parser's scale → the unit code it demands (percent → percent, multiple → unitless)."""
    return {unit.scale: unit.code for unit in units() if unit.scale}


@cache
def unit_words() -> tuple[tuple[str, Unit], ...]:
    """(written word, unit) for units read after a number, longest word first so that 千瓦时 wins over
    千瓦 and 平方公里 over 公里. Scale units (%, 倍, 成) are part of the written figure instead."""
    pairs = [(word, unit) for unit in units() if not unit.scale for word in unit.words]
    return tuple(sorted(pairs, key=lambda pair: len(pair[0]), reverse=True))


@cache
def not_quantities() -> dict[str, tuple[str, ...]]:
    """rule → its words, longest first."""
    table: dict[str, list[str]] = {rule: [] for rule in NOT_QUANTITY_RULES}
    for number, row in enumerate(_rows(NOT_QUANTITIES_FILE), 2):
        if row["rule"] not in table or not row["text"]:
            raise LexiconError(f"{NOT_QUANTITIES_FILE.name}, row {number}: unknown rule or empty text")
        table[row["rule"]].append(row["text"])
    return {rule: tuple(sorted(words, key=len, reverse=True)) for rule, words in table.items()}


@cache
def time_bases() -> tuple[tuple[str, str], ...]:
    """(word, basis), longest word first (平均每日 before 每日)."""
    pairs = [(row["word"], row["basis"]) for row in _rows(TIME_BASES_FILE)]
    return tuple(sorted(pairs, key=lambda pair: len(pair[0]), reverse=True))
