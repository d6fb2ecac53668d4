"""Pure meetup rules: what a valid meetup is, and who gets a seat, a waitlist place or neither.

Everything here is free of I/O so it can be unit- and property-tested; service.py reads the
rows inside one write transaction, asks these functions what the new state is, and writes
only what changed.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlencode, urlsplit
from zoneinfo import ZoneInfo

import nh3
from markdown_it import MarkdownIt

from desvirt.accounts.domain import FieldError, available_timezones
from desvirt.contacts.domain import TRUST_LEVELS
from desvirt.i18n import N_

VISIBILITIES = ("public", "unlisted", "contacts")
CONTACTS_MIN_TRUST = tuple(level for level in TRUST_LEVELS if level != "none")
RESPONSES = ("yes", "maybe", "no")
RSVP_STATUSES = ("going", "waitlisted", "maybe", "declined", "pending_approval")
TITLE_MAX_LENGTH = 140
DESCRIPTION_MAX_LENGTH = 20_000
VENUE_NAME_MAX_LENGTH = 140
VENUE_ADDRESS_MAX_LENGTH = 300
ONLINE_URL_MAX_LENGTH = 500
CAPACITY_MAX = 100_000
GUESTS_MAX = 10
LONGEST_MEETUP = timedelta(days=14)
SLUG_WORDS_MAX_LENGTH = 60


@dataclass(frozen=True)
class MeetupDraft:
    """What a host typed, unchecked: strings as they came from a form or a JSON body.

    `starts_at`/`ends_at` are ISO 8601; without an offset they are read in `timezone`
    (that is what a `datetime-local` input sends).
    """

    title: str = ""
    description: str = ""
    starts_at: str = ""
    ends_at: str = ""
    timezone: str = "UTC"
    venue_name: str = ""
    venue_address: str = ""
    latitude: str | float | None = None
    longitude: str | float | None = None
    online_url: str = ""
    capacity: str | int | None = None
    visibility: str = "public"
    contacts_min_trust: str = "online"
    requires_approval: bool = False


@dataclass(frozen=True)
class MeetupFields:
    """A checked meetup, ready to store: times in UTC, text trimmed, numbers parsed."""

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
    capacity: int | None
    visibility: str
    contacts_min_trust: str
    requires_approval: bool


def meetup_problems(draft: MeetupDraft, *, now: datetime | None = None) -> list[FieldError]:
    """Every problem of a meetup form at once, each naming its field (for pages)."""
    problems: list[FieldError] = []
    try:
        check_meetup(draft, now=now)
    except _Problems as found:
        problems = found.problems
    return problems


def check_meetup(draft: MeetupDraft, *, now: datetime | None = None) -> MeetupFields:
    """The checked fields of a draft, or the first problem raised as a FieldError.

    With `now` given, a meetup that would already be over is refused (creation); edits of
    a past meetup leave `now` out.
    """
    problems: list[FieldError] = []

    def attempt(check: Any) -> Any:
        try:
            return check()
        except FieldError as problem:
            problems.append(problem)
            return None

    title = attempt(lambda: _title(draft.title))
    description = attempt(lambda: _description(draft.description))
    zone = attempt(lambda: _zone(draft.timezone))
    starts_at = attempt(lambda: parse_when("starts_at", draft.starts_at, zone or "UTC"))
    ends_at = attempt(lambda: parse_when("ends_at", draft.ends_at, zone or "UTC"))
    if starts_at and ends_at:
        attempt(lambda: _span(starts_at, ends_at, now))
    venue_name = attempt(lambda: _text("venue_name", draft.venue_name, VENUE_NAME_MAX_LENGTH))
    venue_address = attempt(
        lambda: _text("venue_address", draft.venue_address, VENUE_ADDRESS_MAX_LENGTH)
    )
    latitude = attempt(lambda: _coordinate("latitude", draft.latitude, 90))
    longitude = attempt(lambda: _coordinate("longitude", draft.longitude, 180))
    if (latitude is None) != (longitude is None) and not any(
        p.field in ("latitude", "longitude") for p in problems
    ):
        problems.append(FieldError("latitude", N_("Give both latitude and longitude, or neither.")))
    online_url = attempt(lambda: _online_url(draft.online_url))
    capacity = attempt(lambda: parse_capacity(draft.capacity))
    visibility = attempt(lambda: _visibility(draft.visibility))
    min_trust = attempt(lambda: _min_trust(draft.contacts_min_trust))
    if problems:
        raise _Problems(problems)
    return MeetupFields(
        title=title,
        description=description,
        starts_at=starts_at,
        ends_at=ends_at,
        timezone=zone,
        venue_name=venue_name,
        venue_address=venue_address,
        latitude=latitude,
        longitude=longitude,
        online_url=online_url,
        capacity=capacity,
        visibility=visibility,
        contacts_min_trust=min_trust,
        requires_approval=bool(draft.requires_approval),
    )


def parse_when(field: str, raw: str, zone: str) -> datetime:
    """An ISO 8601 time as UTC; without an offset it is a wall-clock time in `zone`."""
    text = (raw or "").strip()
    if not text:
        raise FieldError(field, N_("Please give a date and time."))
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as error:
        raise FieldError(field, N_("Write the date and time like 2026-12-01T19:30.")) from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(zone))
    return moment.astimezone(UTC)


def parse_capacity(raw: str | int | None) -> int | None:
    """Seats including guests; empty means no limit."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, bool):
        raise FieldError("capacity", N_("Capacity is a whole number of seats."))
    try:
        capacity = int(raw)
    except (TypeError, ValueError) as error:
        raise FieldError("capacity", N_("Capacity is a whole number of seats.")) from error
    if capacity < 1:
        raise FieldError("capacity", N_("Capacity is at least 1 seat, or empty for no limit."))
    if capacity > CAPACITY_MAX:
        raise FieldError("capacity", N_("Capacity is at most %(count)s seats."), count=CAPACITY_MAX)
    return capacity


def parse_guests(raw: str | int | None) -> int:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return 0
    try:
        guests = int(raw)
    except (TypeError, ValueError) as error:
        raise FieldError("guests", N_("Guests is a whole number.")) from error
    if isinstance(raw, bool) or not 0 <= guests <= GUESTS_MAX:
        raise FieldError("guests", N_("Bring between 0 and %(count)s guests."), count=GUESTS_MAX)
    return guests


def check_response(response: str) -> str:
    if response not in RESPONSES:
        raise FieldError("response", N_("Answer yes, maybe or no."))
    return response


def check_capacity_change(capacity: int | None, seats_taken: int) -> None:
    """A host may not lower capacity below the seats already given to people going."""
    if capacity is not None and capacity < seats_taken:
        raise FieldError(
            "capacity",
            N_("Capacity cannot be lower than the seats people going already take: %(taken)s."),
            taken=seats_taken,
        )


def new_slug(title: str, token: str | None = None) -> str:
    """A readable, stable address: the title's words plus a short random tail."""
    folded = unicodedata.normalize("NFKD", title.casefold())
    ascii_only = "".join(ch for ch in folded if not unicodedata.combining(ch))
    words = re.sub(r"[^a-z0-9]+", "-", ascii_only).strip("-")[:SLUG_WORDS_MAX_LENGTH].strip("-")
    tail = token or secrets.token_hex(3)
    return f"{words}-{tail}" if words else f"meetup-{tail}"


# Kept per text: a meetup page shows its description on every view (Markdown and nh3, about
# 0.2 ms each time). 256 of at most 20,000 characters: a few MB at worst.
@lru_cache(maxsize=256)
def render_description(source: str) -> str:
    """Markdown to HTML without scripts or event handlers; links kept, made safe."""
    html = _MARKDOWN.render(source or "")
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes={"a": {"href", "title"}, "img": {"src", "alt", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


@lru_cache(maxsize=256)
def summary_text(source: str, length: int = 200) -> str:
    """Plain text for link previews (OpenGraph description)."""
    text = nh3.clean(_MARKDOWN.render(source or ""), tags=set())
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def map_url(latitude: float | None, longitude: float | None, address: str = "") -> str:
    """An OpenStreetMap link for the venue, by coordinates or else by address."""
    if latitude is not None and longitude is not None:
        return (
            f"https://www.openstreetmap.org/?mlat={latitude:.6f}&mlon={longitude:.6f}"
            f"#map=17/{latitude:.6f}/{longitude:.6f}"
        )
    if address.strip():
        return "https://www.openstreetmap.org/search?" + urlencode({"query": address.strip()})
    return ""


def google_calendar_url(
    *, title: str, starts_at: datetime, ends_at: datetime, details: str, location: str
) -> str:
    """A Google Calendar 'add event' template link."""

    def stamp(moment: datetime) -> str:
        return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")

    query = urlencode(
        {
            "action": "TEMPLATE",
            "text": title,
            "dates": f"{stamp(starts_at)}/{stamp(ends_at)}",
            "details": details,
            "location": location,
        },
        quote_via=quote,
    )
    return f"https://calendar.google.com/calendar/render?{query}"


# --- Seats -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Seat:
    """One RSVP as far as seats are concerned; `party` is the person plus their guests."""

    user_id: int
    status: str
    guests: int = 0
    waitlist_position: int | None = None

    @property
    def party(self) -> int:
        return 1 + self.guests


class NoSeats(Exception):
    """A person going asked for more guests than the free seats allow."""

    def __init__(self, seats_left: int) -> None:
        super().__init__(seats_left)
        self.seats_left = seats_left


def page_changes_at(
    starts_at: datetime | None, ends_at: datetime | None, now: datetime
) -> datetime | None:
    """When time alone next changes a meetup's page: it begins (check-in), or it ends."""
    return min((moment for moment in (starts_at, ends_at) if moment and moment > now), default=None)


def seats_taken(rsvps: Iterable[Seat]) -> int:
    return sum(seat.party for seat in rsvps if seat.status == "going")


def answer(
    rsvps: Sequence[Seat],
    *,
    capacity: int | None,
    requires_approval: bool,
    user_id: int,
    response: str,
    guests: int = 0,
    approved: bool = False,
) -> list[Seat]:
    """The RSVPs after `user_id` answers; the waitlist moves up when a seat frees.

    A yes takes a seat when the whole party fits and nobody waits before it; otherwise the
    party joins the end of the waitlist. Someone already going keeps their seat while
    changing guests, or gets NoSeats when the extra guests do not fit. On approval-required
    meetups a yes waits as pending_approval unless `approved` (the host, or the host's
    decision).
    """
    current = {seat.user_id: seat for seat in rsvps}
    before = current.get(user_id)
    others = [seat for seat in rsvps if seat.user_id != user_id]
    if response != "yes":
        status = "maybe" if response == "maybe" else "declined"
        mine = Seat(user_id, status, guests if response == "maybe" else 0)
        return promote([*others, mine], capacity)
    if before is not None and before.status == "going":
        free = _free(others, capacity)
        if free is not None and 1 + guests > free:
            raise NoSeats(max(0, free - 1))
        return promote([*others, replace(before, guests=guests)], capacity)
    if before is not None and before.status == "waitlisted":
        return promote([*others, replace(before, guests=guests)], capacity)
    if requires_approval and not approved:
        return promote([*others, Seat(user_id, "pending_approval", guests)], capacity)
    waiting = [seat for seat in others if seat.status == "waitlisted"]
    free = _free(others, capacity)
    if not waiting and (free is None or 1 + guests <= free):
        return promote([*others, Seat(user_id, "going", guests)], capacity)
    position = 1 + max((seat.waitlist_position or 0 for seat in waiting), default=0)
    return promote([*others, Seat(user_id, "waitlisted", guests, position)], capacity)


def decline_request(rsvps: Sequence[Seat], user_id: int) -> list[Seat]:
    """The host declines a pending RSVP."""
    return [
        replace(seat, status="declined", waitlist_position=None)
        if seat.user_id == user_id and seat.status == "pending_approval"
        else seat
        for seat in rsvps
    ]


def promote(rsvps: Sequence[Seat], capacity: int | None) -> list[Seat]:
    """Seat the waitlist in order while the first party fits; renumber positions 1..n.

    Strictly first come, first served: a big party at the head is not skipped by a smaller
    one behind it, so nobody is overtaken.
    """
    waiting = sorted(
        (seat for seat in rsvps if seat.status == "waitlisted"),
        key=lambda seat: seat.waitlist_position or 0,
    )
    settled = {seat.user_id: seat for seat in rsvps if seat.status != "waitlisted"}
    for seat in rsvps:
        if seat.status != "waitlisted" and seat.waitlist_position is not None:
            settled[seat.user_id] = replace(seat, waitlist_position=None)
    free = _free(list(settled.values()), capacity)
    still_waiting: list[Seat] = []
    for seat in waiting:
        if not still_waiting and (free is None or seat.party <= free):
            settled[seat.user_id] = replace(seat, status="going", waitlist_position=None)
            free = None if free is None else free - seat.party
        else:
            still_waiting.append(seat)
    for position, seat in enumerate(still_waiting, start=1):
        settled[seat.user_id] = replace(seat, waitlist_position=position)
    order = {seat.user_id: index for index, seat in enumerate(rsvps)}
    return sorted(settled.values(), key=lambda seat: order[seat.user_id])


def _free(rsvps: Iterable[Seat], capacity: int | None) -> int | None:
    return None if capacity is None else capacity - seats_taken(rsvps)


# --- Field checks ----------------------------------------------------------------------


class _Problems(FieldError):
    """Several FieldErrors at once; it is the first of them for callers that want one."""

    def __init__(self, problems: list[FieldError]) -> None:
        first = problems[0]
        super().__init__(first.field, first.message, **first.params)
        self.problems = problems


def _title(raw: str) -> str:
    title = " ".join((raw or "").split())
    if not title:
        raise FieldError("title", N_("Please give the meetup a title."))
    if len(title) > TITLE_MAX_LENGTH:
        raise FieldError(
            "title", N_("A title has at most %(count)s characters."), count=TITLE_MAX_LENGTH
        )
    return title


def _description(raw: str) -> str:
    text = (raw or "").strip()
    if len(text) > DESCRIPTION_MAX_LENGTH:
        raise FieldError(
            "description",
            N_("A description has at most %(count)s characters."),
            count=DESCRIPTION_MAX_LENGTH,
        )
    return text


def _zone(raw: str) -> str:
    zone = (raw or "").strip()
    if zone not in available_timezones():
        raise FieldError(
            "timezone", N_("Unknown time zone: use a name like Europe/Madrid or America/Bogota.")
        )
    return zone


def _span(starts_at: datetime, ends_at: datetime, now: datetime | None) -> None:
    if ends_at <= starts_at:
        raise FieldError("ends_at", N_("The end must be after the start."))
    if ends_at - starts_at > LONGEST_MEETUP:
        raise FieldError("ends_at", N_("A meetup lasts at most 14 days."))
    if now is not None and ends_at <= now:
        raise FieldError("ends_at", N_("This meetup would already be over."))


def _text(field: str, raw: str, length: int) -> str:
    text = " ".join((raw or "").split())
    if len(text) > length:
        raise FieldError(field, N_("At most %(count)s characters."), count=length)
    return text


def _coordinate(field: str, raw: str | float | None, limit: int) -> float | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    try:
        value = float(str(raw).strip().replace(",", "."))
    except ValueError as error:
        raise FieldError(field, N_("Coordinates are decimal degrees, like 40.4168.")) from error
    if not -limit <= value <= limit or value != value:
        raise FieldError(
            field, N_("This coordinate must be between -%(limit)s and %(limit)s."), limit=limit
        )
    return value


def _online_url(raw: str) -> str:
    url = (raw or "").strip()
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise FieldError("online_url", N_("The online link must start with https:// or http://."))
    if len(url) > ONLINE_URL_MAX_LENGTH:
        raise FieldError(
            "online_url", N_("At most %(count)s characters."), count=ONLINE_URL_MAX_LENGTH
        )
    return url


def _visibility(raw: str) -> str:
    if raw not in VISIBILITIES:
        raise FieldError("visibility", N_("Visibility is public, unlisted or contacts."))
    return raw


def _min_trust(raw: str) -> str:
    if raw not in CONTACTS_MIN_TRUST:
        raise FieldError(
            "contacts_min_trust", N_("Choose which contacts may see it: online, met or verified.")
        )
    return raw


_MARKDOWN = (
    MarkdownIt("commonmark", {"html": False, "linkify": False})
    .enable("table")
    .enable("strikethrough")
)
_ALLOWED_TAGS = {
    "a", "p", "br", "hr", "em", "strong", "del", "s", "code", "pre", "blockquote",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td", "img",
}  # fmt: skip


# --- Desvirtualización proposals: candidate times and votes ---------------------------

MAX_TIME_OPTIONS = 5
VOTE_ANSWERS = ("yes", "maybe", "no")


@dataclass(frozen=True)
class CandidateTime:
    """One time a host offers, in UTC."""

    starts_at: datetime
    ends_at: datetime


def check_time_options(
    raw: Sequence[tuple[str, str]], zone: str, *, now: datetime
) -> list[CandidateTime]:
    """1-5 distinct future candidate times from (starts_at, ends_at) strings read in `zone`,
    sorted by start; the first problem is raised as a FieldError on `time_options`."""
    if not 1 <= len(raw) <= MAX_TIME_OPTIONS:
        raise FieldError(
            "time_options",
            N_("Offer between 1 and %(count)s candidate times."),
            count=MAX_TIME_OPTIONS,
        )
    options = [
        CandidateTime(
            parse_when("time_options", starts, zone), parse_when("time_options", ends, zone)
        )
        for starts, ends in raw
    ]
    for option in options:
        if option.ends_at <= option.starts_at:
            raise FieldError("time_options", N_("Each candidate time must end after it starts."))
        if option.ends_at - option.starts_at > LONGEST_MEETUP:
            raise FieldError("time_options", N_("A candidate time lasts at most 14 days."))
        if option.starts_at <= now:
            raise FieldError("time_options", N_("Candidate times must be in the future."))
    if len(set(options)) < len(options):
        raise FieldError("time_options", N_("The same candidate time is offered twice."))
    return sorted(options, key=lambda option: (option.starts_at, option.ends_at))


def check_vote(answer: str) -> str:
    if answer not in VOTE_ANSWERS:
        raise FieldError("answer", N_("Vote yes, maybe or no."))
    return answer


def tally(answers: Iterable[tuple[int, str]]) -> dict[int, dict[str, int]]:
    """Votes per candidate time: {option_id: {"yes": n, "maybe": n, "no": n}}."""
    counts: dict[int, dict[str, int]] = {}
    for option_id, answer in answers:
        counts.setdefault(option_id, dict.fromkeys(VOTE_ANSWERS, 0))[answer] += 1
    return counts


def proposal_may_be_resent(declined_at: datetime | None, now: datetime, cooldown_days: int) -> bool:
    """After an invitee declines a proposal, the host waits `cooldown_days` to send another."""
    return declined_at is None or now - declined_at >= timedelta(days=cooldown_days)
