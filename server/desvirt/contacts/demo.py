"""The contacts of the demo community (`desvirt demo`); safe to run twice.

Everything goes through the real use cases, so the demo history looks like lived history:
accepted requests with reasons, a verified pair, a `met` claim, a removal followed by a
new request (removal memory), pending requests and a charter with auto-decline phrases.
"""

from __future__ import annotations

from desvirt.accounts.service import ProfileChanges, update_profile
from desvirt.accounts.tables import User
from desvirt.contacts import service
from desvirt.contacts.tables import ContactEvent
from desvirt.settings import Settings

# (sender, recipient, reason, message, answer): answer is accept, decline or None (pending)
REQUESTS = (
    (
        "mateo",
        "lucia",
        "ongoing_exchange",
        "Hablamos cada semana en Mastodon sobre vivienda cooperativa.",
        "accept",
    ),
    (
        "jonas",
        "lucia",
        "read_your_work",
        "Ich habe deinen Vortrag über Genossenschaften gelesen und hätte Fragen.",
        "accept",
    ),
    ("lena", "jonas", "met_in_person", "Wir haben uns beim Afterwork in Wien getroffen.", "accept"),
    ("emma", "noah", "client_or_partner", "We worked together on the Leeds project.", "accept"),
    ("mateo", "emma", "read_your_work", "Your post on remote teams was great.", "accept"),
    (
        "noah",
        "lucia",
        "business_interest",
        "We build booking software for housing cooperatives and would like your opinion.",
        None,
    ),
    ("lena", "emma", "meeting_soon", "See you at the Berlin dinner next week!", None),
)


async def load() -> None:
    """Runs after the demo people exist (contacts first, then meetups)."""
    people = {
        row["handle"]: row["id"]
        for row in await User.select(User.id, User.handle).where(
            User.handle.is_in(["lucia", "mateo", "jonas", "lena", "emma", "noah"])
        )
    }
    if len(people) < 6:
        return
    if await ContactEvent.exists().where(ContactEvent.actor.is_in(list(people.values()))):
        return  # already loaded
    users = {
        user.handle: user
        for user in await User.objects().where(User.id.is_in(list(people.values())))
    }
    await update_profile(
        users["lucia"],
        ProfileChanges(auto_decline_phrases=["oportunidad única", "quick call", "crypto"]),
    )
    settings = Settings()
    for sender, recipient, reason, message, answer in REQUESTS:
        sent = await service.send_request(
            settings, users[sender], to_handle=recipient, reason=reason, message=message
        )
        if answer is not None:
            await service.answer_request(users[recipient], sent.id, accept=answer == "accept")
    # Lucía and Mateo met at a dinner and both say so: verified. Jonas says he met Lena: met.
    await service.record_event(people["lucia"], people["mateo"], "met_claimed")
    await service.record_event(people["mateo"], people["lucia"], "met_claimed")
    await service.record_event(people["jonas"], people["lena"], "met_claimed")
    # Mateo removed Emma, then asks again: Emma sees when and the earlier history.
    await service.remove_contact(users["mateo"], "emma")
    await service.send_request(
        settings,
        users["mateo"],
        to_handle="emma",
        reason="client_or_partner",
        message="I'd like to work with your team after all.",
    )
