"""Account use cases: sign up, log in, tokens, profile; each one transaction, rules from domain."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import CHEAPEST
from asyncpg.exceptions import UniqueViolationError
from piccolo.columns import Column

from desvirt import database
from desvirt.accounts import domain
from desvirt.accounts.domain import CONTACT_REASONS, Charter, FieldError
from desvirt.accounts.tables import ApiToken, Attempt, User
from desvirt.errors import Conflict, NotAuthenticated, NotFound, RateLimited
from desvirt.i18n import N_
from desvirt.settings import Settings

TOKEN_PREFIX = "dsv_"
API_TOKENS_MAX = 20


@dataclass
class ProfileChanges:
    """What PATCH /me or the settings form may change; None leaves a field as it is."""

    display_name: str | None = None
    locale: str | None = None
    timezone: str | None = None
    quiet_hours_start: str | None = None
    quiet_hours_end: str | None = None
    reminder_offsets_minutes: list[int] | None = None
    accepted_reasons: list[str] | None = None
    auto_decline_phrases: list[str] | None = None
    require_message: bool | None = None
    proposals_from: str | None = None


async def sign_up(
    settings: Settings,
    *,
    email: str,
    password: str,
    handle: str,
    display_name: str,
    locale: str = "en",
    timezone: str = "UTC",
    client_ip: str = "",
) -> User:
    """Create an account, refusing duplicates and signup floods from one address."""
    problems = domain.signup_problems(
        email=email,
        password=password,
        handle=handle,
        display_name=display_name,
        locale=locale,
        timezone=timezone,
    )
    if problems:
        raise problems[0]
    email = domain.normalize_email(email)
    handle = domain.normalize_handle(handle)
    display_name = domain.normalize_display_name(display_name)

    subject = f"signup:{client_ip}"
    await _refuse_when_over_limit(
        subject,
        settings.signups_per_ip_per_hour,
        timedelta(hours=1),
        N_("Too many signups from your network in the last hour. Please try again later."),
    )
    await _refuse_duplicates(email=email, handle=handle)
    password_hash = await hash_password(settings, password)
    nonce = secrets.token_urlsafe(24)
    user = User(
        email=email,
        handle=handle,
        display_name=display_name,
        search_name=domain.search_name(display_name, handle),
        password_hash=password_hash,
        locale=locale,
        timezone=timezone,
        accepted_reasons=list(CONTACT_REASONS),
        auto_decline_phrases=[],
        reminder_offsets_minutes=[1440, 120],
        feed_nonce=nonce,
        feed_token_hash=feed_token_hash(feed_token_for_nonce(settings, nonce)),
    )
    try:
        async with User._meta.db.transaction():
            await user.save()
            await Attempt.insert(Attempt(kind="signup", subject=subject))
    except Exception as error:
        if _is_unique_violation(error):
            await _refuse_duplicates(email=email, handle=handle)
            raise Conflict(N_("This account already exists."), code="duplicate") from error
        raise
    return user


async def log_in(settings: Settings, *, email: str, password: str, client_ip: str) -> User:
    """Check a password, counting failures per account and per client address."""
    normalized = email.strip().lower()
    window = timedelta(seconds=settings.login_failure_window_seconds)
    subjects = [f"login:email:{normalized}", f"login:ip:{client_ip}"]
    for subject in subjects:
        await _refuse_when_over_limit(
            subject,
            settings.login_failures_allowed,
            window,
            N_("Too many failed logins. Please wait before trying again."),
        )
    user = await User.objects().where(User.email == normalized).first()
    if user is None or not await verify_password(settings, user.password_hash, password):
        await Attempt.insert(*(Attempt(kind="login_failure", subject=s) for s in subjects))
        raise NotAuthenticated(N_("Wrong email or password."), code="invalid_credentials")
    return user


async def hash_password(settings: Settings, password: str) -> str:
    # argon2 is deliberately slow; a worker thread keeps the event loop answering.
    return await anyio.to_thread.run_sync(_hasher(settings.password_hash_profile).hash, password)


async def verify_password(settings: Settings, password_hash: str | None, password: str) -> bool:
    hasher = _hasher(settings.password_hash_profile)
    # Unknown accounts still pay for one hash, so timing does not reveal which emails exist.
    target = password_hash or _dummy_hash(settings.password_hash_profile)

    def verify() -> bool:
        try:
            return bool(hasher.verify(target, password)) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    return await anyio.to_thread.run_sync(verify)


async def create_api_token(user: User, name: str) -> tuple[ApiToken, str]:
    """A new personal token; the plain value is returned once and never stored."""
    name = " ".join(name.split())
    if not name or len(name) > 80:
        raise FieldError("name", N_("Give the token a name of 1 to 80 characters."))
    count = await ApiToken.count().where(ApiToken.user == user.id)
    if count >= API_TOKENS_MAX:
        raise Conflict(
            N_("You have %(count)s tokens already; revoke one first."),
            code="too_many_tokens",
            count=API_TOKENS_MAX,
        )
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user.id, name=name, token_hash=_sha256(plain))
    await token.save()
    return token, plain


async def list_api_tokens(user: User) -> list[dict[str, Any]]:
    return await (
        ApiToken.select(ApiToken.id, ApiToken.name, ApiToken.created_at, ApiToken.last_used_at)
        .where(ApiToken.user == user.id)
        .order_by(ApiToken.created_at, ascending=False)
    )


async def revoke_api_token(user: User, token_id: int) -> None:
    deleted = await (
        ApiToken.delete()
        .where((ApiToken.id == token_id) & (ApiToken.user == user.id))
        .returning(ApiToken.id)
    )
    if not deleted:
        raise NotFound(N_("No such token."))


async def user_for_api_token(plain: str) -> User | None:
    """The owner of a bearer token, marking when it was last used (at most hourly)."""
    if not plain.startswith(TOKEN_PREFIX):
        return None
    digest = _sha256(plain)
    token = await ApiToken.objects(ApiToken.user).where(ApiToken.token_hash == digest).first()
    if token is None:
        return None
    now = datetime.now(UTC)
    if token.last_used_at is None or now - token.last_used_at > timedelta(hours=1):
        await ApiToken.update({ApiToken.last_used_at: now}).where(ApiToken.id == token.id)
    owner: User = token.user
    return owner


async def user_by_id(user_id: int) -> User | None:
    """The signed-in viewer of every page, read once per request by hand (see `_USER_BY_ID`)."""
    rows = await database.fetch(_USER_BY_ID, user_id)
    if not rows:
        return None
    return database.loaded(User, rows[0])


# Every signed-in request reads its viewer: Piccolo's objects() builds the query anew each time.
_USER_BY_ID = (
    "SELECT "
    + ", ".join(f'"{name}"' for name in database.column_names(User))
    + " FROM desvirt_user WHERE id = {}"
)


async def update_profile(user: User, changes: ProfileChanges) -> User:
    """Apply validated changes; an invalid field leaves the whole profile untouched."""
    values: dict[str, Any] = {}
    if changes.display_name is not None:
        values["display_name"] = domain.normalize_display_name(changes.display_name)
        values["search_name"] = domain.search_name(values["display_name"], user.handle)
    if changes.locale is not None:
        values["locale"] = domain.check_locale(changes.locale)
    if changes.timezone is not None:
        values["timezone"] = domain.check_timezone(changes.timezone)
    if changes.quiet_hours_start is not None:
        values["quiet_hours_start"] = domain.check_clock_time(
            "quiet_hours", changes.quiet_hours_start
        )
    if changes.quiet_hours_end is not None:
        values["quiet_hours_end"] = domain.check_clock_time("quiet_hours", changes.quiet_hours_end)
    if changes.reminder_offsets_minutes is not None:
        values["reminder_offsets_minutes"] = domain.normalize_reminder_offsets(
            changes.reminder_offsets_minutes
        )
    if changes.accepted_reasons is not None:
        values["accepted_reasons"] = domain.normalize_charter_reasons(changes.accepted_reasons)
    if changes.auto_decline_phrases is not None:
        values["auto_decline_phrases"] = domain.normalize_phrases(changes.auto_decline_phrases)
    if changes.require_message is not None:
        values["require_message"] = changes.require_message
    if changes.proposals_from is not None:
        values["proposals_from"] = domain.check_proposals_from(changes.proposals_from)
    if values:
        columns: dict[Column | str, Any] = dict(values.items())
        renamed = values.get("display_name", user.display_name) != user.display_name
        async with database.write_transaction():
            await User.update(columns).where(User.id == user.id)
            if renamed:
                await _meetups_show_new_host_name(user.id)
        for name, value in values.items():
            setattr(user, name, value)
    return user


async def _meetups_show_new_host_name(host_id: int) -> None:
    """A host's name is in their meetups' calendar events (ORGANIZER): mark them changed,
    so every feed and calendar holding them picks the new name up."""
    from desvirt.meetups.tables import Meetup  # meetups builds on accounts, not the reverse

    await Meetup.update({Meetup.updated_at: datetime.now(UTC)}).where(Meetup.host == host_id)


def charter_of(user: User) -> Charter:
    return Charter(
        accepted_reasons=tuple(_json_list(user.accepted_reasons)),
        auto_decline_phrases=tuple(_json_list(user.auto_decline_phrases)),
        require_message=bool(user.require_message),
        proposals_from=user.proposals_from,
    )


def reminder_offsets_of(user: User) -> list[int]:
    return reminder_offsets_from(user.reminder_offsets_minutes)


def reminder_offsets_from(stored: Any) -> list[int]:
    """The stored `reminder_offsets_minutes` value (JSON text or a list) as minutes."""
    return [int(minutes) for minutes in _json_list(stored)]


def feed_token_hash(token: str) -> str:
    """What is stored of a feed token, and what a feed URL is looked up by."""
    return _sha256(token)


def feed_token_for_nonce(settings: Settings, nonce: str) -> str:
    """Feed tokens derive from a stored nonce and the instance secret; only a hash is kept."""
    mac = hmac.new(settings.secret_key.encode(), f"feed:{nonce}".encode(), hashlib.sha256)
    return mac.hexdigest()


async def feed_token(settings: Settings, user: User) -> str:
    """The user's current feed token; re-keys the stored hash if the instance secret changed."""
    token = feed_token_for_nonce(settings, user.feed_nonce)
    digest = feed_token_hash(token)
    if digest != user.feed_token_hash:
        await User.update({User.feed_token_hash: digest}).where(User.id == user.id)
        user.feed_token_hash = digest
    return token


async def rotate_feed_token(settings: Settings, user: User) -> str:
    """A new feed URL; the old one stops answering at once."""
    nonce = secrets.token_urlsafe(24)
    token = feed_token_for_nonce(settings, nonce)
    await User.update({User.feed_nonce: nonce, User.feed_token_hash: feed_token_hash(token)}).where(
        User.id == user.id
    )
    user.feed_nonce, user.feed_token_hash = nonce, feed_token_hash(token)
    return token


async def _refuse_when_over_limit(
    subject: str, limit: int, window: timedelta, message: str
) -> None:
    if limit <= 0:
        return
    now = datetime.now(UTC)
    rows = await (
        Attempt.select(Attempt.at)
        .where((Attempt.subject == subject) & (Attempt.at > now - window))
        .order_by(Attempt.at, ascending=False)
        .limit(limit)
    )
    wait = domain.retry_after_seconds((row["at"] for row in rows), now, limit, window)
    if wait is not None:
        raise RateLimited(message, retry_after=wait)


async def _refuse_duplicates(*, email: str, handle: str) -> None:
    taken = await User.select(User.email, User.handle).where(
        (User.email == email) | (User.handle == handle)
    )
    for row in taken:
        if row["email"] == email:
            raise Conflict(
                N_("An account with this email already exists. Try logging in."),
                code="email_taken",
                field="email",
            )
        if row["handle"] == handle:
            raise Conflict(
                N_("This handle is taken. Please choose another."),
                code="handle_taken",
                field="handle",
            )


def _is_unique_violation(error: Exception) -> bool:
    if isinstance(error, UniqueViolationError):
        return True
    return "UNIQUE constraint failed" in str(error)


def _json_list(value: Any) -> list[Any]:
    if isinstance(value, str):
        loaded = json.loads(value)
        return list(loaded) if isinstance(loaded, list) else []
    return list(value or [])


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@cache
def _hasher(profile: str) -> PasswordHasher:
    if profile == "cheapest":
        return PasswordHasher.from_parameters(CHEAPEST)
    return PasswordHasher()


@cache
def _dummy_hash(profile: str) -> str:
    return _hasher(profile).hash(secrets.token_urlsafe(16))
