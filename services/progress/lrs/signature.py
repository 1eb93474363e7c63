"""Signed statements (Data 2.6): a statement with an attachment of usageType .../signature carries a
JWS (RFC 7515, compact) in that part. The LRS checks it is well formed, uses RS256, RS384 or RS512,
and that its payload is the statement as it was before the signature was added; with an `x5c`
header the signature itself is verified against the first certificate's key."""

from __future__ import annotations

import json
from typing import Any

import jwt
from cryptography import x509

from libs.encoding import b64url_decode
from services.progress.lrs import canonical
from services.progress.lrs.multipart import Part
from services.progress.lrs.objects import Invalid

SIGNATURE = "http://adlnet.gov/expapi/attachments/signature"
ALGORITHMS = ("RS256", "RS384", "RS512")


def signature_attachment(statement: dict[str, Any]) -> dict[str, Any] | None:
    return next((a for a in statement.get("attachments", []) if a.get("usageType") == SIGNATURE), None)


def check(statement: dict[str, Any], parts: dict[str, Part], path: str) -> None:
    attachment = signature_attachment(statement)
    if attachment is None:
        return
    if attachment["contentType"] != "application/octet-stream":
        raise Invalid(f"{path}.attachments", "a signature's contentType must be application/octet-stream")
    part = parts.get(attachment["sha2"].lower())
    if part is None:
        raise Invalid(f"{path}.attachments", "the signature attachment's content is missing")
    token = part.content.decode("ascii", "replace").strip()
    header, payload = _decode(token, path)
    if header.get("alg") not in ALGORITHMS:
        raise Invalid(f"{path}.signature", "the JWS must use RS256, RS384 or RS512")
    if not isinstance(payload, dict) or _unsigned(payload) != _unsigned(statement):
        raise Invalid(f"{path}.signature", "the JWS payload is not this statement as it was signed")
    if "x5c" in header:
        _verify(token, header, path)


def _decode(token: str, path: str) -> tuple[dict[str, Any], Any]:
    pieces = token.split(".")
    if len(pieces) != 3:
        raise Invalid(f"{path}.signature", "is not a JWS in compact serialisation")
    try:
        header = json.loads(b64url_decode(pieces[0]))
        payload = json.loads(b64url_decode(pieces[1]))
    except ValueError as exc:
        raise Invalid(f"{path}.signature", "the JWS header or payload is not valid JSON") from exc
    if not isinstance(header, dict):
        raise Invalid(f"{path}.signature", "the JWS header is not a JSON object")
    return header, payload


def _unsigned(statement: dict[str, Any]) -> str:
    """The statement's content without the signature and the server's fields."""
    out = {k: v for k, v in statement.items() if k not in canonical.SERVER_FIELDS}
    others = [a for a in out.get("attachments", []) if a.get("usageType") != SIGNATURE]
    out.pop("attachments", None)
    if others:
        out["attachments"] = others
    if "id" in out:
        out["id"] = str(out["id"]).lower()
    return canonical.digest({"actor": {}, "verb": {}, "object": {}, **out})


def _verify(token: str, header: dict[str, Any], path: str) -> None:
    try:
        der = b64decode_std(header["x5c"][0])
        key = x509.load_der_x509_certificate(der).public_key()
        jwt.PyJWS().decode_complete(token, key=key, algorithms=list(ALGORITHMS))  # type: ignore[arg-type]
    except Exception as exc:
        raise Invalid(
            f"{path}.signature", "the JWS signature does not verify with its x5c certificate"
        ) from exc


def b64decode_std(value: str) -> bytes:
    import base64

    return base64.b64decode(value)
