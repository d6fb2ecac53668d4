"""Pure contact rules: trust levels, their order, and trust derived from a pair's history."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

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
