"""When reminders fire: the user's offsets before an event, kept out of their quiet hours.

A reminder is a promise to the person, so the rule is strict and pure (no I/O), and both the
feeds (VALARM) and the reminder emails use it:

- every offset in `reminder_offsets_minutes` gives a reminder at `start - offset`;
- a reminder whose local wall-clock time (in the user's zone) falls inside quiet hours
  moves earlier, to `QUIET_HOURS_MARGIN` before that stretch of quiet hours began;
- a reminder is never later than the event, never dropped (every offset is covered by a
  reminder at or before its nominal time), and never duplicated (reminders that land on the
  same moment are one reminder).

"Inside quiet hours" is judged on the wall clock the person sees: quiet hours 22:00-08:00
hold a moment whose local time is 22:00 or later, or earlier than 08:00. Start and end
equal means no quiet hours. Daylight-saving jumps are handled: when quiet hours would begin
at a local time that does not exist that day, they begin at the jump.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

QUIET_HOURS_MARGIN = timedelta(minutes=5)
_MOVES_MAX = 4


@dataclass(frozen=True)
class QuietHours:
    """A daily stretch of local wall-clock time; `start > end` spans midnight."""

    start: time
    end: time

    @classmethod
    def parse(cls, start: str, end: str) -> QuietHours:
        """From the stored "HH:MM" strings."""
        return cls(time.fromisoformat(start), time.fromisoformat(end))

    @property
    def is_empty(self) -> bool:
        return self.start == self.end

    def holds(self, wall: time) -> bool:
        """Whether a local wall-clock time is quiet."""
        if self.is_empty:
            return False
        if self.start < self.end:
            return self.start <= wall < self.end
        return wall >= self.start or wall < self.end


def reminder_times(
    starts_at: datetime,
    offsets_minutes: Iterable[int],
    quiet_hours: QuietHours,
    timezone: str,
) -> list[datetime]:
    """The moments (UTC, earliest first, distinct) to remind someone of an event."""
    start = _as_utc(starts_at)
    zone = _zone(timezone)
    moments = {
        _outside_quiet_hours(start - timedelta(minutes=max(0, int(minutes))), quiet_hours, zone)
        for minutes in offsets_minutes
    }
    return sorted(moments)


def is_quiet(moment: datetime, quiet_hours: QuietHours, timezone: str) -> bool:
    """Whether `moment` falls inside quiet hours on the person's wall clock."""
    return quiet_hours.holds(_wall(_as_utc(moment), _zone(timezone)))


def _outside_quiet_hours(nominal: datetime, quiet: QuietHours, zone: ZoneInfo) -> datetime:
    moment = nominal
    for _ in range(_MOVES_MAX):
        if not quiet.holds(_wall(moment, zone)):
            return moment
        moment = _quiet_stretch_begins(moment, quiet, zone) - _margin(quiet)
    # Only reachable when daylight saving swallows the whole non-quiet window several
    # days in a row; step back a day at a time until the wall clock is not quiet.
    while quiet.holds(_wall(moment, zone)):
        moment -= timedelta(days=1)
    return moment


def _quiet_stretch_begins(moment: datetime, quiet: QuietHours, zone: ZoneInfo) -> datetime:
    """The instant the stretch of quiet hours holding `moment` began (UTC)."""
    local = moment.astimezone(zone)
    day = local.date()
    if quiet.start > quiet.end and _wall(moment, zone) < quiet.end:
        day -= timedelta(days=1)
    begins = _first_instant_at_or_after(day, quiet.start, zone)
    if begins > moment:  # a fall-back fold put the wall clock back into the quiet stretch
        begins = _first_instant_at_or_after(day - timedelta(days=1), quiet.start, zone)
    return begins


def _first_instant_at_or_after(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The first instant whose local time on `day` is `wall`, or the jump over it."""
    naive = datetime.combine(day, wall)
    first = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == naive:
        return first
    # `wall` does not exist that day (spring forward): quiet hours begin at the jump,
    # which lies between the two readings of the missing time; find it to the second.
    low = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    high = first
    low, high = min(low, high), max(low, high)
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).replace(tzinfo=None) >= naive:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)


def _margin(quiet: QuietHours) -> timedelta:
    """Five minutes, or less when the window between quiet hours is shorter than that."""
    start = timedelta(hours=quiet.start.hour, minutes=quiet.start.minute)
    end = timedelta(hours=quiet.end.hour, minutes=quiet.end.minute)
    awake = (start - end) % timedelta(days=1)
    return min(QUIET_HOURS_MARGIN, awake)


def _wall(moment: datetime, zone: ZoneInfo) -> time:
    return moment.astimezone(zone).time().replace(tzinfo=None)


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@cache
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")
