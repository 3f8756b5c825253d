"""Which language a request is answered in: a context variable set per request (by the middleware,
backend/i18n/middleware.py) or around a piece of work (use_locale), and the choice between a
member's explicit choice and what their browser asks for (negotiate)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

SUPPORTED: tuple[str, ...] = ("en", "es")
DEFAULT = "en"

_current: ContextVar[str] = ContextVar("commons_locale", default=DEFAULT)
# Locales added by tests only (a pseudo-locale that proves every string goes through gettext):
# accepted as an explicit choice, never offered to members nor matched from Accept-Language.
_extra: set[str] = set()

# An Accept-Language longer than this is cut (browsers send a few dozen characters).
_MAX_HEADER = 512
_MAX_TAGS = 32


def current_locale() -> str:
    return _current.get()


@contextmanager
def use_locale(code: str) -> Iterator[str]:
    """Everything inside speaks `code` (an unknown code speaks the default)."""
    code = _known(code) or DEFAULT
    token = _current.set(code)
    try:
        yield code
    finally:
        _current.reset(token)


def set_locale(code: str):
    """Set the locale for the rest of this context; returns the token to reset it with."""
    return _current.set(_known(code) or DEFAULT)


def reset_locale(token) -> None:
    _current.reset(token)


def allow(code: str) -> None:
    """Accept `code` as an explicit choice (tests' pseudo-locale)."""
    _extra.add(code)


def _known(tag: str | None, *, extra: bool = True) -> str | None:
    """The supported locale a language tag names ("es-ES", "es_MX", "ES" are Spanish), or None."""
    if not tag or not isinstance(tag, str):
        return None
    tag = tag.strip().replace("_", "-").lower()
    if extra and tag in _extra:
        return tag
    primary = tag.split("-", 1)[0]
    return primary if primary in SUPPORTED else None


def _accepted(header: str) -> list[str]:
    """The header's languages, most wanted first (by q-value, then order); q=0 and garbage left out."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(header[:_MAX_HEADER].split(",")[:_MAX_TAGS]):
        tag, *params = (part.strip() for part in item.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = -1.0
        if tag and 0 < quality <= 1:
            ranked.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(ranked)]


def negotiate(explicit: str | None, accept_language: str | None) -> str:
    """The locale to answer in: a member's explicit choice when it is one we speak, else the first
    language of Accept-Language we speak (by q-value), else the default. Never raises."""
    chosen = _known(explicit)
    if chosen:
        return chosen
    for tag in _accepted(accept_language or "") if isinstance(accept_language, str) else []:
        if tag == "*":
            return DEFAULT
        found = _known(tag, extra=False)
        if found:
            return found
    return DEFAULT


# Each language by its own name, as a language switcher offers it.
NAMES = {"en": "English", "es": "Español"}
