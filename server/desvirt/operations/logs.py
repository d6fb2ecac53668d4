"""Logs an operator can search: one JSON object per line (or plain text), each with the
request id of the request that wrote it, so one request is followed across all its lines."""

from __future__ import annotations

import json
import logging
import logging.config
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from desvirt.settings import Settings

REQUEST_ID: ContextVar[str] = ContextVar("desvirt_request_id", default="-")

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
# Attributes every LogRecord has; anything else on a record was passed as `extra=`.
_RECORD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
    | {"message", "asctime", "request_id", "taskName"}
)


class RequestIdFilter(logging.Filter):
    """Stamps every record with the id of the request being served (or "-")."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id and any extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", REQUEST_ID.get()),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def logging_config(settings: Settings) -> dict[str, Any]:
    """A `logging.config.dictConfig` for our loggers and granian's, in the chosen format.

    Granian applies it in every worker process it spawns, so workers log like the parent.
    """
    formatter: dict[str, Any] = (
        {"()": f"{__name__}.JsonFormatter"}
        if settings.log_format == "json"
        else {"()": "logging.Formatter", "fmt": TEXT_FORMAT}
    )
    handler = {
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
        "formatter": "desvirt",
        "filters": ["request_id"],
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": f"{__name__}.RequestIdFilter"}},
        "formatters": {"desvirt": formatter},
        "handlers": {"desvirt": handler},
        "root": {"handlers": ["desvirt"], "level": settings.log_level},
        "loggers": {
            "_granian": {"handlers": ["desvirt"], "level": "INFO", "propagate": False},
            "granian.access": {"handlers": ["desvirt"], "level": "INFO", "propagate": False},
        },
    }


def configure(settings: Settings) -> None:
    """Apply `logging_config` to this process (the CLI's own commands use it)."""
    logging.config.dictConfig(logging_config(settings))
