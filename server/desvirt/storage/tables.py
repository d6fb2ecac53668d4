"""Key-value rows behind Litestar's stores (sessions), shared by every app process."""

from piccolo.columns import Bytea, Serial, Timestamptz, Varchar
from piccolo.table import Table


class StoreEntry(Table, tablename="store_entry"):
    """One value of a store; `key` carries the namespace, `expires_at` null never expires."""

    id = Serial(primary_key=True)

    key = Varchar(length=300, unique=True)
    value = Bytea()
    expires_at = Timestamptz(null=True, default=None, index=True)
