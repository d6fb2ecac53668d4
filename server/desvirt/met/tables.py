"""Face-to-face handshake codes: short-lived, single use, bound to the person who shows them.

Only a keyed hash of each code is stored, so a copy of the database cannot be used to
redeem someone's live code.
"""

from piccolo.columns import ForeignKey, OnDelete, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from desvirt.accounts.tables import User


class Handshake(Table, tablename="handshake"):
    """A code `issuer` shows; whoever redeems it before `expires_at` is verified with them."""

    id = Serial(primary_key=True)

    issuer = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    code_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz(index=True)
    redeemed_by = ForeignKey(User, on_delete=OnDelete.cascade, null=True, default=None)
    redeemed_at = Timestamptz(null=True, default=None)
