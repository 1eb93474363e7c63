"""1EdTech's Common Cartridge XSDs with lxml, offline: 1.3 (tests/data/standards/cc-v1p3), whose absolute
schemaLocations are answered from the copies in the repository, and 1.1 (cc-v1p1, relative imports),
the schemas Moodle validates a cartridge with before it imports it (libxml2, as lxml)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree

XSD = Path(__file__).parent / "data" / "standards" / "cc-v1p3"
XSD_11 = XSD.parent / "cc-v1p1"


class _Local(etree.Resolver):  # type: ignore[misc]
    def resolve(self, url: str, pubid: str, context: Any) -> Any:
        if url.startswith(("http://www.imsglobal.org/", "http://ltsc.ieee.org/")):
            return self.resolve_filename(str(XSD / url.rsplit("/", 1)[-1]), context)
        return None


@cache
def schema(name: str) -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(_Local())
    path = XSD_11 / name if name.startswith("ccv1p1_imscp") else XSD / name
    return etree.XMLSchema(etree.parse(str(path), parser))


def problems(name: str, document: bytes) -> list[str]:
    """Every error of `document` against the XSD `name` (empty: valid)."""
    xsd = schema(name)
    xsd.validate(etree.fromstring(document))
    return [f"{e.line}: {e.message}" for e in xsd.error_log]


MANIFEST = "ccv1p3_imscp_v1p2_v1p0.xsd"
QTI = "ccv1p1_qtiasiv1p2p1_v1p0.xsd"  # the CC QTI profile of 1.1, same namespace as 1.3's
MANIFEST_11 = "ccv1p1_imscp_v1p2_v1p0.xsd"


def moodle_detects(manifest: bytes) -> bool:
    """Moodle's test for a CC 1.1 cartridge (backup/converter/imscc11/lib.php, detect_format): the
    default namespace declared within the manifest's first 1024 bytes."""
    snippet = manifest[:1024].decode("utf-8", "replace").lower()
    snippet = "".join(snippet.split()).replace("'", "").replace('"', "")
    return "xmlns=http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1" in snippet
