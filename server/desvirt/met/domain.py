"""Pure rules of meeting in person: handshake codes, what a met claim may say, who counts
as having been at a meetup, and which claims are still standing in a pair's history.

Trust itself is derived by `contacts.domain.derive_trust`; these rules decide what may be
added to the history in the first place.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from desvirt.accounts.domain import FieldError
from desvirt.contacts.domain import MetClaim, PairEvent
from desvirt.i18n import N_

# Crockford's base32: no I, L, O or U, so a code read aloud or typed is hard to get wrong.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 8  # 40 bits: with the redemption limit below, guessing a live code is hopeless
HANDSHAKE_LIFETIME = timedelta(minutes=5)
HANDSHAKE_SHOWN_AGAIN_WITH = timedelta(minutes=2)  # left, or a page view shows a new code
REDEEM_FAILURES_ALLOWED = 10
REDEEM_FAILURE_WINDOW = timedelta(minutes=15)
ATTENDING_STATUSES = ("going",)
_TYPO_FIXES = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})
_SEPARATORS = re.compile(r"[\s\-_.]+")


@dataclass(frozen=True)
class Attendance:
    """One person's part in a meetup, as far as meeting people there goes."""

    user_id: int
    status: str | None
    checked_in: bool
    is_host: bool = False

    @property
    def was_there(self) -> bool:
        return self.is_host or self.checked_in or self.status in ATTENDING_STATUSES


def code_from_number(number: int) -> str:
    """The code for a random number below 32**8, shown as two groups of four: `K7QM-4XPD`."""
    symbols = []
    for _ in range(CODE_LENGTH):
        number, digit = divmod(number, len(CODE_ALPHABET))
        symbols.append(CODE_ALPHABET[digit])
    code = "".join(symbols)
    return f"{code[:4]}-{code[4:]}"


def normalize_code(raw: str) -> str | None:
    """What someone typed or scanned, as the canonical code, or None if it cannot be one.

    Case, spaces and dashes do not matter, and the letters people confuse with digits
    (O, I, L) are read as the digits.
    """
    cleaned = _SEPARATORS.sub("", raw.strip().upper()).translate(_TYPO_FIXES)
    if len(cleaned) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in cleaned):
        return None
    return f"{cleaned[:4]}-{cleaned[4:]}"


def code_for(secret_key: str, issuer_id: int, issued_at: datetime) -> str:
    """The code a handshake issued at this moment shows, so its page can show it again.

    Only its keyed hash is stored; the code itself is derived from the secret key, the
    issuer and the moment of issue, so the database alone does not reveal live codes.
    """
    moment = issued_at if issued_at.tzinfo else issued_at.replace(tzinfo=UTC)
    seed = f"handshake-code:{issuer_id}:{moment.astimezone(UTC).isoformat()}".encode()
    digest = hmac.new(secret_key.encode(), seed, hashlib.sha256).digest()
    return code_from_number(int.from_bytes(digest[:8]) % len(CODE_ALPHABET) ** CODE_LENGTH)


def code_digest(secret_key: str, code: str) -> str:
    """The keyed hash a code is stored as."""
    return hmac.new(secret_key.encode(), f"handshake:{code}".encode(), hashlib.sha256).hexdigest()


def live_claims(events: Iterable[PairEvent]) -> dict[int, MetClaim]:
    """Each side's standing met claim after these events, oldest first.

    Follows `derive_trust`: a newer claim replaces the actor's older one, a retraction
    withdraws it, and a removal or a block forgets every claim.
    """
    claims: dict[int, MetClaim] = {}
    for event in events:
        if event.kind == "met_claimed":
            claims[event.actor] = MetClaim(event.meetup_id, event.met_on)
        elif event.kind == "met_retracted":
            claims.pop(event.actor, None)
        elif event.kind in ("removed", "blocked"):
            claims.clear()
    return claims


def is_connected(events: Iterable[PairEvent]) -> bool:
    """Whether the pair is connected (accepted or handshake, not since removed or blocked)."""
    connected = False
    for event in events:
        if event.kind in ("accepted", "handshake"):
            connected = True
        elif event.kind in ("removed", "blocked"):
            connected = False
    return connected


def check_met_on(met_on: date | None, today: date) -> date | None:
    """A claimed day of meeting may be today or earlier, never later."""
    if met_on is not None and met_on > today:
        raise FieldError("met_on", N_("You cannot have met on a day that has not come yet."))
    return met_on


def check_meetup_claim(
    *,
    starts_at: datetime | None,
    status: str,
    now: datetime,
    claimer: Attendance,
    other: Attendance,
) -> None:
    """A claim naming a meetup needs a meetup that has begun, with both people there."""
    if status == "cancelled":
        raise FieldError("meetup_slug", N_("That meetup was cancelled."))
    if starts_at is None or starts_at > now:
        raise FieldError(
            "meetup_slug", N_("That meetup has not happened yet; mark people as met afterwards.")
        )
    if not claimer.was_there:
        raise FieldError("meetup_slug", N_("You were not at that meetup."))
    if not other.was_there:
        raise FieldError("meetup_slug", N_("That person was not at that meetup."))


def check_day_of_meetup(met_on: date | None, first_day: date, last_day: date) -> None:
    """A claim naming both a meetup and a day must name a day the meetup ran."""
    if met_on is not None and not first_day <= met_on <= last_day:
        raise FieldError("met_on", N_("That day does not match the meetup's date."))


def checklist_order(people: Iterable[tuple[Attendance, str]]) -> list[tuple[Attendance, str]]:
    """Who to list on "who did you meet?": the checked-in first, then by name."""
    return sorted(people, key=lambda item: (not item[0].checked_in, item[1].casefold()))
