"""Pure contact rules: trust levels and their order."""

from __future__ import annotations

TRUST_LEVELS = ("none", "online", "met", "verified")


def trust_at_least(level: str, minimum: str) -> bool:
    """True when `level` reaches `minimum` ('anyone' is below every level)."""
    if minimum == "anyone":
        return True
    return TRUST_LEVELS.index(level) >= TRUST_LEVELS.index(minimum)
