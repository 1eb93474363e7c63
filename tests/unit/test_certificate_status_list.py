"""Bitstring Status List encoding (W3C VC Bitstring Status List v1.0): pure functions."""

from __future__ import annotations

import base64
import gzip

import pytest

from services.certificates import status

EMPTY = bytes(status.LIST_LENGTH // 8)


def test_index_zero_is_the_leftmost_bit_of_the_first_byte() -> None:
    bits = status.set_bit(EMPTY, 0)
    assert bits[0] == 0b1000_0000 and not any(bits[1:])
    bits = status.set_bit(bits, 9)
    assert bits[1] == 0b0100_0000
    assert status.bit(bits, 0) and status.bit(bits, 9) and not status.bit(bits, 1)
    last = status.set_bit(EMPTY, status.LIST_LENGTH - 1)
    assert last[-1] == 1 and status.bit(last, status.LIST_LENGTH - 1)


def test_encoded_list_is_multibase_base64url_of_gzip_and_round_trips() -> None:
    bits = status.set_bit(status.set_bit(EMPTY, 7), 94_567)
    encoded = status.encode_list(bits)
    assert encoded.startswith("u") and "=" not in encoded and "+" not in encoded and "/" not in encoded
    raw = base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4))
    assert gzip.decompress(raw) == bits
    assert status.decode_list(encoded) == bits
    assert len(encoded) < 200  # 16 KiB of mostly zeros compresses to very little


@pytest.mark.parametrize(
    "encoded", ["", "zABC", "u!!!", "u" + base64.urlsafe_b64encode(b"not gzip").decode()]
)
def test_malformed_lists_are_refused(encoded: str) -> None:
    with pytest.raises(status.StatusListError):
        status.decode_list(encoded)


def test_a_decompression_bomb_is_refused() -> None:
    bomb = "u" + base64.urlsafe_b64encode(gzip.compress(bytes(64 * 1024 * 1024))).rstrip(b"=").decode()
    with pytest.raises(status.StatusListError, match="implausibly long"):
        status.decode_list(bomb)


def test_an_index_outside_the_list_is_refused() -> None:
    with pytest.raises(status.StatusListError):
        status.bit(EMPTY, status.LIST_LENGTH)
    with pytest.raises(status.StatusListError):
        status.bit(EMPTY, -1)
