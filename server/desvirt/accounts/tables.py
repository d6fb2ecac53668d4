"""Who uses Desvirt: people, their API tokens, and the attempts that rate limits count."""

from piccolo.columns import JSON, Boolean, ForeignKey, OnDelete, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class User(Table, tablename="desvirt_user"):
    """A person with an account; their charter and reminder preferences live here too."""

    id = Serial(primary_key=True)

    email = Varchar(length=254, unique=True)
    handle = Varchar(length=30, unique=True)
    display_name = Varchar(length=80)
    search_name = Varchar(length=200, default="")  # domain.search_name: found without accents
    password_hash = Varchar(length=200)
    locale = Varchar(length=5, default="en")
    timezone = Varchar(length=64, default="UTC")
    quiet_hours_start = Varchar(length=5, default="22:00")
    quiet_hours_end = Varchar(length=5, default="08:00")
    reminder_offsets_minutes = JSON(default=[1440, 120])
    accepted_reasons = JSON(default=[])
    auto_decline_phrases = JSON(default=[])
    require_message = Boolean(default=True)
    proposals_from = Varchar(length=10, default="online")
    feed_nonce = Varchar(length=64)
    feed_token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())


class ApiToken(Table, tablename="api_token"):
    """A personal token for `Authorization: Bearer`; only its SHA-256 is kept."""

    id = Serial(primary_key=True)

    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    name = Varchar(length=80)
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
    last_used_at = Timestamptz(null=True, default=None)


class Attempt(Table, tablename="attempt"):
    """A counted event for rate limits (a failed login, a signup), by subject and time."""

    id = Serial(primary_key=True)

    kind = Varchar(length=20)
    subject = Varchar(length=300, index=True)
    at = Timestamptz(default=TimestamptzNow(), index=True)
