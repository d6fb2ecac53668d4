"""The mail outbox and per-meetup unsubscriptions.

Mail is a row first: features enqueue inside their own write transaction (so a change and
its mail land together or not at all), and the worker renders and sends rows when they are
due. A row is claimed by one process at a time (`claimed_until` is a lease), retried with
backoff (`due_at` moves later, `attempts` grows) and marked `sent_at` once delivered.
"""

from piccolo.columns import JSON, ForeignKey, Integer, OnDelete, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from desvirt.accounts.tables import User
from desvirt.meetups.tables import Meetup


class OutboxMessage(Table, tablename="outbox_message"):
    """One mail to one person: what happened (`kind`, `params`), and its delivery state.

    `kind` is seat | waitlisted | pending | maybe | declined | updated | cancelled |
    invited | met_claimed | reminder. `dedupe_key`, when set, makes enqueueing idempotent
    (reminders, the single met prompt).
    """

    id = Serial(primary_key=True)

    kind = Varchar(length=20)
    recipient = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    meetup = ForeignKey(Meetup, on_delete=OnDelete.cascade, null=True, default=None, index=True)
    params = JSON(default={})
    dedupe_key = Varchar(length=200, null=True, default=None, unique=True)
    due_at = Timestamptz(default=TimestamptzNow(), index=True)
    claimed_until = Timestamptz(null=True, default=None)
    attempts = Integer(default=0)
    last_error = Text(default="")
    sent_at = Timestamptz(null=True, default=None, index=True)
    created_at = Timestamptz(default=TimestamptzNow())


class Unsubscription(Table, tablename="unsubscription"):
    """This person wants no more mail about this meetup (`key` is "user:meetup")."""

    id = Serial(primary_key=True)

    key = Varchar(length=40, unique=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    meetup = ForeignKey(Meetup, on_delete=OnDelete.cascade, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
