"""The bulk forms of libs.crypto give what the one-at-a-time ones give: Fernet tokens byte-equal to
`Fernet` with the same time and IV (and readable by it), HMAC-SHA256 equal to `hmac.digest`."""

from __future__ import annotations

import hmac
import os

import pytest
from cryptography.fernet import Fernet

from libs.crypto import FernetBatch, HmacSha256, fernet, fernet_key

VALUES = [b"", b"1", b"870101300123", b"x" * 15, b"y" * 16, b"z" * 17, "АБ12345678".encode(), os.urandom(70)]


def test_a_batch_of_fernet_tokens_is_byte_equal_to_fernets_own() -> None:
    key = fernet_key("a secret")
    box = Fernet(key)
    ivs = os.urandom(16 * len(VALUES))
    tokens = FernetBatch(key).encrypt(VALUES, at=1_790_000_000, ivs=ivs)
    for i, (value, token) in enumerate(zip(VALUES, tokens, strict=True)):
        expected = box._encrypt_from_parts(value, 1_790_000_000, ivs[16 * i : 16 * i + 16])
        assert token == expected
        assert box.decrypt(token) == value


def test_batch_tokens_carry_fresh_ivs_and_the_time() -> None:
    key = fernet_key("a secret")
    first, second = FernetBatch(key).encrypt([b"870101300123", b"870101300123"])
    assert first != second  # a random IV per value, never shared
    assert fernet("a secret").decrypt(first, ttl=60) == b"870101300123"
    assert FernetBatch(key).encrypt([]) == []
    with pytest.raises(ValueError, match="IV"):
        FernetBatch(key).encrypt([b"a"], ivs=b"short")
    with pytest.raises(ValueError, match="32 bytes"):
        FernetBatch(b"c2hvcnQ=")


@pytest.mark.parametrize("length", [0, 16, 32, 64, 65, 200])
def test_hmac_sha256_matches_the_standard_library(length: int) -> None:
    key = os.urandom(length)
    mac = HmacSha256(key)
    for message in (b"", b"KZ:870101300123", os.urandom(300)):
        assert mac.digest(message) == hmac.digest(key, message, "sha256")
        assert mac.hexdigest(message) == hmac.digest(key, message, "sha256").hex()
