from piccolo.conf.apps import AppConfig

from desvirt.met.tables import Handshake
from desvirt.settings import PROJECT_ROOT

APP_CONFIG = AppConfig(
    app_name="met",
    migrations_folder_path=str(PROJECT_ROOT / "migrations" / "met"),
    table_classes=[Handshake],
    migration_dependencies=["desvirt.accounts.piccolo_app", "desvirt.contacts.piccolo_app"],
)
