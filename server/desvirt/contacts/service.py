"""Contact queries other features rely on: trust between people and blocks.

Until the contacts feature lands these answer "no relationship"; their signatures are the
seam meetups and calendar code call, so keep them stable.
"""

from __future__ import annotations

from collections.abc import Collection


async def trust_levels(viewer_id: int, other_ids: Collection[int]) -> dict[int, str]:
    """Trust level between the viewer and each of the others, in one query."""
    return {other: "none" for other in other_ids}


async def trust_level(user_id: int, other_id: int) -> str:
    return (await trust_levels(user_id, [other_id]))[other_id]


async def blocked_either_way(user_id: int) -> set[int]:
    """Everyone this user blocked or was blocked by: to each other they look like nobody."""
    return set()


async def may_propose(host_id: int, invitee_id: int) -> bool:
    """Whether the invitee's charter (`proposals_from`) and blocks let this host propose."""
    from desvirt.accounts.tables import User
    from desvirt.contacts.domain import trust_at_least

    if invitee_id in await blocked_either_way(host_id):
        return False
    row = await User.select(User.proposals_from).where(User.id == invitee_id).first()
    if row is None:
        return False
    return trust_at_least(await trust_level(host_id, invitee_id), row["proposals_from"])
