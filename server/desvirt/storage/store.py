"""A Litestar store kept in the database, so sessions survive restarts and span processes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from litestar.stores.base import NamespacedStore

from desvirt import database
from desvirt.storage.tables import StoreEntry


class DatabaseStore(NamespacedStore):
    """Litestar's store interface over the `store_entry` table."""

    __slots__ = ()

    def __init__(self, namespace: str = "desvirt") -> None:
        self.namespace = namespace

    def with_namespace(self, namespace: str) -> DatabaseStore:
        return DatabaseStore(f"{self.namespace}:{namespace}")

    async def set(
        self, key: str, value: str | bytes, expires_in: int | timedelta | None = None
    ) -> None:
        data = value.encode() if isinstance(value, str) else value
        expires_at = _expiry(expires_in)
        full_key = self._key(key)
        async with StoreEntry._meta.db.transaction():
            await StoreEntry.delete().where(StoreEntry.key == full_key)
            await StoreEntry.insert(StoreEntry(key=full_key, value=data, expires_at=expires_at))

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        full_key = self._key(key)
        # By hand: every signed-in request reads its session here.
        rows = await database.fetch(
            "SELECT value, expires_at FROM store_entry WHERE key = {}", full_key
        )
        if not rows:
            return None
        row = rows[0]
        if row["expires_at"] is not None and row["expires_at"] <= datetime.now(UTC):
            await StoreEntry.delete().where(StoreEntry.key == full_key)
            return None
        if renew_for is not None and row["expires_at"] is not None:
            await StoreEntry.update({StoreEntry.expires_at: _expiry(renew_for)}).where(
                StoreEntry.key == full_key
            )
        return bytes(row["value"])

    async def delete(self, key: str) -> None:
        await StoreEntry.delete().where(StoreEntry.key == self._key(key))

    async def delete_all(self) -> None:
        await StoreEntry.delete().where(StoreEntry.key.like(f"{self.namespace}:%"))

    async def delete_expired(self) -> None:
        await StoreEntry.delete().where(StoreEntry.expires_at < datetime.now(UTC))

    async def exists(self, key: str) -> bool:
        return await self.get(key) is not None

    async def expires_in(self, key: str) -> int | None:
        row = (
            await StoreEntry.select(StoreEntry.expires_at)
            .where(StoreEntry.key == self._key(key))
            .first()
        )
        if row is None or row["expires_at"] is None:
            return None
        return max(0, int((row["expires_at"] - datetime.now(UTC)).total_seconds()))

    def _key(self, key: str) -> str:
        return f"{self.namespace}:{key}"


def _expiry(expires_in: int | timedelta | None) -> datetime | None:
    if expires_in is None:
        return None
    seconds = expires_in.total_seconds() if isinstance(expires_in, timedelta) else expires_in
    return datetime.now(UTC) + timedelta(seconds=seconds)
