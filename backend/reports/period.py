"""A period: two dates, both included, read as UTC days in the chain's clock."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from backend.errors import Unprocessable
from backend.i18n import gettext as _

DAY = 86_400


@dataclass(frozen=True)
class Period:
    start_date: date
    end_date: date  # included

    @classmethod
    def of(cls, start: date, end: date) -> Period:
        if end < start:
            raise Unprocessable(
                _(
                    "The period ends (%(end)s) before it starts (%(start)s)",
                    end=end.isoformat(),
                    start=start.isoformat(),
                )
            )
        return cls(start, end)

    @property
    def start(self) -> int:
        """First second of the period (unix, UTC)."""
        return calendar.timegm(self.start_date.timetuple())

    @property
    def end(self) -> int:
        """First second after the period."""
        return calendar.timegm(self.end_date.timetuple()) + DAY

    def holds(self, timestamp: int) -> bool:
        return self.start <= timestamp < self.end

    def as_dict(self) -> dict[str, str]:
        return {"from": self.start_date.isoformat(), "to": self.end_date.isoformat()}
