"""Pure contact rules: trust levels, their order, trust derived from a pair's history, what
the pair's projection row holds, and the personal charter a request must respect.

No I/O here: the service loads rows, these functions decide.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from desvirt.accounts.domain import Charter, FieldError, fold_text
from desvirt.i18n import N_

TRUST_LEVELS = ("none", "online", "met", "verified")

REASONS = (
    "met_in_person",
    "meeting_soon",
    "ongoing_exchange",
    "client_or_partner",
    "business_interest",
    "read_your_work",
)

# What can happen between two people; `ContactEvent.kind` is one of these.
EVENT_KINDS = (
    "requested",  # actor asked to connect (reason, message)
    "accepted",  # actor accepted the other's request: connected, `online`
    "declined",  # actor declined the other's request (by hand or by their charter)
    "removed",  # actor removed the contact: disconnected, met claims forgotten
    "blocked",  # actor blocked the other: both look like nobody to each other
    "unblocked",  # actor lifted their block
    "met_claimed",  # actor says they met the other (optionally at a meetup, on a day)
    "met_retracted",  # actor takes back their met claim
    "checked_in_together",  # the host checked both in at the same meetup (evidence)
    "handshake",  # a face-to-face code was redeemed: connected and verified at once
)


@dataclass(frozen=True)
class PairEvent:
    """What `derive_trust` needs of one `ContactEvent`."""

    kind: str
    actor: int
    meetup_id: int | None = None
    met_on: date | None = None
    reason: str | None = None
    at: datetime | None = None


@dataclass(frozen=True)
class MetClaim:
    meetup_id: int | None
    met_on: date | None


def trust_at_least(level: str, minimum: str) -> bool:
    """True when `level` reaches `minimum` ('anyone' is below every level)."""
    if minimum == "anyone":
        return True
    return TRUST_LEVELS.index(level) >= TRUST_LEVELS.index(minimum)


def derive_trust(events: Iterable[PairEvent]) -> str:
    """The pair's trust level after these events, oldest first.

    Blocks win over everything; a removal disconnects and forgets met claims and
    handshakes (the log still shows them). Once connected: a handshake is `verified`;
    claims by both sides about the same meeting are `verified`; one claim naming a meetup
    where the host checked both in is `verified`; any other live claim is `met`.
    """
    connected = False
    blockers: set[int] = set()
    claims: dict[int, MetClaim] = {}
    handshake = False
    checked_in_together: set[int] = set()
    for event in events:
        kind = event.kind
        if kind in ("accepted", "handshake"):
            connected = True
            handshake = handshake or kind == "handshake"
        elif kind == "removed":
            connected, handshake = False, False
            claims.clear()
        elif kind == "blocked":
            blockers.add(event.actor)
            connected, handshake = False, False
            claims.clear()
        elif kind == "unblocked":
            blockers.discard(event.actor)
        elif kind == "met_claimed":
            claims[event.actor] = MetClaim(event.meetup_id, event.met_on)
        elif kind == "met_retracted":
            claims.pop(event.actor, None)
        elif kind == "checked_in_together" and event.meetup_id is not None:
            checked_in_together.add(event.meetup_id)
    if blockers or not connected:
        return "none"
    if handshake:
        return "verified"
    if len(claims) >= 2 and _same_meeting(*claims.values()):
        return "verified"
    if any(claim.meetup_id in checked_in_together for claim in claims.values()):
        return "verified"
    return "met" if claims else "online"


def _same_meeting(*claims: MetClaim) -> bool:
    """Claims agree unless they name different meetups or different days."""
    meetups = {claim.meetup_id for claim in claims if claim.meetup_id is not None}
    days = {claim.met_on for claim in claims if claim.met_on is not None}
    return len(meetups) <= 1 and len(days) <= 1


# --- the projection row of a pair --------------------------------------------------------

CONNECTING_KINDS = ("accepted", "handshake")
DISCONNECTING_KINDS = ("removed", "blocked")


@dataclass(frozen=True)
class PairView:
    """What both people's `Contact` rows say about their pair (the same on both sides)."""

    trust: str
    reason: str = ""
    since: datetime | None = None
    meetings: int = 0

    @property
    def connected(self) -> bool:
        return self.trust != "none"


def project_pair(events: Sequence[PairEvent]) -> PairView:
    """The pair's projection after these events, oldest first.

    `reason` and `since` come from the event that connected them last (a handshake counts
    as `met_in_person`); `meetings` counts the distinct meetups where the host checked
    both in or a live met claim names one, since that connection.
    """
    trust = derive_trust(events)
    if trust == "none":
        return PairView(trust="none")
    start = 0
    for index, event in enumerate(events):
        if event.kind in DISCONNECTING_KINDS:
            start = index + 1
    reason, since = "", None
    meetups: set[int] = set()
    claims: dict[int, int | None] = {}
    for event in events[start:]:
        if event.kind in CONNECTING_KINDS and since is None:
            reason = event.reason or ("met_in_person" if event.kind == "handshake" else "")
            since = event.at
        elif event.kind == "checked_in_together" and event.meetup_id is not None:
            meetups.add(event.meetup_id)
        elif event.kind == "met_claimed":
            claims[event.actor] = event.meetup_id
        elif event.kind == "met_retracted":
            claims.pop(event.actor, None)
    meetups.update(meetup for meetup in claims.values() if meetup is not None)
    return PairView(trust=trust, reason=reason, since=since, meetings=len(meetups))


def pair_of(one: int, other: int) -> tuple[int, int]:
    """A pair's key in the event log: (low, high) user ids."""
    return (one, other) if one < other else (other, one)


# --- requests and the personal charter -----------------------------------------------------

MESSAGE_MAX_LENGTH = 2000
BUSINESS_INTEREST_MIN_CHARACTERS = 20

REASON_LABELS = {
    "met_in_person": N_("We have already met"),
    "meeting_soon": N_("We are about to meet"),
    "ongoing_exchange": N_("We are in real exchange on another channel"),
    "client_or_partner": N_("Customer or business partner"),
    "business_interest": N_("Concrete business interest (the message says which)"),
    "read_your_work": N_("I engaged seriously with your profile or work"),
}

# The charter rules that decline a request automatically, in the order they are checked.
CHARTER_RULES = (
    "reason_not_accepted",
    "message_required",
    "business_interest_unspecified",
    "auto_decline_phrase",
)

EXPLANATIONS = {
    "reason_not_accepted": N_(
        "%(name)s does not accept contact requests for the reason “%(reason)s”. "
        "Your request was declined automatically."
    ),
    "message_required": N_(
        "%(name)s asks that every contact request include a message saying why. "
        "Please write one and send your request again."
    ),
    "business_interest_unspecified": N_(
        "A request for a concrete business interest must say which interest. "
        "Your request to %(name)s was declined automatically; describe it in your message."
    ),
    "auto_decline_phrase": N_(
        "Your message contains a phrase that %(name)s declines automatically, such as a "
        "generic sales pitch. Your request was declined; nothing was shown to them."
    ),
}


def check_request(reason: str, message: str) -> str:
    """Refuse what no charter could accept: an unknown reason, an overlong message.

    Returns the message with its whitespace tidied.
    """
    if reason not in REASONS:
        raise FieldError(
            "reason",
            N_("Choose one of the reasons offered: %(reasons)s."),
            reasons=", ".join(REASONS),
        )
    message = message.strip()
    if len(message) > MESSAGE_MAX_LENGTH:
        raise FieldError(
            "message",
            N_("A message has at most %(count)s characters."),
            count=MESSAGE_MAX_LENGTH,
        )
    return message


def charter_breach(charter: Charter, reason: str, message: str) -> str | None:
    """The first charter rule this request breaks (one of CHARTER_RULES), or None."""
    if reason not in charter.accepted_reasons:
        return "reason_not_accepted"
    if charter.require_message and not message.strip():
        return "message_required"
    if reason == "business_interest" and not says_which(message):
        return "business_interest_unspecified"
    if any(phrase_matches(phrase, message) for phrase in charter.auto_decline_phrases):
        return "auto_decline_phrase"
    return None


def says_which(message: str) -> bool:
    """A business-interest message names the interest: a few words, not a shrug."""
    letters = [ch for ch in message if ch.isalnum()]
    return len(letters) >= BUSINESS_INTEREST_MIN_CHARACTERS and len(message.split()) >= 3


def phrase_matches(phrase: str, text: str) -> bool:
    """Whether `phrase` occurs in `text`, ignoring case, accents and spacing."""
    needle = _folded(phrase)
    return bool(needle) and needle in _folded(text)


def _folded(text: str) -> str:
    # Folding the upper-cased fold too makes letters like the dotless ı meet their capital.
    folded = fold_text(fold_text(text).upper())
    return " ".join(_NON_WORD.sub(" ", folded).split())


_NON_WORD = re.compile(r"[^\w]+")


# --- anti-spam ------------------------------------------------------------------------------


def cooldown_seconds_left(
    declined_at: datetime | None, now: datetime, cooldown_days: int
) -> int | None:
    """Seconds until a declined sender may ask the same person again, or None when free."""
    if declined_at is None or cooldown_days <= 0:
        return None
    ends = declined_at + timedelta(days=cooldown_days)
    if ends <= now:
        return None
    return max(1, int((ends - now).total_seconds() + 0.999))
