"""The Litestar application: plugins, middleware, routers, all wired from one Settings."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Litestar, MediaType, Request, Response, get
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig
from piccolo.engine.base import Engine

from desvirt import __version__, changes, database, signed_in_lane
from desvirt.accounts import api as accounts_api
from desvirt.accounts import pages as accounts_pages
from desvirt.accounts.auth import current_viewer
from desvirt.calendar import api as calendar_api
from desvirt.calendar import versions as feed_versions
from desvirt.contacts import address_book_api, address_book_pages
from desvirt.contacts import api as contacts_api
from desvirt.contacts import pages as contacts_pages
from desvirt.csrf import CsrfCookie, CsrfMiddleware, refuse_cross_site_api_writes
from desvirt.errors import EXCEPTION_HANDLERS, refuse_nul_characters
from desvirt.meetups import agenda as meetups_agenda
from desvirt.meetups import api as meetups_api
from desvirt.meetups import pages as meetups_pages
from desvirt.meetups import proposal_pages
from desvirt.meetups import service as meetups_service
from desvirt.met import api as met_api
from desvirt.met import pages as met_pages
from desvirt.notifications import pages as notifications_pages
from desvirt.notifications import worker as mail_worker
from desvirt.operations import api as operations_api
from desvirt.operations.requests import RequestObserver
from desvirt.public_lane import HOME_PAGE, PublicPageLane
from desvirt.rendering import PUBLIC_PAGES, PublicPages, render, render_public
from desvirt.settings import PROJECT_ROOT, Settings
from desvirt.signed_in_lane import (
    SESSION_STORE,
    SIGNED_IN_PAGES,
    SignedInPageLane,
    SignedInPages,
)
from desvirt.storage.sessions import DatabaseSessionConfig
from desvirt.storage.store import DatabaseStore

log = logging.getLogger("desvirt")

TEMPLATES_DIR = PROJECT_ROOT / "frontend" / "templates"
STATIC_DIR = PROJECT_ROOT / "frontend" / "static"
SESSION_DAYS = 30


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> Litestar:
    """Build the app; with `engine` given, the caller owns its connections (tests do)."""
    settings = settings or Settings.from_env()
    owns_engine = engine is None
    engine = engine or database.engine_from_url(settings.database_url)
    database.use_engine(engine)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        if owns_engine:
            await database.connect(engine, settings.database_pool_max)
        try:
            if owns_engine:  # tests hand in an engine and drive these themselves
                async with (
                    mail_worker.running(settings),
                    changes.listening(settings.feed_listener_dsn, change_receivers(app)),
                ):
                    yield
            else:
                yield
        finally:
            if owns_engine:
                await database.disconnect(engine)

    sessions = DatabaseSessionConfig(
        key="desvirt_session",
        store=SESSION_STORE,
        max_age=SESSION_DAYS * 24 * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.is_https,
        exclude=["/static/", "/healthz", "/metrics", "/schema", "/cal/"],
    )
    csrf = CSRFConfig(
        secret=settings.secret_key,
        cookie_name="desvirt_csrf",
        cookie_secure=settings.is_https,
        cookie_samesite="lax",
        cookie_httponly=True,
        header_name="x-csrf-token",
        # The JSON API is protected by SameSite session cookies and bearer tokens instead.
        exclude=["/api/", "/cal/", "/unsubscribe/", "/healthz", "/metrics"],
    )
    app = Litestar(
        route_handlers=[
            home,
            healthz,
            operations_api.read_metrics,
            accounts_api.router,
            accounts_pages.router,
            meetups_api.router,
            meetups_pages.router,
            proposal_pages.router,
            contacts_api.router,
            contacts_pages.router,
            address_book_api.router,
            address_book_pages.router,
            met_api.router,
            met_pages.router,
            calendar_api.router,
            notifications_pages.router,
            create_static_files_router(path="/static", directories=[STATIC_DIR]),
        ],
        dependencies={"settings": Provide(lambda: settings, use_cache=True, sync_to_thread=False)},
        # Litestar's own CSRF protection, configured as `csrf_config` would, in a subclass
        # that writes the token cookie faster (desvirt.csrf).
        middleware=[sessions.middleware, DefineMiddleware(CsrfMiddleware, config=csrf)],
        stores={SESSION_STORE: DatabaseStore(SESSION_STORE)},
        template_config=TemplateConfig(
            engine=JinjaTemplateEngine.from_environment(jinja_environment())
        ),
        openapi_config=OpenAPIConfig(
            title="Desvirt",
            version=__version__,
            path="/schema",
            render_plugins=[SwaggerRenderPlugin()],
        ),
        exception_handlers=EXCEPTION_HANDLERS,
        before_request=check_request,
        request_max_body_size=settings.max_body_bytes,
        lifespan=[lifespan],
        state=State({"settings": settings, **process_memory(settings)}),
        debug=False,
        # Logging is configured once per process (desvirt.operations.logs), not per app.
        logging_config=None,
    )
    # In front of Litestar's router: kept public pages for visitors without a session.
    pages = PublicPageLane(app.asgi_handler, CsrfCookie(csrf), sessions.key)
    # Signed-in viewers reopening a meetup page that has not changed since it was rendered.
    signed_in = SignedInPageLane(pages, CsrfCookie(csrf), sessions.key, settings.is_https)
    # And calendar polls whose feed has not changed since this process last read it.
    feeds = feed_versions.FeedVersionLane(signed_in)
    # Outside Litestar's router, so 404s and failed requests get an id and are counted too.
    app.asgi_handler = RequestObserver(feeds, settings)
    return app


async def check_request(request: Request[Any, Any, Any]) -> None:
    """Before every handler: refusals that hold for every route."""
    refuse_cross_site_api_writes(request)
    await refuse_nul_characters(request)


def process_memory(settings: Settings) -> dict[str, Any]:
    """What an app keeps in its process's memory, in `app.state`, fresh: kept public pages,
    signed-in pages and feed versions. Everything else that matters is in the database."""
    return {
        PUBLIC_PAGES: PublicPages(settings.public_page_seconds),
        SIGNED_IN_PAGES: SignedInPages(settings.signed_in_page_seconds),
        feed_versions.FEED_VERSIONS: feed_versions.FeedVersions(),
    }


def change_receivers(app: Litestar) -> dict[str, changes.ChangeReceiver]:
    """What this app keeps until PostgreSQL notifies a change, by the channel it listens on."""
    return {
        feed_versions.CHANNEL: app.state[feed_versions.FEED_VERSIONS],
        signed_in_lane.CHANNEL: app.state[SIGNED_IN_PAGES],
    }


def jinja_environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment


@get("/", include_in_schema=False)
async def home(request: Request[Any, Any, Any]) -> Template | Response[bytes]:
    """The front page: what Desvirt is, the way in, and the upcoming public meetups."""
    viewer = await current_viewer(request)
    welcome = request.query_params.get("welcome")
    if viewer is None and welcome is None:

        async def build() -> tuple[str, dict[str, Any]]:
            upcoming = await meetups_service.upcoming_public()
            return "home.html", {"welcome": None, "upcoming": upcoming, "agenda": None}

        return await render_public(request, HOME_PAGE, build)
    return await render(
        request,
        "home.html",
        welcome=welcome,
        upcoming=await meetups_service.upcoming_public(),
        agenda=await meetups_agenda.agenda(viewer) if viewer else None,
    )


@get("/healthz", tags=["operations"])
async def healthz() -> Response[dict[str, str]]:
    """200 when the database answers, 503 when it does not."""
    if await database.database_answers():
        return Response({"status": "ok"}, media_type=MediaType.JSON)
    return Response({"status": "unavailable"}, status_code=503, media_type=MediaType.JSON)
