"""Translation (issue 23): every sentence the service says to a person goes through gettext here,
in the language of the request (backend/i18n/middleware.py) or of `use_locale`.

    from backend.i18n import _, ngettext, lazy_gettext, N_

    _("Refused: %(reason)s", reason=reason)          # placeholders are %(name)s, filled after translating
    ngettext("%(num)s day", "%(num)s days", n)       # num is n unless given
    TITLE = lazy_gettext("Badges")                   # a module-level constant, translated when read
    KINDS = (N_("vote"), N_("claim"))                # marked for extraction only; _() them when shown

The catalogs are the .po files of backend/i18n/locales/<language>/LC_MESSAGES/ (web.po for the web
app, words.po for the API's, the CLI's and notifications' sentences), compiled in memory when first
used. `make translations` extracts the messages and updates them (docs/developers/translations.md)."""

from __future__ import annotations

from typing import Any

from babel.support import LazyProxy

from backend.i18n.catalogs import date_locale, register, translations
from backend.i18n.locale import DEFAULT, SUPPORTED, current_locale, negotiate, use_locale

__all__ = [
    "DEFAULT",
    "N_",
    "SUPPORTED",
    "_",
    "current_locale",
    "date_locale",
    "gettext",
    "lazy_gettext",
    "negotiate",
    "ngettext",
    "register",
    "use_locale",
]


def gettext(message: str, **values: Any) -> str:
    """`message` in the current language, its %(name)s placeholders filled from `values` (when given:
    a message without values is returned as translated, so a literal % needs no doubling)."""
    text = translations(current_locale()).gettext(message)
    return text % values if values else text


_ = gettext


def ngettext(singular: str, plural: str, n: int, **values: Any) -> str:
    """The form for `n` in the current language, filled from `values` (`num` is n unless given)."""
    text = translations(current_locale()).ngettext(singular, plural, n)
    return text % {"num": n, **values}


def lazy_gettext(message: str, **values: Any) -> LazyProxy:
    """`message` translated each time it is read, in the language of that moment."""
    return LazyProxy(gettext, message, enable_cache=False, **values)


def N_(message: str) -> str:
    """Marks `message` for extraction and returns it untranslated (translate it where it is shown)."""
    return message
