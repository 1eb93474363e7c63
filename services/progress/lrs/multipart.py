"""multipart/mixed bodies of statements with attachments (Communication 1.5.2): the first part is the
statements (application/json), every other part an attachment's raw content with its
`X-Experience-API-Hash` (its SHA-2) and `Content-Transfer-Encoding: binary`. Reading and writing."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

from services.progress.lrs.objects import Invalid


@dataclass(frozen=True)
class Part:
    headers: dict[str, str]  # lower-case names
    content: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


def boundary_of(content_type: str) -> str:
    for param in content_type.split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "boundary" and value.strip():
            return value.strip().strip('"')
    raise Invalid("Content-Type", "multipart/mixed needs a boundary parameter")


def parse(body: bytes, content_type: str) -> list[Part]:
    delimiter = b"--" + boundary_of(content_type).encode("latin-1")
    chunks = body.split(delimiter)
    if len(chunks) < 3 or not chunks[-1].startswith(b"--"):
        raise Invalid(
            "body", "is not a multipart/mixed body with this boundary (or has no closing delimiter)"
        )
    parts = []
    for chunk in chunks[1:-1]:
        if not chunk.startswith(b"\r\n") or not chunk.endswith(b"\r\n"):
            raise Invalid("body", "a multipart delimiter must stand on its own line")
        head, separator, content = chunk[2:-2].partition(b"\r\n\r\n")
        if not separator:
            head, content = (b"", chunk[2:-2]) if chunk.startswith(b"\r\n\r\n") else (head, b"")
        parts.append(Part(_headers(head), content))
    return parts


def _headers(head: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in head.decode("latin-1").split("\r\n"):
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        if not colon:
            raise Invalid("body", f"a part's header line {line!r} has no colon")
        out[name.strip().lower()] = value.strip()
    return out


def attachment_parts(parts: list[Part]) -> dict[str, Part]:
    """The attachment parts by their hash, each checked: a hash header that is the SHA-256/384/512 (or
    SHA-224) of the content, and binary transfer encoding."""
    out: dict[str, Part] = {}
    for index, part in enumerate(parts[1:], start=1):
        claimed = part.headers.get("x-experience-api-hash", "").lower()
        if not claimed:
            raise Invalid(f"part {index}", "an attachment part needs an X-Experience-API-Hash header")
        if part.headers.get("content-transfer-encoding", "").lower() != "binary":
            raise Invalid(f"part {index}", "an attachment part needs Content-Transfer-Encoding: binary")
        if claimed != sha2(part.content, len(claimed)):
            raise Invalid(f"part {index}", "X-Experience-API-Hash is not the SHA-2 of the part's content")
        out[claimed] = part
    return out


ALGORITHMS = {56: "sha224", 64: "sha256", 96: "sha384", 128: "sha512"}


def sha2(content: bytes, hex_length: int = 64) -> str:
    return hashlib.new(ALGORITHMS.get(hex_length, "sha256"), content).hexdigest()


def build(first: bytes, attachments: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    """A multipart/mixed body: JSON first, then each (sha2, content type, content); and its Content-Type."""
    boundary = uuid.uuid4().hex
    out = [f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode(), first, b"\r\n"]
    for digest, content_type, content in attachments:
        out.append(
            (
                f"--{boundary}\r\nContent-Type: {content_type}\r\nContent-Transfer-Encoding: binary\r\n"
                f"X-Experience-API-Hash: {digest}\r\n\r\n"
            ).encode()
        )
        out += [content, b"\r\n"]
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out), f'multipart/mixed; boundary="{boundary}"'
