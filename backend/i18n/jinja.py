"""Jinja2's i18n extension over the request's language: `{{ _("...") }}`, `{{ ngettext(...) }}`
and `{% trans %}` in the templates. Jinja's "newstyle" callables fill %(name)s placeholders after
translating and escape the values (so a literal % in a template's message is written %%)."""

from __future__ import annotations

from jinja2 import Environment

from backend.i18n.catalogs import translations
from backend.i18n.locale import current_locale


def _gettext(message: str) -> str:
    return translations(current_locale()).gettext(message)


def _count(n) -> int:
    """A count as gettext's plural rule takes it (a read model may hand a number as text)."""
    try:
        return int(n)
    except (TypeError, ValueError):
        return 0


def _ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_locale()).ngettext(singular, plural, _count(n))


def _pgettext(context: str, message: str) -> str:
    return translations(current_locale()).pgettext(context, message)


def _npgettext(context: str, singular: str, plural: str, n: int) -> str:
    return translations(current_locale()).npgettext(context, singular, plural, _count(n))


def install(env: Environment) -> None:
    env.add_extension("jinja2.ext.i18n")
    # {% trans %} blocks' whitespace folded, as the extraction's `trimmed = true` (web.cfg) does.
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_gettext, ngettext=_ngettext, pgettext=_pgettext, npgettext=_npgettext, newstyle=True
    )
    env.globals["current_locale"] = current_locale
