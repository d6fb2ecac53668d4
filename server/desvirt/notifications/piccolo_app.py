from piccolo.conf.apps import AppConfig

from desvirt.notifications.tables import OutboxMessage, Unsubscription
from desvirt.settings import PROJECT_ROOT

APP_CONFIG = AppConfig(
    app_name="notifications",
    migrations_folder_path=str(PROJECT_ROOT / "migrations" / "notifications"),
    table_classes=[OutboxMessage, Unsubscription],
    migration_dependencies=["desvirt.accounts.piccolo_app", "desvirt.meetups.piccolo_app"],
)
