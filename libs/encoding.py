"""Unpadded base64url (RFC 4648 §5), as JOSE, status lists, cursors and signed links use it."""

from __future__ import annotations

import base64


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Raises binascii.Error (a ValueError) on text that is not base64url."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
