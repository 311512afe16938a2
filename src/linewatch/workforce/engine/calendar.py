"""Plant holiday calendars: a country's (and subdivision's) public holidays from the `holidays`
package, plus the site's own days off (shutdowns, works holidays)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property

import holidays


@dataclass(frozen=True)
class PlantCalendar:
    """The days a plant is closed. An empty country means site-specific dates only; `removed`
    are public holidays the plant works (its own `extra` days still close it)."""

    country: str = ""
    subdivision: str = ""
    extra: dict[dt.date, str] = field(default_factory=dict)
    removed: frozenset[dt.date] = frozenset()

    @cached_property
    def _public(self) -> holidays.HolidayBase | dict:
        if not self.country:
            return {}
        try:
            return holidays.country_holidays(self.country, subdiv=self.subdivision or None)
        except NotImplementedError as exc:
            where = self.country + (f"-{self.subdivision}" if self.subdivision else "")
            raise ValueError(f"unknown holiday calendar {where}: {exc}") from None

    def holiday(self, day: dt.date) -> str | None:
        """The holiday's name when the plant is closed that day, else None."""
        if day in self.extra:
            return self.extra[day]
        if day in self.removed:
            return None
        name = self._public.get(day)
        return str(name) if name else None


NO_HOLIDAYS = PlantCalendar()
