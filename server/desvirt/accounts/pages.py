"""HTML pages for accounts: sign up, log in, log out, settings. They work without JavaScript."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.datastructures import Cookie
from litestar.response import Redirect, Template

from desvirt.accounts import service
from desvirt.accounts.api import client_ip, feed_urls
from desvirt.accounts.auth import (
    current_viewer,
    end_session,
    start_session,
)
from desvirt.accounts.domain import CONTACT_REASONS, PROPOSALS_FROM, FieldError, signup_problems
from desvirt.accounts.service import ProfileChanges
from desvirt.dependencies import SIGNED_IN, InstanceSettings, SignedInUser
from desvirt.errors import DesvirtError, refusal_field, refusal_text
from desvirt.i18n import gettext
from desvirt.rendering import LANGUAGE_COOKIE, page_context, render, request_locale
from desvirt.settings import SUPPORTED_LOCALES

COMMON_TIMEZONES = (
    "Europe/Madrid",
    "Europe/Berlin",
    "Europe/Vienna",
    "Europe/Zurich",
    "Europe/London",
    "Europe/Lisbon",
    "Atlantic/Canary",
    "America/Mexico_City",
    "America/Bogota",
    "America/Lima",
    "America/Santiago",
    "America/Argentina/Buenos_Aires",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Tokyo",
    "Australia/Sydney",
    "UTC",
)


@get("/signup")
async def signup_form(request: Request[Any, Any, Any]) -> Template | Redirect:
    if await current_viewer(request):
        return Redirect("/")
    return await render(
        request, "accounts/signup.html", values={}, errors={}, timezones=COMMON_TIMEZONES
    )


@post("/signup")
async def signup_submit(
    request: Request[Any, Any, Any], settings: InstanceSettings
) -> Template | Redirect:
    form = await request.form()
    values = {
        name: str(form.get(name, "")) for name in ("email", "handle", "display_name", "timezone")
    }
    password = str(form.get("password", ""))
    locale = request_locale(request)
    problems = signup_problems(
        email=values["email"],
        password=password,
        handle=values["handle"],
        display_name=values["display_name"],
        locale=locale,
        timezone=values["timezone"] or "UTC",
    )
    errors = {p.field: gettext(locale, p.message, **p.params) for p in problems}
    status_code = 422
    if not errors:
        try:
            user = await service.sign_up(
                settings,
                email=values["email"],
                password=password,
                handle=values["handle"],
                display_name=values["display_name"],
                locale=locale,
                timezone=values["timezone"] or "UTC",
                client_ip=client_ip(request),
            )
        except (FieldError, DesvirtError) as error:
            errors = {refusal_field(error): refusal_text(locale, error)}
            status_code = getattr(error, "status_code", 422)
        else:
            start_session(request, user)
            return Redirect("/?welcome=1", status_code=303)
    return await render(
        request,
        "accounts/signup.html",
        status_code=status_code,
        values=values,
        errors=errors,
        timezones=COMMON_TIMEZONES,
    )


@get("/login")
async def login_form(request: Request[Any, Any, Any], next: str = "/") -> Template | Redirect:
    if await current_viewer(request):
        return Redirect(_safe_next(next))
    return await render(request, "accounts/login.html", values={}, errors={}, next=_safe_next(next))


@post("/login")
async def login_submit(
    request: Request[Any, Any, Any], settings: InstanceSettings
) -> Template | Redirect:
    form = await request.form()
    email = str(form.get("email", ""))
    target = _safe_next(str(form.get("next", "/")))
    try:
        user = await service.log_in(
            settings,
            email=email,
            password=str(form.get("password", "")),
            client_ip=client_ip(request),
        )
    except DesvirtError as error:
        locale = request_locale(request)
        page = await render(
            request,
            "accounts/login.html",
            status_code=error.status_code,
            values={"email": email},
            errors={"form": refusal_text(locale, error)},
            next=target,
        )
        page.headers.update(error.headers)
        return page
    start_session(request, user)
    return Redirect(target, status_code=303)


@get("/logout")
async def logout_form(request: Request[Any, Any, Any]) -> Template | Redirect:
    if not await current_viewer(request):
        return Redirect("/")
    return await render(request, "accounts/logout.html")


@post("/logout")
async def logout_submit(request: Request[Any, Any, Any]) -> Redirect:
    end_session(request)
    return Redirect("/", status_code=303)


@get("/settings", dependencies=SIGNED_IN)
async def settings_page(
    request: Request[Any, Any, Any], viewer: SignedInUser, settings: InstanceSettings
) -> Template:
    return await _settings_page(request, viewer, settings)


@post("/settings/profile", dependencies=SIGNED_IN)
async def settings_profile(
    request: Request[Any, Any, Any], viewer: SignedInUser, settings: InstanceSettings
) -> Template | Redirect:
    form = await request.form()
    try:
        offsets = [int(v) for v in form.getall("reminder_offsets_minutes", []) if str(v).strip()]
    except ValueError:
        offsets = [-1]
    changes = ProfileChanges(
        display_name=str(form.get("display_name", "")),
        locale=str(form.get("locale", viewer.locale)),
        timezone=str(form.get("timezone", "")),
        quiet_hours_start=str(form.get("quiet_hours_start", "")),
        quiet_hours_end=str(form.get("quiet_hours_end", "")),
        reminder_offsets_minutes=offsets,
    )
    return await _save_settings(request, viewer, settings, changes, dict(form.items()))


@post("/settings/charter", dependencies=SIGNED_IN)
async def settings_charter(
    request: Request[Any, Any, Any], viewer: SignedInUser, settings: InstanceSettings
) -> Template | Redirect:
    form = await request.form()
    phrases = str(form.get("auto_decline_phrases", "")).splitlines()
    changes = ProfileChanges(
        accepted_reasons=[str(v) for v in form.getall("accepted_reasons", [])],
        auto_decline_phrases=phrases,
        require_message=form.get("require_message") == "on",
        proposals_from=str(form.get("proposals_from", "")),
    )
    # On an error the charter form shows what was sent, not what is stored.
    kept = {
        "accepted_reasons": changes.accepted_reasons,
        "auto_decline_phrases": "\n".join(phrases),
        "require_message": changes.require_message,
        "proposals_from": changes.proposals_from,
    }
    return await _save_settings(request, viewer, settings, changes, kept)


@post("/settings/tokens", dependencies=SIGNED_IN)
async def settings_create_token(
    request: Request[Any, Any, Any], viewer: SignedInUser, settings: InstanceSettings
) -> Template:
    form = await request.form()
    try:
        _, plain = await service.create_api_token(viewer, str(form.get("name", "")))
    except (FieldError, DesvirtError) as error:
        locale = request_locale(request)
        return await _settings_page(
            request, viewer, settings, status_code=422, errors={"name": refusal_text(locale, error)}
        )
    return await _settings_page(request, viewer, settings, new_token=plain)


@post("/settings/tokens/{token_id:int}/revoke", dependencies=SIGNED_IN)
async def settings_revoke_token(token_id: int, viewer: SignedInUser) -> Redirect:
    await service.revoke_api_token(viewer, token_id)
    return Redirect("/settings?saved=token#tokens", status_code=303)


@post("/settings/feed-token", dependencies=SIGNED_IN)
async def settings_rotate_feed(viewer: SignedInUser, settings: InstanceSettings) -> Redirect:
    await service.rotate_feed_token(settings, viewer)
    return Redirect("/settings?saved=feed#calendar", status_code=303)


@post("/language")
async def choose_language(request: Request[Any, Any, Any]) -> Response[Any]:
    """Switch the interface language; saved in the profile when signed in."""
    form = await request.form()
    locale = str(form.get("locale", ""))
    target = _safe_next(str(form.get("next", "/")))
    if locale not in SUPPORTED_LOCALES:
        return Redirect(target, status_code=303)
    viewer = await current_viewer(request)
    if viewer is not None:
        await service.update_profile(viewer, ProfileChanges(locale=locale))
    response = Redirect(target, status_code=303)
    response.cookies.append(
        Cookie(key=LANGUAGE_COOKIE, value=locale, max_age=365 * 24 * 3600, samesite="lax")
    )
    return response


async def _save_settings(
    request: Request[Any, Any, Any],
    viewer: SignedInUser,
    settings: InstanceSettings,
    changes: ProfileChanges,
    values: dict[str, Any],
) -> Template | Redirect:
    try:
        await service.update_profile(viewer, changes)
    except FieldError as error:
        # The profile row is untouched; reload it so the page shows what is really stored.
        fresh = await service.user_by_id(viewer.id) or viewer
        locale = request_locale(request)
        return await _settings_page(
            request,
            fresh,
            settings,
            status_code=422,
            errors={error.field: refusal_text(locale, error)},
            values=values,
        )
    return Redirect("/settings?saved=1", status_code=303)


async def _settings_page(
    request: Request[Any, Any, Any],
    viewer: SignedInUser,
    settings: InstanceSettings,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    new_token: str | None = None,
) -> Template:
    token = await service.feed_token(settings, viewer)
    return await render(
        request,
        "accounts/settings.html",
        status_code=status_code,
        errors=errors or {},
        values=values or {},
        new_token=new_token,
        tokens=await service.list_api_tokens(viewer),
        feed=feed_urls(settings, token),
        charter=service.charter_of(viewer),
        reminder_offsets=service.reminder_offsets_of(viewer),
        reasons=CONTACT_REASONS,
        proposal_levels=PROPOSALS_FROM,
        timezones=sorted({*COMMON_TIMEZONES, viewer.timezone}),
        saved=request.query_params.get("saved"),
    )


def _safe_next(target: str) -> str:
    """Only same-site paths, so a login link cannot send people elsewhere."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


router = Router(
    path="/",
    route_handlers=[
        signup_form,
        signup_submit,
        login_form,
        login_submit,
        logout_form,
        logout_submit,
        settings_page,
        settings_profile,
        settings_charter,
        settings_create_token,
        settings_revoke_token,
        settings_rotate_feed,
        choose_language,
    ],
    include_in_schema=False,
)

__all__ = ["page_context", "router"]
