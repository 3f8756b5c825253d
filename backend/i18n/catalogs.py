"""The translations: every .po file of locales/<code>/LC_MESSAGES/ merged into one catalog per
language, compiled in memory the first time the language is asked for (no .mo file is kept in the
repository), and cached for the life of the process. English is the source language: its
"translation" is the message itself."""

from __future__ import annotations

import gettext as _gettext
import io
import threading
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from backend.i18n.locale import DEFAULT, allow

LOCALES = Path(__file__).resolve().parent / "locales"

_lock = threading.Lock()
_cache: dict[str, _gettext.NullTranslations] = {}
_registered: dict[str, Catalog] = {}
_date_locales: dict[str, str] = {}


def merged(code: str) -> Catalog:
    """Every .po file of the language as one catalog (translated, non-fuzzy messages only)."""
    catalog = Catalog(locale=code, domain="messages")
    for path in sorted((LOCALES / code / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as po:
            read = read_po(po, locale=code)
        # The catalogs' own plural rule (Spanish: two forms, as gettext has it), not CLDR's.
        catalog.mime_headers = read.mime_headers
        for message in read:
            if message.id and not message.fuzzy and _translated(message.string):
                catalog[message.id] = message
    return catalog


def _translated(string) -> bool:
    return all(string) if isinstance(string, tuple | list) else bool(string)


def compile_catalog(catalog: Catalog) -> Translations:
    """A catalog as gettext translations, compiled in memory."""
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def translations(code: str) -> _gettext.NullTranslations:
    """The compiled translations of `code` (English and unknown codes: the messages themselves)."""
    found = _cache.get(code)
    if found is not None:
        return found
    with _lock:
        found = _cache.get(code)
        if found is None:
            if code in _registered:
                found = compile_catalog(_registered[code])
            elif code != DEFAULT and (LOCALES / code).is_dir():
                found = compile_catalog(merged(code))
            else:
                found = NullTranslations()
            _cache[code] = found
    return found


def register(code: str, catalog: Catalog, *, date_locale: str = "en_GB") -> None:
    """Speak `code` from `catalog` (for tests: a pseudo-locale that marks every message). Accepted
    as an explicit choice (the `lang` cookie) only; never offered to members."""
    with _lock:
        _registered[code] = catalog
        _date_locales[code] = date_locale
        _cache.pop(code, None)
    allow(code)


def date_locale(code: str) -> str:
    """The Babel locale dates are written in for `code` (English dates as in Britain: 3 March 2026)."""
    return _date_locales.get(code) or ("en_GB" if code == "en" else code)
