"""Lets the `piccolo` command line find Desvirt's configuration from the repository root."""

from desvirt.piccolo_conf import APP_REGISTRY, DB

__all__ = ["APP_REGISTRY", "DB"]
