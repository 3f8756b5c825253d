"""The page's language: the links that switch it (each page's footer), and the translations of the
scripts' messages (static/*.js, read by static/i18n.js from a JSON block the page embeds)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from babel.messages.extract import extract_from_file
from fastapi import Request

from backend.i18n import DEFAULT, SUPPORTED, current_locale
from backend.i18n.catalogs import translations
from backend.i18n.extraction import KEYWORDS
from backend.i18n.locale import NAMES

STATIC = Path(__file__).resolve().parent / "static"


@cache
def script_messages() -> tuple[tuple[str, ...], ...]:
    """The messages of the scripts, as Babel extracts them: (msgid,) or (singular, plural)."""
    found: set[tuple[str, ...]] = set()
    for path in sorted(STATIC.glob("*.js")):
        for _lineno, message, _comments, _context in extract_from_file("javascript", str(path), keywords=KEYWORDS):
            found.add((message,) if isinstance(message, str) else tuple(m for m in message if m))
    return tuple(sorted(found))


def script_catalog() -> dict[str, Any]:
    """The scripts' messages in the page's language: {msgid: text} and {singular: [one, other]};
    empty in English (the scripts' own words)."""
    code = current_locale()
    if code == DEFAULT:
        return {}
    catalog = translations(code)
    out: dict[str, Any] = {}
    for message in script_messages():
        if len(message) == 1:
            out[message[0]] = catalog.gettext(message[0])
        else:
            out[message[0]] = [catalog.ngettext(message[0], message[1], n) for n in (1, 2)]
    return out


def html_lang() -> str:
    code = current_locale()
    return code if code in SUPPORTED else DEFAULT


def language_links(request: Request | None) -> list[dict[str, Any]]:
    """The languages a member may choose, each a link to this same page with ?lang= (the service
    remembers the choice in a cookie and comes back here without it)."""
    query, path = (request.url.query, request.url.path) if request is not None else ("", "")
    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != "lang"]
    current = html_lang()
    return [
        {
            "code": code,
            "name": NAMES.get(code, code),
            "href": f"{path}?{urlencode([*pairs, ('lang', code)])}",
            "current": code == current,
        }
        for code in SUPPORTED
    ]
