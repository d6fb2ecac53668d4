"""Which feed versions a process may keep, and when it must forget them."""

from __future__ import annotations

import pytest

from desvirt.calendar.versions import KEPT_AT_MOST_SECONDS, FeedVersions, etag_matches
from desvirt.settings import Settings, SettingsError

HEADERS = [(b"etag", b'W/"v1"')]


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def listening_versions(clock: Clock | None = None) -> FeedVersions:
    versions = FeedVersions(clock or Clock())
    versions.start_listening()
    return versions


def keep(versions: FeedVersions, token: str, owner: int, valid_for: float = 600.0) -> None:
    versions.keep(
        token, owner, 'W/"v1"', HEADERS, versions.clock() + valid_for, versions.generation
    )


def test_nothing_is_kept_while_not_listening() -> None:
    versions = FeedVersions()
    versions.keep("lucia-token", 1, 'W/"v1"', HEADERS, 2e9, versions.generation)
    assert versions.get("lucia-token") is None
    assert len(versions) == 0


def test_a_version_read_before_a_change_arrived_is_not_kept() -> None:
    versions = listening_versions()
    read_at = versions.generation
    versions.changed("u:99")  # arrives while the version is being read
    versions.keep("lucia-token", 1, 'W/"v1"', HEADERS, 2e9, read_at)
    assert versions.get("lucia-token") is None


def test_a_change_to_one_user_forgets_only_their_feed() -> None:
    versions = listening_versions()
    keep(versions, "lucia-token", 1)
    keep(versions, "pablo-token", 2)
    versions.changed("u:1")
    assert versions.get("lucia-token") is None
    assert versions.get("pablo-token") is not None


def test_a_change_to_a_meetup_forgets_every_feed() -> None:
    versions = listening_versions()
    keep(versions, "lucia-token", 1)
    keep(versions, "pablo-token", 2)
    versions.changed("*")
    assert len(versions) == 0


def test_a_version_is_forgotten_when_time_alone_changes_the_feed() -> None:
    clock = Clock()
    versions = listening_versions(clock)
    keep(versions, "lucia-token", 1, valid_for=60)
    clock.now += 59
    assert versions.get("lucia-token") is not None
    clock.now += 1
    assert versions.get("lucia-token") is None


def test_no_version_is_kept_longer_than_a_day() -> None:
    clock = Clock()
    versions = listening_versions(clock)
    keep(versions, "lucia-token", 1, valid_for=30 * 24 * 3600)
    clock.now += KEPT_AT_MOST_SECONDS
    assert versions.get("lucia-token") is None


def test_a_new_token_replaces_the_owners_old_one() -> None:
    versions = listening_versions()
    keep(versions, "old-token", 1)
    keep(versions, "new-token", 1)
    assert versions.get("old-token") is None
    versions.changed("u:1")
    assert versions.get("new-token") is None


def test_losing_the_listener_forgets_everything() -> None:
    versions = listening_versions()
    keep(versions, "lucia-token", 1)
    versions.stop_listening()
    versions.start_listening()
    assert versions.get("lucia-token") is None


def test_if_none_match_compares_weakly_and_accepts_lists_and_star() -> None:
    assert etag_matches('W/"v1"', 'W/"v1"')
    assert etag_matches('"v1"', 'W/"v1"')
    assert etag_matches('"v0", W/"v1"', 'W/"v1"')
    assert etag_matches("*", 'W/"v1"')
    assert not etag_matches('"v2"', 'W/"v1"')


def test_the_listener_follows_the_database_unless_told_otherwise() -> None:
    postgres = "postgresql://desvirt@db.internal/desvirt"
    assert Settings(database_url=postgres).feed_listener_dsn == postgres
    assert Settings(database_url="sqlite:///var/desvirt.db").feed_listener_dsn is None
    direct = Settings.from_env(
        {
            "DESVIRT_DATABASE_URL": "postgres://desvirt@pgbouncer:6432/desvirt",
            "DESVIRT_FEED_LISTENER_URL": "postgres://desvirt@db.internal:5432/desvirt",
        }
    )
    assert direct.feed_listener_dsn == "postgresql://desvirt@db.internal:5432/desvirt"
    off = Settings.from_env({"DESVIRT_DATABASE_URL": postgres, "DESVIRT_FEED_LISTENER_URL": "off"})
    assert off.feed_listener_dsn is None
    with pytest.raises(SettingsError, match="DESVIRT_FEED_LISTENER_URL"):
        Settings.from_env({"DESVIRT_FEED_LISTENER_URL": "redis://localhost"})


def test_the_number_of_kept_versions_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("desvirt.calendar.versions.KEPT_FEEDS", 3)
    versions = listening_versions()
    for owner in range(5):
        keep(versions, f"token-{owner}", owner)
    assert len(versions) == 3
    assert versions.get("token-0") is None
    assert versions.get("token-4") is not None
