"""The demo community comes with contacts, a history and requests waiting; loading twice is safe."""

from __future__ import annotations

from desvirt.accounts import service as accounts
from desvirt.cli import DEMO_PEOPLE
from desvirt.contacts import demo
from desvirt.contacts.tables import Contact, ContactEvent, ContactRequest
from desvirt.settings import Settings
from tests.conftest import Backend


async def test_the_demo_has_contacts_at_every_level_and_pending_requests(
    db: Backend, settings: Settings
) -> None:
    for email, handle, name, locale, zone in DEMO_PEOPLE:
        await accounts.sign_up(
            settings,
            email=email,
            password="desvirt-demo-2026",
            handle=handle,
            display_name=name,
            locale=locale,
            timezone=zone,
        )
    await demo.load()
    events = await ContactEvent.count()
    trusts = {row["trust"] for row in await Contact.select(Contact.trust)}
    assert trusts == {"online", "met", "verified"}
    pending = await ContactRequest.count().where(ContactRequest.status == "pending")
    assert pending == 3
    assert await ContactEvent.exists().where(ContactEvent.kind == "removed")
    await demo.load()
    assert await ContactEvent.count() == events
