"""1EdTech's Common Cartridge 1.3 XSDs (tests/data/standards/cc-v1p3) with lxml, offline: the absolute
schemaLocations they import each other by are answered from the copies in the repository."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree

XSD = Path(__file__).parent / "data" / "standards" / "cc-v1p3"


class _Local(etree.Resolver):  # type: ignore[misc]
    def resolve(self, url: str, pubid: str, context: Any) -> Any:
        if url.startswith(("http://www.imsglobal.org/", "http://ltsc.ieee.org/")):
            return self.resolve_filename(str(XSD / url.rsplit("/", 1)[-1]), context)
        return None


@cache
def schema(name: str) -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(_Local())
    return etree.XMLSchema(etree.parse(str(XSD / name), parser))


def problems(name: str, document: bytes) -> list[str]:
    """Every error of `document` against the XSD `name` (empty: valid)."""
    xsd = schema(name)
    xsd.validate(etree.fromstring(document))
    return [f"{e.line}: {e.message}" for e in xsd.error_log]


MANIFEST = "ccv1p3_imscp_v1p2_v1p0.xsd"
QTI = "ccv1p1_qtiasiv1p2p1_v1p0.xsd"
