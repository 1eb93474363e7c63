"""The LRS's remembered pure functions (key64, the IRI / language-tag / mailto checks) answer as the
plain functions do, and do not remember long strings (a client could fill the memory with them)."""

from __future__ import annotations

from services.progress.lrs import canonical, formats


def test_key64_remembers_short_parts_only() -> None:
    canonical._remembered_key64.cache_clear()
    assert canonical.key64("store", "verb", "http://example.org/v") == canonical._key64(
        ("store", "verb", "http://example.org/v")
    )
    assert canonical._remembered_key64.cache_info().currsize == 1
    long = "http://example.org/" + "a" * formats.MEMO_CHARS
    assert canonical.key64("store", "activity", long) == canonical._key64(("store", "activity", long))
    assert canonical._remembered_key64.cache_info().currsize == 1


def test_checks_answer_alike_remembered_or_not() -> None:
    formats.is_iri.short.cache_clear()
    long = "http://example.org/" + "a" * formats.MEMO_CHARS
    assert formats.is_iri("http://example.org/x") and formats.is_iri(long)
    assert not formats.is_iri("no scheme") and not formats.is_iri("no scheme " + long)
    assert not formats.is_iri(None) and not formats.is_iri({"id": 1})
    assert formats.is_iri.short.cache_info().currsize == 2  # the two short strings only
    assert formats.is_mailto("mailto:a@example.org") and not formats.is_mailto("a@example.org")
    assert formats.is_language_tag("en-US") and not formats.is_language_tag("en_US")


def test_a_standard_form_uuid_is_lower_cased_and_others_canonicalised() -> None:
    assert (
        formats.canonical_uuid("A1B2C3D4-0000-4000-8000-00000000000F")
        == "a1b2c3d4-0000-4000-8000-00000000000f"
    )
    assert (
        formats.canonical_uuid("{a1b2c3d4-0000-4000-8000-00000000000f}")
        == "a1b2c3d4-0000-4000-8000-00000000000f"
    )
