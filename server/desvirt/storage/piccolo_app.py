from piccolo.conf.apps import AppConfig

from desvirt.settings import PROJECT_ROOT
from desvirt.storage.tables import StoreEntry

APP_CONFIG = AppConfig(
    app_name="storage",
    migrations_folder_path=str(PROJECT_ROOT / "migrations" / "storage"),
    table_classes=[StoreEntry],
)
