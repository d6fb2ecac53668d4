"""Errors as values users can read: one JSON shape for the API, a localized page for browsers."""

from __future__ import annotations

import logging
import re
from typing import Any

from asyncpg.exceptions import CharacterNotInRepertoireError
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from desvirt.accounts.domain import FieldError
from desvirt.i18n import N_, gettext

log = logging.getLogger("desvirt.errors")

CODES_BY_STATUS = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "rate_limited",
    503: "unavailable",
}

PAGE_MESSAGES = {
    400: N_("Something in that request was not right."),
    401: N_("Please log in to see this page."),
    403: N_("You may not do that. If you were filling a form, reload it and try again."),
    404: N_("We could not find that page. It may be private, or it may never have existed."),
    405: N_("That does not work here."),
    409: N_("That conflicts with something that already exists."),
    413: N_("That was too large to accept."),
    422: N_("Some of what you sent cannot be used."),
    429: N_("Too many attempts. Please wait a little and try again."),
    500: N_("Something went wrong on our side. Nothing you did; please try again."),
    503: N_("The service is not available right now."),
}


class DesvirtError(Exception):
    """A refusal with a status, a machine-readable code and a message for people."""

    status_code = 400
    code = "bad_request"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        status_code: int | None = None,
        field: str | None = None,
        headers: dict[str, str] | None = None,
        **params: Any,
    ) -> None:
        super().__init__(detail % params if params else detail)
        self.detail = detail
        self.params = params
        self.code = code or self.code
        self.status_code = status_code or self.status_code
        self.field = field
        self.headers = headers or {}


class NotFound(DesvirtError):
    status_code = 404
    code = "not_found"


class Forbidden(DesvirtError):
    status_code = 403
    code = "forbidden"


class NotAuthenticated(DesvirtError):
    status_code = 401
    code = "not_authenticated"


class Conflict(DesvirtError):
    status_code = 409
    code = "conflict"


class RateLimited(DesvirtError):
    status_code = 429
    code = "rate_limited"

    def __init__(self, detail: str, retry_after: int, **params: Any) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)}, **params)
        self.retry_after = retry_after


def refusal_text(locale: str, error: FieldError | DesvirtError) -> str:
    """What a refused form shows next to the field, in the reader's language."""
    if isinstance(error, FieldError):
        return gettext(locale, error.message, **error.params)
    return gettext(locale, error.detail, **error.params)


def refusal_field(error: FieldError | DesvirtError) -> str:
    """The form field a refusal belongs to; "form" when it is about the whole form."""
    return error.field or "form"


def refusal_status(error: FieldError | DesvirtError) -> int:
    """The status a page answers a refused form with (FieldError: 422, as in the API)."""
    return error.status_code if isinstance(error, DesvirtError) else 422


def wants_json(request: Request[Any, Any, Any]) -> bool:
    """API paths always answer JSON; elsewhere, browsers (Accept: text/html) get a page."""
    path = request.url.path
    if path.startswith("/api/") or path in ("/healthz",):
        return True
    accept = request.headers.get("accept", "")
    return "text/html" not in accept and "*/*" not in accept and accept != ""


def error_response(
    request: Request[Any, Any, Any],
    status: int,
    detail: str,
    code: str,
    *,
    field: str | None = None,
    headers: dict[str, str] | None = None,
    params: dict[str, object] | None = None,
) -> Response[Any]:
    """One place decides between the JSON error shape and the localized error page."""
    if wants_json(request):
        body: dict[str, Any] = {"detail": detail % params if params else detail, "code": code}
        if field:
            body["field"] = field
        return Response(body, status_code=status, headers=headers, media_type=MediaType.JSON)
    if status == 401:
        return Redirect(f"/login?next={request.url.path}", status_code=303)
    from desvirt.rendering import page_context

    context = page_context(request)
    locale = context["locale"]
    message = gettext(locale, detail, **(params or {})) if detail else ""
    headline = gettext(locale, PAGE_MESSAGES.get(status, PAGE_MESSAGES[400]))
    return Template(
        "errors/error.html",
        context={**context, "status": status, "headline": headline, "message": message},
        status_code=status,
        headers=headers,
    )


def handle_desvirt_error(request: Request[Any, Any, Any], exc: DesvirtError) -> Response[Any]:
    return error_response(
        request,
        exc.status_code,
        exc.detail,
        exc.code,
        field=exc.field,
        headers=exc.headers,
        params=exc.params,
    )


def handle_field_error(request: Request[Any, Any, Any], exc: FieldError) -> Response[Any]:
    return error_response(
        request, 422, exc.message, "invalid_input", field=exc.field, params=exc.params
    )


def handle_validation_error(
    request: Request[Any, Any, Any], exc: ValidationException
) -> Response[Any]:
    """Litestar's body and parameter checks become 422 with the first problem spelled out."""
    detail = exc.detail or "Invalid input"
    field = None
    if isinstance(exc.extra, list) and exc.extra:
        first = exc.extra[0]
        if isinstance(first, dict):
            detail = str(first.get("message") or detail)
            key = first.get("key")
            field = str(key) if key else None
    if "JSON is malformed" in detail or "malformed" in detail.lower():
        return error_response(request, 400, detail, "malformed_json")
    return error_response(request, 422, detail, "invalid_input", field=field)


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    code = CODES_BY_STATUS.get(status, "error")
    detail = exc.detail or PAGE_MESSAGES.get(status, "Error")
    if status == 403 and "CSRF" in detail:
        code = "csrf_failed"
        detail = N_("This form expired or came from elsewhere. Reload the page and try again.")
    return error_response(request, status, detail, code, headers=dict(exc.headers or {}))


async def refuse_nul_characters(request: Request[Any, Any, Any]) -> None:
    """No text may hold U+0000: PostgreSQL cannot store it, so neither database takes it.

    Checked before any handler, in the path, the query, JSON bodies and form fields (Litestar
    keeps the body it read here for the handler). Uploaded files are refused by their
    importer; should anything else slip through, PostgreSQL refuses it and
    `handle_nul_in_database` answers.
    """
    if "\x00" in request.scope["path"] or b"%00" in request.scope["query_string"]:
        await _refuse_nul(request)
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    kind = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if kind in _TEXT_BODIES:
        if _TEXT_BODIES[kind].search(await request.body()):
            await _refuse_nul(request)
    elif kind == "multipart/form-data":  # its text fields; uploaded files are the importer's
        form = await request.form()
        if any(isinstance(value, str) and "\x00" in value for _, value in form.multi_items()):
            await _refuse_nul(request)


async def _refuse_nul(request: Request[Any, Any, Any]) -> None:
    from desvirt.accounts.auth import current_viewer  # it raises these errors itself

    await current_viewer(request)  # so that the page is in their profile's language
    raise DesvirtError(NUL_IN_TEXT, code="invalid_text")


def handle_nul_in_database(
    request: Request[Any, Any, Any], exc: CharacterNotInRepertoireError
) -> Response[Any]:
    return error_response(request, 400, NUL_IN_TEXT, "invalid_text")


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_response(
        request, HTTP_500_INTERNAL_SERVER_ERROR, PAGE_MESSAGES[500], "internal_error"
    )


NUL_IN_TEXT = N_("Text cannot contain the invisible NUL character (U+0000).")
# In JSON a NUL is the escape \u0000 whose backslash follows an even number of others (after
# an odd number that backslash is itself escaped: the text "\u0000"); in a form it is %00
# ("%" itself is sent as %25).
_TEXT_BODIES = {
    "application/json": re.compile(rb"(?<!\\)(?:\\\\)*\\u0000|\x00"),
    "application/x-www-form-urlencoded": re.compile(rb"%00|\x00"),
}

EXCEPTION_HANDLERS: dict[Any, Any] = {
    CharacterNotInRepertoireError: handle_nul_in_database,
    DesvirtError: handle_desvirt_error,
    FieldError: handle_field_error,
    ValidationException: handle_validation_error,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected,
}
