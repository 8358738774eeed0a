"""The one source of deadline arithmetic for the whole product (SPEC §2.1 and §6).

- `dat_due`: the employer's 48 hours to declare an accident, Sundays and public holidays not counted
  (CSS L441-2, R441-3); for an accident first written in the registre des accidents bénins, they run from
  when the employer learnt of the care or stoppage it later led to (CSS R441-5, D441-1).
- `jours_francs_due`: a délai of N jours francs (SPEC §6), and on top of it `reserves_window_due`, the
  10 jours francs in which the employer may still send reasoned reserves (CSS R441-6).
- `Deadline`: what a deadline record stores (SPEC §6), with the CPAM-notified date authoritative over ours.

Calendars (time zones, public holidays by département) live in `app.domain.calendars`; the names a caller
needs are re-exported here. Pure Python: no Flask, no database.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from app.domain.calendars import (
    HOLIDAYS_KNOWN_UNTIL,
    holidays_for,
    is_public_holiday,
    is_working_day,
    local_date,
    next_working_day,
    timezone_for,
    to_local,
)

__all__ = [
    "DAT_DELAY_HOURS",
    "EARLIEST_YEAR",
    "JOURS_FRANCS_RULE",
    "LAST_DAY_EXCLUDED",
    "LAST_DAY_INCLUDED",
    "LATEST_YEAR",
    "RESERVES_DAYS",
    "RULE_VERSION",
    "Deadline",
    "OutsideCalendar",
    "check_in_calendar",
    "dat_due",
    "holidays_for",
    "is_public_holiday",
    "is_working_day",
    "jours_francs_due",
    "reserves_window_due",
]

# Bump when any computation below changes meaning; deadline records store it (with the jours-francs reading)
# so that a stored due date can always be explained.
RULE_VERSION = "2026.2"  # 2026.2: the registre des accidents bénins (R441-5)

DAT_DELAY_HOURS = 48
RESERVES_DAYS = 10

# The two readings of "N jours francs from day E" (SPEC §6). The starting day never counts; with
# LAST_DAY_INCLUDED the délai runs through the end of day E + N, with LAST_DAY_EXCLUDED day E + N does not
# count either and the délai runs through the end of day E + N + 1. Either way a last day that is a Saturday,
# Sunday or public holiday extends to the next working day. THE place to switch the product's reading:
LAST_DAY_INCLUDED = "last_day_included"
LAST_DAY_EXCLUDED = "last_day_excluded"
JOURS_FRANCS_RULE = LAST_DAY_INCLUDED

DAT_START_EVENT = "connaissance de l'accident par l'employeur"
BENIN_START_EVENT = (
    "connaissance par l'employeur des soins médicaux ou de l'arrêt de travail entraînés par un accident "
    "inscrit au registre des accidents bénins"
)

HOURS = "heures"
JOURS_FRANCS = "jours francs"

# The years deadlines are computed from. A start outside them is a typing error (31/12/9999, 01/01/0001),
# never a real case: it is refused with :class:`OutsideCalendar` rather than left to overflow Python's dates
# (``date.max`` is 31/12/9999) or to count days whose public holidays nobody knows. The last year leaves
# a year of known holidays for the délais to end in (48 hours, jours francs: at most a year).
EARLIEST_YEAR = 1900
LATEST_YEAR = HOLIDAYS_KNOWN_UNTIL - 1
MAX_DELAI_DAYS = 365


class OutsideCalendar(ValueError):
    """A deadline asked for from a moment outside ``EARLIEST_YEAR``–``LATEST_YEAR``."""


def check_in_calendar(moment: date | datetime) -> None:
    """Raise :class:`OutsideCalendar` unless ``moment`` (a date, a naive or an aware datetime) falls in the
    years deadlines are computed for. Checked on the moment as given: converting 01/01/0001 00:30 in Paris
    to UTC would itself overflow."""
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        raise OutsideCalendar(f"no deadline is computed from year {moment.year}")


def _counts_for_48h(day: date, departement: str) -> bool:
    # Saturdays count; Sundays and the département's public holidays do not (CSS R441-3).
    return day.weekday() != 6 and not is_public_holiday(day, departement)


def dat_due(known_at: datetime, departement: str) -> datetime:
    """When the employer's 48 hours to declare the accident run out (SPEC §2.1; CSS L441-2, R441-3).

    The instant at which 48 hours have elapsed since `known_at`, counting only time on days that are neither
    Sundays nor public holidays of the département, days being taken in the département's local time. Hours
    are real elapsed time (a 23- or 25-hour day would count as such; in practice French and overseas clocks
    only change on Sundays, which never count). Knowledge on a Sunday or holiday starts the count at the next
    counted day's 00:00. When the 48 hours end exactly at midnight, the due instant is that midnight.

    A naive `known_at` is local time and gives a naive local result; an aware one gives an aware result in
    the same tzinfo. Raises :class:`OutsideCalendar` for a `known_at` outside the supported years.
    """
    check_in_calendar(known_at)
    zone = timezone_for(departement)
    cursor = to_local(known_at, departement).astimezone(UTC)
    remaining = timedelta(hours=DAT_DELAY_HOURS)
    while True:
        day = cursor.astimezone(zone).date()
        # Arithmetic in UTC: subtracting two datetimes sharing a ZoneInfo would ignore a change of offset.
        next_midnight = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone).astimezone(UTC)
        if _counts_for_48h(day, departement):
            available = next_midnight - cursor
            if remaining <= available:
                due = cursor + remaining
                break
            remaining -= available
        cursor = next_midnight
    if known_at.tzinfo is None:
        return due.astimezone(zone).replace(tzinfo=None)
    return due.astimezone(known_at.tzinfo)


def jours_francs_due(start: date, days: int, departement: str, *, rule: str | None = None) -> date:
    """Last day of a délai of `days` jours francs starting on event day `start` (SPEC §6).

    The starting day does not count; the délai runs through the end of the returned day. With the default
    reading (`JOURS_FRANCS_RULE`) that is day start + days, moved to the next working day when it is a
    Saturday, Sunday or public holiday of the département. `start` is a local date: for a moment, use
    `calendars.local_date(moment, departement)`. Raises :class:`OutsideCalendar` for a `start` outside the
    supported years.
    """
    if isinstance(start, datetime):
        raise TypeError("jours_francs_due takes the local date of the starting event, not a datetime")
    check_in_calendar(start)
    if not 0 <= days <= MAX_DELAI_DAYS:
        raise ValueError(f"a délai has from 0 to {MAX_DELAI_DAYS} days")
    rule = rule or JOURS_FRANCS_RULE
    if rule == LAST_DAY_INCLUDED:
        last = start + timedelta(days=days)
    elif rule == LAST_DAY_EXCLUDED:
        last = start + timedelta(days=days + 1)
    else:
        raise ValueError(f"unknown jours-francs rule: {rule!r}")
    return next_working_day(last, departement)


def reserves_window_due(declared_at: datetime, departement: str, *, rule: str | None = None) -> date:
    """Last day on which the employer may send reasoned reserves after its declaration: 10 jours francs from
    the (local) date it made the DAT (SPEC §2.1; CSS R441-6)."""
    check_in_calendar(declared_at)
    return jours_francs_due(local_date(declared_at, departement), RESERVES_DAYS, departement, rule=rule)


@dataclass(frozen=True)
class Deadline:
    """A computed legal deadline, as deadline records store it (SPEC §6).

    `due` is ours; `notified_due` is the date written in a CPAM letter, authoritative when present. A `due`
    that is a date means "through the end of that local day"; a datetime is the instant itself.
    """

    legal_basis: str
    start_event: str
    started_at: datetime | date
    length: int
    unit: str
    rule_version: str
    due: datetime | date
    departement: str
    notified_due: datetime | date | None = None

    @classmethod
    def dat(cls, known_at: datetime, departement: str, *, benin: bool = False) -> Deadline:
        """The 48 hours to declare an accident, from the employer's knowledge of it (SPEC §2.1).

        ``benin``: the accident was first written in the registre des accidents bénins and ``known_at`` is
        when the employer learnt of the medical care or the stoppage it later led to: the 48 hours run
        from that moment, however old the accident (CSS R441-5, D441-1)."""
        return cls(
            legal_basis="CSS L441-2, R441-3, R441-5, D441-1" if benin else "CSS L441-2, R441-3",
            start_event=BENIN_START_EVENT if benin else DAT_START_EVENT,
            started_at=known_at,
            length=DAT_DELAY_HOURS,
            unit=HOURS,
            rule_version=RULE_VERSION,
            due=dat_due(known_at, departement),
            departement=departement,
        )

    @classmethod
    def jours_francs(
        cls,
        legal_basis: str,
        start_event: str,
        start: date,
        days: int,
        departement: str,
        *,
        rule: str | None = None,
    ) -> Deadline:
        """A délai of `days` jours francs from the local date `start` (SPEC §6)."""
        rule = rule or JOURS_FRANCS_RULE
        return cls(
            legal_basis=legal_basis,
            start_event=start_event,
            started_at=start,
            length=days,
            unit=JOURS_FRANCS,
            rule_version=f"{RULE_VERSION}/{rule}",
            due=jours_francs_due(start, days, departement, rule=rule),
            departement=departement,
        )

    @classmethod
    def reserves(cls, declared_at: datetime, departement: str, *, rule: str | None = None) -> Deadline:
        """The 10 jours francs in which reasoned reserves may follow the DAT (SPEC §2.1; CSS R441-6)."""
        check_in_calendar(declared_at)
        deadline = cls.jours_francs(
            "CSS R441-6",
            "déclaration de l'accident par l'employeur",
            local_date(declared_at, departement),
            RESERVES_DAYS,
            departement,
            rule=rule,
        )
        return dataclasses.replace(deadline, started_at=declared_at)

    def with_notified_due(self, notified_due: datetime | date | None) -> Deadline:
        """The same deadline with the due date a CPAM letter states (SPEC §6: store both). Raises
        :class:`OutsideCalendar` for a date outside the supported years (its end would overflow)."""
        if notified_due is not None:
            check_in_calendar(notified_due)
        return dataclasses.replace(self, notified_due=notified_due)

    @property
    def effective_due(self) -> datetime | date:
        """The notified due date when there is one, else the computed one."""
        return self.notified_due if self.notified_due is not None else self.due

    @property
    def ends_at(self) -> datetime:
        """The aware instant at which the deadline has passed (a due date: at the next local midnight)."""
        due = self.effective_due
        if isinstance(due, datetime):
            return to_local(due, self.departement)
        return datetime.combine(due + timedelta(days=1), time(), tzinfo=timezone_for(self.departement))

    def is_late(self, at: datetime) -> bool:
        """True when something done at `at` (naive: local time) is past the deadline: at or after `ends_at`
        (the UI says "avant le … à 10 h 00", so 10:00 itself is late)."""
        return to_local(at, self.departement).astimezone(UTC) >= self.ends_at.astimezone(UTC)

    def time_left(self, now: datetime) -> timedelta:
        """Real time from `now` (naive: local time) until the deadline passes; negative once it has."""
        return self.ends_at.astimezone(UTC) - to_local(now, self.departement).astimezone(UTC)


def jours_francs_notice_ends(received_on: date, days: int, *, rule: str | None = None) -> date:
    """Last day of a notice of `days` jours francs received on `received_on`: the event announced may take
    place the day after, at the earliest (SPEC §3.1, §6).

    A notice ("at least N jours francs before") is counted like any délai — the day of receipt does not count,
    and with `LAST_DAY_EXCLUDED` the last day does not count either — but it is never extended past a
    Saturday, Sunday or public holiday: it only sets a minimum lead time, so moving its end would refuse
    lawful dates (a notice of 10 j.f. received on a Wednesday allows an opening on the Sunday 11 days later).
    """
    if isinstance(received_on, datetime):
        raise TypeError("jours_francs_notice_ends takes the local date of receipt, not a datetime")
    if days < 0:
        raise ValueError("a délai has a non-negative number of days")
    rule = rule or JOURS_FRANCS_RULE
    if rule == LAST_DAY_INCLUDED:
        return received_on + timedelta(days=days)
    if rule == LAST_DAY_EXCLUDED:
        return received_on + timedelta(days=days + 1)
    raise ValueError(f"unknown jours-francs rule: {rule!r}")
