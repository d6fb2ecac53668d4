"""Fill `search_name` (added by the previous migration) for everyone already signed up."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.conf.apps import Finder
from piccolo.querystring import QueryString

ID = "2026-11-26T02:40:10:000000"
VERSION = "1.38.0"
DESCRIPTION = "fill accent-blind search names"
BATCH = 1000


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="accounts", description=DESCRIPTION)

    async def fill_search_names() -> None:
        from desvirt.accounts.domain import search_name

        engine = Finder().get_app_config("accounts").table_classes[0]._meta.db
        last_id = 0
        while True:
            rows = await engine.run_querystring(
                QueryString(
                    "SELECT id, display_name, handle FROM desvirt_user WHERE id > {} "
                    f"ORDER BY id LIMIT {BATCH}",
                    last_id,
                )
            )
            if not rows:
                return
            for row in rows:
                await engine.run_querystring(
                    QueryString(
                        "UPDATE desvirt_user SET search_name = {} WHERE id = {}",
                        search_name(row["display_name"], row["handle"]),
                        row["id"],
                    )
                )
            last_id = rows[-1]["id"]

    manager.add_raw(fill_search_names)
    return manager
