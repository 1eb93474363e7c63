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

import functools
import hashlib
import hmac
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken

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
    `seal`/`unseal` the encryption at rest, `mask` what everyone but registry administrators sees."""

    def __init__(self, rule: NationalIdRule, encryption_secret: str, hash_secret: str) -> None:
        self.rule = rule
        self._box: Fernet = fernet(encryption_secret)
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
        return self._box.encrypt(normalized.encode()).decode()

    def seal_many(self, normalized: Sequence[str]) -> list[str]:
        """`seal` of each (an import's chunk)."""
        return [self.seal(n) for n in normalized]

    def unseal(self, sealed: str) -> str:
        try:
            return self._box.decrypt(sealed.encode()).decode()
        except InvalidToken as exc:  # a different USTAZ_NATIONAL_ID_KEY than the one that sealed it
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
