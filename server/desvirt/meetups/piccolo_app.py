from piccolo.conf.apps import AppConfig

from desvirt.meetups.tables import Invitation, Meetup, Rsvp, TimeOption, Vote
from desvirt.settings import PROJECT_ROOT

APP_CONFIG = AppConfig(
    app_name="meetups",
    migrations_folder_path=str(PROJECT_ROOT / "migrations" / "meetups"),
    table_classes=[Meetup, Rsvp, Invitation, TimeOption, Vote],
    migration_dependencies=["desvirt.accounts.piccolo_app"],
)
