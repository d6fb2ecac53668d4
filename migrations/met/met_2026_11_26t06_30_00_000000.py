"""PostgreSQL tells every app process when a page kept for a signed-in viewer may be stale.

Each process keeps the meetup pages it rendered for signed-in viewers
(desvirt.signed_in_lane); these triggers NOTIFY the channel `desvirt_pages` on commit of
any write to what such a page shows: meetups and their answers, invitations and votes,
people, contacts, blocks, handshakes, and sessions (sign-out, notices). Statement-level,
so a write of many rows sends one notification, and PostgreSQL folds a transaction's
identical notifications into one. Rate-limit attempts, API tokens and the mail outbox
change no page and send none. SQLite has no NOTIFY; there no page is kept.

In the `met` app because it is migrated after every app whose tables it watches.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.conf.apps import Finder

ID = "2026-11-26T06:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "notify app processes when a signed-in viewer's kept page may be stale"

WATCHED_TABLES = (
    "desvirt_user",
    "meetup",
    "rsvp",
    "invitation",
    "time_option",
    "vote",
    "contact_request",
    "contact_event",
    "contact",
    "contact_block",
    "address_book_entry",
    "handshake",
)

FUNCTION = """
CREATE OR REPLACE FUNCTION desvirt_page_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('desvirt_pages', '*');
    RETURN NULL;
END
$$
"""


def statements() -> list[str]:
    found = [FUNCTION]
    for table in WATCHED_TABLES:
        found += [
            f"DROP TRIGGER IF EXISTS {table}_page_changed ON {table}",
            f"CREATE TRIGGER {table}_page_changed"
            f" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION desvirt_page_changed()",
        ]
    # Only sessions among the store's rows: a session signed out, rotated or given a notice.
    found += [
        "DROP TRIGGER IF EXISTS store_entry_session_added ON store_entry",
        "CREATE TRIGGER store_entry_session_added AFTER INSERT ON store_entry"
        " FOR EACH ROW WHEN (NEW.key LIKE 'sessions:%')"
        " EXECUTE FUNCTION desvirt_page_changed()",
        "DROP TRIGGER IF EXISTS store_entry_session_changed ON store_entry",
        "CREATE TRIGGER store_entry_session_changed AFTER UPDATE OR DELETE ON store_entry"
        " FOR EACH ROW WHEN (OLD.key LIKE 'sessions:%')"
        " EXECUTE FUNCTION desvirt_page_changed()",
        "DROP TRIGGER IF EXISTS store_entry_emptied ON store_entry",
        "CREATE TRIGGER store_entry_emptied AFTER TRUNCATE ON store_entry"
        " FOR EACH STATEMENT EXECUTE FUNCTION desvirt_page_changed()",
    ]
    return found


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="met", description=DESCRIPTION)

    async def create_triggers() -> None:
        engine = Finder().get_app_config("met").table_classes[0]._meta.db
        if engine.engine_type != "postgres":
            return
        for statement in statements():
            await engine.run_ddl(statement)

    manager.add_raw(create_triggers)
    return manager
