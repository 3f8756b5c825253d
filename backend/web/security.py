"""Headers every page answers with: a Content-Security-Policy that allows scripts, styles,
images and requests from this service only (no inline script, no other host), and no framing."""

from __future__ import annotations

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
# FastAPI's own API docs pages load Swagger UI and ReDoc from a CDN with an inline script; they
# are the API's, not the web app's, and keep FastAPI's defaults.
API_DOC_PATHS = ("/docs", "/redoc")


class SecurityHeaders:
    """ASGI middleware: the headers above on every text/html response."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"].startswith(API_DOC_PATHS):
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if content_type.startswith(b"text/html"):
                    message = {**message, "headers": headers + HEADERS}
            await send(message)

        return await self.app(scope, receive, send_with_headers)
