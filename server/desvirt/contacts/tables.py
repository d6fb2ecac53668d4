"""Contacts: requests, the append-only history of each pair, and what it projects to.

`ContactEvent` is the truth: one row per thing that happened between two people, never
updated or deleted. `Contact` is a projection of that log, one row per owner and other
person, recomputed by `domain.derive_trust` whenever the pair gets a new event, so lists
can filter and paginate by trust without replaying every history.
"""

from piccolo.columns import Date, ForeignKey, Integer, OnDelete, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from desvirt.accounts.tables import User
from desvirt.meetups.tables import Meetup


class ContactRequest(Table, tablename="contact_request"):
    """A request to connect, with a charter reason; `status` is pending | accepted |
    declined | auto_declined | withdrawn, and `declined_rule` names the charter rule that
    declined it automatically."""

    id = Serial(primary_key=True)

    sender = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    recipient = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    reason = Varchar(length=30)
    message = Text(default="")
    meetup = ForeignKey(Meetup, on_delete=OnDelete.set_null, null=True, default=None)
    status = Varchar(length=15, default="pending", index=True)
    declined_rule = Varchar(length=40, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    answered_at = Timestamptz(null=True, default=None)


class ContactEvent(Table, tablename="contact_event"):
    """One thing that happened between two people; `low` < `high` are the pair's user ids.

    `kind` is one of domain.EVENT_KINDS; `actor` is who did it. Met claims may name the
    meetup and the day; `request` links request/accept/decline events to their request.
    """

    id = Serial(primary_key=True)

    low = ForeignKey(User, on_delete=OnDelete.cascade)
    high = ForeignKey(User, on_delete=OnDelete.cascade)
    actor = ForeignKey(User, on_delete=OnDelete.cascade)
    kind = Varchar(length=30)
    reason = Varchar(length=30, null=True, default=None)
    message = Text(default="")
    meetup = ForeignKey(Meetup, on_delete=OnDelete.set_null, null=True, default=None)
    met_on = Date(null=True, default=None)
    request = ForeignKey(ContactRequest, on_delete=OnDelete.set_null, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Contact(Table, tablename="contact"):
    """The owner's view of one other person, projected from the pair's events.

    A row exists while the two are connected (trust `online` or above); `reason` is the
    reason of the accepted request, `since` when it was accepted, `meetings` how many
    meetups both attended.
    """

    id = Serial(primary_key=True)

    owner = ForeignKey(User, on_delete=OnDelete.cascade)
    other = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    trust = Varchar(length=10, default="online", index=True)
    reason = Varchar(length=30, default="")
    since = Timestamptz(default=TimestamptzNow())
    meetings = Integer(default=0)
    updated_at = Timestamptz(default=TimestamptzNow())


class Block(Table, tablename="contact_block"):
    """`blocker` blocked `blocked`: to each other they look like nobody until unblocked."""

    id = Serial(primary_key=True)

    blocker = ForeignKey(User, on_delete=OnDelete.cascade)
    blocked = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    created_at = Timestamptz(default=TimestamptzNow())


class AddressBookEntry(Table, tablename="address_book_entry"):
    """Someone the owner imported (LinkedIn, vCard) to invite later; not a contact.

    One entry per owner and email, per owner and profile URL, and, for entries with
    neither, per owner and `name_key` (the case-folded name); unique indexes enforce it.
    """

    id = Serial(primary_key=True)

    owner = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    name = Varchar(length=200)
    name_key = Varchar(length=200, null=True, default=None)
    email = Varchar(length=254, null=True, default=None, index=True)
    company = Varchar(length=200, default="")
    position = Varchar(length=200, default="")
    profile_url = Varchar(length=500, null=True, default=None)
    source = Varchar(length=10)
    connected_on = Date(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
