"""The registry's pure rules, table-driven: national-ID checks per country, the file formats (encodings,
delimiters, headers, spreadsheet number cells) and the masking of personal data in the audit log."""

from __future__ import annotations

import io
import random

import pytest
from pydantic import ValidationError

from gateway.registry.audit import masked
from gateway.registry.formats import (
    FileRefused,
    UnknownHeader,
    detect_encoding,
    open_rows,
    parse_header,
    sniff_delimiter,
)
from gateway.registry.national_id import (
    IIN_WEIGHTS_1,
    IIN_WEIGHTS_2,
    NationalIds,
    iin_check_digit,
    mask,
    rule_for,
)
from gateway.settings import GatewaySettings


@pytest.mark.parametrize(
    ("first_eleven", "check"),
    [
        ("86090435050", 4),  # 8*1 + 6*2 + 9*4 + 4*6 + 3*7 + 5*8 + 5*10 = 191; 191 mod 11 = 4
        ("00000000000", 0),
        ("10000000000", 1),
        ("00000000010", 1),  # first pass 1*10 = 10, so the second: 1*1 = 1
        ("00000000200", 7),  # the 9th digit has weight 9: 2*9 = 18; 18 mod 11 = 7
    ],
)
def test_iin_check_digit_weighted_mod_11(first_eleven: str, check: int) -> None:
    assert iin_check_digit(first_eleven) == check


def test_iin_check_digit_is_the_weighted_sums_over_many_numbers() -> None:
    rng = random.Random(11)
    for _ in range(3000):
        digits = [rng.randrange(10) for _ in range(11)]
        check = sum(d * w for d, w in zip(digits, IIN_WEIGHTS_1, strict=True)) % 11
        if check == 10:
            check = sum(d * w for d, w in zip(digits, IIN_WEIGHTS_2, strict=True)) % 11
        assert iin_check_digit("".join(map(str, digits))) == (None if check == 10 else check)
    for bad in ("0000000001", "000000000012", "0000000000x", "0000000000٣"):
        with pytest.raises(ValueError):
            iin_check_digit(bad)


def test_iin_second_pass_and_impossible_numbers() -> None:
    # "00000000010": the 10th digit (weight 10) gives 10 -> the second pass (weight 1 there): 1.
    assert iin_check_digit("00000000010") == 1
    found_impossible = next(
        (f"{n:011d}" for n in range(0, 200_000, 7) if iin_check_digit(f"{n:011d}") is None), None
    )
    assert found_impossible is not None  # both passes give 10: no valid IIN has these eleven digits
    rule = rule_for("KZ")
    assert rule.problem(found_impossible + "0") is not None


@pytest.mark.parametrize(
    ("country", "raw", "valid"),
    [
        ("KZ", "860904350504", True),
        ("KZ", "860904350505", False),  # the wrong check digit
        ("KZ", "8609 0435 0504", True),  # spaces dropped
        ("KZ", "8609043505041", False),  # 13 digits
        ("KZ", "8609043505O4", False),  # a letter O
        ("KG", "21234567890123", True),
        ("KG", "2123456789012", False),  # 13 digits: never padded (a PIN begins with 1 or 2)
        ("UZ", "31234567890123", True),
        ("UZ", "3123456789012a", False),
        ("MN", "УБ12345678", True),
        ("MN", "уб12345678", True),  # upper-cased
        ("MN", "ӨҮ00112233", True),
        ("MN", "UB12345678", False),  # Latin letters
        ("MN", "УБ1234567", False),
    ],
)
def test_national_id_rules(country: str, raw: str, valid: bool) -> None:
    rule = rule_for(country)
    assert (rule.problem(rule.normalize(raw)) is None) is valid


def test_tajikistan_uses_the_configured_pattern() -> None:
    rule = rule_for("TJ", r"[0-9]{9}")
    assert rule.problem("123456789") is None and rule.problem("12345678") is not None
    with pytest.raises(ValidationError, match="NATIONAL_ID_PATTERN"):
        GatewaySettings(registry_country="TJ", national_id_pattern="")


def test_a_number_cell_gets_its_iins_leading_zero_back() -> None:
    rule = rule_for("KZ")
    first11 = "0512314" + "0012"
    iin = first11 + str(iin_check_digit(first11))
    assert rule.normalize(iin[1:]) == iin and rule.problem(rule.normalize(iin[1:])) is None
    wrong = iin[1:-1] + str((int(iin[-1]) + 1) % 10)
    assert rule.problem(rule.normalize(wrong)) is not None  # padded, the check digit still decides
    assert rule_for("UZ").normalize("1234567890123") == "1234567890123"


def test_national_ids_are_sealed_and_looked_up_by_a_keyed_hash() -> None:
    a = NationalIds(rule_for("KZ"), "secret-a", "hash-a")
    b = NationalIds(rule_for("KZ"), "secret-a", "hash-b")
    sealed = a.seal("860904350504")
    assert "860904350504" not in sealed and a.unseal(sealed) == "860904350504"
    many = a.seal_many(["860904350504", "860904350504", "АБ12345678"])
    assert [a.unseal(s) for s in many] == ["860904350504", "860904350504", "АБ12345678"]
    assert len(set(many)) == 3  # each sealed with its own IV
    assert a.lookup("860904350504") != b.lookup("860904350504")  # keyed: another key, another hash
    assert len(a.lookup("860904350504")) == 64
    with pytest.raises(ValueError, match="decrypted"):
        NationalIds(rule_for("KZ"), "another", "hash-a").unseal(sealed)
    assert mask("860904350504") == "••••••••0504"


def test_new_seals_are_aes_gcm_and_fernet_seals_from_before_still_unseal() -> None:
    from libs.crypto import fernet

    a = NationalIds(rule_for("KZ"), "secret-a", "hash-a")
    sealed = a.seal("860904350504")
    assert sealed.startswith("v2:") and len(sealed) < 300
    before = fernet("secret-a").encrypt(b"860904350504").decode()  # how every value was sealed until v2
    assert before.startswith("gAAAAA") and a.unseal(before) == "860904350504"
    tampered = sealed[:-6] + ("A" if sealed[-6] != "A" else "B") + sealed[-5:]
    for bad in (tampered, "v2:" + sealed[3:30], "v2:!!", before[:-4] + "AAAA"):
        with pytest.raises(ValueError, match="decrypted"):
            a.unseal(bad)
    with pytest.raises(ValueError, match="decrypted"):  # the encryption key, not the hash key, seals
        NationalIds(rule_for("KZ"), "secret-b", "hash-a").unseal(before)


def test_production_refuses_placeholder_registry_secrets() -> None:
    with pytest.raises(ValidationError, match="USTAZ_NATIONAL_ID_KEY"):
        GatewaySettings(env="production", service_client_secret="real-1", national_id_hash_key="real-2")
    with pytest.raises(ValidationError, match="USTAZ_NATIONAL_ID_HASH_KEY"):
        GatewaySettings(env="production", service_client_secret="real-1", national_id_key="real-2")


# -- formats ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ("code,name\nKZ,Казахстан\n".encode(), "utf-8-sig"),
        ("\ufeffcode,name\nKZ,Казахстан\n".encode(), "utf-8-sig"),
        ("code;name\nKZ;Казахстан\n".encode("cp1251"), "cp1251"),
    ],
)
def test_encodings_are_detected(data: bytes, encoding: str) -> None:
    assert detect_encoding(io.BytesIO(data)) == encoding


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"code,name\nKZ,\x98\xc0\n", "0x98"),  # neither UTF-8 nor Windows-1251
        (b"code,name\nKZ,\x00\x01\xff\n", "control byte"),  # binary
        ("code,name\n".encode("utf-16"), "UTF-16"),
    ],
)
def test_undecodable_files_are_refused_with_a_reason(data: bytes, says: str) -> None:
    with pytest.raises(FileRefused, match=says):
        detect_encoding(io.BytesIO(data))


@pytest.mark.parametrize(
    ("line", "delimiter"), [("a,b,c", ","), ("a;b;c", ";"), ("a\tb\tc", "\t"), ("a", ",")]
)
def test_the_delimiter_is_sniffed_from_the_header(line: str, delimiter: str) -> None:
    assert sniff_delimiter(line) == delimiter


def test_headers_unknown_repeated_and_missing() -> None:
    header = parse_header("teachers", [" National_ID ", "LAST_NAME", "first_name", "school_code", None, ""])
    assert header.index == {"national_id": 0, "last_name": 1, "first_name": 2, "school_code": 3}
    with pytest.raises(UnknownHeader, match="'surname'") as unknown:
        parse_header("teachers", ["national_id", "surname"])
    assert unknown.value.extra["column"] == "surname" and unknown.value.status == 422
    with pytest.raises(FileRefused, match="twice"):
        parse_header("org-units", ["code", "code", "kind", "name"])
    with pytest.raises(FileRefused, match="school_code"):
        parse_header("teachers", ["national_id", "last_name", "first_name"])


def test_windows_1251_semicolon_file_reads_as_rows() -> None:
    data = "code;parent_code;kind;name\nKZ;;country;Казахстан\n\n".encode("cp1251")
    rows = open_rows("org-units", io.BytesIO(data))
    assert rows.encoding == "cp1251"
    assert list(rows.rows) == [(2, ["KZ", "", "country", "Казахстан"])]


def test_xlsx_number_cells_read_as_text() -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["national_id", "last_name", "first_name", "school_code", "phone"])
    sheet.append([860904350504, "Ахметова", "Айгерим", "KZ-S1", 77011234567.0])
    out = io.BytesIO()
    book.save(out)
    rows = open_rows("teachers", io.BytesIO(out.getvalue()))
    assert rows.format == "xlsx"
    assert list(rows.rows) == [(2, ["860904350504", "Ахметова", "Айгерим", "KZ-S1", "77011234567"])]


def test_the_audit_log_masks_personal_data() -> None:
    entry = masked(
        {"national_id": "860904350504", "email": "aigerim@school.kz", "phone": "+77011234567", "password": "x",
         "nested": [{"nid": "860904350504", "name": "kept"}]}
    )  # fmt: skip
    assert entry == {
        "national_id": "••••••••0504",
        "email": "a•••@school.kz",
        "phone": "••••••••••67",
        "password": "•••",
        "nested": [{"nid": "••••••••0504", "name": "kept"}],
    }


def test_the_quick_name_and_subject_checks_imply_their_patterns() -> None:
    """check_name and normalize_subjects skip the regex for one word of letters (or letters and digits):
    every such character matches the patterns' classes, across the scripts of the region and beyond."""
    from gateway.registry.rows import NAME, SUBJECT

    for code in range(0x20, 0x3000):
        char = chr(code)
        if char.isalpha():
            assert NAME.fullmatch(char) and NAME.fullmatch("A" + char), hex(code)
        if char.isalnum():
            assert SUBJECT.fullmatch(char) and SUBJECT.fullmatch("a" + char), hex(code)
