"""The front page's "upcoming public meetups" query reads one index range.

`WHERE visibility = 'public' AND status = 'scheduled' AND starts_at >= now ORDER BY
starts_at LIMIT n` is served by a composite index; raw SQL valid on SQLite and PostgreSQL.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.conf.apps import Finder

ID = "2026-11-25T15:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "index for upcoming public meetups"

INDEXES = [
    'CREATE INDEX IF NOT EXISTS meetup_upcoming ON meetup ("visibility", "status", "starts_at")',
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="meetups", description=DESCRIPTION)

    async def create_indexes() -> None:
        engine = Finder().get_app_config("meetups").table_classes[0]._meta.db
        for statement in INDEXES:
            await engine.run_ddl(statement)

    manager.add_raw(create_indexes)
    return manager
