"""Desvirt: organize offline meetups with the people you know online."""

__version__ = "0.1.0"
