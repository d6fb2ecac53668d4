"""Meetups as RFC 5545 text, built with the icalendar library from plain values (no I/O).

Feeds and mail attachments share this one builder, so a meetup reads the same everywhere.
Everything in the output comes from stored values (never from the clock), which is what
makes an unchanged feed byte-identical between fetches: DTSTAMP and LAST-MODIFIED are the
last real change, UIDs derive from the meetup id and the instance's host name, SEQUENCE is
the meetup's edit count. The library escapes text (so no title can inject a property),
folds lines at 75 octets and ends them with CRLF.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from icalendar import Calendar, Timezone, vDuration

from desvirt import __version__
from desvirt.calendar.domain import QuietHours, reminder_times
from desvirt.i18n import N_, gettext

PRODID = f"-//Desvirt//Desvirt {__version__}//EN"
REFRESH = timedelta(hours=1)

ROLE_PREFIXES = {
    "waitlisted": N_("Waitlisted (#%(position)s): %(title)s"),
    "pending_approval": N_("Awaiting the host's approval: %(title)s"),
    "maybe": N_("Maybe: %(title)s"),
}
CANCELLED_PREFIX = N_("Cancelled: %(title)s")
REMINDER_TEXT = N_("Reminder: %(title)s")
ROLE_NOTES = {
    "hosting": N_("You are hosting this meetup."),
    "going": N_("You have a seat."),
    "maybe": N_("You answered maybe."),
    "waitlisted": N_(
        "You are number %(position)s on the waitlist: you do not have a seat yet. "
        "We will tell you when one frees up."
    ),
    "pending_approval": N_("The host has not approved your answer yet."),
}
PARTSTATS = {
    "hosting": "ACCEPTED",
    "going": "ACCEPTED",
    "maybe": "TENTATIVE",
    "waitlisted": "TENTATIVE",
    "pending_approval": "NEEDS-ACTION",
}


@dataclass(frozen=True)
class FeedEvent:
    """One meetup as a calendar shows it, with how the reader relates to it (`role`)."""

    meetup_id: int
    slug: str
    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    venue_name: str
    venue_address: str
    latitude: float | None
    longitude: float | None
    online_url: str
    cancelled: bool
    sequence: int
    created_at: datetime
    changed_at: datetime
    host_name: str
    role: str | None = None  # hosting | going | maybe | waitlisted | pending_approval
    waitlist_position: int | None = None


@dataclass(frozen=True)
class Reminders:
    """Whose reminders a calendar carries: their offsets and quiet hours in their zone."""

    offsets_minutes: tuple[int, ...]
    quiet_hours: QuietHours
    timezone: str


@dataclass(frozen=True)
class CalendarHead:
    """The calendar-wide part: its name, the instance's address, the reader's language."""

    name: str
    base_url: str
    locale: str = "en"
    organizer_email: str = "desvirt@localhost"
    method: str | None = "PUBLISH"  # REQUEST and CANCEL for iMIP mail
    attendee_email: str | None = None  # iMIP: the recipient, so their client can match it
    attendee_name: str = ""


def build_calendar(
    head: CalendarHead, events: Iterable[FeedEvent], reminders: Reminders | None = None
) -> bytes:
    """The whole VCALENDAR, VTIMEZONEs first, events in a stable order."""
    ordered = sorted(events, key=lambda event: (event.starts_at, event.meetup_id))
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if head.method:
        calendar.add("method", head.method)
    calendar.add("x-wr-calname", head.name)
    calendar.add("refresh-interval", vDuration(REFRESH), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH))
    for tzid, (first, last) in _zones_used(ordered).items():
        calendar.add_component(_vtimezone(tzid, first, last))
    frame = calendar.to_ical()
    closing = b"END:VCALENDAR\r\n"
    lines: list[str] = []
    for event in ordered:
        _vevent_lines(lines, head, event, reminders)
    body = "".join(_folded(line) for line in lines).encode()
    return frame[: -len(closing)] + body + closing


def uid_for(meetup_id: int, base_url: str) -> str:
    """Stable for the life of the meetup: its id at this instance's host name."""
    return f"meetup-{meetup_id}@{urlsplit(base_url).hostname or 'desvirt'}"


def alarm_moments(event: FeedEvent, reminders: Reminders | None) -> list[datetime]:
    """When this reader is reminded of this event (none for cancelled events)."""
    if reminders is None or event.cancelled:
        return []
    return reminder_times(
        event.starts_at, reminders.offsets_minutes, reminders.quiet_hours, reminders.timezone
    )


def _vevent_lines(
    lines: list[str], head: CalendarHead, event: FeedEvent, reminders: Reminders | None
) -> None:
    """One VEVENT as content lines.

    The calendar frame and VTIMEZONEs come from the icalendar library; events are written
    line by line here because the library's generic path costs about 2 ms an event, too
    slow for a 1,000-event feed. Tests parse the result with icalendar and vobject.
    """
    url = f"{head.base_url}/m/{event.slug}"
    changed = _utc_stamp(event.changed_at)
    append = lines.append
    append("BEGIN:VEVENT")
    append(f"UID:{_text(uid_for(event.meetup_id, head.base_url))}")
    append(f"DTSTAMP:{changed}")
    append(f"CREATED:{_utc_stamp(event.created_at)}")
    append(f"LAST-MODIFIED:{changed}")
    append(f"SEQUENCE:{int(event.sequence)}")
    append(f"SUMMARY:{_text(_summary(head.locale, event))}")
    append(f"DTSTART{_local_stamp(event.starts_at, event.timezone)}")
    append(f"DTEND{_local_stamp(event.ends_at, event.timezone)}")
    append(f"URL;VALUE=URI:{_uri(url)}")
    location = _location(event)
    if location:
        append(f"LOCATION:{_text(location)}")
    if event.latitude is not None and event.longitude is not None:
        append(f"GEO:{event.latitude:.6f};{event.longitude:.6f}")
    append(f"DESCRIPTION:{_text(_description(head.locale, event, url))}")
    append(f"ORGANIZER;CN={_param(event.host_name)}:mailto:{_uri(head.organizer_email)}")
    if head.attendee_email:
        partstat = PARTSTATS.get(event.role or "", "NEEDS-ACTION")
        append(
            f"ATTENDEE;CN={_param(head.attendee_name or head.attendee_email)}"
            f";ROLE=REQ-PARTICIPANT;PARTSTAT={partstat}:mailto:{_uri(head.attendee_email)}"
        )
    append(f"STATUS:{_status(event)}")
    transparent = event.cancelled or event.role in ("waitlisted", "pending_approval")
    append(f"TRANSP:{'TRANSPARENT' if transparent else 'OPAQUE'}")
    if event.role:
        append(f"X-DESVIRT-RSVP:{event.role}")
    moments = alarm_moments(event, reminders)
    if moments:
        reminder = _text(gettext(head.locale, REMINDER_TEXT, title=event.title))
        for moment in moments:
            append("BEGIN:VALARM")
            append("ACTION:DISPLAY")
            append(f"DESCRIPTION:{reminder}")
            append(f"TRIGGER:{_duration(moment - _as_utc(event.starts_at))}")
            append("END:VALARM")
    append("END:VEVENT")


def _summary(locale: str, event: FeedEvent) -> str:
    title = event.title
    prefix = ROLE_PREFIXES.get(event.role or "")
    if prefix:
        title = gettext(locale, prefix, title=title, position=event.waitlist_position or "?")
    if event.cancelled:
        title = gettext(locale, CANCELLED_PREFIX, title=title)
    return title


def _status(event: FeedEvent) -> str:
    if event.cancelled:
        return "CANCELLED"
    if event.role in ("maybe", "waitlisted", "pending_approval"):
        return "TENTATIVE"
    return "CONFIRMED"


def _description(locale: str, event: FeedEvent, url: str) -> str:
    parts: list[str] = []
    note = ROLE_NOTES.get(event.role or "")
    if note:
        parts.append(gettext(locale, note, position=event.waitlist_position or "?"))
    if event.description.strip():
        parts.append(event.description.strip())
    if event.online_url:
        parts.append(event.online_url)
    parts.append(url)
    return "\n\n".join(parts)


def _location(event: FeedEvent) -> str:
    place = ", ".join(part for part in (event.venue_name, event.venue_address) if part)
    return place or event.online_url


def _zones_used(events: Sequence[FeedEvent]) -> dict[str, tuple[int, int]]:
    """Each TZID used, with the years its events span (for a compact VTIMEZONE)."""
    zones: dict[str, tuple[int, int]] = {}
    for event in events:
        tzid = _zone(event.timezone).key
        if tzid == "UTC":
            continue
        years = (event.starts_at.year, event.ends_at.year)
        first, last = zones.get(tzid, (min(years), max(years)))
        zones[tzid] = (min(first, *years), max(last, *years))
    return dict(sorted(zones.items()))


@cache
def _vtimezone(tzid: str, first_year: int, last_year: int) -> Timezone:
    # Building a VTIMEZONE walks the zone's transitions: slow, so cached per year range.
    return Timezone.from_tzid(
        tzid, first_date=date(first_year - 1, 1, 1), last_date=date(last_year + 1, 12, 31)
    )


@cache
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _utc_stamp(moment: datetime) -> str:
    return _as_utc(moment).strftime("%Y%m%dT%H%M%SZ")


def _local_stamp(moment: datetime, timezone: str) -> str:
    """`;TZID=Zone:local` for a named zone (a VTIMEZONE is added), `:...Z` for UTC."""
    zone = _zone(timezone)
    if zone.key == "UTC":
        return f":{_utc_stamp(moment)}"
    return f";TZID={zone.key}:{_as_utc(moment).astimezone(zone).strftime('%Y%m%dT%H%M%S')}"


def _duration(delta: timedelta) -> str:
    """An exact RFC 5545 DURATION such as -PT28H5M: hours, never days, because a "day" is
    nominal (wall-clock) time and would shift alarms by an hour across DST changes."""
    seconds = int(delta.total_seconds())
    sign = "-" if seconds < 0 else ""
    hours, rest = divmod(abs(seconds), 3600)
    minutes, seconds = divmod(rest, 60)
    clock = "".join(
        f"{amount}{unit}"
        for amount, unit in ((hours, "H"), (minutes, "M"), (seconds, "S"))
        if amount
    )
    return f"{sign}PT{clock or '0S'}"


_TEXT_ESCAPES = str.maketrans({"\\": "\\\\", ";": "\\;", ",": "\\,", "\n": "\\n"})
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _text(value: str) -> str:
    """TEXT escaping (RFC 5545 3.3.11): a value can never end its line or add a property."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", value).translate(_TEXT_ESCAPES)


def _param(value: str) -> str:
    """A quoted parameter value: no DQUOTE or control characters can occur inside."""
    cleaned = _CONTROL.sub("", value.replace("\r", " ").replace("\n", " ").replace("\t", " "))
    return '"' + cleaned.replace('"', "'") + '"'


def _uri(value: str) -> str:
    """URIs are not TEXT-escaped; anything that could break the line is dropped."""
    return _CONTROL.sub("", value.replace("\r", "").replace("\n", "").replace("\t", ""))


def _folded(line: str) -> str:
    """The line and its CRLF, folded at 75 octets, never inside a UTF-8 character or an
    escape sequence (some clients mis-read a fold right after a backslash)."""
    if len(line) <= 75:
        encoded = line.encode()
        if len(encoded) <= 75:
            return line + "\r\n"
    else:
        encoded = line.encode()
    chunks: list[bytes] = []
    start, limit = 0, 75
    while len(encoded) - start > limit:
        cut = start + limit
        while encoded[cut] & 0xC0 == 0x80:  # a UTF-8 continuation byte: back up
            cut -= 1
        if encoded[cut - 1] == 0x5C and cut - 1 > start:  # keep "\\x" together
            cut -= 1
        chunks.append(encoded[start:cut])
        start, limit = cut, 74
    chunks.append(encoded[start:])
    return b"\r\n ".join(chunks).decode() + "\r\n"
