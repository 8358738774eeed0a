"""Calendars of the establishment's département: time zone, public holidays, working days (SPEC §6).

Public holidays come from the `holidays` package (Code du travail L3133-1 plus the local days it knows:
Good Friday and 26 December in Alsace-Moselle, the abolition of slavery and other days overseas), never
from a hand-kept list. Pure Python: no Flask, no database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo

import holidays

PARIS = ZoneInfo("Europe/Paris")
# The last year whose public holidays the package knows (it knows none after it).
HOLIDAYS_KNOWN_UNTIL: int = holidays.France().end_year

# Département code → (subdivision of holidays.France, time zone). Metropolitan départements other than
# Moselle and Alsace use the national calendar (no subdivision) and Paris time.
_LOCAL_CALENDARS: dict[str, tuple[str, str]] = {
    "57": ("57", "Europe/Paris"),  # Moselle
    "67": ("6AE", "Europe/Paris"),  # Bas-Rhin
    "68": ("6AE", "Europe/Paris"),  # Haut-Rhin
    "971": ("971", "America/Guadeloupe"),
    "972": ("972", "America/Martinique"),
    "973": ("973", "America/Cayenne"),
    "974": ("974", "Indian/Reunion"),
    "975": ("PM", "America/Miquelon"),  # Saint-Pierre-et-Miquelon (collectivité, INSEE code 975)
    "976": ("976", "Indian/Mayotte"),
    "977": ("BL", "America/St_Barthelemy"),  # Saint-Barthélemy
    "978": ("MF", "America/Marigot"),  # Saint-Martin
}

_METROPOLITAN = re.compile(r"(0[1-9]|1[0-9]|2[1-9]|[3-8][0-9]|9[0-5]|2A|2B)")


def normalize_departement(departement: str) -> str:
    """Return the département code in canonical form ("75", "2A", "971") or raise ValueError.

    Accepted: metropolitan 01–95 (with 2A/2B for Corsica, no "20") and the overseas codes 971–978.
    """
    code = (departement or "").strip().upper()
    if code in _LOCAL_CALENDARS or _METROPOLITAN.fullmatch(code):
        return code
    raise ValueError(f"unknown département code: {departement!r}")


def holiday_subdivision(departement: str) -> str | None:
    """The `holidays.France` subdivision whose calendar applies in the département (None: national)."""
    code = normalize_departement(departement)
    return _LOCAL_CALENDARS[code][0] if code in _LOCAL_CALENDARS else None


@lru_cache(maxsize=32)
def timezone_for(departement: str) -> ZoneInfo:
    """Local time zone of the département: Europe/Paris in metropolitan France, else the overseas zone."""
    code = normalize_departement(departement)
    return ZoneInfo(_LOCAL_CALENDARS[code][1]) if code in _LOCAL_CALENDARS else PARIS


@lru_cache(maxsize=2048)
def _year_holidays(subdivision: str | None, year: int) -> Mapping[date, str]:
    # One immutable mapping per (calendar, year): holidays objects grow lazily when queried, which is not
    # something to share between threads.
    calendar = holidays.France(subdiv=subdivision, years=year, language="fr")
    return MappingProxyType(dict(sorted(calendar.items())))


def holidays_for(departement: str, years: int | Iterable[int]) -> dict[date, str]:
    """Public holidays (date → French name) of the département for the given year(s), in date order."""
    subdivision = holiday_subdivision(departement)
    wanted = [years] if isinstance(years, int) else sorted(set(years))
    result: dict[date, str] = {}
    for year in wanted:
        result.update(_year_holidays(subdivision, year))
    return result


def is_public_holiday(day: date, departement: str) -> bool:
    """True when the day is a public holiday of the département (SPEC §6, Code du travail L3133-1)."""
    return day in _year_holidays(holiday_subdivision(departement), day.year)


def is_working_day(day: date, departement: str) -> bool:
    """Neither a Saturday, a Sunday nor a public holiday of the département — the days a jours-francs délai
    may end on (SPEC §6)."""
    return day.weekday() < 5 and not is_public_holiday(day, departement)


def next_working_day(day: date, departement: str) -> date:
    """The day itself if it is a working day, else the first working day after it."""
    while not is_working_day(day, departement):
        day += timedelta(days=1)
    return day


def to_local(moment: datetime, departement: str) -> datetime:
    """An aware datetime in the département's time zone. A naive datetime is taken as local time already."""
    zone = timezone_for(departement)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=zone)
    return moment.astimezone(zone)


def local_date(moment: datetime, departement: str) -> date:
    """The calendar date of the moment in the département (23:30 UTC is already tomorrow in Paris)."""
    return to_local(moment, departement).date()
