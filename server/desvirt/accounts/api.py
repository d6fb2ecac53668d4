"""JSON endpoints for accounts: /api/v1/auth/* and /api/v1/me."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Request, Router, delete, get, patch, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT
from msgspec import UNSET, Meta, Struct, UnsetType

from desvirt.accounts import service
from desvirt.accounts.auth import end_session, start_session
from desvirt.accounts.service import ProfileChanges
from desvirt.accounts.tables import User
from desvirt.dependencies import SIGNED_IN, InstanceSettings, SignedInUser
from desvirt.operations.domain import client_address

ShortText = Annotated[str, Meta(max_length=1024)]


class SignupBody(Struct, forbid_unknown_fields=True):
    email: ShortText
    password: ShortText
    handle: ShortText
    display_name: ShortText
    locale: ShortText = "en"
    timezone: ShortText = "UTC"


class LoginBody(Struct, forbid_unknown_fields=True):
    email: ShortText
    password: ShortText


class TokenBody(Struct, forbid_unknown_fields=True):
    name: ShortText


class QuietHours(Struct, forbid_unknown_fields=True):
    start: ShortText
    end: ShortText


class CharterBody(Struct, forbid_unknown_fields=True):
    accepted_reasons: list[ShortText] | UnsetType = UNSET
    auto_decline_phrases: list[ShortText] | UnsetType = UNSET
    require_message: bool | UnsetType = UNSET
    proposals_from: ShortText | UnsetType = UNSET


class ProfilePatch(Struct, forbid_unknown_fields=True):
    display_name: ShortText | UnsetType = UNSET
    locale: ShortText | UnsetType = UNSET
    timezone: ShortText | UnsetType = UNSET
    quiet_hours: QuietHours | UnsetType = UNSET
    reminder_offsets_minutes: list[int] | UnsetType = UNSET
    charter: CharterBody | UnsetType = UNSET


class CharterView(Struct):
    accepted_reasons: list[str]
    auto_decline_phrases: list[str]
    require_message: bool
    proposals_from: str


class Profile(Struct):
    handle: str
    display_name: str
    email: str
    locale: str
    timezone: str
    quiet_hours: QuietHours
    reminder_offsets_minutes: list[int]
    feed_url: str
    charter: CharterView
    created_at: datetime


class CreatedToken(Struct):
    id: int
    name: str
    token: str


class TokenSummary(Struct):
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None


class FeedUrl(Struct):
    feed_url: str
    webcal_url: str


@post("/auth/signup", status_code=HTTP_201_CREATED)
async def sign_up(
    request: Request[Any, Any, Any], data: JSONBody[SignupBody], settings: InstanceSettings
) -> Profile:
    """Create an account and sign in with it."""
    user = await service.sign_up(
        settings,
        email=data.email,
        password=data.password,
        handle=data.handle,
        display_name=data.display_name,
        locale=data.locale,
        timezone=data.timezone,
        client_ip=client_ip(request),
    )
    start_session(request, user)
    return await profile_of(settings, user)


@post("/auth/login", status_code=HTTP_200_OK)
async def log_in(
    request: Request[Any, Any, Any], data: JSONBody[LoginBody], settings: InstanceSettings
) -> Profile:
    """Sign in; sets the session cookie."""
    user = await service.log_in(
        settings, email=data.email, password=data.password, client_ip=client_ip(request)
    )
    start_session(request, user)
    return await profile_of(settings, user)


@post("/auth/logout", status_code=HTTP_204_NO_CONTENT)
async def log_out(request: Request[Any, Any, Any]) -> None:
    end_session(request)


@post("/auth/tokens", status_code=HTTP_201_CREATED, dependencies=SIGNED_IN)
async def create_token(data: JSONBody[TokenBody], viewer: SignedInUser) -> CreatedToken:
    """A personal API token for `Authorization: Bearer`; the value is shown only here."""
    token, plain = await service.create_api_token(viewer, data.name)
    return CreatedToken(id=token.id, name=token.name, token=plain)


@get("/auth/tokens", dependencies=SIGNED_IN)
async def list_tokens(viewer: SignedInUser) -> list[TokenSummary]:
    rows = await service.list_api_tokens(viewer)
    return [TokenSummary(**row) for row in rows]


@delete("/auth/tokens/{token_id:int}", dependencies=SIGNED_IN)
async def revoke_token(token_id: int, viewer: SignedInUser) -> None:
    await service.revoke_api_token(viewer, token_id)


@get("/me", dependencies=SIGNED_IN)
async def read_me(viewer: SignedInUser, settings: InstanceSettings) -> Profile:
    return await profile_of(settings, viewer)


@patch("/me", dependencies=SIGNED_IN)
async def update_me(
    data: JSONBody[ProfilePatch], viewer: SignedInUser, settings: InstanceSettings
) -> Profile:
    """Change profile, reminders and charter; fields left out stay as they are."""
    charter = data.charter if not isinstance(data.charter, UnsetType) else CharterBody()
    quiet = data.quiet_hours if not isinstance(data.quiet_hours, UnsetType) else None
    changes = ProfileChanges(
        display_name=_given(data.display_name),
        locale=_given(data.locale),
        timezone=_given(data.timezone),
        quiet_hours_start=quiet.start if quiet else None,
        quiet_hours_end=quiet.end if quiet else None,
        reminder_offsets_minutes=_given(data.reminder_offsets_minutes),
        accepted_reasons=_given(charter.accepted_reasons),
        auto_decline_phrases=_given(charter.auto_decline_phrases),
        require_message=_given(charter.require_message),
        proposals_from=_given(charter.proposals_from),
    )
    user = await service.update_profile(viewer, changes)
    return await profile_of(settings, user)


@post("/me/feed-token", status_code=HTTP_200_OK, dependencies=SIGNED_IN)
async def rotate_feed_token(viewer: SignedInUser, settings: InstanceSettings) -> FeedUrl:
    """A new private feed URL; the old one answers 404 from now on."""
    token = await service.rotate_feed_token(settings, viewer)
    return feed_urls(settings, token)


async def profile_of(settings: InstanceSettings, user: User) -> Profile:
    charter = service.charter_of(user)
    token = await service.feed_token(settings, user)
    return Profile(
        handle=user.handle,
        display_name=user.display_name,
        email=user.email,
        locale=user.locale,
        timezone=user.timezone,
        quiet_hours=QuietHours(start=user.quiet_hours_start, end=user.quiet_hours_end),
        reminder_offsets_minutes=service.reminder_offsets_of(user),
        feed_url=feed_urls(settings, token).feed_url,
        charter=CharterView(
            accepted_reasons=list(charter.accepted_reasons),
            auto_decline_phrases=list(charter.auto_decline_phrases),
            require_message=charter.require_message,
            proposals_from=charter.proposals_from,
        ),
        created_at=user.created_at,
    )


def feed_urls(settings: InstanceSettings, token: str) -> FeedUrl:
    url = f"{settings.base_url}/cal/{token}.ics"
    return FeedUrl(feed_url=url, webcal_url="webcal://" + url.split("://", 1)[1])


def client_ip(request: Request[Any, Any, Any]) -> str:
    """The client's address, read through X-Forwarded-For only from DESVIRT_TRUSTED_PROXIES."""
    settings: InstanceSettings = request.app.state["settings"]
    return client_address(
        request.client.host if request.client else None,
        request.headers.getall("x-forwarded-for", []),
        settings.trusted_proxies,
    )


def _given(value: Any) -> Any:
    return None if isinstance(value, UnsetType) else value


router = Router(
    path="/api/v1",
    route_handlers=[
        sign_up,
        log_in,
        log_out,
        create_token,
        list_tokens,
        revoke_token,
        read_me,
        update_me,
        rotate_feed_token,
    ],
    tags=["accounts"],
)
