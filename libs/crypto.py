"""Symmetric encryption at rest from a configured secret (signing keys, personal data)."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet


def fernet(secret: str) -> Fernet:
    """A Fernet box keyed by SHA-256 of `secret` (any length of secret gives a valid 32-byte key)."""
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest()))
