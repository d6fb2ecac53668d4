"""JSON API of the address book (`/api/v1/address-book`) and of the contacts export.

An import is a multipart upload (field `file`) or the raw file with its content type
(`text/csv`, `text/vcard`). A file that cannot be imported is refused whole: 422 (413 when
it is too large) with every problem by line in `problems`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from litestar import MediaType, Request, Response, Router, delete, get, post
from litestar.datastructures import UploadFile
from litestar.status_codes import HTTP_200_OK
from msgspec import Struct

from desvirt.contacts import address_book, address_book_service
from desvirt.contacts.address_book import MAX_FILE_BYTES, MAX_PROBLEMS_LISTED, ParseError
from desvirt.dependencies import SIGNED_IN, InstanceSettings, SignedInUser
from desvirt.errors import DesvirtError
from desvirt.i18n import N_

RAW_TYPES = ("text/csv", "text/vcard", "text/x-vcard", "text/directory", "text/plain")
# Room for a file just over the limit plus multipart framing, so the reader can say why.
UPLOAD_MAX_BODY_BYTES = 2 * MAX_FILE_BYTES + 64 * 1024


class ImportResult(Struct):
    source: str
    read: int
    added: int
    updated: int
    unchanged: int


class OnDesvirt(Struct):
    handle: str
    display_name: str
    url: str
    is_contact: bool


class Entry(Struct):
    id: int
    name: str
    email: str
    company: str
    position: str
    profile_url: str
    source: str
    connected_on: date | None
    created_at: datetime
    on_desvirt: OnDesvirt | None


class EntryList(Struct):
    entries: list[Entry]
    total: int
    page: int
    pages: int


@post(
    "/address-book/import",
    status_code=HTTP_200_OK,
    dependencies=SIGNED_IN,
    request_max_body_size=UPLOAD_MAX_BODY_BYTES,
)
async def import_address_book(
    request: Request[Any, Any, Any], viewer: SignedInUser
) -> Response[Any]:
    """Add the people of a LinkedIn Connections.csv or a vCard file; all or nothing."""
    data, filename, content_type = await uploaded_file(request)
    try:
        report = await address_book_service.import_file(
            viewer, data, filename=filename, content_type=content_type
        )
    except ParseError as error:
        return refusal(error)
    return Response(
        ImportResult(
            source=report.source,
            read=report.read,
            added=report.added,
            updated=report.updated,
            unchanged=report.unchanged,
        ),
        media_type=MediaType.JSON,
    )


@get("/address-book", dependencies=SIGNED_IN)
async def list_address_book(
    viewer: SignedInUser, settings: InstanceSettings, page: int = 1
) -> EntryList:
    """My address book by name, 100 per page; `on_desvirt` when an email matches a member."""
    found = await address_book_service.entries(viewer, page)
    return EntryList(
        entries=[
            Entry(
                id=entry.id,
                name=entry.name,
                email=entry.email,
                company=entry.company,
                position=entry.position,
                profile_url=entry.profile_url,
                source=entry.source,
                connected_on=entry.connected_on,
                created_at=entry.created_at,
                on_desvirt=OnDesvirt(
                    handle=entry.member.handle,
                    display_name=entry.member.display_name,
                    url=f"{settings.base_url}/u/{entry.member.handle}",
                    is_contact=entry.member.is_contact,
                )
                if entry.member
                else None,
            )
            for entry in found.entries
        ],
        total=found.total,
        page=found.page,
        pages=found.pages,
    )


@delete("/address-book/{entry_id:int}", dependencies=SIGNED_IN)
async def delete_address_book_entry(entry_id: int, viewer: SignedInUser) -> None:
    await address_book_service.delete_entry(viewer, entry_id)


@get("/contacts/export.vcf", dependencies=SIGNED_IN)
async def export_vcard(viewer: SignedInUser, settings: InstanceSettings) -> Response[str]:
    """My contacts as vCard 4.0, with reason and trust (NOTE, CATEGORIES, X-DESVIRT-*)."""
    contacts = await address_book_service.exported_contacts(viewer, settings.base_url)
    text = address_book.contacts_as_vcards(
        contacts, note=address_book_service.vcard_note(viewer.locale)
    )
    return download(text, "text/vcard", "desvirt-contacts.vcf")


@get("/contacts/export.csv", dependencies=SIGNED_IN)
async def export_csv(viewer: SignedInUser, settings: InstanceSettings) -> Response[str]:
    """My contacts as CSV: name, handle, profile URL, trust, reason, since, meetings."""
    contacts = await address_book_service.exported_contacts(viewer, settings.base_url)
    return download(address_book.contacts_as_csv(contacts), "text/csv", "desvirt-contacts.csv")


async def uploaded_file(request: Request[Any, Any, Any]) -> tuple[bytes, str, str]:
    """The file's bytes, name and declared type, from a multipart form or a raw body."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise DesvirtError(
                N_("Choose a file to import."),
                status_code=422,
                code="file_missing",
                field="file",
            )
        return await upload.read(), upload.filename or "", upload.content_type or ""
    if kind in RAW_TYPES:
        return await request.body(), "", kind
    raise DesvirtError(
        N_("Send the file as multipart/form-data (field file), text/csv or text/vcard."),
        status_code=415,
        code="unsupported_media_type",
    )


def refusal(error: ParseError) -> Response[Any]:
    """422 (or 413) listing every problem of the file by line; nothing was imported."""
    status = 413 if error.too_large else 422
    return Response(
        {
            "detail": f"Nothing was imported: the file has {len(error.problems)} problem(s).",
            "code": "file_too_large" if error.too_large else "invalid_file",
            "field": "file",
            "problems": [
                {"line": problem.line, "problem": problem.text()}
                for problem in error.problems[:MAX_PROBLEMS_LISTED]
            ],
            "problems_total": len(error.problems),
        },
        status_code=status,
        media_type=MediaType.JSON,
    )


def download(text: str, media_type: str, filename: str) -> Response[str]:
    return Response(
        text,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )


router = Router(
    path="/api/v1",
    route_handlers=[
        import_address_book,
        list_address_book,
        delete_address_book_entry,
        export_vcard,
        export_csv,
    ],
    tags=["address book"],
)
