"""Which meetups each feed holds, read in a constant number of queries, and its version.

Every feed has two reads: a cheap aggregate (`*_version`) that yields the ETag and
Last-Modified, so a conditional GET answers 304 without building anything, and the rows
themselves (`*_feed`). A user's feed is "meetups I host" UNION ALL "meetups I answered":
two index-friendly halves instead of an OR across a subquery, which scales with the user,
not the instance. Both reads use the same window:

- scheduled meetups that ended less than `PAST_DAYS` ago or are still to come;
- cancelled meetups for `CANCELLED_KEPT_DAYS` after the cancellation, as STATUS:CANCELLED,
  so subscribed clients remove them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from desvirt import database
from desvirt.accounts import service as accounts
from desvirt.accounts.tables import User
from desvirt.calendar import ical
from desvirt.calendar.domain import QuietHours
from desvirt.calendar.ical import CalendarHead, FeedEvent, Reminders
from desvirt.i18n import N_, gettext
from desvirt.meetups.tables import Meetup
from desvirt.settings import Settings

PAST_DAYS = 180
CANCELLED_KEPT_DAYS = 30
PUBLIC_FEED_LIMIT = 500
PUBLIC_FEED_LOCALE = "en"  # a shared feed has no single reader; its names are English
DEFAULT_REMINDER_OFFSETS = (1440, 120)
DEFAULT_QUIET_HOURS = QuietHours.parse("22:00", "08:00")
FEED_FORMAT = "1"  # bump when the output changes shape, so every ETag changes with it
ANSWERS_IN_FEED = ("going", "maybe", "waitlisted", "pending_approval")
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
FEED_TOKEN_MAX_LENGTH = 200  # longer is no token of ours: not even worth hashing

MY_FEED_NAME = N_("Desvirt: %(name)s")
PUBLIC_FEED_NAME = N_("Desvirt: upcoming public meetups")

_EVENT_COLUMNS = """
    m.id AS id, m.slug AS slug, m.title AS title, m.description AS description,
    m.starts_at AS starts_at, m.ends_at AS ends_at, m.timezone AS timezone,
    m.venue_name AS venue_name, m.venue_address AS venue_address,
    m.latitude AS latitude, m.longitude AS longitude, m.online_url AS online_url,
    m.status AS status, m.sequence AS sequence, m.created_at AS created_at,
    m.updated_at AS updated_at, h.display_name AS host_name
"""
_IN_WINDOW = """
    m.starts_at IS NOT NULL AND m.ends_at IS NOT NULL AND (
        (m.status = 'scheduled' AND m.ends_at >= {})
        OR (m.status = 'cancelled' AND m.cancelled_at >= {})
    )
"""
_ANSWERS = ", ".join(f"'{status}'" for status in ANSWERS_IN_FEED)

_MY_FEED_ROWS = f"""
SELECT {_EVENT_COLUMNS}, 'hosting' AS role, NULL AS waitlist_position,
       m.updated_at AS answered_at
FROM meetup m JOIN desvirt_user h ON h.id = m.host
WHERE m.host = {{}} AND {_IN_WINDOW}
UNION ALL
SELECT {_EVENT_COLUMNS}, r.status AS role, r.waitlist_position AS waitlist_position,
       r.updated_at AS answered_at
FROM rsvp r JOIN meetup m ON m.id = r.meetup JOIN desvirt_user h ON h.id = m.host
WHERE r."user" = {{}} AND r.status IN ({_ANSWERS}) AND m.host <> {{}} AND {_IN_WINDOW}
"""

# The version covers every RSVP of the user in the window (a decline removes an event, so
# it must move the version too) but counts only what the feed shows. It starts from the
# feed token, so a conditional GET costs this one statement; no row means no such feed.
_PRIVATE_FEED_VERSION = f"""
WITH owner AS (
    SELECT id, display_name, locale, timezone, quiet_hours_start, quiet_hours_end,
           reminder_offsets_minutes, created_at
    FROM desvirt_user WHERE feed_token_hash = {{}}
)
SELECT owner.id AS owner_id, owner.display_name AS display_name, owner.locale AS locale,
       owner.timezone AS timezone, owner.quiet_hours_start AS quiet_hours_start,
       owner.quiet_hours_end AS quiet_hours_end,
       owner.reminder_offsets_minutes AS reminder_offsets_minutes,
       owner.created_at AS created_at, feed.*
FROM owner CROSS JOIN (
    SELECT COUNT(*) AS rows_seen, SUM(shown) AS shown, SUM(id * shown) AS ids,
           SUM(sequence * shown) AS sequences, SUM(position * shown) AS positions,
           MAX(updated_at) AS changed, MAX(answered_at) AS answered,
           MIN(CASE WHEN shown = 1 AND status = 'scheduled' THEN ends_at END) AS first_end,
           MIN(CASE WHEN shown = 1 AND status = 'cancelled' THEN cancelled_at END)
               AS first_cancelled
    FROM (
        SELECT m.id AS id, 1 AS shown, m.sequence AS sequence, 0 AS position,
               m.updated_at AS updated_at, m.updated_at AS answered_at,
               m.status AS status, m.ends_at AS ends_at, m.cancelled_at AS cancelled_at
        FROM meetup m JOIN owner o ON m.host = o.id
        WHERE {_IN_WINDOW}
        UNION ALL
        SELECT m.id AS id, CASE WHEN r.status IN ({_ANSWERS}) THEN 1 ELSE 0 END AS shown,
               m.sequence AS sequence, COALESCE(r.waitlist_position, 0) AS position,
               m.updated_at AS updated_at, r.updated_at AS answered_at,
               m.status AS status, m.ends_at AS ends_at, m.cancelled_at AS cancelled_at
        FROM rsvp r JOIN owner o ON r."user" = o.id JOIN meetup m ON m.id = r.meetup
        WHERE m.host <> o.id AND {_IN_WINDOW}
    ) AS shown_rows
) AS feed
"""

_PUBLIC_WHERE = """
    m.visibility = 'public' AND m.starts_at IS NOT NULL AND m.ends_at IS NOT NULL
    AND m.ends_at >= {} AND (
        m.status = 'scheduled' OR (m.status = 'cancelled' AND m.cancelled_at >= {})
    )
"""
_PUBLIC_FEED_ROWS = f"""
SELECT {_EVENT_COLUMNS}, NULL AS role, NULL AS waitlist_position,
       m.updated_at AS answered_at
FROM meetup m JOIN desvirt_user h ON h.id = m.host
WHERE {_PUBLIC_WHERE}
ORDER BY m.starts_at, m.id
LIMIT {PUBLIC_FEED_LIMIT}
"""
_PUBLIC_FEED_VERSION = f"""
SELECT COUNT(*) AS shown, SUM(id) AS ids, SUM(sequence) AS sequences,
       MAX(updated_at) AS changed
FROM (
    SELECT m.id AS id, m.sequence AS sequence, m.updated_at AS updated_at
    FROM meetup m
    WHERE {_PUBLIC_WHERE}
    ORDER BY m.starts_at, m.id
    LIMIT {PUBLIC_FEED_LIMIT}
) AS feed
"""


@dataclass(frozen=True)
class FeedVersion:
    """What conditional GETs compare: a weak ETag and the last real change."""

    etag: str
    last_modified: datetime


@dataclass(frozen=True)
class FeedReader:
    """Who a feed is for, as far as its text goes: name, language and reminders."""

    display_name: str
    locale: str
    timezone: str
    quiet_hours_start: str
    quiet_hours_end: str
    reminder_offsets: tuple[int, ...]

    @classmethod
    def of(cls, user: User) -> FeedReader:
        return cls(
            user.display_name,
            user.locale,
            user.timezone,
            user.quiet_hours_start,
            user.quiet_hours_end,
            tuple(accounts.reminder_offsets_of(user)),
        )


@dataclass(frozen=True)
class PrivateFeedVersion:
    """A private feed's owner and version, read from its token in one statement.

    `valid_until` is when time alone changes the feed: its first event leaves the window.
    """

    owner_id: int
    version: FeedVersion
    valid_until: datetime


async def private_feed_version(
    settings: Settings, token: str, now: datetime | None = None
) -> PrivateFeedVersion | None:
    """None when no one holds this token (never issued, or rotated away)."""
    if not token or len(token) > FEED_TOKEN_MAX_LENGTH:
        return None
    now = now or datetime.now(UTC)
    since, cancelled_since = _window(now)
    rows = await database.fetch(
        _PRIVATE_FEED_VERSION,
        accounts.feed_token_hash(token),
        since,
        cancelled_since,
        since,
        cancelled_since,
    )
    if not rows:
        return None
    row = rows[0]
    changed = max(_moment(row.get("changed")), _moment(row.get("answered")))
    if changed == EPOCH:
        changed = _moment(row["created_at"])
    reader = FeedReader(
        row["display_name"],
        row["locale"],
        row["timezone"],
        row["quiet_hours_start"],
        row["quiet_hours_end"],
        tuple(accounts.reminder_offsets_from(row["reminder_offsets_minutes"])),
    )
    parts = [
        row.get("shown") or 0,
        row.get("ids") or 0,
        row.get("sequences") or 0,
        row.get("positions") or 0,
        changed.isoformat(),
        *_reader_parts(settings, reader),
    ]
    leaves = [now + timedelta(days=PAST_DAYS)]  # nothing scheduled: time changes nothing
    if row.get("first_end") is not None:
        leaves.append(_moment(row["first_end"]) + timedelta(days=PAST_DAYS))
    if row.get("first_cancelled") is not None:
        leaves.append(_moment(row["first_cancelled"]) + timedelta(days=CANCELLED_KEPT_DAYS))
    return PrivateFeedVersion(
        int(row["owner_id"]), FeedVersion(_etag("me", parts), changed), min(leaves)
    )


async def my_feed(settings: Settings, user: User, now: datetime | None = None) -> bytes:
    """`/cal/{token}.ics`: what I host and what I answered going, maybe or waitlisted."""
    since, cancelled_since = _window(now)
    rows = await Meetup.raw(
        _MY_FEED_ROWS,
        user.id,
        since,
        cancelled_since,
        user.id,
        user.id,
        since,
        cancelled_since,
    )
    head = _head(settings, gettext(user.locale, MY_FEED_NAME, name=user.display_name), user.locale)
    return ical.build_calendar(head, [_event(row) for row in rows], reminders_of(user))


async def public_feed_version(settings: Settings, now: datetime | None = None) -> FeedVersion:
    since, cancelled_since = _public_window(now)
    rows = await Meetup.raw(_PUBLIC_FEED_VERSION, since, cancelled_since)
    row = rows[0] if rows else {}
    changed = _moment(row.get("changed"))
    parts = [row.get("shown") or 0, row.get("ids") or 0, row.get("sequences") or 0]
    return FeedVersion(_etag("public", [*parts, changed.isoformat(), settings.base_url]), changed)


async def public_feed(settings: Settings, now: datetime | None = None) -> bytes:
    """`/cal/public.ics`: the instance's upcoming public meetups (at most 500), no alarms."""
    since, cancelled_since = _public_window(now)
    rows = await Meetup.raw(_PUBLIC_FEED_ROWS, since, cancelled_since)
    head = _head(settings, gettext(PUBLIC_FEED_LOCALE, PUBLIC_FEED_NAME), PUBLIC_FEED_LOCALE)
    return ical.build_calendar(head, [_event(row) for row in rows])


def meetup_feed_version(settings: Settings, meetup: Meetup, reader: User | None) -> FeedVersion:
    """A single meetup's version comes from its own row: no query at all."""
    changed = _moment(meetup.updated_at)
    parts = [meetup.id, meetup.sequence, meetup.status, changed.isoformat()]
    reader_parts = _reader_parts(settings, FeedReader.of(reader)) if reader else [settings.base_url]
    return FeedVersion(_etag("meetup", [*parts, *reader_parts]), changed)


def meetup_feed(settings: Settings, meetup: Meetup, host: User, reader: User | None) -> bytes:
    """`/m/{slug}.ics`: one meetup, with the reader's reminders (defaults when anonymous)."""
    locale = reader.locale if reader else "en"
    event = meetup_event(meetup, host, cancelled=meetup.status == "cancelled")
    reminders = (
        reminders_of(reader)
        if reader
        else Reminders(DEFAULT_REMINDER_OFFSETS, DEFAULT_QUIET_HOURS, meetup.timezone)
    )
    return ical.build_calendar(_head(settings, meetup.title, locale), [event], reminders)


def meetup_event(
    meetup: Meetup, host: User, *, cancelled: bool, role: str | None = None
) -> FeedEvent:
    """One stored meetup as a calendar event: feeds and iMIP mail build it the same way."""
    starts_at = _moment(meetup.starts_at)
    return FeedEvent(
        meetup_id=meetup.id,
        slug=meetup.slug,
        title=meetup.title,
        description=meetup.description,
        starts_at=starts_at,
        ends_at=_moment(meetup.ends_at) if meetup.ends_at else starts_at,
        timezone=meetup.timezone,
        venue_name=meetup.venue_name,
        venue_address=meetup.venue_address,
        latitude=meetup.latitude,
        longitude=meetup.longitude,
        online_url=meetup.online_url,
        cancelled=cancelled,
        sequence=meetup.sequence,
        created_at=_moment(meetup.created_at),
        changed_at=_moment(meetup.updated_at),
        host_name=host.display_name,
        role=role,
    )


def reminders_of(user: User) -> Reminders:
    """A user's reminder preferences as the reminder rule reads them."""
    try:
        quiet = QuietHours.parse(user.quiet_hours_start, user.quiet_hours_end)
    except (TypeError, ValueError):
        quiet = DEFAULT_QUIET_HOURS
    return Reminders(tuple(accounts.reminder_offsets_of(user)), quiet, user.timezone)


def event_from_row(row: dict[str, Any]) -> FeedEvent:
    """A FeedEvent from a row shaped like `_EVENT_COLUMNS` plus role and position."""
    return _event(row)


def _event(row: dict[str, Any]) -> FeedEvent:
    changed = max(_moment(row["updated_at"]), _moment(row.get("answered_at")))
    position = row.get("waitlist_position")
    return FeedEvent(
        meetup_id=int(row["id"]),
        slug=row["slug"],
        title=row["title"],
        description=row["description"] or "",
        starts_at=_moment(row["starts_at"]),
        ends_at=_moment(row["ends_at"]),
        timezone=row["timezone"] or "UTC",
        venue_name=row["venue_name"] or "",
        venue_address=row["venue_address"] or "",
        latitude=_number(row.get("latitude")),
        longitude=_number(row.get("longitude")),
        online_url=row["online_url"] or "",
        cancelled=row["status"] == "cancelled",
        sequence=int(row["sequence"] or 0),
        created_at=_moment(row["created_at"]),
        changed_at=changed,
        host_name=row["host_name"],
        role=row.get("role"),
        waitlist_position=int(position) if position is not None else None,
    )


def _head(settings: Settings, name: str, locale: str) -> CalendarHead:
    return CalendarHead(
        name=name,
        base_url=settings.base_url,
        locale=locale,
        organizer_email=_address(settings.mail_from),
    )


def _reader_parts(settings: Settings, reader: FeedReader) -> Sequence[Any]:
    """What else shapes a reader's feed: name, language and reminder preferences."""
    return [
        settings.base_url,
        reader.display_name,
        reader.locale,
        reader.timezone,
        reader.quiet_hours_start,
        reader.quiet_hours_end,
        list(reader.reminder_offsets),
    ]


def _window(now: datetime | None) -> tuple[datetime, datetime]:
    now = now or datetime.now(UTC)
    return now - timedelta(days=PAST_DAYS), now - timedelta(days=CANCELLED_KEPT_DAYS)


def _public_window(now: datetime | None) -> tuple[datetime, datetime]:
    now = now or datetime.now(UTC)
    return now, now - timedelta(days=CANCELLED_KEPT_DAYS)


def _etag(kind: str, parts: Sequence[Any]) -> str:
    digest = hashlib.sha256(json.dumps([FEED_FORMAT, kind, *parts], default=str).encode())
    return f'W/"{digest.hexdigest()[:32]}"'


def _moment(value: Any) -> datetime:
    """A stored timestamp as aware UTC (SQLite aggregates come back as text)."""
    if value is None or value == "":
        return EPOCH
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        return EPOCH
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _address(mail_from: str) -> str:
    """`Desvirt <desvirt@example.org>` -> `desvirt@example.org`."""
    if "<" in mail_from and ">" in mail_from:
        return mail_from.split("<", 1)[1].split(">", 1)[0].strip()
    return mail_from.strip()
