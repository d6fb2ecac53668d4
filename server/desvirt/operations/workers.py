"""What `desvirt serve` prepares before it starts worker processes.

Kept free of prometheus_client imports on purpose: the library picks in-memory or
file-backed samples when it is first imported, so PROMETHEUS_MULTIPROC_DIR must be set
before any process (the parent included, as granian may fork) imports it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare_metrics_directory(workers: int) -> str | None:
    """Set up PROMETHEUS_MULTIPROC_DIR for several workers; returns a directory we made.

    An operator's own directory is emptied of stale sample files and kept; without one, a
    temporary directory is made (and should be removed by the caller after serving).
    """
    given = os.environ.get(MULTIPROCESS_ENV)
    if workers <= 1 and not given:
        return None
    path = Path(given) if given else Path(tempfile.mkdtemp(prefix="desvirt-metrics-"))
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROCESS_ENV] = str(path)
    return None if given else str(path)


def remove_metrics_directory(directory: str | None) -> None:
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
