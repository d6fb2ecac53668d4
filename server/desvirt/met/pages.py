"""Pages for meeting in person: "who did you meet?" after a meetup, handshake codes face to
face, and the button that confirms someone's met claim. All work without JavaScript."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import segno
from litestar import Request, Router, get, post
from litestar.response import Redirect, Template

from desvirt.accounts.api import client_ip
from desvirt.accounts.domain import FieldError
from desvirt.dependencies import SIGNED_IN, InstanceSettings, SignedInUser
from desvirt.i18n import N_, gettext
from desvirt.met import domain, service
from desvirt.rendering import notice_after_redirect, render, request_locale

NO_STORE = {"Cache-Control": "no-store"}
QR_TITLE = N_("QR code that opens this handshake for the other person")


@get("/m/{slug:str}/met", dependencies=SIGNED_IN)
async def checklist_page(
    request: Request[Any, Any, Any], slug: str, viewer: SignedInUser
) -> Template:
    """The "who did you meet?" checklist of a meetup the viewer was at."""
    return await _checklist(request, viewer, slug)


@post("/m/{slug:str}/met", dependencies=SIGNED_IN)
async def checklist_submit(
    request: Request[Any, Any, Any], slug: str, viewer: SignedInUser, settings: InstanceSettings
) -> Template | Redirect:
    form = await request.form()
    handles = [str(value) for value in form.getall("met", [])]
    try:
        outcomes = await service.record_checklist(settings, viewer, slug, handles)
    except FieldError as error:
        locale = request_locale(request)
        message = gettext(locale, error.message, **error.params)
        return await _checklist(request, viewer, slug, status_code=422, error=message)
    not_sent = [outcome for outcome in outcomes if outcome.request.explanation]
    if not_sent:  # saved, but some contact requests did not go out: say which and why
        return await _checklist(request, viewer, slug, saved=True, not_sent=not_sent)
    return Redirect(f"/m/{slug}/met?saved=1", status_code=303)


@post("/contacts/{handle:str}/met", dependencies=SIGNED_IN)
async def confirm_met(
    request: Request[Any, Any, Any], handle: str, viewer: SignedInUser, settings: InstanceSettings
) -> Redirect:
    """The confirm button: say I met them too (the same meeting they named)."""
    form = await request.form()
    outcome = await service.confirm_met(settings, viewer, handle, _day(str(form.get("met_on", ""))))
    if outcome.request.explanation:  # saved, but their charter turned the request away
        notice_after_redirect(request, outcome.request.explanation)
    return Redirect(_safe_next(str(form.get("next", "")), f"/u/{handle}"), status_code=303)


@post("/contacts/{handle:str}/met/retract", dependencies=SIGNED_IN)
async def retract_met(
    request: Request[Any, Any, Any], handle: str, viewer: SignedInUser
) -> Redirect:
    form = await request.form()
    await service.retract_met(viewer, handle)
    return Redirect(_safe_next(str(form.get("next", "")), f"/u/{handle}"), status_code=303)


@get("/handshake", dependencies=SIGNED_IN)
async def handshake_page(
    request: Request[Any, Any, Any], viewer: SignedInUser, settings: InstanceSettings
) -> Template:
    """My code and its QR code to show, and a field to type someone else's code.

    Viewing the page again shows the same code while it has time left; `?new` makes another.
    """
    return await _handshake(request, viewer, settings, new_code="new" in request.query_params)


@post("/handshake/enter", dependencies=SIGNED_IN)
async def handshake_enter(
    request: Request[Any, Any, Any], viewer: SignedInUser, settings: InstanceSettings
) -> Template | Redirect:
    """Someone typed the other person's code: on to its confirmation page."""
    form = await request.form()
    typed = str(form.get("code", ""))
    code = domain.normalize_code(typed)
    if code is None:
        locale = request_locale(request)
        message = gettext(locale, "A handshake code has 8 letters and digits, like K7QM-4XPD.")
        return await _handshake(
            request, viewer, settings, status_code=422, error=message, typed=typed
        )
    return Redirect(f"/handshake/{code}", status_code=303)


@get("/handshake/{code:str}", dependencies=SIGNED_IN)
async def handshake_confirm_page(
    request: Request[Any, Any, Any], code: str, viewer: SignedInUser, settings: InstanceSettings
) -> Template:
    """Where the QR code leads: who showed the code, and a button to confirm."""
    issuer = await service.handshake_issuer(settings, viewer, code, client_ip(request))
    page = await render(
        request, "met/handshake_confirm.html", issuer=issuer, code=domain.normalize_code(code)
    )
    page.headers.update(NO_STORE)
    return page


@post("/handshake/{code:str}", dependencies=SIGNED_IN)
async def handshake_redeem(
    request: Request[Any, Any, Any], code: str, viewer: SignedInUser, settings: InstanceSettings
) -> Template:
    issuer, trust = await service.redeem_handshake(settings, viewer, code, client_ip(request))
    return await render(request, "met/handshake_done.html", issuer=issuer, trust=trust)


async def _checklist(
    request: Request[Any, Any, Any],
    viewer: SignedInUser,
    slug: str,
    *,
    status_code: int = 200,
    error: str | None = None,
    saved: bool = False,
    not_sent: list[service.ClaimOutcome] | None = None,
) -> Template:
    found = await service.checklist(viewer, slug)
    return await render(
        request,
        "met/checklist.html",
        status_code=status_code,
        meetup=found.meetup,
        has_begun=found.has_begun,
        people=found.people,
        error=error,
        saved=saved or request.query_params.get("saved"),
        not_sent=not_sent or [],
    )


async def _handshake(
    request: Request[Any, Any, Any],
    viewer: SignedInUser,
    settings: InstanceSettings,
    *,
    status_code: int = 200,
    error: str | None = None,
    typed: str = "",
    new_code: bool = False,
) -> Template:
    issued = await service.issue_handshake(settings, viewer, reuse=not new_code)
    locale = request_locale(request)
    qr = segno.make(issued.redeem_url, error="m")
    svg = qr.svg_inline(
        scale=6,
        dark="#111",
        light="#fff",
        title=gettext(locale, QR_TITLE),
    )
    page = await render(
        request,
        "met/handshake.html",
        status_code=status_code,
        issued=issued,
        minutes=round((issued.expires_at - datetime.now(UTC)).total_seconds() / 60),
        qr_svg=svg,
        error=error,
        typed=typed,
        prompts=await service.met_prompts(viewer),
    )
    page.headers.update(NO_STORE)
    return page


def _day(raw: str) -> date | None:
    if not raw.strip():
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError as error:
        raise FieldError("met_on", N_("Give the day as a date, like 2026-05-01.")) from error


def _safe_next(target: str, fallback: str) -> str:
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return fallback
    return target


router = Router(
    path="/",
    route_handlers=[
        checklist_page,
        checklist_submit,
        confirm_met,
        retract_met,
        handshake_page,
        handshake_enter,
        handshake_confirm_page,
        handshake_redeem,
    ],
    include_in_schema=False,
)
