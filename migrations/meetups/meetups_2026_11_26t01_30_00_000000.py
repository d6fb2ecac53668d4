"""PostgreSQL tells every app process when a private feed may have changed.

Each process keeps the versions of the feeds it has answered (desvirt.calendar.versions),
so a calendar client's conditional GET costs no query; these triggers NOTIFY the channel
`desvirt_feeds` on commit of any write that can change a feed: `u:<user id>` when only
that user's feed is touched (their answers, their profile, a meetup they just created),
`*` when a meetup or a name that other people's feeds show changes. SQLite has no
NOTIFY; there nothing is kept and a conditional GET reads the version from the database.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.conf.apps import Finder

ID = "2026-11-26T01:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "notify app processes when a private feed may have changed"

STATEMENTS = [
    """
CREATE OR REPLACE FUNCTION desvirt_feed_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'rsvp' THEN
        IF TG_OP <> 'INSERT' THEN
            PERFORM pg_notify('desvirt_feeds', 'u:' || OLD."user");
        END IF;
        IF TG_OP <> 'DELETE' THEN
            PERFORM pg_notify('desvirt_feeds', 'u:' || NEW."user");
        END IF;
    ELSIF TG_TABLE_NAME = 'desvirt_user' THEN
        -- a host's name is in every feed that shows their meetups
        IF TG_OP = 'UPDATE' AND OLD.display_name IS DISTINCT FROM NEW.display_name THEN
            PERFORM pg_notify('desvirt_feeds', '*');
        ELSE
            PERFORM pg_notify('desvirt_feeds', 'u:' || OLD.id);
        END IF;
    ELSIF TG_OP = 'INSERT' THEN
        PERFORM pg_notify('desvirt_feeds', 'u:' || NEW.host);
    ELSE
        PERFORM pg_notify('desvirt_feeds', '*');
    END IF;
    RETURN NULL;
END
$$
""",
    "DROP TRIGGER IF EXISTS rsvp_feed_changed ON rsvp",
    """
CREATE TRIGGER rsvp_feed_changed AFTER INSERT OR UPDATE OR DELETE ON rsvp
FOR EACH ROW EXECUTE FUNCTION desvirt_feed_changed()
""",
    "DROP TRIGGER IF EXISTS desvirt_user_feed_changed ON desvirt_user",
    """
CREATE TRIGGER desvirt_user_feed_changed AFTER UPDATE OR DELETE ON desvirt_user
FOR EACH ROW EXECUTE FUNCTION desvirt_feed_changed()
""",
    "DROP TRIGGER IF EXISTS meetup_feed_changed ON meetup",
    # Not on seats_taken alone: taking a seat changes the rsvp row, which notifies.
    """
CREATE TRIGGER meetup_feed_changed AFTER INSERT OR DELETE OR UPDATE OF
    host, kind, status, slug, title, description, starts_at, ends_at, timezone, venue_name,
    venue_address, latitude, longitude, online_url, sequence, updated_at, cancelled_at
ON meetup FOR EACH ROW EXECUTE FUNCTION desvirt_feed_changed()
""",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="meetups", description=DESCRIPTION)

    async def create_triggers() -> None:
        engine = Finder().get_app_config("meetups").table_classes[0]._meta.db
        if engine.engine_type != "postgres":
            return
        for statement in STATEMENTS:
            await engine.run_ddl(statement)

    manager.add_raw(create_triggers)
    return manager
