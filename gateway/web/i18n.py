"""UI translations: gettext catalogues (.po) in gateway/web/locale, compiled in memory at start-up.

How to add a string, update the catalogues and add a language: docs/i18n.md."""

from __future__ import annotations

import re
import threading
from contextvars import ContextVar
from datetime import date, datetime
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError, dates, numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).parent / "locale"
# UI languages and their names in that language (the language switcher shows these).
LANGUAGES = {
    "en": "English",
    "ru": "Русский",
    "kk": "Қазақша",
    "ky": "Кыргызча",
    "uz": "Oʻzbekcha",
    "uz_Cyrl": "Ўзбекча",
    "tg": "Тоҷикӣ",
    "mn": "Монгол",
}
# Content languages to try for a UI language, best first. The default; USTAZ_CONTENT_FALLBACK
# (gateway settings, "kk:ru,en;ky:ru,en") replaces the chain of each language it names.
FALLBACK = {
    "kk": ["kk", "ru", "en"],
    "ky": ["ky", "ru", "en"],
    "uz": ["uz", "ru", "en"],
    "uz_Cyrl": ["uz_Cyrl", "uz", "ru", "en"],
    "tg": ["tg", "ru", "en"],
    "mn": ["mn", "ru", "en"],
    "ru": ["ru", "en"],
    "en": ["en"],
}
current_lang: ContextVar[str] = ContextVar("current_lang", default="en")
_catalogues: dict[str, NullTranslations] = {}
_loading = threading.Lock()


def _compile(lang: str) -> NullTranslations:
    po = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return NullTranslations()
    with po.open("rb") as f:
        catalog = read_po(f, locale=lang)
    buffer = BytesIO()
    write_mo(buffer, catalog)  # fuzzy entries are left out: English is shown until they are reviewed
    buffer.seek(0)
    return Translations(buffer)


def catalogue(lang: str) -> NullTranslations:
    """A language's catalogue, compiled from its .po file when first asked for (a school server that
    speaks two languages never holds the other six)."""
    found = _catalogues.get(lang)
    if found is None:
        if lang not in LANGUAGES:
            return NullTranslations()
        with _loading:
            found = _catalogues.get(lang) or _catalogues.setdefault(lang, _compile(lang))
    return found


def load_catalogues() -> None:
    """Compile every catalogue again (after the .po files changed: tests, `make messages`)."""
    with _loading:
        _catalogues.clear()
        _catalogues.update({lang: _compile(lang) for lang in LANGUAGES})


def gettext(message: str) -> str:
    return catalogue(current_lang.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return catalogue(current_lang.get()).ngettext(singular, plural, n)


def text_lang(message: str) -> str:
    """The language gettext(message) comes out in: the UI language if its catalogue translates it (a
    draft catalogue may not), else English, the source language."""
    lang = current_lang.get()
    return lang if lang in LANGUAGES and catalogue(lang).gettext(message) != message else "en"


def html_lang(lang: str) -> str:
    return lang.replace("_", "-")


def code(tag: str) -> str:
    """A BCP 47 tag as used in pages and course metadata ("uz-Cyrl") to our catalogue code ("uz_Cyrl")."""
    return tag.replace("-", "_")


def language_name(tag: str, in_lang: str | None = None) -> str:
    """The name of a language in the UI language ("Russian", "русский", "орыс тілі"), from CLDR."""
    try:
        name = Locale.parse(code(tag)).get_display_name(Locale.parse(code(in_lang or current_lang.get())))
    except (ValueError, LookupError, UnknownLocaleError):
        name = None
    return name or LANGUAGES.get(code(tag), tag)


_TAG = re.compile(r"^[A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8})*$")


def negotiate(accept_language: str, default: str = "en") -> str:
    """The best UI language for an Accept-Language header (RFC 9110 quality values), among LANGUAGES:
    an exact tag, then language-script ("uz-Cyrl-UZ" -> uz_Cyrl), then the language alone ("ru-KZ" -> ru)."""
    wanted: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")[:32]):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip()
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0 and _TAG.match(tag):
            wanted.append((-quality, position, tag))
    by_lower = {c.lower(): c for c in LANGUAGES}
    for _q, _p, tag in sorted(wanted):
        parts = code(tag).lower().split("_")
        for candidate in (
            "_".join(parts),
            "_".join(parts[:2]) if len(parts) > 1 and len(parts[1]) == 4 else "",
            parts[0],
        ):
            if candidate in by_lower:
                return by_lower[candidate]
    return default


def parse_fallback(setting: str) -> dict[str, list[str]]:
    """The content fallback chains: FALLBACK with the languages named in `setting` replaced.
    `setting` is "kk:ru,en;ky:ru,en" (each UI language, then the content languages to try after it)."""
    chains = {lang: list(chain) for lang, chain in FALLBACK.items()}
    for entry in filter(None, (e.strip() for e in setting.split(";"))):
        lang, sep, rest = entry.partition(":")
        lang = code(lang.strip())
        then = [code(t.strip()) for t in rest.split(",") if t.strip()]
        if not sep or lang not in LANGUAGES or any(t not in LANGUAGES for t in then):
            raise ValueError(
                f"content fallback {entry!r}: expected LANG:LANG,LANG with languages among "
                f"{', '.join(LANGUAGES)}"
            )
        chains[lang] = [lang, *[t for t in dict.fromkeys(then) if t != lang]]
    return chains


# -- dates and numbers in the page's language (CLDR, through Babel) -----------------------------------


def _locale() -> Locale:
    try:
        return Locale.parse(current_lang.get())
    except (ValueError, UnknownLocaleError):
        return Locale.parse("en")


def _as_datetime(value: str | datetime | date) -> datetime | date:
    if isinstance(value, str):
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


def format_date(value: str | datetime | date | None, form: str = "medium") -> str:
    """ "1 Dec 2026", "1 дек. 2026 г.", "2026 ж. 1 жел."; empty for None."""
    if value is None or value == "":
        return ""
    return dates.format_date(_as_datetime(value), format=form, locale=_locale())


def format_datetime(value: str | datetime | None, tz: str = "Asia/Almaty") -> str:
    if value is None or value == "":
        return ""
    moment = _as_datetime(value)
    assert isinstance(moment, datetime)
    return dates.format_datetime(moment, format="short", tzinfo=ZoneInfo(tz), locale=_locale())


def format_number(value: float | int | None) -> str:
    """Grouping and decimal signs of the language ("6 426", "6,426", "0,5")."""
    if value is None:
        return ""
    return numbers.format_decimal(value, locale=_locale())


def format_percent(share: float | None) -> str:
    """A share 0–1 as a whole percentage in the language ("70 %", "70%", "%70")."""
    if share is None:
        return ""
    return numbers.format_percent(share, locale=_locale())


def format_month(value: str | date, form: str = "yMM") -> str:
    """A month and year in the language: "yMM" for chart axes ("11/2026", "11.2026", "2026-11"),
    "yMMM" for tables ("Nov 2026", "нояб. 2026 г.")."""
    moment = _as_datetime(value) if isinstance(value, str) else value
    return dates.format_skeleton(form, moment, locale=_locale())
