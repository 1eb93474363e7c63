"""National IDs: the rule of the deployment's country, and how one is kept (encrypted, looked up by a
keyed hash, shown masked). Pure functions; the secrets come from GatewaySettings.

| country | name | rule |
|---|---|---|
| KZ | IIN (ЖСН/ИИН) | 12 digits, the last a check digit: two-pass weighted mod 11 |
| KG | PIN (ПИН) | 14 digits |
| UZ | PINFL (ЖШШИР/ПИНФЛ) | 14 digits |
| MN | register number (регистрийн дугаар) | two Cyrillic letters, then 8 digits |
| TJ | configured | USTAZ_NATIONAL_ID_PATTERN, matched in full |
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import operator
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from gateway.settings import GatewaySettings
from libs.crypto import fernet

IIN_WEIGHTS_1 = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
IIN_WEIGHTS_2 = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
_ZERO = ord("0")
_ZERO_1, _ZERO_2 = _ZERO * sum(IIN_WEIGHTS_1), _ZERO * sum(IIN_WEIGHTS_2)
DIGIT_LENGTHS = {"KZ": 12, "KG": 14, "UZ": 14}
# Mongolian Cyrillic: the Russian alphabet with Ө and Ү.
MN_REGISTER = re.compile(r"[А-ЯЁӨҮ]{2}[0-9]{8}")
_SPACES = re.compile(r"[\s\-]+")
# Sealed national IDs (docs/adr/0013): "v2:" + base64url(nonce ‖ AES-256-GCM ciphertext ‖ tag), the key
# from the encryption secret by HKDF. Values sealed before it are Fernet tokens ("gAAAAA…", no colon
# in base64url), which still unseal.
SEALED_V2 = "v2:"
_NONCE = 12
_AAD = b"ustaz national id"


def iin_check_digit(first_eleven: str) -> int | None:
    """The IIN's twelfth digit from the first eleven (the official rule): the weighted sum with weights
    1..11 mod 11; if that is 10, again with weights 3..11,1,2; a second 10 means no valid IIN exists."""
    codes = first_eleven.encode("ascii")  # the digits' character codes: the sums less the zeros' share
    if len(codes) != 11 or not codes.isdigit():
        raise ValueError("an IIN's check digit comes from eleven digits")
    check: int = (sum(map(operator.mul, codes, IIN_WEIGHTS_1)) - _ZERO_1) % 11
    if check == 10:
        check = (sum(map(operator.mul, codes, IIN_WEIGHTS_2)) - _ZERO_2) % 11
        if check == 10:
            return None
    return check


def iin_problem(value: str) -> str | None:
    if len(value) != 12 or not value.isascii() or not value.isdigit():
        return "an IIN is 12 digits"
    if iin_check_digit(value[:11]) != int(value[11]):
        return "the IIN's check digit does not match"
    return None


def _digits_problem(length: int, name: str) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        if len(value) != length or not value.isascii() or not value.isdigit():
            return f"a {name} is {length} digits"
        return None

    return check


def _mn_problem(value: str) -> str | None:
    if not MN_REGISTER.fullmatch(value):
        return "a register number is two Cyrillic letters and 8 digits"
    return None


@dataclass(frozen=True)
class NationalIdRule:
    country: str
    name: str
    check: Callable[[str], str | None]
    # An IIN of someone born in 2000-2009 begins with 0, which a spreadsheet's number cell drops; PINs
    # and PINFLs begin with 1-6. The check digit still has to match after the zero is put back.
    digits: int | None = None

    def normalize(self, raw: str) -> str:
        """Spaces and dashes dropped, letters upper-cased; a number cell from a spreadsheet padded back."""
        value = raw if raw.isdigit() else _SPACES.sub("", raw).upper()
        if self.digits and value.isdigit() and len(value) == self.digits - 1:
            value = "0" + value
        return value

    def problem(self, normalized: str) -> str | None:
        """None if valid, else the reason in a few words."""
        return self.check(normalized)


def rule_for(country: str, pattern: str = "") -> NationalIdRule:
    if country == "KZ":
        return NationalIdRule("KZ", "IIN", iin_problem, digits=12)
    if country == "KG":
        return NationalIdRule("KG", "PIN", _digits_problem(14, "PIN"))
    if country == "UZ":
        return NationalIdRule("UZ", "PINFL", _digits_problem(14, "PINFL"))
    if country == "MN":
        return NationalIdRule("MN", "register number", _mn_problem)
    if country == "TJ":
        compiled = re.compile(pattern)

        def tj_problem(value: str) -> str | None:
            return (
                None if compiled.fullmatch(value) else "the national ID does not match the configured pattern"
            )

        return NationalIdRule("TJ", "national ID", tj_problem)
    raise ValueError(f"no national-ID rule for {country}")


class NationalIds:
    """Keeping national IDs: `lookup` is the keyed hash the registry is indexed by (HMAC-SHA256, so a
    copy of the database alone cannot be searched by brute force over the few billion valid IDs),
    `seal`/`unseal` the encryption at rest, `mask` what everyone but registry administrators sees.

    A value is sealed with AES-256-GCM (one key object for every value, a random 96-bit nonce each:
    a few microseconds, where Fernet built a cipher context per value); values sealed with Fernet
    before keep unsealing."""

    def __init__(self, rule: NationalIdRule, encryption_secret: str, hash_secret: str) -> None:
        self.rule = rule
        self._box: Fernet = fernet(encryption_secret)  # unseals what was sealed before "v2:"
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"ustaz national-id v2")
        self._aead = AESGCM(key.derive(encryption_secret.encode()))
        self._hash_key = hashlib.sha256(b"ustaz-national-id\n" + hash_secret.encode()).digest()
        # The key's padded hash states made once; `lookup` copies them per value (hmac's own reuse).
        self._lookup = hmac.new(self._hash_key, digestmod=hashlib.sha256)
        self._prefix = f"{rule.country}:"
        self._code_key = hashlib.sha256(b"ustaz-account-code\n" + hash_secret.encode()).digest()

    def lookup(self, normalized: str) -> str:
        mac = self._lookup.copy()
        mac.update((self._prefix + normalized).encode())
        return mac.hexdigest()

    def seal(self, normalized: str) -> str:
        return self.seal_many([normalized])[0]

    def seal_many(self, normalized: Sequence[str]) -> list[str]:
        """`seal` of each (an import's chunk): the nonces from one random read."""
        nonces = os.urandom(_NONCE * len(normalized))
        encrypt, out = self._aead.encrypt, []
        for i, value in enumerate(normalized):
            nonce = nonces[i * _NONCE : (i + 1) * _NONCE]
            token = base64.urlsafe_b64encode(nonce + encrypt(nonce, value.encode(), _AAD))
            out.append(SEALED_V2 + token.decode())
        return out

    def unseal(self, sealed: str) -> str:
        try:
            if sealed.startswith(SEALED_V2):
                data = base64.urlsafe_b64decode(sealed[len(SEALED_V2) :])
                if len(data) < _NONCE + 16:  # not even a nonce and a tag
                    raise InvalidTag
                return self._aead.decrypt(data[:_NONCE], data[_NONCE:], _AAD).decode()
            return self._box.decrypt(sealed.encode()).decode()
        except (InvalidToken, InvalidTag, binascii.Error) as exc:  # another USTAZ_NATIONAL_ID_KEY sealed it
            raise ValueError("a national ID cannot be decrypted with the configured key") from exc

    def code_hash(self, purpose: str, subject: str, code: str) -> str:
        """One-time codes are kept as a keyed hash too (six digits alone are guessed in a million tries)."""
        return hmac.new(self._code_key, f"{purpose}:{subject}:{code}".encode(), hashlib.sha256).hexdigest()


def mask(normalized: str) -> str:
    """The last four characters, the rest as dots: enough to tell two people apart on a list."""
    return "•" * max(len(normalized) - 4, 0) + normalized[-4:]


@functools.lru_cache(maxsize=8)
def national_ids(settings: GatewaySettings) -> NationalIds:
    return NationalIds(
        rule_for(settings.registry_country, settings.national_id_pattern),
        settings.national_id_key,
        settings.national_id_hash_key,
    )
