"""Litestar's CSRF protection, with the token cookie written without rebuilding it each time;
and the JSON API's, which has no tokens.

Every page carries a CSRF token, and a visitor without the cookie gets one set on the
response. Litestar builds that header through `Cookie` and `dataclasses.asdict`, which cost
~150 µs per response here: as much as the rest of a cached public page. The header differs
only in the token, so it is built once and the token put in.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware.csrf import CSRFMiddleware, generate_csrf_token
from litestar.types import ASGIApp, HTTPSendMessage

from desvirt.errors import Forbidden
from desvirt.i18n import N_

_TOKEN_MARK = "0" * 8 + "csrfmark" + "0" * 8  # plain cookie characters, so it is not quoted
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def refuse_cross_site_api_writes(request: Request[Any, Any, Any]) -> None:
    """An API change made with the session cookie must come from this site, not another.

    Pages carry CSRF tokens; `/api/` takes JSON under any content type and has none, so a
    form on another site could post to it with the visitor's cookie. `SameSite=Lax` keeps
    the cookie off such posts from other sites; this also refuses them from sibling
    subdomains, by the `Sec-Fetch-Site` header browsers send. Bearer tokens are never sent
    by a browser on its own, and scripts send no `Sec-Fetch-Site`: both pass.
    """
    if request.method not in _UNSAFE_METHODS or not request.scope["path"].startswith("/api/"):
        return
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        return
    if request.headers.get("sec-fetch-site", "") in ("cross-site", "same-site"):
        raise Forbidden(
            N_("Changes through the API must come from this site or carry an API token."),
            code="csrf_failed",
        )


class CsrfCookie:
    """The `Set-Cookie` header of a CSRF token, as `CSRFConfig` describes it."""

    def __init__(self, config: CSRFConfig) -> None:
        self.config = config
        self.name = config.cookie_name
        header = Cookie(
            key=config.cookie_name,
            value=_TOKEN_MARK,
            path=config.cookie_path,
            secure=config.cookie_secure,
            httponly=config.cookie_httponly,
            samesite=config.cookie_samesite,
            domain=config.cookie_domain,
        ).to_header(header="")
        self._before_token, self._after_token = header.split(_TOKEN_MARK)

    def header(self, token: str) -> str:
        # Tokens are hex digits followed by a hex digest: nothing in them needs quoting.
        return f"{self._before_token}{token}{self._after_token}"

    def new_token(self) -> str:
        return generate_csrf_token(secret=self.config.secret)


class CsrfMiddleware(CSRFMiddleware):
    """`CSRFMiddleware` as configured by `CSRFConfig`; only the cookie header is faster."""

    def __init__(self, app: ASGIApp, config: CSRFConfig) -> None:
        super().__init__(app, config)
        self._cookie = CsrfCookie(config)

    def _set_cookie_if_needed(self, message: HTTPSendMessage, token: str) -> None:
        MutableScopeHeaders.from_message(message).add("set-cookie", self._cookie.header(token))
