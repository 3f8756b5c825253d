"""Every message is translated (issue 23): for each catalog (web.po: the web app; words.po: the
API's refusals, the command line, notifications), the messages Babel extracts from its sources
(backend/i18n/web.cfg, words.cfg, as `make translations` does) are all in each language's .po
file, translated, not fuzzy, with the same %(placeholders)s; and the file holds nothing else.

And the machinery the catalogs go through: a language chosen from Accept-Language or explicitly,
Spanish read from the .po files, plurals, placeholders filled after translating."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from backend.i18n import DEFAULT, SUPPORTED, _, lazy_gettext, negotiate, ngettext, use_locale
from backend.i18n.catalogs import LOCALES
from backend.i18n.extraction import CATALOGS, extract

PLACEHOLDER = re.compile(r"%\((\w+)\)[sdifr]")
CASES = [(catalog, code) for catalog in CATALOGS for code in SUPPORTED if code != DEFAULT]


def _forms(value) -> list[str]:
    return list(value) if isinstance(value, tuple | list) else [value]


def _names(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text or ""))


@pytest.mark.parametrize(("catalog", "code"), CASES, ids=[f"{c}-{code}" for c, code in CASES])
def test_every_message_is_translated(catalog, code):
    extracted = extract(catalog)
    path = LOCALES / code / "LC_MESSAGES" / f"{catalog}.po"
    assert path.exists(), f"{path.name} for {code} is missing: run make translations"
    with path.open("rb") as po:
        translated = read_po(po, locale=code)
    where = {m.id if isinstance(m.id, str) else m.id[0]: m.locations for m in extracted if m.id}
    problems = []
    for message in extracted:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        found = translated.get(message.id, context=message.context)
        at = ", ".join(f"{f}:{n}" for f, n in where[key][:2])
        if found is None:
            problems.append(f"missing ({at}): {key!r}")
            continue
        if found.fuzzy:
            problems.append(f"fuzzy ({at}): {key!r}")
        ids, strings = _forms(message.id), _forms(found.string)
        if not all(strings):
            problems.append(f"not translated ({at}): {key!r}")
            continue
        if isinstance(message.id, tuple) != isinstance(found.id, tuple):
            problems.append(f"singular in one, plural in the other ({at}): {key!r}")
            continue
        for i, text in enumerate(strings):
            expected = _names(ids[min(i, len(ids) - 1)])
            if _names(text) != expected:
                problems.append(f"placeholders {sorted(_names(text))} for {sorted(expected)} ({at}): {key!r}")
    extracted_ids = {(m.id if isinstance(m.id, str) else m.id[0], m.context) for m in extracted if m.id}
    for message in translated:
        key = message.id if isinstance(message.id, str) else message.id[0]
        if message.id and (key, message.context) not in extracted_ids:
            problems.append(f"no longer used (run make translations): {key!r}")
    problems += [f"obsolete: {key!r}" for key in translated.obsolete]
    assert not problems, f"{path.relative_to(LOCALES.parents[2])}:\n" + "\n".join(problems)


def test_the_language_is_chosen_by_the_member_then_the_browser():
    assert negotiate(None, "es-ES,es;q=0.9,en;q=0.8") == "es"
    assert negotiate(None, "fr-CH, fr;q=0.9, es;q=0.5, en;q=0.4") == "es"  # the first we speak
    assert negotiate(None, "en;q=0.3, es;q=0.7") == "es"  # by quality, not order
    assert negotiate(None, "es;q=0, en") == "en"  # q=0: not wanted
    assert negotiate("en", "es") == "en" and negotiate("es", "en") == "es"  # the member's choice wins
    assert negotiate("tlh", "es") == "es"  # a choice we do not speak: the browser's
    assert negotiate(None, "*") == DEFAULT
    for garbage in (None, "", ";;;", "es;q=abc", "q=1", "\x00\xff", "es;q=2", ",,,,", "x" * 10_000, "-;q=-1"):
        assert negotiate(garbage, garbage) in SUPPORTED, garbage


def test_spanish_is_read_from_its_catalog_and_placeholders_are_filled_after():
    with use_locale("es"):
        assert _("Home") == "Inicio"  # web.po
        assert ngettext("%(num)s day", "%(num)s days", 1) == "1 día"
        assert ngettext("%(num)s day", "%(num)s days", 3) == "3 días"
        assert _("Copy %(what)s", what="el enlace") == "Copiar el enlace"
        assert _("Unknown message, as it is") == "Unknown message, as it is"
        assert _("%(n)s of %(m)s", n=2, m=3) == "2 of 3"  # untranslated, still filled
        assert ngettext("%(num)s thing", "%(num)s things", 1) == "1 thing"
        assert ngettext("%(num)s thing", "%(num)s things", 3) == "3 things"
    proxy = lazy_gettext("Unknown message, as it is")
    with use_locale("es"):
        assert str(proxy) == "Unknown message, as it is"
    assert _("50 % literal") == "50 % literal"  # no values: a % needs no doubling
