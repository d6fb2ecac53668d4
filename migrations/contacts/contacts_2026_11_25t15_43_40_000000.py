"""The address book holds each person once per owner: by email, by profile URL, or (with
neither) by case-folded name; and it lists an owner's entries by name.

Piccolo has no composite indexes, so these are raw SQL (valid on SQLite and PostgreSQL).
NULLs are distinct in unique indexes on both, so entries without an email do not collide.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.conf.apps import Finder

ID = "2026-11-25T15:43:40:000000"
VERSION = "1.38.0"
DESCRIPTION = "address book uniqueness"

INDEXES = [
    'CREATE UNIQUE INDEX IF NOT EXISTS address_book_owner_email'
    ' ON address_book_entry ("owner", "email")',
    'CREATE UNIQUE INDEX IF NOT EXISTS address_book_owner_profile_url'
    ' ON address_book_entry ("owner", "profile_url")',
    'CREATE UNIQUE INDEX IF NOT EXISTS address_book_owner_name_key'
    ' ON address_book_entry ("owner", "name_key")',
    'CREATE INDEX IF NOT EXISTS address_book_owner_name ON address_book_entry ("owner", "name")',
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="contacts", description=DESCRIPTION)

    async def create_indexes() -> None:
        engine = Finder().get_app_config("contacts").table_classes[0]._meta.db
        for statement in INDEXES:
            await engine.run_ddl(statement)

    manager.add_raw(create_indexes)
    return manager
