"""Unpadded base64url (RFC 4648 §5), as JOSE, status lists, cursors and signed links use it."""

from __future__ import annotations

import base64


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Raises binascii.Error (a ValueError) on text that is not base64url."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"  # the Bitcoin alphabet
_BASE58_INDEX = {c: i for i, c in enumerate(_BASE58)}


def b58btc_encode(data: bytes) -> str:
    """Base58 with the Bitcoin alphabet (multibase `z`, as did:key and Data Integrity proofs use it)."""
    number = int.from_bytes(data, "big")
    digits = []
    while number:
        number, rest = divmod(number, 58)
        digits.append(_BASE58[rest])
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + "".join(reversed(digits))


def b58btc_decode(text: str) -> bytes:
    """Raises ValueError on a character outside the alphabet."""
    number = 0
    for c in text:
        if c not in _BASE58_INDEX:
            raise ValueError(f"not base58btc: {c!r}")
        number = number * 58 + _BASE58_INDEX[c]
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body
