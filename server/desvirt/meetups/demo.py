"""The meetups of the demo community (`desvirt demo`); safe to run twice."""


async def load() -> None:
    """Runs after the demo people exist (contacts first, then meetups)."""
