"""The meetups of the demo community (`desvirt demo`); safe to run twice.

Built through the same service functions the app uses, so the demo shows real seats, a
waitlist, a pending approval and, for a meetup that already happened, check-ins that the
"who did you meet?" page can use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from desvirt.accounts.tables import User
from desvirt.meetups import domain, service
from desvirt.meetups.tables import Meetup, Rsvp


@dataclass(frozen=True)
class DemoMeetup:
    host: str
    title: str
    description: str
    in_days: int
    hour: int
    hours: int
    timezone: str
    venue_name: str = ""
    venue_address: str = ""
    latitude: float | None = None
    longitude: float | None = None
    online_url: str = ""
    capacity: int | None = None
    visibility: str = "public"
    requires_approval: bool = False
    answers: tuple[tuple[str, str, int], ...] = ()  # handle, response, guests
    approved: tuple[str, ...] = ()
    checked_in: tuple[str, ...] = field(default=())


DEMO_MEETUPS = (
    DemoMeetup(
        host="lucia",
        title="Cañas #desvirt Madrid",
        description=(
            "Ponemos cara a los contactos de LinkedIn y Mastodon.\n\n"
            "- Primera ronda a las 19:30\n- Sin presentaciones comerciales, por favor\n\n"
            "Más info: [desvirt.example.org](https://desvirt.example.org)"
        ),
        in_days=5,
        hour=19,
        hours=3,
        timezone="Europe/Madrid",
        venue_name="Taberna El Sur",
        venue_address="Calle de la Torrecilla del Leal 12, Madrid",
        latitude=40.4118,
        longitude=-3.6996,
        capacity=8,
        answers=(("mateo", "yes", 1), ("emma", "yes", 0), ("noah", "maybe", 0)),
    ),
    DemoMeetup(
        host="jonas",
        title="Stammtisch Digitalisierung Berlin",
        description=(
            "Wer sich bisher nur aus Xing und LinkedIn kennt: **endlich persönlich**.\n\n"
            "Wir haben einen Tisch für drei reserviert, danach Warteliste."
        ),
        in_days=9,
        hour=18,
        hours=3,
        timezone="Europe/Berlin",
        venue_name="Prater Garten",
        venue_address="Kastanienallee 7-9, 10435 Berlin",
        latitude=52.5396,
        longitude=13.4099,
        capacity=3,
        answers=(("lena", "yes", 0), ("lucia", "yes", 0), ("emma", "yes", 0), ("noah", "yes", 0)),
    ),
    DemoMeetup(
        host="emma",
        title="Remote coffee: from LinkedIn to real life",
        description="A relaxed video call for people who *want* to meet but live far apart.",
        in_days=3,
        hour=9,
        hours=1,
        timezone="Europe/London",
        online_url="https://meet.jit.si/desvirt-demo-coffee",
        visibility="unlisted",
        requires_approval=True,
        answers=(("noah", "yes", 0), ("mateo", "yes", 0)),
        approved=("mateo",),
    ),
    DemoMeetup(
        host="lena",
        title="Afterwork Wien: Netzwerken ohne Visitenkarten",
        description="Ein Abend im Museumsquartier. Danke an alle, die da waren!",
        in_days=-4,
        hour=18,
        hours=3,
        timezone="Europe/Vienna",
        venue_name="Café Leopold",
        venue_address="Museumsplatz 1, 1070 Wien",
        latitude=48.2030,
        longitude=16.3590,
        capacity=20,
        answers=(("jonas", "yes", 0), ("emma", "yes", 0), ("lucia", "maybe", 0)),
        checked_in=("jonas", "emma"),
    ),
)


async def load() -> None:
    """Runs after the demo people exist (contacts first, then meetups)."""
    people = {row.handle: row for row in await User.objects()}
    for demo in DEMO_MEETUPS:
        host = people.get(demo.host)
        if host is None or await Meetup.exists().where(
            (Meetup.host == host.id) & (Meetup.title == demo.title)
        ):
            continue
        await _create(demo, host, people)


async def _create(demo: DemoMeetup, host: User, people: dict[str, User]) -> None:
    day = datetime.now(UTC).date() + timedelta(days=max(demo.in_days, 1))
    starts = f"{day.isoformat()}T{demo.hour:02d}:00"
    ends = f"{day.isoformat()}T{demo.hour + demo.hours:02d}:00"
    fields = domain.check_meetup(
        domain.MeetupDraft(
            title=demo.title,
            description=demo.description,
            starts_at=starts,
            ends_at=ends,
            timezone=demo.timezone,
            venue_name=demo.venue_name,
            venue_address=demo.venue_address,
            latitude=demo.latitude,
            longitude=demo.longitude,
            online_url=demo.online_url,
            capacity=demo.capacity,
            visibility=demo.visibility,
            requires_approval=demo.requires_approval,
        )
    )
    meetup = await service.create_meetup(host, fields)
    for handle, response, guests in demo.answers:
        if handle in people:
            await service.rsvp(meetup.slug, people[handle], response, guests)
    for handle in demo.approved:
        await service.decide(meetup.slug, host, handle, approve=True)
    if demo.in_days < 0:
        # A meetup that already happened: answered while upcoming, then moved to the past.
        shift = timedelta(days=max(demo.in_days, 1) - demo.in_days)
        await Meetup.update(
            {
                Meetup.starts_at: fields.starts_at - shift,
                Meetup.ends_at: fields.ends_at - shift,
            }
        ).where(Meetup.id == meetup.id)
        ids = [people[handle].id for handle in demo.checked_in if handle in people]
        await Rsvp.update({Rsvp.checked_in_at: fields.ends_at - shift - timedelta(hours=2)}).where(
            (Rsvp.meetup == meetup.id) & (Rsvp.user.is_in(ids))
        )
