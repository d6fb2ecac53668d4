"""Piccolo's configuration: the engine from DESVIRT_DATABASE_URL and every feature's app."""

from piccolo.conf.apps import AppRegistry

from desvirt.database import engine_from_url
from desvirt.settings import Settings

DB = engine_from_url(Settings.from_env().database_url)

APP_REGISTRY = AppRegistry(
    apps=[
        "desvirt.storage.piccolo_app",
        "desvirt.accounts.piccolo_app",
        "desvirt.meetups.piccolo_app",
        "desvirt.contacts.piccolo_app",
        "desvirt.met.piccolo_app",
        "desvirt.notifications.piccolo_app",
    ]
)
