"""Named dependencies every controller may ask for: the instance settings and the viewer."""

from __future__ import annotations

from typing import Any

from litestar.di import NamedDependency, Provide

from desvirt.accounts.auth import provide_signed_in_viewer, provide_viewer
from desvirt.accounts.tables import User
from desvirt.settings import Settings

InstanceSettings = NamedDependency[Settings]
SignedInUser = NamedDependency[User]
MaybeUser = NamedDependency[User | None]

SIGNED_IN: dict[str, Any] = {"viewer": Provide(provide_signed_in_viewer)}
MAYBE_SIGNED_IN: dict[str, Any] = {"viewer": Provide(provide_viewer)}
