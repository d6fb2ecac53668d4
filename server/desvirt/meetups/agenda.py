"""A signed-in person's agenda on the front page: what they host, attend, and must vote on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from desvirt.accounts.tables import User
from desvirt.meetups.tables import Invitation, Meetup, Rsvp

AGENDA_LIMIT = 20
ATTENDING = ("going", "maybe", "waitlisted", "pending_approval")


@dataclass
class AgendaItem:
    slug: str
    title: str
    starts_at: datetime | None
    timezone: str
    role: str  # hosting | going | maybe | waitlisted | pending_approval | invited | proposed


@dataclass
class Agenda:
    upcoming: list[AgendaItem] = field(default_factory=list)
    to_vote: list[AgendaItem] = field(default_factory=list)
    proposed: list[AgendaItem] = field(default_factory=list)


async def agenda(viewer: User) -> Agenda:
    """Four bounded, indexed queries whatever the person's history."""
    now = datetime.now(UTC)
    hosting = await (
        Meetup.select(Meetup.slug, Meetup.title, Meetup.starts_at, Meetup.timezone, Meetup.status)
        .where(
            (Meetup.host == viewer.id)
            & (
                ((Meetup.status == "scheduled") & (Meetup.ends_at >= now))
                | (Meetup.status == "proposed")
            )
        )
        .order_by(Meetup.starts_at)
        .limit(AGENDA_LIMIT)
    )
    answered = await (
        Rsvp.select(
            Rsvp.status,
            Rsvp.meetup.slug,
            Rsvp.meetup.title,
            Rsvp.meetup.starts_at,
            Rsvp.meetup.timezone,
        )
        .where(
            (Rsvp.user == viewer.id)
            & Rsvp.status.is_in(list(ATTENDING))
            & (Rsvp.meetup.status == "scheduled")
            & (Rsvp.meetup.ends_at >= now)
        )
        .order_by(Rsvp.meetup.starts_at)
        .limit(AGENDA_LIMIT)
    )
    invited = await (
        Invitation.select(
            Invitation.meetup.slug, Invitation.meetup.title, Invitation.meetup.timezone
        )
        .where(
            (Invitation.user == viewer.id)
            & (Invitation.status != "declined")
            & (Invitation.meetup.status == "proposed")
        )
        .order_by(Invitation.id, ascending=False)
        .limit(AGENDA_LIMIT)
    )
    result = Agenda()
    for row in hosting:
        item = AgendaItem(row["slug"], row["title"], row["starts_at"], row["timezone"], "hosting")
        if row["status"] == "proposed":
            item.role = "proposed"
            result.proposed.append(item)
        else:
            result.upcoming.append(item)
    result.upcoming.extend(_item(row, "meetup.", row["status"]) for row in answered)
    result.upcoming.sort(key=lambda item: item.starts_at or now)
    result.upcoming = result.upcoming[:AGENDA_LIMIT]
    result.to_vote = [_item(row, "meetup.", "invited") for row in invited]
    return result


def _item(row: dict[str, Any], prefix: str, role: str) -> AgendaItem:
    return AgendaItem(
        slug=row[f"{prefix}slug"],
        title=row[f"{prefix}title"],
        starts_at=row.get(f"{prefix}starts_at"),
        timezone=row[f"{prefix}timezone"],
        role=role,
    )
