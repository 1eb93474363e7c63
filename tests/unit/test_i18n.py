"""The shipped UI catalogues against the strings in the code, extracted here and now with Babel's API
(babel.cfg, the same mapping `make messages` uses), not from a possibly stale messages.pot.

A failure here is fixed by `make messages` (new or removed strings) and translating (docs/i18n.md)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

from gateway.web.i18n import LANGUAGES, LOCALE_DIR, html_lang, language_name, negotiate, parse_fallback

ROOT = Path(__file__).resolve().parents[2]
# Every shipped language is complete: every msgid translated, no fuzzy entry, every plural form, the
# msgid's placeholders (en is the source language: an empty msgstr shows the msgid).
COMPLETE = tuple(LANGUAGES)
NAMED = re.compile(r"%\((\w+)\)[-#0 +]?\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
BRACED = re.compile(r"\{\w*\}")  # placeholders a script fills in (data-* attributes)


def extracted() -> dict[str | tuple[str, ...], list[str]]:
    """msgid (or (singular, plural)) -> where it is used, from the code and templates as they are now."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    found: dict[str | tuple[str, ...], list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        ROOT, method_map, options_map, keywords=DEFAULT_KEYWORDS
    ):
        found.setdefault(message, []).append(f"{filename}:{lineno}")
    return found


def load(lang: str) -> Catalog:
    with (LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=lang, abort_invalid=True)


def ids(message: Message) -> str | tuple[str, ...]:
    return message.id


def placeholders(text: str) -> tuple[list[str], list[str]]:
    return sorted(NAMED.findall(text)), sorted(BRACED.findall(text))


def strings(message: Message) -> list[str]:
    return [s for s in (message.string if isinstance(message.string, tuple) else (message.string,)) if s]


@pytest.fixture(scope="module")
def code_ids() -> dict[str | tuple[str, ...], list[str]]:
    found = extracted()
    assert len(found) > 100, "extraction found almost nothing: is babel.cfg right?"
    return found


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalogue_parses_with_the_language_and_its_plural_rule(lang: str) -> None:
    catalog = load(lang)
    assert str(catalog.locale) == lang
    assert catalog.num_plurals == get_plural(lang).num_plurals
    assert catalog.plural_expr == get_plural(lang).plural_expr
    assert catalog.charset.lower() == "utf-8"
    # Babel's reader is lenient: also refuse what msgfmt refuses (an unterminated string, a duplicate).
    lines = (LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po").read_text(encoding="utf-8").splitlines()
    unterminated = [
        n
        for n, line in enumerate(lines, 1)
        if re.match(r'^(msgid|msgid_plural|msgstr(\[\d+\])?)? ?"', line) and not line.endswith('"')
    ]
    assert not unterminated, f"{lang}: unterminated string on lines {unterminated}"
    entries = sum(1 for line in lines if line.startswith("msgid "))
    assert entries == len(catalog) + 1, f"{lang}: {entries - len(catalog) - 1} duplicate msgid(s)"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_string_in_the_code_is_in_the_catalogue(lang: str, code_ids: dict) -> None:
    catalog = load(lang)
    shipped = {ids(m) for m in catalog if m.id}
    missing = {mid: where for mid, where in code_ids.items() if mid not in shipped}
    assert not missing, f"not in {lang}/LC_MESSAGES/messages.po (run `make messages`): {missing}"
    stale = shipped - set(code_ids)
    assert not stale, f"in {lang} but no longer in the code (run `make messages`): {stale}"


@pytest.mark.parametrize("lang", COMPLETE)
def test_complete_catalogues_have_every_string_translated(lang: str) -> None:
    catalog = load(lang)
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not fuzzy, f"{lang}: fuzzy (a guess from a similar string, not shown) - review them: {fuzzy}"
    if lang == "en":
        return  # the source language: an empty msgstr shows the msgid
    empty = [
        m.id for m in catalog if m.id and (len(strings(m)) < (catalog.num_plurals if m.pluralizable else 1))
    ]
    assert not empty, f"{lang}: not translated: {empty}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_translations_keep_the_placeholders(lang: str) -> None:
    catalog = load(lang)
    wrong = []
    for m in catalog:
        if not m.id:
            continue
        source = m.id if isinstance(m.id, str) else m.id[0]
        expected = placeholders(source)
        for text in strings(m):
            if placeholders(text) != expected:
                wrong.append((source, text))
            try:  # templates use newstyle gettext: every string goes through `%`, so a lone % breaks the page
                text % {name: 1 for name in expected[0]}
            except (TypeError, ValueError, KeyError) as exc:
                wrong.append((text, str(exc)))
        if len(strings(m)) and len(strings(m)) != (catalog.num_plurals if m.pluralizable else 1):
            wrong.append((source, f"{len(strings(m))} plural forms, {lang} has {catalog.num_plurals}"))
    errors = [(m.id, [str(e) for e in errs]) for m, errs in catalog.check() if errs]
    assert not wrong and not errors, (wrong, errors)


def test_the_fallback_notice_constant_is_the_templates_msgid(code_ids: dict) -> None:
    from gateway.web.courses import FALLBACK_NOTICE

    assert FALLBACK_NOTICE in code_ids


def test_source_strings_survive_newstyle_formatting(code_ids: dict) -> None:
    """`{{ _("80% of") }}` raises TypeError when rendered (jinja's newstyle gettext always applies `%`)."""
    bad = []
    for mid, where in code_ids.items():
        for text in mid if isinstance(mid, tuple) else (mid,):
            try:
                text % ({name: 1 for name in NAMED.findall(text)} | {"num": 1})
            except (TypeError, ValueError, KeyError) as exc:
                bad.append((text, where, str(exc)))
    assert not bad, bad


GETTEXT_NAMES = {"_", "gettext", "ngettext"}


def test_python_gettext_calls_are_all_extractable(code_ids: dict) -> None:
    """Every gettext call in the gateway's Python takes a literal that extraction finds (a call inside an
    f-string or on a variable would silently stay English)."""
    problems = []
    for path in sorted((ROOT / "gateway").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in GETTEXT_NAMES
            ):
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                first = node.args[0] if node.args else None
                if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                    problems.append((where, "argument is not a string literal"))
                    continue
                key = first.value
                if (
                    node.func.id == "ngettext"
                    and len(node.args) > 1
                    and isinstance(node.args[1], ast.Constant)
                ):
                    key = (first.value, node.args[1].value)
                if key not in code_ids:
                    problems.append((where, f"{first.value!r} is not extracted"))
    assert not problems, problems


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("ru-RU,ru;q=0.9,en;q=0.8", "ru"),
        ("en-US,en;q=0.9", "en"),
        ("de-DE,de;q=0.9,kk;q=0.5,ru;q=0.4", "kk"),
        ("ru;q=0.3,kk-KZ;q=0.8", "kk"),
        ("uz-Cyrl-UZ", "uz_Cyrl"),
        ("uz-UZ,ru;q=0.5", "uz"),
        ("UZ-cyrl", "uz_Cyrl"),
        ("ky;q=0,ru", "ru"),
        ("fr, de", "en"),
        ("", "en"),
        ("*", "en"),
        ("ru;q=abc, mn", "mn"),
        ("<script>, ru", "ru"),
    ],
)
def test_accept_language_negotiation(header: str, expected: str) -> None:
    assert negotiate(header) == expected


def test_content_fallback_setting() -> None:
    default = parse_fallback("")
    assert default["kk"] == ["kk", "ru", "en"] and default["en"] == ["en"]
    chains = parse_fallback("kk: en ; mn:ru,en,ru;uz-Cyrl:uz,ru")
    assert chains["kk"] == ["kk", "en"] and chains["mn"] == ["mn", "ru", "en"]
    assert chains["uz_Cyrl"] == ["uz_Cyrl", "uz", "ru"] and chains["ky"] == default["ky"]
    for bad in ("kk", "xx:ru", "kk:ru,xx", "kk:ru;;tg"):
        with pytest.raises(ValueError, match="content fallback"):
            parse_fallback(bad)


def test_language_names_in_the_ui_language() -> None:
    assert language_name("ru", "en") == "Russian" and language_name("kk", "en") == "Kazakh"
    assert language_name("kk", "ru") == "казахский"
    assert language_name("uz-Cyrl", "en") == "Uzbek (Cyrillic)"
    assert language_name("xx-unknown", "en") == "xx-unknown"
    for lang in LANGUAGES:
        assert Locale.parse(lang)  # every UI language is known to CLDR (plural rules, names)


def test_russian_plurals_use_the_three_forms() -> None:
    from gateway.web.i18n import current_lang, load_catalogues, ngettext

    load_catalogues()
    token = current_lang.set("ru")
    try:
        shown = {
            n: ngettext("About %(num)s minute", "About %(num)s minutes", n) % {"num": n}
            for n in (1, 3, 5, 11, 21, 22, 25)
        }
    finally:
        current_lang.reset(token)
    assert shown == {
        1: "Около 1 минуты",
        3: "Около 3 минут",
        5: "Около 5 минут",
        11: "Около 11 минут",
        21: "Около 21 минуты",
        22: "Около 22 минут",
        25: "Около 25 минут",
    }


# -- the other texts people read: reminders (e-mail, SMS) and the certificate PDF ------------------

FIELDS = re.compile(r"\{(\w+)\}")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_reminder_texts_exist_for_every_ui_language(lang: str) -> None:
    """Every UI language has its own reminder, SMS (the subject) and footer texts, with English's
    placeholders, found both by the UI code (uz_Cyrl) and by the course's BCP 47 tag (uz-Cyrl)."""
    from services.progress import reminder_texts as reminders

    english = reminders.MESSAGES["en"]
    texts = reminders.MESSAGES.get(lang)
    assert texts is not None, f"no reminder texts for {lang} in services/progress/reminder_texts.py"
    assert texts.keys() == english.keys(), (lang, set(texts) ^ set(english))
    for rule, (subject, body) in english.items():
        theirs = texts[rule]
        for source, text in zip((subject, body), theirs, strict=True):
            assert bool(text.strip()) == bool(source), (lang, rule, text)
            assert sorted(FIELDS.findall(text)) == sorted(FIELDS.findall(source)), (lang, rule, text)
    assert reminders.catalogue(lang) is texts
    assert reminders.catalogue(html_lang(lang)) is texts


@pytest.mark.parametrize("lang", LANGUAGES)
def test_certificate_labels_exist_for_every_ui_language(lang: str) -> None:
    """Every UI language has every PDF label, found by the UI code and the BCP 47 tag, and set in the
    font subset every page shares (a character outside it still prints, but costs a subset per page)."""
    from libs.pdf import GLYPHS
    from services.certificates import pdf

    labels = pdf.LABELS.get(lang)
    assert labels is not None, f"no certificate labels for {lang} in services/certificates/pdf.py"
    assert labels.keys() == pdf.LABELS["en"].keys(), (lang, set(labels) ^ set(pdf.LABELS["en"]))
    assert all(text.strip() for text in labels.values()), lang
    assert pdf.labels(lang) is labels and pdf.labels(html_lang(lang)) is labels
    outside = {c for text in labels.values() for c in text + text.upper() if c not in GLYPHS}
    assert not outside, (lang, outside)


FUNNEL_LABEL_WIDTH = (
    80  # dashboard.html: the funnel's stage names at x=0, font-size 11; its bars start at x=80
)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_funnel_stage_names_fit_beside_the_bars(lang: str) -> None:
    """The stage names are drawn left of the bars in the SVG: measured in DejaVu Sans (wider than most
    phones' fonts, and the one Chromium falls back to here), each fits, so none is hidden by a bar."""
    from PIL import ImageFont

    from gateway.web.analytics import stage_names
    from gateway.web.i18n import current_lang, load_catalogues

    font = ImageFont.truetype(str(ROOT / "libs/fonts/DejaVuSans.ttf"), 110)
    load_catalogues()
    token = current_lang.set(lang)
    try:
        names = stage_names()
    finally:
        current_lang.reset(token)
    too_wide = {
        n: round(font.getlength(n) / 10)
        for n in names.values()
        if font.getlength(n) / 10 > FUNNEL_LABEL_WIDTH - 4
    }
    assert not too_wide, f"{lang}: stage names wider than the funnel's label column: {too_wide}"
