from piccolo.conf.apps import AppConfig

from desvirt.accounts.tables import ApiToken, Attempt, User
from desvirt.settings import PROJECT_ROOT

APP_CONFIG = AppConfig(
    app_name="accounts",
    migrations_folder_path=str(PROJECT_ROOT / "migrations" / "accounts"),
    table_classes=[User, ApiToken, Attempt],
    migration_dependencies=["desvirt.storage.piccolo_app"],
)
