"""Cookies, CSRF tokens and response headers of the inbox.

Logged in, the CSRF token is the session's own (kept server-side with it). Before log-in (the
log-in and set-up forms) it is a double-submit token: a random value in an HttpOnly, SameSite
cookie that the form must repeat. Either way every POST is also refused when the browser says it
comes from another origin.
"""

from __future__ import annotations

import hmac
import secrets

from starlette.requests import Request
from starlette.responses import Response

SESSION_COOKIE = "dinplan_inbox_session"
FORM_COOKIE = "dinplan_inbox_form"
CSRF_FIELD = "csrf_token"

# No scripts at all, styles and images only from here, forms only to here, never in a frame.
CONTENT_SECURITY_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self'; "
                           "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # Set-up links carry a token in the path: never send it to another site. (Not no-referrer:
    # then browsers send "Origin: null" with our own forms.)
    "Referrer-Policy": "same-origin",
    # Pages and downloads hold health information: no browser or proxy may keep a copy.
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def cookie_name(base: str, *, secure: bool) -> str:
    # __Host- cookies are only accepted over HTTPS, for this host and path /, never a domain.
    return f"__Host-{base}" if secure else base


def set_cookie(response: Response, name: str, value: str, *, secure: bool,
               max_age: int | None = None) -> None:
    response.set_cookie(cookie_name(name, secure=secure), value, max_age=max_age, path="/",
                        secure=secure, httponly=True, samesite="strict")


def clear_cookie(response: Response, name: str, *, secure: bool) -> None:
    response.delete_cookie(cookie_name(name, secure=secure), path="/", secure=secure,
                           httponly=True, samesite="strict")


def read_cookie(request: Request, name: str, *, secure: bool) -> str | None:
    return request.cookies.get(cookie_name(name, secure=secure))


def new_form_token() -> str:
    return secrets.token_urlsafe(32)


def tokens_match(expected: str | None, given: object) -> bool:
    return (isinstance(expected, str) and isinstance(given, str) and bool(expected)
            and hmac.compare_digest(expected.encode(), given.encode()))


def same_origin(request: Request) -> bool:
    """False when the browser says the request comes from another site."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True  # an older browser or a script: the CSRF token decides
    host = request.headers.get("host", "")
    return origin in (f"http://{host}", f"https://{host}")
