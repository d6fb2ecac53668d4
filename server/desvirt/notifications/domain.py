"""What each mail says, in the reader's language, and when a failed send is tried again.

Pure: the service gathers the facts, these functions turn them into a subject, a body and
whether an iMIP calendar part goes with it. The rule that matters most lives here: a
waitlisted (or not yet approved) person is told exactly that, and gets no calendar
invitation that would read as a confirmed seat.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from desvirt.i18n import N_, format_when, gettext

BACKOFF_FIRST = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=1)
LEASE = timedelta(minutes=5)

# kind -> iMIP method of the calendar part (None: a plain mail, no invitation)
IMIP_METHODS: dict[str, str | None] = {
    "seat": "REQUEST",
    "maybe": "REQUEST",
    "waitlisted": None,
    "pending": None,
    "declined": "CANCEL",
    "updated": "REQUEST",
    "cancelled": "CANCEL",
    "invited": "REQUEST",
    "met_claimed": None,
    "reminder": None,
}
# The role of an attendee whose calendar holds the meetup; only they get iMIP updates.
ROLES_WITH_INVITATION = ("going", "maybe")

SUBJECTS = {
    "seat": N_("You have a seat: %(title)s"),
    "promoted": N_("A seat freed up: you are going to %(title)s"),
    "maybe": N_("You answered maybe: %(title)s"),
    "waitlisted": N_("You are on the waitlist (#%(position)s): %(title)s"),
    "pending": N_("Waiting for the host's approval: %(title)s"),
    "declined": N_("You are not going: %(title)s"),
    "updated": N_("Changed: %(title)s"),
    "cancelled": N_("Cancelled: %(title)s"),
    "invited": N_("%(host)s invites you: %(title)s"),
    "met_claimed": N_("%(name)s says you met in person"),
    "reminder": N_("Reminder: %(title)s, %(when)s"),
}
LEADS = {
    "seat": N_("Your seat is confirmed. See you there!"),
    "promoted": N_("Someone gave up their seat and it is yours now: you are going."),
    "maybe": N_("You answered maybe. Change your answer on the meetup page any time."),
    "waitlisted": N_(
        "The meetup is full, so you are number %(position)s on the waitlist. This is not "
        "a confirmed seat: we will write to you if one frees up."
    ),
    "pending": N_(
        "The host approves answers to this meetup. This is not a confirmed seat yet: we "
        "will write to you when the host decides."
    ),
    "declined": N_("You are no longer on the list for this meetup."),
    "updated": N_("The host changed this meetup. Here is how it looks now."),
    "updated_waitlisted": N_(
        "The host changed this meetup. You are still on the waitlist (#%(position)s), "
        "not confirmed."
    ),
    "cancelled": N_("The host cancelled this meetup. It is off."),
    "invited": N_("%(host)s invites you to this meetup. Answer on its page."),
    "met_claimed": N_(
        "%(name)s says you have met in person. If that is right, confirm it on their "
        "profile; if not, you can ignore this message. We will not ask again."
    ),
    "reminder": N_("A reminder of your meetup."),
}
WHEN_LINE = N_("When: %(when)s")
WHERE_LINE = N_("Where: %(where)s")
HOST_LINE = N_("Host: %(host)s")
LINK_LINE = N_("Meetup page: %(url)s")
PROFILE_LINE = N_("Their profile: %(url)s")
UNSUBSCRIBE_LINE = N_("No more emails about this meetup: %(url)s")


@dataclass(frozen=True)
class MeetupFacts:
    """What a mail about a meetup mentions."""

    title: str
    url: str
    starts_at: datetime | None
    ends_at: datetime | None
    timezone: str
    place: str
    host_name: str


@dataclass(frozen=True)
class Mail:
    """A rendered mail; `imip_method` says whether (and how) the calendar part goes along."""

    subject: str
    body: str
    imip_method: str | None


def compose(
    kind: str,
    locale: str,
    reader_timezone: str,
    facts: MeetupFacts | None,
    params: dict[str, Any],
    unsubscribe_url: str | None,
) -> Mail:
    """The mail for one outbox row, in the reader's language and time zone."""
    values: dict[str, Any] = {
        "title": facts.title if facts else "",
        "host": facts.host_name if facts else "",
        "position": params.get("position") or "?",
        "name": params.get("name", ""),
        "when": "",
    }
    if facts and facts.starts_at:
        values["when"] = format_when(facts.starts_at, reader_timezone, locale, "medium")
    subject_key = "promoted" if kind == "seat" and params.get("promoted") else kind
    lead_key = subject_key
    method = IMIP_METHODS.get(kind)
    if kind in ("updated", "cancelled") and params.get("role") not in ROLES_WITH_INVITATION:
        method = None  # they never had the meetup in their calendar as a seat
        if kind == "updated" and params.get("role") == "waitlisted":
            lead_key = "updated_waitlisted"
    if kind == "invited" and (facts is None or facts.starts_at is None):
        method = None
    if kind == "declined" and params.get("previous") not in ROLES_WITH_INVITATION:
        method = None
    subject = gettext(locale, SUBJECTS[subject_key], **values)
    lines = [gettext(locale, LEADS[lead_key], **values), ""]
    if facts is not None:
        lines.append(facts.title)
        if values["when"]:
            lines.append(gettext(locale, WHEN_LINE, when=values["when"]))
        if facts.place:
            lines.append(gettext(locale, WHERE_LINE, where=facts.place))
        lines.append(gettext(locale, HOST_LINE, host=facts.host_name))
        lines.append(gettext(locale, LINK_LINE, url=facts.url))
    if params.get("profile_url"):
        lines.append(gettext(locale, PROFILE_LINE, url=params["profile_url"]))
    if unsubscribe_url:
        lines += ["", "--", gettext(locale, UNSUBSCRIBE_LINE, url=unsubscribe_url)]
    return Mail(subject=_one_line(subject), body="\n".join(lines) + "\n", imip_method=method)


def kind_for_status(status: str | None) -> str | None:
    """The mail an RSVP's new status calls for (None: no mail)."""
    return {
        "going": "seat",
        "maybe": "maybe",
        "waitlisted": "waitlisted",
        "pending_approval": "pending",
        "declined": "declined",
    }.get(status or "")


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after a failed send: 1, 2, 4 ... minutes, at most an hour."""
    delay = BACKOFF_FIRST * (2 ** max(0, attempts - 1))
    return min(delay, BACKOFF_MAX)


def _one_line(text: str) -> str:
    return " ".join(text.split())[:250]
