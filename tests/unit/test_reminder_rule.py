"""Reminders never fire in quiet hours: moved earlier, never later, never dropped or doubled."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import example, given, settings
from hypothesis import strategies as st

from desvirt.calendar.domain import QUIET_HOURS_MARGIN, QuietHours, is_quiet, reminder_times

NIGHT = QuietHours.parse("22:00", "08:00")
ZONES = [
    "UTC",
    "Europe/Madrid",
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "America/Bogota",
    "America/Santiago",
    "America/St_Johns",
    "Pacific/Auckland",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "Asia/Tokyo",
    "Europe/Dublin",
]


def local(zone: str, *args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone)).astimezone(UTC)  # type: ignore[misc]


def test_default_reminders_a_day_and_two_hours_before_an_afternoon_meetup() -> None:
    start = local("Europe/Madrid", 2026, 12, 3, 19, 0)
    assert reminder_times(start, [1440, 120], NIGHT, "Europe/Madrid") == [
        start - timedelta(days=1),
        start - timedelta(hours=2),
    ]


def test_a_reminder_in_the_night_moves_to_just_before_quiet_hours_begin() -> None:
    start = local("Europe/Madrid", 2026, 12, 3, 9, 0)  # 07:00 reminder is in quiet hours
    assert reminder_times(start, [120], NIGHT, "Europe/Madrid") == [
        local("Europe/Madrid", 2026, 12, 2, 21, 55)
    ]


def test_quiet_hours_are_read_in_the_users_zone_not_the_events() -> None:
    # 18:00 in Madrid is 02:00 in Tokyo: a Tokyo user is reminded before 22:00 their time.
    start = local("Europe/Madrid", 2026, 12, 3, 20, 0)
    [moment] = reminder_times(start, [120], NIGHT, "Asia/Tokyo")
    assert moment == local("Asia/Tokyo", 2026, 12, 3, 21, 55)
    assert not is_quiet(moment, NIGHT, "Asia/Tokyo")


def test_two_reminders_landing_in_the_same_night_become_one() -> None:
    start = local("Europe/Berlin", 2026, 12, 3, 9, 0)
    assert reminder_times(start, [180, 120], NIGHT, "Europe/Berlin") == [
        local("Europe/Berlin", 2026, 12, 2, 21, 55)
    ]


def test_quiet_hours_inside_one_day() -> None:
    siesta = QuietHours.parse("14:00", "17:00")
    start = local("Europe/Madrid", 2026, 12, 3, 18, 0)
    assert reminder_times(start, [120], siesta, "Europe/Madrid") == [
        local("Europe/Madrid", 2026, 12, 3, 13, 55)
    ]


def test_equal_start_and_end_means_no_quiet_hours() -> None:
    start = local("UTC", 2026, 12, 3, 3, 0)
    assert reminder_times(start, [60], QuietHours.parse("00:00", "00:00"), "UTC") == [
        start - timedelta(hours=1)
    ]


def test_a_reminder_at_the_start_is_allowed_and_an_event_start_in_the_night_moves_it() -> None:
    start = local("UTC", 2026, 12, 3, 23, 0)
    assert reminder_times(start, [0], NIGHT, "UTC") == [local("UTC", 2026, 12, 3, 21, 55)]


def test_quiet_hours_beginning_at_a_time_skipped_by_spring_forward() -> None:
    # Madrid 2026-03-29: 02:00 jumps to 03:00. Quiet from 02:30 begins at the jump.
    quiet = QuietHours.parse("02:30", "09:00")
    start = local("Europe/Madrid", 2026, 3, 29, 10, 0)
    [moment] = reminder_times(start, [120], quiet, "Europe/Madrid")
    assert moment == datetime(2026, 3, 29, 1, 0, tzinfo=UTC) - QUIET_HOURS_MARGIN
    assert moment.astimezone(ZoneInfo("Europe/Madrid")).time() == time(1, 55)


def test_fall_back_night_is_handled() -> None:
    # New York 2026-11-01: 02:00 falls back to 01:00; quiet 01:30-07:00.
    quiet = QuietHours.parse("01:30", "07:00")
    start = local("America/New_York", 2026, 11, 1, 8, 0)
    [moment] = reminder_times(start, [120], quiet, "America/New_York")
    assert not is_quiet(moment, quiet, "America/New_York")
    assert moment.astimezone(ZoneInfo("America/New_York")).time() == time(1, 25)


clock_times = st.builds(time, st.integers(0, 23), st.integers(0, 59))
moments = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)
offsets = st.lists(st.integers(0, 4 * 7 * 24 * 60), max_size=5)


@settings(max_examples=400, deadline=None)
@given(
    start=moments,
    offsets_minutes=offsets,
    quiet_start=clock_times,
    quiet_end=clock_times,
    zone=st.sampled_from(ZONES),
)
@example(  # spring forward in Madrid, quiet hours spanning midnight
    start=datetime(2026, 3, 29, 6, 0, tzinfo=UTC),
    offsets_minutes=[60, 120, 240],
    quiet_start=time(22, 0),
    quiet_end=time(8, 0),
    zone="Europe/Madrid",
)
@example(  # fall back in New York, quiet hours starting inside the repeated hour
    start=datetime(2026, 11, 1, 7, 0, tzinfo=UTC),
    offsets_minutes=[30, 60, 90],
    quiet_start=time(1, 15),
    quiet_end=time(6, 0),
    zone="America/New_York",
)
@example(  # the awake window is one minute
    start=datetime(2026, 6, 1, 12, 0, tzinfo=UTC),
    offsets_minutes=[0, 1, 600],
    quiet_start=time(8, 1),
    quiet_end=time(8, 0),
    zone="Pacific/Kiritimati",
)
@example(  # the awake window is swallowed by the spring-forward jump
    start=datetime(2026, 3, 29, 12, 0, tzinfo=UTC),
    offsets_minutes=[300],
    quiet_start=time(3, 0),
    quiet_end=time(2, 30),
    zone="Europe/Berlin",
)
def test_reminders_are_never_quiet_never_late_never_dropped_never_doubled(
    start: datetime,
    offsets_minutes: list[int],
    quiet_start: time,
    quiet_end: time,
    zone: str,
) -> None:
    quiet = QuietHours(quiet_start, quiet_end)
    times = reminder_times(start, offsets_minutes, quiet, zone)

    assert times == sorted(set(times)), "distinct and in order"
    assert len(times) <= len(set(offsets_minutes))
    assert bool(times) == bool(offsets_minutes)
    for moment in times:
        assert moment <= start, "never later than the event"
        assert not is_quiet(moment, quiet, zone), "never inside quiet hours"
    for minutes in offsets_minutes:
        nominal = start - timedelta(minutes=minutes)
        if not is_quiet(nominal, quiet, zone):
            assert nominal in times, "a reminder outside quiet hours stays where it is"
        else:
            earlier = [moment for moment in times if moment <= nominal]
            assert earlier, "never dropped: a reminder at or before the nominal time"
            # moved to just before the quiet stretch: at most a day early, two when a
            # daylight-saving jump swallowed the short awake window before it
            assert nominal - max(earlier) <= timedelta(hours=49)


@settings(max_examples=200, deadline=None)
@given(start=moments, zone=st.sampled_from(ZONES), quiet_start=clock_times, quiet_end=clock_times)
def test_a_moved_reminder_sits_just_before_quiet_hours(
    start: datetime, zone: str, quiet_start: time, quiet_end: time
) -> None:
    quiet = QuietHours(quiet_start, quiet_end)
    [moment] = reminder_times(start, [0], quiet, zone)
    if moment != start:
        # the first quiet moment after it is within the margin (plus a DST jump at most)
        probe = moment + QUIET_HOURS_MARGIN
        assert is_quiet(probe, quiet, zone) or is_quiet(probe + timedelta(hours=1), quiet, zone)
