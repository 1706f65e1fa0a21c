"""Prefixes used everywhere: in the build, the shapes, the canned queries and the web pages."""

from rdflib import Namespace
from rdflib.namespace import DCAT, DCTERMS, OWL, PROV, RDF, RDFS, SKOS, VOID, XSD

BASE = "https://w3id.org/minsheng/"

MS = Namespace(BASE + "def/")
ID = Namespace(BASE + "id/")
DATA = Namespace(BASE + "data/")
GRAPH = Namespace(BASE + "graph/")
REGION = Namespace(BASE + "id/region/")
INDICATOR = Namespace(BASE + "def/indicator/")
CATEGORY = Namespace(BASE + "def/category/")
TOPIC = Namespace(BASE + "def/topic/")
TARGET_STATUS = Namespace(BASE + "def/target-status/")
VALUE_TYPE = Namespace(BASE + "def/value-type/")
QUALIFIER = Namespace(BASE + "def/qualifier/")
LOCAL_UNIT = Namespace(BASE + "def/unit/")

QB = Namespace("http://purl.org/linked-data/cube#")
SDMX_DIMENSION = Namespace("http://purl.org/linked-data/sdmx/2009/dimension#")
SDMX_MEASURE = Namespace("http://purl.org/linked-data/sdmx/2009/measure#")
SDMX_ATTRIBUTE = Namespace("http://purl.org/linked-data/sdmx/2009/attribute#")
UNIT = Namespace("http://qudt.org/vocab/unit/")
QUDT = Namespace("http://qudt.org/schema/qudt/")
OA = Namespace("http://www.w3.org/ns/oa#")
TIME = Namespace("http://www.w3.org/2006/time#")
INTERVAL = Namespace("http://reference.data.gov.uk/def/intervals/")
YEAR = Namespace("http://reference.data.gov.uk/id/year/")
GREGORIAN_INTERVAL = Namespace("http://reference.data.gov.uk/id/gregorian-interval/")
SH = Namespace("http://www.w3.org/ns/shacl#")

PREFIXES: dict[str, str] = {
    "ms": str(MS),
    "qb": str(QB),
    "sdmx-dimension": str(SDMX_DIMENSION),
    "sdmx-measure": str(SDMX_MEASURE),
    "sdmx-attribute": str(SDMX_ATTRIBUTE),
    "skos": str(SKOS),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "owl": str(OWL),
    "xsd": str(XSD),
    "dct": str(DCTERMS),
    "prov": str(PROV),
    "oa": str(OA),
    "time": str(TIME),
    "unit": str(UNIT),
    "qudt": str(QUDT),
    "dcat": str(DCAT),
    "void": str(VOID),
    "region": str(REGION),
    "indicator": str(INDICATOR),
    "category": str(CATEGORY),
    "topic": str(TOPIC),
    "ts": str(TARGET_STATUS),
    "vt": str(VALUE_TYPE),
    "qualifier": str(QUALIFIER),
    "id": str(ID),
    "data": str(DATA),
}


def sparql_prologue() -> str:
    """PREFIX lines for every prefix above, for query editors and canned queries."""
    return "".join(f"PREFIX {name}: <{iri}>\n" for name, iri in PREFIXES.items())
