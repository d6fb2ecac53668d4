from piccolo.conf.apps import AppConfig

from desvirt.contacts.tables import (
    AddressBookEntry,
    Block,
    Contact,
    ContactEvent,
    ContactRequest,
)
from desvirt.settings import PROJECT_ROOT

APP_CONFIG = AppConfig(
    app_name="contacts",
    migrations_folder_path=str(PROJECT_ROOT / "migrations" / "contacts"),
    table_classes=[ContactRequest, ContactEvent, Contact, Block, AddressBookEntry],
    migration_dependencies=["desvirt.accounts.piccolo_app", "desvirt.meetups.piccolo_app"],
)
