"""Composite indexes the contact queries need: one projection row per owner and other,
one block per pair and direction, a pair's events in order, a sender's recent requests.

Piccolo has no composite indexes, so these are raw SQL (valid on SQLite and PostgreSQL).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.conf.apps import Finder

ID = "2026-11-25T15:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "composite indexes for contacts"

INDEXES = [
    'CREATE UNIQUE INDEX IF NOT EXISTS contact_owner_other ON contact ("owner", "other")',
    'CREATE INDEX IF NOT EXISTS contact_owner_trust ON contact ("owner", "trust")',
    'CREATE UNIQUE INDEX IF NOT EXISTS contact_block_pair ON contact_block ("blocker", "blocked")',
    'CREATE INDEX IF NOT EXISTS contact_event_pair ON contact_event ("low", "high", "id")',
    'CREATE INDEX IF NOT EXISTS contact_request_sender_created'
    ' ON contact_request ("sender", "created_at")',
    'CREATE INDEX IF NOT EXISTS contact_request_pair ON contact_request ("sender", "recipient")',
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="contacts", description=DESCRIPTION)

    async def create_indexes() -> None:
        engine = Finder().get_app_config("contacts").table_classes[0]._meta.db
        for statement in INDEXES:
            await engine.run_ddl(statement)

    manager.add_raw(create_indexes)
    return manager
