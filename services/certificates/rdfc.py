"""pyld's side of linked_data.py: the offline document loader, the remembered contexts and the
canonicalization itself. Imported with the first canonicalization (pyld and lxml are ~11 MiB a
process; beat and the gateway never need them)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cachetools import LRUCache
from frozendict import frozendict
from pyld import jsonld  # type: ignore[import-untyped]
from pyld.context_resolver import ContextResolver  # type: ignore[import-untyped]

from services.certificates.linked_data import CONTEXTS, NotLinkedData


def document_loader(url: str, options: object = None) -> dict[str, Any]:
    """pyld's loader: the shipped contexts only. Nothing is ever fetched."""
    document = CONTEXTS.get(url)
    if document is None:
        raise jsonld.JsonLdError(
            f"The context {url} is not one this service ships.",
            "jsonld.LoadDocumentError",
            code="loading document failed",
        )
    # "static": pyld keeps a context so tagged across operations (with the contexts processed from it)
    return {"contextUrl": None, "documentUrl": url, "document": document, "tag": "static"}


_RESOLVED: LRUCache[str, Any] = LRUCache(maxsize=64)
_PROCESSED: LRUCache[tuple[object, ...], tuple[Any, Any]] = LRUCache(maxsize=1024)


class _Processor(jsonld.JsonLdProcessor):  # type: ignore[misc]
    """pyld's processor, remembering each context it processed on top of an active context.

    pyld caches a processed context by the active context's `_uuid`, but a type-scoped context (every
    `type` in an Open Badges credential has one) is processed on a fresh clone each time, so it
    misses: 90% of a credential's canonicalization went into processing the same few contexts again.
    Here a result is remembered by (active context, local context object, flags). Both are objects
    pyld itself keeps cached (the shipped contexts and the contexts processed from them), and the memo
    holds a reference to the local context so its id() cannot be reused."""

    def _process_context(  # type: ignore[no-untyped-def]
        self,
        active_ctx,
        local_ctx,
        options,
        override_protected=False,
        propagate=True,
        validate_scoped=True,
        cycles=None,
    ):
        uuid = active_ctx.get("_uuid") if isinstance(active_ctx, dict | frozendict) else None
        if uuid is None or isinstance(local_ctx, str):
            return super()._process_context(
                active_ctx, local_ctx, options, override_protected, propagate, validate_scoped, cycles
            )
        key = (uuid, id(local_ctx), override_protected, propagate, validate_scoped)
        hit = _PROCESSED.get(key)
        if hit is not None and hit[0] is local_ctx:
            return hit[1]
        processed = super()._process_context(
            active_ctx, local_ctx, options, override_protected, propagate, validate_scoped, cycles
        )
        _PROCESSED[key] = (local_ctx, processed)
        return processed


def _dropped(term: str | None) -> None:
    raise NotLinkedData(f"The term {term!r} is not defined by the document's contexts.")


def canonize(document: Mapping[str, Any]) -> str:
    """The document's RDF dataset in canonical N-Quads (RDFC-1.0). Refuses (NotLinkedData) a document
    whose contexts are not shipped here, or with a property that no context defines (JSON-LD would
    drop it silently, leaving it unsigned: the "safe mode" of the Data Integrity specification)."""
    options = {
        "algorithm": "URDNA2015",
        "format": "application/n-quads",
        "documentLoader": document_loader,
        "contextResolver": ContextResolver(_RESOLVED, document_loader),
        "safe": True,
    }
    try:
        processor = _Processor(on_property_dropped=_dropped)
        quads: str = processor.normalize(dict(document), options)
    except jsonld.JsonLdError as exc:
        raise NotLinkedData(f"Not JSON-LD we can read: {exc}") from exc
    except (TypeError, AttributeError, KeyError) as exc:  # pyld on shapes JSON-LD does not allow
        raise NotLinkedData(f"Not well-formed JSON-LD: {exc}") from exc
    return quads
