"""pyld's side of linked_data.py: the offline document loader, the remembered contexts and the
canonicalization itself. Imported with the first canonicalization (pyld and lxml are ~11 MiB a
process; beat and the gateway never need them)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from cachetools import LRUCache
from frozendict import frozendict
from pyld import jsonld  # type: ignore[import-untyped]
from pyld.canon import URDNA2015  # type: ignore[import-untyped]
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


def _options() -> dict[str, Any]:
    return {
        "algorithm": "URDNA2015",
        "format": "application/n-quads",
        "documentLoader": document_loader,
        "contextResolver": ContextResolver(_RESOLVED, document_loader),
        "safe": True,
    }


def _canonize_whole(document: Mapping[str, Any]) -> str:
    try:
        processor = _Processor(on_property_dropped=_dropped)
        quads: str = processor.normalize(dict(document), _options())
    except jsonld.JsonLdError as exc:
        raise NotLinkedData(f"Not JSON-LD we can read: {exc}") from exc
    except (TypeError, AttributeError, KeyError) as exc:  # pyld on shapes JSON-LD does not allow
        raise NotLinkedData(f"Not well-formed JSON-LD: {exc}") from exc
    return quads


# -- the same dataset from a template of the document's shape ---------------------------------------
#
# Turning a credential into RDF (JSON-LD expansion, then the node map) is ~80% of its canonicalization,
# and it depends on the document's shape (keys, `type`s, contexts, numbers, which values are equal),
# not on what its strings say. So a document is turned into RDF once per shape, with each distinct
# string replaced by a placeholder of the same kind (an absolute IRI keeps its scheme, anything else
# stays not an IRI); each credential then puts its strings in place of the placeholders in that
# dataset, and RDFC-1.0 labels and sorts it as usual. A string JSON-LD changes while expanding it (a
# compact IRI, a term, a JSON literal) shows up as a placeholder that is no longer whole: the
# template is made again with that member's strings kept as they are, and those members stay kept.
# Anything else (a string that looks like a keyword or a blank node, or holds the placeholder
# marker) is canonicalized whole, as is any document once _KEPT is full (a verifier canonicalizes
# documents sent from outside: what they teach is bounded). tests/unit/test_certificate_dids.py
# compares both paths.

_MARK = "ustazph"
_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+\-.]*:[^\s]*")  # pyld's absolute IRI, scheme kept
_MARKER = re.compile(_MARK + r"\d+z")  # a placeholder without the scheme it may carry
_TEMPLATES: LRUCache[str, dict[str, list[dict[str, Any]]]] = LRUCache(maxsize=256)
_KEPT: set[tuple[str, ...]] = set()  # members whose strings JSON-LD rewrites: part of the shape
_KEPT_MAX = 512


class _Untemplatable(Exception):
    pass


def _template(
    document: Any, path: tuple[str, ...], values: dict[str, str], paths: dict[str, set[Any]]
) -> Any:
    """The document with its strings as placeholders (the same string, the same placeholder); `paths`
    gets the members each marker stands in."""
    if isinstance(document, Mapping):
        out = {}
        for key, value in document.items():
            if key.startswith("@") and key not in ("@id", "@value") or key in ("type", "@context"):
                out[key] = value  # contexts, types, languages, directions: the shape itself
            else:
                out[key] = _template(value, (*path, key), values, paths)
        return out
    if isinstance(document, list):
        return [_template(item, path, values, paths) for item in document]
    if not isinstance(document, str) or path in _KEPT:
        return document
    if _MARK in document or document.startswith(("@", "_:")):
        raise _Untemplatable
    placeholder = values.get(document)
    if placeholder is None:
        scheme = document.split(":", 1)[0] + ":" if _ABSOLUTE.fullmatch(document) else ""
        placeholder = values[document] = f"{scheme}{_MARK}{len(values)}z"
    paths.setdefault(placeholder[placeholder.index(_MARK) :], set()).add(path)  # by its marker
    return placeholder


def _to_rdf(document: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    options = {**_options(), "produceGeneralizedRdf": False}
    del options["format"]
    try:
        dataset: dict[str, list[dict[str, Any]]] = _Processor(on_property_dropped=_dropped).to_rdf(
            dict(document), options
        )
    except (jsonld.JsonLdError, TypeError, AttributeError, KeyError) as exc:
        raise _Untemplatable from exc  # the whole path raises what the caller sees
    return dataset


def _rewritten(dataset: dict[str, list[dict[str, Any]]], exact: set[str]) -> set[str]:
    """Markers of placeholders that occur in the dataset other than as a whole value."""
    found: set[str] = set()
    texts = [*dataset]
    for quad in (q for quads in dataset.values() for q in quads):
        texts.extend(part["value"] for part in quad.values())
    for text in texts:
        if text not in exact:
            found.update(_MARKER.findall(text))
    return found


def _dataset(document: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    for _ in range(2):  # every rewritten member shows in the first pass: the second is clean
        values: dict[str, str] = {}
        paths: dict[str, set[Any]] = {}
        template = _template(document, (), values, paths)
        key = json.dumps(template, ensure_ascii=False, separators=(",", ":"))
        dataset = _TEMPLATES.get(key)
        if dataset is None:
            dataset = _to_rdf(template)
            exact = set(values.values())
            rewritten = _rewritten(dataset, exact)
            if rewritten:
                learned = {path for marker in rewritten for path in paths.get(marker, ())}
                if len(_KEPT) + len(learned) > _KEPT_MAX:
                    raise _Untemplatable
                _KEPT.update(learned)
                continue
            _TEMPLATES[key] = dataset
        real = {placeholder: value for value, placeholder in values.items()}
        return {
            real.get(graph, graph): [
                {
                    part: {**term, "value": real.get(term["value"], term["value"])}
                    for part, term in quad.items()
                }
                for quad in quads
            ]
            for graph, quads in dataset.items()
        }
    raise _Untemplatable


def canonize(document: Mapping[str, Any]) -> str:
    """The document's RDF dataset in canonical N-Quads (RDFC-1.0). Refuses (NotLinkedData) a document
    whose contexts are not shipped here, or with a property that no context defines (JSON-LD would
    drop it silently, leaving it unsigned: the "safe mode" of the Data Integrity specification)."""
    try:
        dataset = _dataset(document)
    except _Untemplatable:
        return _canonize_whole(document)
    quads: str = URDNA2015().main(dataset, _options())
    return quads
