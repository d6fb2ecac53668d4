"""Meetups and the answers to them: RSVPs, invitations, candidate times and votes."""

from piccolo.columns import (
    Boolean,
    DoublePrecision,
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from desvirt.accounts.tables import User


class Meetup(Table, tablename="meetup"):
    """A meetup page, or a desvirtualización proposal until the host fixes a time.

    `starts_at`/`ends_at` are UTC and null while a proposal has no fixed time; `timezone`
    is the IANA zone the host chose. `sequence` counts edits (iCalendar SEQUENCE), and
    `updated_at` is the last real change, which feeds use as LAST-MODIFIED.
    """

    id = Serial(primary_key=True)

    slug = Varchar(length=100, unique=True)
    host = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=10, default="meetup")  # meetup | proposal
    status = Varchar(length=10, default="scheduled")  # scheduled | proposed | cancelled
    title = Varchar(length=140)
    description = Text(default="")  # markdown source; rendered and sanitized on display
    starts_at = Timestamptz(null=True, default=None, index=True)
    ends_at = Timestamptz(null=True, default=None)
    timezone = Varchar(length=64, default="UTC")
    venue_name = Varchar(length=140, default="")
    venue_address = Varchar(length=300, default="")
    latitude = DoublePrecision(null=True, default=None)
    longitude = DoublePrecision(null=True, default=None)
    online_url = Varchar(length=500, default="")
    capacity = Integer(null=True, default=None)  # null: no limit
    visibility = Varchar(length=10, default="public", index=True)  # public|unlisted|contacts
    contacts_min_trust = Varchar(length=10, default="online")  # for visibility=contacts
    requires_approval = Boolean(default=False)
    seats_taken = Integer(default=0)  # going attendees plus their guests, kept in the seat tx
    sequence = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    cancelled_at = Timestamptz(null=True, default=None)


class Rsvp(Table, tablename="rsvp"):
    """One person's answer to one meetup (unique per meetup and user).

    `status` is going | waitlisted | maybe | declined | pending_approval;
    `waitlist_position` is 1-based and gap-free among the waitlisted, else null.
    """

    id = Serial(primary_key=True)

    meetup = ForeignKey(Meetup, on_delete=OnDelete.cascade, index=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    response = Varchar(length=5)  # yes | maybe | no
    status = Varchar(length=20, index=True)
    guests = Integer(default=0)
    waitlist_position = Integer(null=True, default=None)
    visible = Boolean(default=True)  # shown in attendee lists to other attendees
    checked_in_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Invitation(Table, tablename="invitation"):
    """A person the host invited (a proposal's invitees, or a private meetup's guests)."""

    id = Serial(primary_key=True)

    meetup = ForeignKey(Meetup, on_delete=OnDelete.cascade, index=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    status = Varchar(length=10, default="pending")  # pending | accepted | declined
    created_at = Timestamptz(default=TimestamptzNow())
    answered_at = Timestamptz(null=True, default=None)


class TimeOption(Table, tablename="time_option"):
    """One of the 1-5 candidate times of a proposal."""

    id = Serial(primary_key=True)

    meetup = ForeignKey(Meetup, on_delete=OnDelete.cascade, index=True)
    starts_at = Timestamptz()
    ends_at = Timestamptz()
    position = Integer(default=0)


class Vote(Table, tablename="vote"):
    """An invitee's answer to one candidate time (unique per option and user)."""

    id = Serial(primary_key=True)

    option = ForeignKey(TimeOption, on_delete=OnDelete.cascade, index=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    answer = Varchar(length=5)  # yes | maybe | no
    created_at = Timestamptz(default=TimestamptzNow())
