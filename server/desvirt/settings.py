"""Every setting of Desvirt, read from the environment in one place."""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATABASE_URL = "sqlite:///var/desvirt.db"
SUPPORTED_LOCALES = ("en", "es", "de")
LOG_FORMATS = ("text", "json")


class SettingsError(ValueError):
    """A setting in the environment cannot be used; the message says which and why."""


@dataclass(frozen=True)
class Settings:
    """The instance's configuration; build it with `Settings.from_env()`."""

    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    base_url: str = "http://127.0.0.1:8000"
    smtp_url: str | None = None
    mail_from: str = "Desvirt <desvirt@localhost>"
    signups_per_ip_per_hour: int = 20
    login_failures_allowed: int = 10
    login_failure_window_seconds: int = 15 * 60
    contact_requests_per_day: int = 20
    pending_requests_max: int = 50
    decline_cooldown_days: int = 90
    proposal_cooldown_days: int = 30
    max_body_bytes: int = 1024 * 1024
    password_hash_profile: str = "default"
    database_pool_max: int = 20
    # How long a page as people who are not signed in see it is reused in one process.
    public_page_seconds: int = 2
    # How long at most a meetup page rendered for a signed-in viewer is kept (PostgreSQL).
    signed_in_page_seconds: int = 60
    # Where each process LISTENs for changes (feed versions, signed-in pages): "" means
    # database_url, "off" keeps nothing.
    feed_listener_url: str = ""
    log_level: str = "INFO"
    log_format: str = "text"
    # Normalized CIDR strings ("127.0.0.1/32"); strings keep Settings a plain DI value.
    trusted_proxies: tuple[str, ...] = ()
    secret_key_is_ephemeral: bool = False

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Read DESVIRT_* variables; unknown values fail loudly at start, not at first use."""
        env = dict(os.environ if environ is None else environ)
        secret = env.get("DESVIRT_SECRET_KEY", "")
        settings = cls(
            database_url=env.get("DESVIRT_DATABASE_URL", DEFAULT_DATABASE_URL),
            secret_key=secret or secrets.token_urlsafe(32),
            secret_key_is_ephemeral=not secret,
            base_url=env.get("DESVIRT_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
            smtp_url=env.get("DESVIRT_SMTP_URL") or None,
            mail_from=env.get("DESVIRT_MAIL_FROM", "Desvirt <desvirt@localhost>"),
            signups_per_ip_per_hour=_int(env, "DESVIRT_SIGNUPS_PER_IP_PER_HOUR", 20),
            login_failures_allowed=_int(env, "DESVIRT_LOGIN_FAILURES_ALLOWED", 10),
            login_failure_window_seconds=_int(env, "DESVIRT_LOGIN_FAILURE_WINDOW_SECONDS", 900),
            contact_requests_per_day=_int(env, "DESVIRT_CONTACT_REQUESTS_PER_DAY", 20),
            pending_requests_max=_int(env, "DESVIRT_PENDING_REQUESTS_MAX", 50),
            decline_cooldown_days=_int(env, "DESVIRT_DECLINE_COOLDOWN_DAYS", 90),
            proposal_cooldown_days=_int(env, "DESVIRT_PROPOSAL_COOLDOWN_DAYS", 30),
            max_body_bytes=_int(env, "DESVIRT_MAX_BODY_BYTES", 1024 * 1024),
            password_hash_profile=env.get("DESVIRT_PASSWORD_HASH_PROFILE", "default"),
            database_pool_max=_int(env, "DESVIRT_DATABASE_POOL_MAX", 20),
            public_page_seconds=_int(env, "DESVIRT_PUBLIC_PAGE_SECONDS", 2),
            signed_in_page_seconds=_int(env, "DESVIRT_SIGNED_IN_PAGE_SECONDS", 60),
            feed_listener_url=env.get("DESVIRT_FEED_LISTENER_URL", "").strip(),
            log_level=env.get("DESVIRT_LOG_LEVEL", "INFO").upper(),
            log_format=env.get("DESVIRT_LOG_FORMAT", "text").strip().lower() or "text",
            trusted_proxies=_networks(env, "DESVIRT_TRUSTED_PROXIES"),
        )
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse settings that would only fail later, at a worse moment."""
        scheme = urlsplit(self.database_url).scheme
        if scheme not in ("sqlite", "postgresql", "postgres"):
            raise SettingsError(
                f"DESVIRT_DATABASE_URL must start with sqlite:// or postgresql://, "
                f"not {self.database_url!r}"
            )
        if urlsplit(self.base_url).scheme not in ("http", "https"):
            raise SettingsError("DESVIRT_BASE_URL must be an http:// or https:// URL")
        if self.password_hash_profile not in ("default", "cheapest"):
            raise SettingsError("DESVIRT_PASSWORD_HASH_PROFILE must be 'default' or 'cheapest'")
        listener = self.feed_listener_url
        if listener and listener.lower() != "off" and not _is_postgres_url(listener):
            raise SettingsError("DESVIRT_FEED_LISTENER_URL must be a postgresql:// URL or 'off'")
        if self.log_format not in LOG_FORMATS:
            raise SettingsError(
                f"DESVIRT_LOG_FORMAT must be 'text' or 'json', not {self.log_format!r}"
            )

    @property
    def is_https(self) -> bool:
        """Cookies are marked Secure when users reach the instance over https."""
        return self.base_url.startswith("https://")

    @property
    def is_postgres(self) -> bool:
        return _is_postgres_url(self.database_url)

    @property
    def feed_listener_dsn(self) -> str | None:
        """The PostgreSQL URL to LISTEN on for changes; None keeps no feed versions or pages."""
        if self.feed_listener_url.lower() == "off" or not self.is_postgres:
            return None
        url = self.feed_listener_url or self.database_url
        return url.replace("postgres://", "postgresql://", 1)


def _is_postgres_url(url: str) -> bool:
    return urlsplit(url).scheme in ("postgresql", "postgres")


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as error:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from error
    if value < 0:
        raise SettingsError(f"{name} must not be negative")
    return value


def _networks(env: dict[str, str], name: str) -> tuple[str, ...]:
    """Comma-separated addresses or CIDR ranges, e.g. `127.0.0.1, 10.0.0.0/8, ::1`."""
    networks = []
    for part in env.get(name, "").replace(" ", ",").split(","):
        if not part:
            continue
        try:
            networks.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError as error:
            raise SettingsError(
                f"{name} must list IP addresses or ranges like 10.0.0.0/8, not {part!r}"
            ) from error
    return tuple(networks)
