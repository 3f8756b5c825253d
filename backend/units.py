"""Numbers, spans of time and moments as a member reads them, in the language of the moment
(backend/i18n's current locale): "1,500" in English and "1500" in Spanish, "3 days" and "3 días".

Refusals, the command line and the messages members are told all say amounts this way, so that a
sentence translated in the catalog gets its numbers in the same language.
"""

from __future__ import annotations

import math
import time

from babel.numbers import format_decimal

from backend.i18n import current_locale, ngettext

MINUTE, HOUR, DAY = 60, 3600, 86_400


def number(value: int | float) -> str:
    """A count or an amount with the locale's grouping ("12,000" / "12.000"); never an id."""
    return format_decimal(value, locale=current_locale())


def span(seconds: int) -> str:
    """An exact span in its largest whole unit: "30 days", "90 minutes", "59 seconds"."""
    seconds = int(seconds)
    for size, unit in ((DAY, _days), (HOUR, _hours), (MINUTE, _minutes)):
        if seconds >= size and seconds % size == 0:
            return unit(seconds // size)
    return ngettext("%(num)s second", "%(num)s seconds", seconds, num=number(seconds))


def about(seconds: float) -> str:
    """A span rounded as one says it: "2 minutes", "5 hours", "3 days" (at least a minute)."""
    seconds = max(0, round(seconds))
    if seconds >= 2 * DAY:
        return _days(round(seconds / DAY))
    if seconds >= 2 * HOUR:
        return _hours(round(seconds / HOUR))
    return _minutes(max(1, -(-seconds // MINUTE)))


def wait(seconds: float) -> str:
    """How long to wait before trying again, rounded up: "45 seconds", "3 minutes", "2 hours"."""
    seconds = max(0, math.ceil(seconds))
    if seconds < 2 * MINUTE:
        return ngettext("%(num)s second", "%(num)s seconds", seconds, num=number(seconds))
    if seconds < 2 * HOUR:
        return _minutes(math.ceil(seconds / MINUTE))
    return _hours(math.ceil(seconds / HOUR))


def utc_time(timestamp: int) -> str:
    """A moment as refusals and messages say it, the same in every language: 2026-03-01 14:05 UTC."""
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(int(timestamp)))


def _days(n: int) -> str:
    return ngettext("%(num)s day", "%(num)s days", n, num=number(n))


def _hours(n: int) -> str:
    return ngettext("%(num)s hour", "%(num)s hours", n, num=number(n))


def _minutes(n: int) -> str:
    return ngettext("%(num)s minute", "%(num)s minutes", n, num=number(n))
