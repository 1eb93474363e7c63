"""Symmetric encryption at rest from a configured secret (signing keys, personal data), and the two
primitives a bulk import needs many times a second: Fernet tokens for a batch of values, and HMAC-SHA256
under one key, both byte-for-byte what `cryptography.fernet.Fernet` and `hmac` give one at a time."""

from __future__ import annotations

import base64
import hashlib
import os
import struct
import time
from collections.abc import Sequence

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))
_PADS = [bytes((n,)) * n for n in range(17)]  # PKCS #7: n bytes of value n, 1 <= n <= 16


def fernet_key(secret: str) -> bytes:
    """The Fernet key (urlsafe base64 of 32 bytes) of `secret`: SHA-256 of it, so any length works."""
    return base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest())


def fernet(secret: str) -> Fernet:
    """A Fernet box keyed by SHA-256 of `secret` (any length of secret gives a valid 32-byte key)."""
    return Fernet(fernet_key(secret))


class HmacSha256:
    """HMAC-SHA256 (RFC 2104) under one key, from the key's two padded SHA-256 states copied per message:
    the same digest as `hmac.digest(key, msg, "sha256")` at a third of its cost (OpenSSL 3 looks the
    algorithm up again on every one-shot call)."""

    def __init__(self, key: bytes) -> None:
        if len(key) > 64:
            key = hashlib.sha256(key).digest()
        block = key.ljust(64, b"\0")
        self._inner = hashlib.sha256(block.translate(_IPAD))
        self._outer = hashlib.sha256(block.translate(_OPAD))

    def digest(self, message: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()

    def hexdigest(self, message: bytes) -> str:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()


class FernetBatch:
    """Fernet tokens (version 0x80, timestamp, random IV, AES-128-CBC with PKCS #7 padding, HMAC-SHA256)
    for many values at once: `Fernet(key).decrypt` reads each one. Fernet builds an AES context per
    value, which is most of its cost; here one AES block cipher context (ECB, i.e. the bare block
    function) serves the whole batch, and CBC's chaining (each block XORed with the previous ciphertext
    block, the first with the value's own IV) is done on the blocks of every value in step."""

    def __init__(self, key: bytes) -> None:
        raw = base64.urlsafe_b64decode(key)
        if len(raw) != 32:
            raise ValueError("a Fernet key is 32 bytes, urlsafe base64")
        self._signing = HmacSha256(raw[:16])
        self._encryption = raw[16:]

    def encrypt(
        self, values: Sequence[bytes], *, at: int | None = None, ivs: bytes | None = None
    ) -> list[bytes]:
        """One token per value; `at` (seconds) and `ivs` (16 bytes per value) only for tests."""
        count = len(values)
        if not count:
            return []
        ivs = os.urandom(16 * count) if ivs is None else ivs
        if len(ivs) != 16 * count:
            raise ValueError("16 bytes of IV per value")
        header = b"\x80" + struct.pack(">Q", int(time.time()) if at is None else at)
        padded = [v + _PADS[16 - len(v) % 16] for v in values]
        previous = [ivs[16 * i : 16 * i + 16] for i in range(count)]
        ciphertexts = [b""] * count
        ecb = modes.ECB()  # noqa: S305 - the bare block function, CBC's chaining is done here
        block = Cipher(algorithms.AES(self._encryption), ecb).encryptor()
        start, pending = 0, list(range(count))
        while pending:
            mixed = b"".join(
                (
                    int.from_bytes(previous[i], "big") ^ int.from_bytes(padded[i][start : start + 16], "big")
                ).to_bytes(16, "big")
                for i in pending
            )
            out = block.update(mixed)
            for n, i in enumerate(pending):
                previous[i] = out[16 * n : 16 * n + 16]
                ciphertexts[i] += previous[i]
            start += 16
            pending = [i for i in pending if len(padded[i]) > start]
        tokens: list[bytes] = []
        for i in range(count):
            body = header + ivs[16 * i : 16 * i + 16] + ciphertexts[i]
            tokens.append(base64.urlsafe_b64encode(body + self._signing.digest(body)))
        return tokens
