"""Pure account rules: what a valid handle, password, zone or charter is, and when to slow down."""

from __future__ import annotations

import re
import unicodedata
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from email_validator import EmailNotValidError, validate_email

from desvirt.i18n import N_
from desvirt.settings import SUPPORTED_LOCALES

HANDLE_PATTERN = re.compile(r"^[a-z0-9_]{3,30}$")
QUIET_HOURS_PATTERN = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 1024
DISPLAY_NAME_MAX_LENGTH = 80
MAX_REMINDERS = 5
MAX_REMINDER_MINUTES = 4 * 7 * 24 * 60
MAX_AUTO_DECLINE_PHRASES = 50
MAX_PHRASE_LENGTH = 100
RESERVED_HANDLES = frozenset(
    {
        "admin",
        "api",
        "cal",
        "contacts",
        "handshake",
        "login",
        "logout",
        "me",
        "new",
        "settings",
        "signup",
        "static",
        "schema",
        "healthz",
        "desvirt",
        "root",
        "support",
    }
)

CONTACT_REASONS = (
    "met_in_person",
    "meeting_soon",
    "ongoing_exchange",
    "client_or_partner",
    "business_interest",
    "read_your_work",
)
PROPOSALS_FROM = ("anyone", "online", "met", "verified")


class FieldError(ValueError):
    """Input a user can fix: which field, and a message (an English msgid, translated on pages)."""

    def __init__(self, field: str, message: str, **params: object) -> None:
        super().__init__(message % params if params else message)
        self.field = field
        self.message = message
        self.params = params


@dataclass(frozen=True)
class Charter:
    """A person's contact charter: what they accept, and from whom they take proposals."""

    accepted_reasons: tuple[str, ...] = CONTACT_REASONS
    auto_decline_phrases: tuple[str, ...] = ()
    require_message: bool = True
    proposals_from: str = "online"


def signup_problems(
    *, email: str, password: str, handle: str, display_name: str, locale: str, timezone: str
) -> list[FieldError]:
    """Every problem of a signup form at once, so a page can show each next to its field."""
    checks = [
        lambda: normalize_email(email),
        lambda: normalize_handle(handle),
        lambda: normalize_display_name(display_name),
        lambda: check_password(password),
        lambda: check_locale(locale),
        lambda: check_timezone(timezone),
    ]
    problems: list[FieldError] = []
    for check in checks:
        try:
            check()
        except FieldError as problem:
            problems.append(problem)
    return problems


def normalize_email(raw: str) -> str:
    """Emails are compared lower-case; the address must look deliverable in form."""
    try:
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise FieldError("email", N_("This is not a valid email address.")) from error
    return result.normalized.lower()


def normalize_handle(raw: str) -> str:
    handle = raw.strip().lstrip("@").lower()
    if not HANDLE_PATTERN.match(handle):
        raise FieldError(
            "handle",
            N_("A handle has 3 to 30 characters: lower-case letters, digits and _."),
        )
    if handle in RESERVED_HANDLES:
        raise FieldError("handle", N_("This handle is reserved. Please choose another."))
    return handle


def check_password(password: str) -> str:
    if len(password) < PASSWORD_MIN_LENGTH:
        raise FieldError(
            "password",
            N_("The password needs at least %(count)s characters."),
            count=PASSWORD_MIN_LENGTH,
        )
    if len(password) > PASSWORD_MAX_LENGTH:
        raise FieldError("password", N_("The password is too long."))
    return password


def normalize_display_name(raw: str) -> str:
    name = " ".join(raw.split())
    if not name:
        raise FieldError("display_name", N_("Please tell us the name people know you by."))
    if len(name) > DISPLAY_NAME_MAX_LENGTH:
        raise FieldError(
            "display_name",
            N_("A name has at most %(count)s characters."),
            count=DISPLAY_NAME_MAX_LENGTH,
        )
    return name


def check_locale(locale: str) -> str:
    if locale not in SUPPORTED_LOCALES:
        raise FieldError("locale", N_("Choose one of the languages offered: es, de or en."))
    return locale


def check_timezone(name: str) -> str:
    if name not in available_timezones():
        raise FieldError(
            "timezone", N_("Unknown time zone: use a name like Europe/Madrid or America/Bogota.")
        )
    return name


@cache
def available_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def check_clock_time(field: str, value: str) -> str:
    if not QUIET_HOURS_PATTERN.match(value):
        raise FieldError(field, N_("Write times as HH:MM, for example 22:00."))
    return value


def normalize_reminder_offsets(offsets: Sequence[int]) -> list[int]:
    """Minutes before an event, largest first, without repeats."""
    if len(offsets) > MAX_REMINDERS:
        raise FieldError(
            "reminder_offsets_minutes",
            N_("At most %(count)s reminders per event."),
            count=MAX_REMINDERS,
        )
    for minutes in offsets:
        if isinstance(minutes, bool) or not 0 <= minutes <= MAX_REMINDER_MINUTES:
            raise FieldError(
                "reminder_offsets_minutes",
                N_("Reminders are between 0 minutes and 4 weeks before the event."),
            )
    return sorted(set(offsets), reverse=True)


def normalize_charter_reasons(reasons: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(reasons))
    unknown = [reason for reason in chosen if reason not in CONTACT_REASONS]
    if unknown:
        raise FieldError("accepted_reasons", N_("Unknown reason: %(reason)s."), reason=unknown[0])
    if not chosen:
        raise FieldError("accepted_reasons", N_("Accept at least one reason."))
    return [reason for reason in CONTACT_REASONS if reason in chosen]


def normalize_phrases(phrases: Iterable[str]) -> list[str]:
    cleaned = list(dict.fromkeys(" ".join(p.split()) for p in phrases if p.strip()))
    if len(cleaned) > MAX_AUTO_DECLINE_PHRASES:
        raise FieldError(
            "auto_decline_phrases",
            N_("At most %(count)s phrases."),
            count=MAX_AUTO_DECLINE_PHRASES,
        )
    if any(len(p) > MAX_PHRASE_LENGTH for p in cleaned):
        raise FieldError(
            "auto_decline_phrases",
            N_("A phrase has at most %(count)s characters."),
            count=MAX_PHRASE_LENGTH,
        )
    return cleaned


def check_proposals_from(value: str) -> str:
    if value not in PROPOSALS_FROM:
        raise FieldError(
            "proposals_from", N_("Choose who may propose meetups: anyone, online, met or verified.")
        )
    return value


def search_name(display_name: str, handle: str) -> str:
    """What a name search matches: "Lucía Pérez" is found by "lucia" and by "PEREZ"."""
    return fold_text(f"{display_name} {handle}")


def fold_text(text: str) -> str:
    """Lower-case and strip accents, so 'Oportunidad ÚNICA' matches 'oportunidad unica'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def retry_after_seconds(
    attempts: Iterable[datetime], now: datetime, limit: int, window: timedelta
) -> int | None:
    """Seconds to wait when `limit` attempts already fall in the sliding window, else None.

    A limit of 0 means no limit.
    """
    if limit <= 0:
        return None
    recent = sorted(at for at in attempts if now - window < at <= now)
    if len(recent) < limit:
        return None
    # The wait ends when enough of the oldest attempts have left the window.
    frees_at = recent[len(recent) - limit] + window
    return max(1, int((frees_at - now).total_seconds() + 0.999))
