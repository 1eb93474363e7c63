"""UI translations: gettext catalogues (.po) in gateway/web/locale, compiled in memory at start-up."""

from __future__ import annotations

from contextvars import ContextVar
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).parent / "locale"
# UI languages and their names in that language; content falls back along FALLBACK.
LANGUAGES = {"en": "English", "ru": "Русский", "kk": "Қазақша", "ky": "Кыргызча", "uz": "Oʻzbekcha",
             "uz_Cyrl": "Ўзбекча", "tg": "Тоҷикӣ", "mn": "Монгол"}
FALLBACK = {"kk": ["kk", "ru", "en"], "ky": ["ky", "ru", "en"], "uz": ["uz", "ru", "en"],
            "uz_Cyrl": ["uz_Cyrl", "uz", "ru", "en"], "tg": ["tg", "ru", "en"], "mn": ["mn", "ru", "en"],
            "ru": ["ru", "en"], "en": ["en"]}
current_lang: ContextVar[str] = ContextVar("current_lang", default="en")
_catalogues: dict[str, NullTranslations] = {}


def load_catalogues() -> None:
    for lang in LANGUAGES:
        po = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
        if not po.exists():
            _catalogues[lang] = NullTranslations()
            continue
        with po.open("rb") as f:
            catalog = read_po(f, locale=lang)
        buffer = BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        _catalogues[lang] = Translations(buffer)


def gettext(message: str) -> str:
    return _catalogues.get(current_lang.get(), NullTranslations()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _catalogues.get(current_lang.get(), NullTranslations()).ngettext(singular, plural, n)


def html_lang(lang: str) -> str:
    return lang.replace("_", "-")
