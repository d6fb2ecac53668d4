"""The address book page `/contacts/import`: upload a file, see who is in it, export contacts.

Works without JavaScript: the upload is a plain multipart form; a refused file re-renders
the page with every problem listed next to the file field (status 422, or 413 when too
large), and a successful import redirects back with what it did.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, get, post
from litestar.response import Redirect, Template

from desvirt.contacts import address_book_service
from desvirt.contacts.address_book import (
    MAX_FILE_BYTES,
    MAX_PEOPLE,
    MAX_PROBLEMS_LISTED,
    ParseError,
)
from desvirt.contacts.address_book_api import UPLOAD_MAX_BODY_BYTES, uploaded_file
from desvirt.dependencies import SIGNED_IN, SignedInUser
from desvirt.errors import DesvirtError
from desvirt.i18n import gettext
from desvirt.rendering import render, request_locale


@get("/contacts/import", dependencies=SIGNED_IN)
async def address_book_page(
    request: Request[Any, Any, Any], viewer: SignedInUser, page: int = 1
) -> Template:
    report = {
        key: request.query_params.get(key)
        for key in ("added", "updated", "unchanged")
        if request.query_params.get(key, "").isdigit()
    }
    return await _page(request, viewer, page=page, report=report)


@post("/contacts/import", dependencies=SIGNED_IN, request_max_body_size=UPLOAD_MAX_BODY_BYTES)
async def address_book_upload(
    request: Request[Any, Any, Any], viewer: SignedInUser
) -> Template | Redirect:
    locale = request_locale(request)
    try:
        data, filename, content_type = await uploaded_file(request)
        report = await address_book_service.import_file(
            viewer, data, filename=filename, content_type=content_type
        )
    except ParseError as error:
        problems = [
            {"line": p.line, "text": p.text(lambda m: gettext(locale, m))}
            for p in error.problems[:MAX_PROBLEMS_LISTED]
        ]
        return await _page(
            request,
            viewer,
            status_code=413 if error.too_large else 422,
            problems=problems,
            problems_total=len(error.problems),
        )
    except DesvirtError as error:
        message = gettext(locale, error.detail, **error.params)
        return await _page(request, viewer, status_code=error.status_code, errors={"file": message})
    return Redirect(
        f"/contacts/import?added={report.added}&updated={report.updated}"
        f"&unchanged={report.unchanged}",
        status_code=303,
    )


@post("/contacts/import/{entry_id:int}/delete", dependencies=SIGNED_IN)
async def address_book_delete(entry_id: int, viewer: SignedInUser, page: int = 1) -> Redirect:
    await address_book_service.delete_entry(viewer, entry_id)
    return Redirect(f"/contacts/import?page={page}", status_code=303)


async def _page(
    request: Request[Any, Any, Any],
    viewer: SignedInUser,
    *,
    page: int = 1,
    status_code: int = 200,
    **context: Any,
) -> Template:
    found = await address_book_service.entries(viewer, page)
    return await render(
        request,
        "contacts/address_book.html",
        status_code=status_code,
        found=found,
        max_kib=MAX_FILE_BYTES // 1024,
        max_people=MAX_PEOPLE,
        **{"errors": {}, "problems": [], "problems_total": 0, "report": {}, **context},
    )


router = Router(
    path="/",
    route_handlers=[address_book_page, address_book_upload, address_book_delete],
    include_in_schema=False,
)
