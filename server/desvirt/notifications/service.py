"""What other features tell the notifications outbox; mail is queued in the caller's transaction.

Meetups call these right after a change, inside the same write transaction, so a change and
its mail land together or not at all. Until the outbox lands they do nothing; keep the
signatures stable.
"""

from __future__ import annotations

from collections.abc import Collection


async def rsvp_changed(meetup_id: int, user_id: int, previous_status: str | None) -> None:
    """An RSVP's status changed (going, waitlisted, promoted, declined, ...)."""


async def meetup_updated(meetup_id: int) -> None:
    """The host changed time, place or text; the meetup's sequence was bumped."""


async def meetup_cancelled(meetup_id: int) -> None:
    """The host cancelled; everyone going, maybe or waitlisted hears it."""


async def people_invited(meetup_id: int, user_ids: Collection[int]) -> None:
    """The host invited these people (a proposal's invitees or a private meetup's guests)."""


async def met_claimed(claimer_id: int, other_id: int) -> None:
    """Someone said they met `other_id`: one gentle prompt to confirm (never a second one)."""
