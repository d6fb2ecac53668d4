"""Which signed-in pages a process may keep, and when it must forget them."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from desvirt.meetups.domain import page_changes_at
from desvirt.settings import Settings
from desvirt.signed_in_lane import SignedInPages, page_concerns

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def listening_pages(seconds: float = 60, max_bytes: int = 1_000_000) -> SignedInPages:
    pages = SignedInPages(seconds, max_bytes=max_bytes, clock=Clock())
    pages.start_listening()
    return pages


def keep(
    pages: SignedInPages,
    key: str,
    body: bytes = b"<p>page</p>",
    concerns: tuple[str, ...] = (),
    for_seconds: float = 3600,
) -> None:
    pages.keep(key, body, pages.clock() + for_seconds, pages.generation, concerns)


def test_nothing_is_kept_while_not_listening() -> None:
    pages = SignedInPages(60)
    pages.keep("ben", b"page", float("inf"), pages.generation)
    assert pages.get("ben") is None
    assert len(pages) == 0


def test_nothing_is_kept_with_zero_seconds() -> None:
    pages = listening_pages(seconds=0)
    keep(pages, "ben")
    assert pages.get("ben") is None


def test_a_page_read_before_a_change_arrived_is_not_kept() -> None:
    pages = listening_pages()
    read_at = pages.generation
    pages.changed("*")  # arrives while the page is being rendered
    pages.keep("ben", b"page", float("inf"), read_at)
    assert pages.get("ben") is None


def test_a_change_to_everything_forgets_every_page() -> None:
    pages = listening_pages()
    keep(pages, "ben", concerns=("m:1", "u:2"))
    keep(pages, "carla", concerns=("m:3", "u:4"))
    pages.changed("*")
    assert pages.get("ben") is None
    assert pages.get("carla") is None


def test_a_change_forgets_only_the_pages_it_concerns() -> None:
    pages = listening_pages()
    keep(pages, "ben-at-tapas", concerns=("m:1", "u:2", "s:ben"))
    keep(pages, "ben-at-vermut", concerns=("m:5", "u:2", "s:ben"))
    keep(pages, "carla-at-tapas", concerns=("m:1", "u:4", "s:carla"))
    keep(pages, "dora-at-vermut", concerns=("m:5", "u:6", "s:dora"))

    pages.changed("m:1")  # someone answered to tapas
    assert pages.get("ben-at-tapas") is None
    assert pages.get("carla-at-tapas") is None
    assert pages.get("ben-at-vermut") is not None

    pages.changed("u:2")  # ben's contacts or settings changed
    assert pages.get("ben-at-vermut") is None
    assert pages.get("dora-at-vermut") is not None

    pages.changed("s:dora")  # dora signed out
    assert len(pages) == 0


def test_a_page_read_before_a_change_to_it_arrived_is_not_kept_but_others_are() -> None:
    pages = listening_pages()
    read_at = pages.generation
    pages.changed("m:9")  # another meetup, while this one was being rendered
    pages.keep("ben", b"page", float("inf"), read_at, ("m:1", "u:2"))
    assert pages.get("ben") is not None
    pages.changed("u:2")
    pages.keep("ben", b"page", float("inf"), read_at, ("m:1", "u:2"))
    assert pages.get("ben") is None


def test_a_notification_not_understood_forgets_every_page() -> None:
    pages = listening_pages()
    keep(pages, "ben", concerns=("m:1",))
    pages.changed("m:")
    assert pages.get("ben") is None


def test_losing_the_listener_forgets_every_page_and_keeps_none() -> None:
    pages = listening_pages()
    keep(pages, "ben")
    pages.stop_listening()
    keep(pages, "carla")
    assert len(pages) == 0
    pages.start_listening()
    assert pages.get("ben") is None


def test_a_page_goes_when_time_would_change_it_or_after_the_setting() -> None:
    pages = listening_pages(seconds=60)
    clock = pages.clock
    assert isinstance(clock, Clock)
    keep(pages, "begins-soon", for_seconds=10)
    keep(pages, "begins-later", for_seconds=3600)
    clock.now += 10
    assert pages.get("begins-soon") is None
    assert pages.get("begins-later") is not None
    clock.now += 50
    assert pages.get("begins-later") is None


def test_the_oldest_pages_go_first_when_memory_is_full() -> None:
    pages = listening_pages(max_bytes=25)
    keep(pages, "ana", b"x" * 10)
    keep(pages, "ben", b"x" * 10)
    assert pages.get("ana") is not None  # used again: now the newest
    keep(pages, "carla", b"x" * 10)
    assert pages.get("ben") is None
    assert pages.get("ana") is not None
    assert pages.get("carla") is not None


def test_keeping_a_page_again_replaces_it() -> None:
    pages = listening_pages(max_bytes=25)
    keep(pages, "ana", b"x" * 20)
    keep(pages, "ana", b"y" * 20)
    assert pages.get("ana") == b"y" * 20
    assert len(pages) == 1


def test_a_meetup_page_changes_when_it_begins_then_when_it_ends() -> None:
    starts, ends = NOW + timedelta(days=2), NOW + timedelta(days=2, hours=3)
    assert page_changes_at(starts, ends, NOW) == starts
    assert page_changes_at(starts, ends, starts) == ends
    assert page_changes_at(starts, ends, ends) is None
    assert page_changes_at(None, None, NOW) is None


MOMENTS = st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC))


@given(MOMENTS, st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3)), MOMENTS)
def test_a_page_never_outlives_the_moment_time_changes_it(
    starts: datetime, length: timedelta, now: datetime
) -> None:
    ends = starts + length
    changes = page_changes_at(starts, ends, now)
    if changes is None:
        assert ends <= now
    else:
        assert changes > now
        assert changes in (starts, ends)
        assert not (now < starts < changes)


def test_the_setting_is_read_from_the_environment() -> None:
    assert Settings.from_env({}).signed_in_page_seconds == 60
    assert Settings.from_env({"DESVIRT_SIGNED_IN_PAGE_SECONDS": "0"}).signed_in_page_seconds == 0


def test_a_page_concerns_its_meetup_its_viewer_and_their_session_row() -> None:
    meetup, viewer, session = page_concerns(7, 42, "abc")
    assert (meetup, viewer) == ("m:7", "u:42")
    assert session == "s:" + hashlib.md5(b"sessions:abc").hexdigest()  # as the trigger hashes
