"""Say which pages a change concerns, so a write to one meetup keeps every other page.

The triggers of 2026-11-26T06:30 told every process to forget every page a signed-in
viewer had open on any write at all; at one RSVP a second anywhere, views found their page
kept only half as often. These row-level triggers NOTIFY `desvirt_pages` with what the row
concerns: `m:<meetup id>` (the meetup, its answers, invitations, time options and votes),
`u:<user id>` for a person's own settings and for each person in a relationship row
(contacts and their history, requests, blocks, handshakes, address books: what a viewer
sees of the people on a page), `s:<md5 of the store key>` (a session signed out, rotated or
given a notice), and `*` for a person's new name or handle (shown on every page they are
on), a person deleted, and TRUNCATE. PostgreSQL folds a
transaction's identical notifications into one. A new person or session, rate-limit
attempts, API tokens and the mail outbox concern no kept page and send none.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.conf.apps import Finder

ID = "2026-11-26T07:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "notify which meetup, person or session a change concerns"

CONCERNS = """
CREATE OR REPLACE FUNCTION desvirt_page_concerns(tablename text, changed jsonb)
RETURNS text[] LANGUAGE sql STABLE AS $$
SELECT CASE tablename
    WHEN 'meetup' THEN ARRAY['m:' || (changed->>'id')]
    WHEN 'rsvp' THEN ARRAY['m:' || (changed->>'meetup')]
    WHEN 'invitation' THEN ARRAY['m:' || (changed->>'meetup')]
    WHEN 'time_option' THEN ARRAY['m:' || (changed->>'meetup')]
    WHEN 'vote' THEN ARRAY[COALESCE(
        (SELECT 'm:' || meetup FROM time_option WHERE id = (changed->>'option')::integer), '*')]
    WHEN 'desvirt_user' THEN ARRAY['u:' || (changed->>'id')]
    WHEN 'contact' THEN ARRAY['u:' || (changed->>'owner'), 'u:' || (changed->>'other')]
    WHEN 'contact_event' THEN ARRAY['u:' || (changed->>'low'), 'u:' || (changed->>'high')]
    WHEN 'contact_request'
        THEN ARRAY['u:' || (changed->>'sender'), 'u:' || (changed->>'recipient')]
    WHEN 'contact_block'
        THEN ARRAY['u:' || (changed->>'blocker'), 'u:' || (changed->>'blocked')]
    WHEN 'address_book_entry' THEN ARRAY['u:' || (changed->>'owner')]
    WHEN 'handshake'
        THEN ARRAY['u:' || (changed->>'issuer'), 'u:' || (changed->>'redeemed_by')]
    WHEN 'store_entry' THEN ARRAY['s:' || md5(changed->>'key')]
    ELSE ARRAY['*']
END
$$
"""

CHANGED = """
CREATE OR REPLACE FUNCTION desvirt_page_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    concerns text[] := '{}';
    concern text;
BEGIN
    IF TG_LEVEL = 'STATEMENT' THEN
        PERFORM pg_notify('desvirt_pages', '*');
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        concerns := concerns || desvirt_page_concerns(TG_TABLE_NAME, to_jsonb(OLD));
    END IF;
    IF TG_OP <> 'DELETE' THEN
        concerns := concerns || desvirt_page_concerns(TG_TABLE_NAME, to_jsonb(NEW));
    END IF;
    IF TG_TABLE_NAME = 'desvirt_user' THEN
        -- a name or handle is shown on every page its person is on
        IF TG_OP = 'DELETE' OR OLD.display_name IS DISTINCT FROM NEW.display_name
                OR OLD.handle IS DISTINCT FROM NEW.handle THEN
            concerns := concerns || '*'::text;
        END IF;
    END IF;
    FOREACH concern IN ARRAY concerns LOOP
        IF concern IS NOT NULL THEN
            PERFORM pg_notify('desvirt_pages', concern);
        END IF;
    END LOOP;
    RETURN NULL;
END
$$
"""

ROW_TABLES = (
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


def statements() -> list[str]:
    found = [CONCERNS, CHANGED]
    for table in (*ROW_TABLES, "desvirt_user"):
        # On any insert, update or delete; a person's own row only when it changes or goes.
        events = "UPDATE OR DELETE" if table == "desvirt_user" else "INSERT OR UPDATE OR DELETE"
        found += [
            f"DROP TRIGGER IF EXISTS {table}_page_changed ON {table}",
            f"CREATE TRIGGER {table}_page_changed AFTER {events} ON {table}"
            " FOR EACH ROW EXECUTE FUNCTION desvirt_page_changed()",
            f"DROP TRIGGER IF EXISTS {table}_page_emptied ON {table}",
            f"CREATE TRIGGER {table}_page_emptied AFTER TRUNCATE ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION desvirt_page_changed()",
        ]
    # A new session has no kept page yet; one that changes or goes has its pages forgotten.
    found += ["DROP TRIGGER IF EXISTS store_entry_session_added ON store_entry"]
    return found


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="met", description=DESCRIPTION)

    async def replace_triggers() -> None:
        engine = Finder().get_app_config("met").table_classes[0]._meta.db
        if engine.engine_type != "postgres":
            return
        for statement in statements():
            await engine.run_ddl(statement)

    manager.add_raw(replace_triggers)
    return manager
