"""The web app for members: server-rendered pages over the API's read models, a little
JavaScript that has the member's own wallet sign what the API prepares, and static files served
by the service itself (nothing from a CDN)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from backend.web import dev_signer, joining_pages, pages, report_page
from backend.web.security import SecurityHeaders

STATIC = Path(__file__).resolve().parent / "static"


def install(app: FastAPI) -> None:
    """Pages at / and /c/{community}/..., static files at /static, the development signer at
    /dev-signer (refused off local chains), and the security headers on every page."""
    app.include_router(pages.router)
    app.include_router(report_page.router)
    app.include_router(joining_pages.router)
    app.include_router(dev_signer.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(SecurityHeaders)
