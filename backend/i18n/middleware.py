"""The language of each request, as a pure ASGI middleware: a member's explicit choice (the `lang`
cookie, set by the web app's language links) or else the browser's Accept-Language. The answer
says which language it is in (Content-Language) and that it depends on both (Vary).

A page asked for with ?lang=es (the language links) sets the cookie for a year and is answered
with a redirect to the same page without the parameter."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from starlette.datastructures import Headers
from starlette.requests import cookie_parser

from backend.i18n.locale import _known, negotiate, reset_locale, set_locale

COOKIE = "lang"
COOKIE_SECONDS = 365 * 86400
VARY = ("Accept-Language", "Cookie")
# Static files read the same in every language: no Vary, so caches keep one copy.
_UNVARIED = ("/static/",)


def _is_page(path: str) -> bool:
    """The web app's pages (the API's paths take no ?lang=: it follows Accept-Language)."""
    return path == "/" or path.startswith("/c/")


def _vary(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    present = [v.decode("latin-1") for k, v in headers if k.lower() == b"vary"]
    names = [n.strip() for value in present for n in value.split(",") if n.strip()]
    for name in VARY:
        if name.lower() not in (n.lower() for n in names):
            names.append(name)
    kept = [(k, v) for k, v in headers if k.lower() != b"vary"]
    return [*kept, (b"vary", ", ".join(names).encode("latin-1"))]


class LocaleMiddleware:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        query = scope.get("query_string", b"").decode("latin-1")
        if scope["method"] in ("GET", "HEAD") and _is_page(scope["path"]) and "lang=" in query:
            pairs = parse_qsl(query, keep_blank_values=True)
            if any(name == COOKIE for name, _ in pairs):
                return await self._switch(scope, send, pairs)
        chosen = cookie_parser(headers.get("cookie", "")).get(COOKIE)
        code = negotiate(chosen, headers.get("accept-language"))
        token = set_locale(code)
        static = scope["path"].startswith(_UNVARIED)

        async def send_with_language(message):
            if message["type"] == "http.response.start" and not static:
                found = list(message.get("headers", []))
                found = [(k, v) for k, v in found if k.lower() != b"content-language"]
                found = [*_vary(found), (b"content-language", code.encode("latin-1"))]
                message = {**message, "headers": found}
            await send(message)

        try:
            return await self.app(scope, receive, send_with_language)
        finally:
            reset_locale(token)

    async def _switch(self, scope, send, pairs: list[tuple[str, str]]) -> None:
        """Remember the language asked for and go back to the page without ?lang=."""
        asked = next(value for name, value in pairs if name == COOKIE)
        rest = urlencode([(name, value) for name, value in pairs if name != COOKIE])
        # The same path on this site, never another host (the path is the request's own, starting "/").
        location = scope["path"] + (f"?{rest}" if rest else "")
        headers = [
            (b"location", location.encode("utf-8")),
            (b"content-length", b"0"),
            (b"cache-control", b"no-store"),
        ]
        code = _known(asked)
        if code:
            secure = "; Secure" if scope.get("scheme") == "https" else ""
            cookie = f"{COOKIE}={code}; Path=/; Max-Age={COOKIE_SECONDS}; SameSite=Lax; HttpOnly{secure}"
            headers.append((b"set-cookie", cookie.encode("latin-1")))
        await send({"type": "http.response.start", "status": 303, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
