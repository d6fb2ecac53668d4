"""One RSVP per person and meetup, one invitation per person, one vote per person and time.

Piccolo has no composite unique constraint, so these are raw SQL (valid on SQLite and
PostgreSQL alike).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.conf.apps import Finder

ID = "2026-11-23T01:55:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "composite unique indexes"

INDEXES = [
    'CREATE UNIQUE INDEX IF NOT EXISTS rsvp_meetup_user ON rsvp ("meetup", "user")',
    'CREATE UNIQUE INDEX IF NOT EXISTS invitation_meetup_user ON invitation ("meetup", "user")',
    'CREATE UNIQUE INDEX IF NOT EXISTS vote_option_user ON vote ("option", "user")',
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="meetups", description=DESCRIPTION)

    async def create_indexes() -> None:
        engine = Finder().get_app_config("meetups").table_classes[0]._meta.db
        for statement in INDEXES:
            await engine.run_ddl(statement)

    manager.add_raw(create_indexes)
    return manager
