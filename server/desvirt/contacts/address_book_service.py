"""Address book use cases: import a file all or nothing, list who is in it (and who of them
is already on Desvirt), forget an entry, and export my contacts.

Entries are people to invite, not contacts: nothing here writes to the contact history.
An import reads the whole file first (`address_book.read_address_book` refuses it with
every problem listed, or returns everyone) and then writes in one transaction, so a file
is either imported completely or not at all. Importing the same file again finds each
person already there (same email, same profile URL, or, with neither, same name) and adds
nobody twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from typing import Any

import anyio.to_thread
from piccolo.columns import Column

from desvirt import database
from desvirt.accounts.tables import User
from desvirt.contacts import address_book
from desvirt.contacts.address_book import ExportedContact, Person
from desvirt.contacts.domain import REASON_LABELS
from desvirt.contacts.service import blocked_either_way
from desvirt.contacts.tables import AddressBookEntry, Contact
from desvirt.errors import Conflict, NotFound
from desvirt.i18n import N_, gettext

PER_PAGE = 100
MAX_ENTRIES = 20_000
INSERT_BATCH = 200

TRUST_LABELS = {
    "online": N_("Connected online"),
    "met": N_("Met in person"),
    "verified": N_("Verified in person"),
}


@dataclass(frozen=True)
class ImportReport:
    """What an import did: how many people the file held and what became of them."""

    source: str
    read: int
    added: int
    updated: int
    unchanged: int


@dataclass(frozen=True)
class Member:
    """The Desvirt account an entry's email belongs to."""

    handle: str
    display_name: str
    is_contact: bool


@dataclass(frozen=True)
class EntryView:
    id: int
    name: str
    email: str
    company: str
    position: str
    profile_url: str
    source: str
    connected_on: date | None
    created_at: datetime
    member: Member | None


@dataclass(frozen=True)
class EntryPage:
    entries: list[EntryView]
    total: int
    page: int
    pages: int


async def import_file(
    owner: User, data: bytes, *, filename: str = "", content_type: str = ""
) -> ImportReport:
    """Read the file (raises `address_book.ParseError`) and add its people, all or nothing."""
    # Reading 5,000 rows takes a few hundred milliseconds: not on the event loop.
    book = await anyio.to_thread.run_sync(
        partial(address_book.read_address_book, data, filename=filename, content_type=content_type)
    )
    async with database.write_transaction():
        await _lock_owner(owner.id)
        rows = await AddressBookEntry.select(
            AddressBookEntry.id,
            AddressBookEntry.name,
            AddressBookEntry.email,
            AddressBookEntry.company,
            AddressBookEntry.position,
            AddressBookEntry.profile_url,
            AddressBookEntry.connected_on,
        ).where(AddressBookEntry.owner == owner.id)
        by_key: dict[str, dict[str, Any]] = {}
        for row in rows:
            for key in address_book.person_keys(_stored_person(row)):
                by_key[key] = row
        added: list[AddressBookEntry] = []
        updates: list[tuple[int, dict[Column | str, Any]]] = []
        unchanged = 0
        for person in book.people:
            keys = address_book.person_keys(person)
            match = next((by_key[key] for key in sorted(keys) if key in by_key), None)
            if match is None:
                added.append(_new_entry(owner.id, book.source, person))
                continue
            changes = _changes(match, person, by_key)
            if changes:
                updates.append((match["id"], changes))
            else:
                unchanged += 1
        if len(rows) + len(added) > MAX_ENTRIES:
            raise Conflict(
                N_("Your address book would hold more than %(limit)s people. Delete some first."),
                code="address_book_full",
                limit=MAX_ENTRIES,
            )
        for start in range(0, len(added), INSERT_BATCH):
            await AddressBookEntry.insert(*added[start : start + INSERT_BATCH])
        for entry_id, changes in updates:
            await AddressBookEntry.update(changes).where(AddressBookEntry.id == entry_id)
    return ImportReport(
        source=book.source,
        read=len(book.people),
        added=len(added),
        updated=len(updates),
        unchanged=unchanged,
    )


async def entries(owner: User, page: int = 1) -> EntryPage:
    """One page of the owner's address book, by name, in a constant number of queries."""
    total = await AddressBookEntry.count().where(AddressBookEntry.owner == owner.id)
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(1, page), pages)
    rows = (
        await AddressBookEntry.select(
            AddressBookEntry.id,
            AddressBookEntry.name,
            AddressBookEntry.email,
            AddressBookEntry.company,
            AddressBookEntry.position,
            AddressBookEntry.profile_url,
            AddressBookEntry.source,
            AddressBookEntry.connected_on,
            AddressBookEntry.created_at,
        )
        .where(AddressBookEntry.owner == owner.id)
        .order_by(AddressBookEntry.name)
        .order_by(AddressBookEntry.id)
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    )
    members = await _members(owner, [row["email"] for row in rows if row["email"]])
    return EntryPage(
        entries=[
            EntryView(
                id=row["id"],
                name=row["name"],
                email=row["email"] or "",
                company=row["company"],
                position=row["position"],
                profile_url=row["profile_url"] or "",
                source=row["source"],
                connected_on=row["connected_on"],
                created_at=row["created_at"],
                member=members.get(row["email"] or ""),
            )
            for row in rows
        ],
        total=total,
        page=page,
        pages=pages,
    )


async def delete_entry(owner: User, entry_id: int) -> None:
    """Forget one entry; someone else's entry is a 404, as if it did not exist."""
    deleted = (
        await AddressBookEntry.delete()
        .where((AddressBookEntry.id == entry_id) & (AddressBookEntry.owner == owner.id))
        .returning(AddressBookEntry.id)
    )
    if not deleted:
        raise NotFound(N_("That address book entry does not exist."), code="entry_not_found")


async def exported_contacts(owner: User, base_url: str) -> list[ExportedContact]:
    """My contacts as they leave Desvirt: no emails (those are not mine to hand out)."""
    rows = (
        await Contact.select(
            Contact.other.handle.as_alias("handle"),
            Contact.other.display_name.as_alias("display_name"),
            Contact.trust,
            Contact.reason,
            Contact.since,
            Contact.meetings,
        )
        .where(Contact.owner == owner.id)
        .order_by(Contact.other.display_name)
    )
    return [
        ExportedContact(
            handle=row["handle"],
            display_name=row["display_name"],
            trust=row["trust"],
            reason=row["reason"],
            since=row["since"],
            meetings=row["meetings"],
            profile_url=f"{base_url}/u/{row['handle']}",
        )
        for row in rows
    ]


def vcard_note(locale: str) -> Any:
    """The NOTE of each exported card, in the owner's language."""

    def note(contact: ExportedContact) -> str:
        return gettext(
            locale,
            N_("Desvirt contact since %(since)s. Trust: %(trust)s. Reason: %(reason)s."),
            since=contact.since.date().isoformat(),
            trust=gettext(locale, TRUST_LABELS.get(contact.trust, contact.trust)),
            reason=gettext(locale, REASON_LABELS.get(contact.reason, contact.reason)),
        )

    return note


async def _lock_owner(owner_id: int) -> None:
    """Imports of one owner run one after the other (SQLite: the write transaction does it)."""
    if database.is_sqlite():
        return
    await User.select(User.id).where(User.id == owner_id).lock_rows("UPDATE")


async def _members(owner: User, emails: list[str]) -> dict[str, Member]:
    """Which of these emails belong to people on Desvirt the owner may see, by email."""
    if not emails:
        return {}
    users = await User.select(User.id, User.email, User.handle, User.display_name).where(
        User.email.is_in(sorted(set(emails))) & (User.id != owner.id)
    )
    if not users:
        return {}
    hidden = await blocked_either_way(owner.id)
    users = [user for user in users if user["id"] not in hidden]
    contacts = {
        row["other"]
        for row in await Contact.select(Contact.other).where(
            (Contact.owner == owner.id) & Contact.other.is_in([u["id"] for u in users] or [0])
        )
    }
    return {
        user["email"]: Member(
            handle=user["handle"],
            display_name=user["display_name"],
            is_contact=user["id"] in contacts,
        )
        for user in users
    }


def _stored_person(row: dict[str, Any]) -> Person:
    return Person(name=row["name"], email=row["email"] or "", profile_url=row["profile_url"] or "")


def _new_entry(owner_id: int, source: str, person: Person) -> AddressBookEntry:
    has_key = bool(person.email or person.profile_url)
    return AddressBookEntry(
        owner=owner_id,
        name=person.name,
        name_key=None if has_key else address_book.name_key(person.name),
        email=person.email or None,
        company=person.company,
        position=person.position,
        profile_url=person.profile_url or None,
        source=source,
        connected_on=person.connected_on,
    )


def _changes(
    row: dict[str, Any], person: Person, by_key: dict[str, Any]
) -> dict[Column | str, Any]:
    """What a re-import adds to an entry: newer company, position and date; an email or
    profile URL it lacked, unless another entry already holds it."""
    changes: dict[Column | str, Any] = {}
    for name, value in (
        ("company", person.company),
        ("position", person.position),
        ("connected_on", person.connected_on),
    ):
        if value and row[name] != value:
            changes[name] = value
    for name, value, key in (
        ("email", person.email, "email:" + person.email),
        ("profile_url", person.profile_url, "url:" + person.profile_url),
    ):
        if value and not row[name] and key not in by_key:
            changes[name] = value
            changes["name_key"] = None
            by_key[key] = row
    return changes
