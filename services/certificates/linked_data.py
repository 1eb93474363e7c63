"""JSON-LD for Data Integrity proofs: the context documents our credentials use, shipped in
contexts/ (with their licences) and served from memory by a document loader that never fetches, and
RDF Dataset Canonicalization (RDFC-1.0, pyld's URDNA2015) of a document in one call.

Contexts are parsed once per process: the loader hands out the same parsed document every time and
pyld keeps each resolved context in `_RESOLVED` (an LRU keyed by URL), so canonicalizing a credential
costs its own expansion and the canonical labelling, not the contexts' (docs/adr/0017)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"
STATUS_LIST_V1 = "https://www.w3.org/ns/credentials/status/v1"
DID_V1 = "https://www.w3.org/ns/did/v1"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"

_FILES = {
    VC_V2: "credentials-v2.jsonld",
    OB_V3: "ob-v3p0-context-3.0.3.json",
    DATA_INTEGRITY_V2: "data-integrity-v2.jsonld",
    STATUS_LIST_V1: "vc-bitstring-status-list-v1.jsonld",
    DID_V1: "did-v1.jsonld",
    MULTIKEY_V1: "multikey-v1.jsonld",
}
CONTEXT_DIR = Path(__file__).parent / "contexts"


def _load() -> dict[str, Any]:
    return {url: json.loads((CONTEXT_DIR / name).read_text("utf-8")) for url, name in _FILES.items()}


CONTEXTS: Mapping[str, Any] = _load()


class NotLinkedData(ValueError):
    """The document is not JSON-LD we can process offline: a context we do not ship, a term no context
    defines (it would be left out of what is signed), or malformed JSON-LD."""


def canonize(document: Mapping[str, Any]) -> str:
    """The document's RDF dataset in canonical N-Quads (RDFC-1.0). Refuses (NotLinkedData) a document
    whose contexts are not shipped here, or with a property that no context defines (JSON-LD would
    drop it silently, leaving it unsigned: the "safe mode" of the Data Integrity specification)."""
    from services.certificates import rdfc

    return rdfc.canonize(document)
