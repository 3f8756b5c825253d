"""Capture on the web app's "Waiting for me" page: the drafts waiting for the member, each with the
form that signs it through the usual prepare-sign-relay flow of app.js (a claim, an endorsement, an
invitation and its credit), rendered by the partial template capture_drafts.html, which the page
includes. The partial reads them through `capture_drafts(request, community, member)`, a template
global installed here, so that the page's own code needs no change."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request

from backend.capture import service
from backend.capture.models import create_capture_tables
from backend.chain.addresses import checksum
from backend.chain.deployments import Community
from backend.context import Context
from backend.errors import DomainError


def capture_drafts(request: Request, community: Community | None, member: str | None) -> dict[str, Any]:
    """The member's drafts and whether capture is on for them; nothing (and no error) for a page
    without a member, or when the drafts cannot be read (the page shows the rest)."""
    # A page rendered outside the service (a test's own request) has no app, and so no drafts.
    app = request.scope.get("app")
    if app is None or community is None or not member:
        return {"items": [], "capture": True, "rules": False}
    ctx: Context = app.state.context
    try:
        member = checksum(member)
        with ctx.sessions() as session:
            capture = service.capture_on(session, community.slug, member)
            _, rules, _ = service.rules_in_force(session, community)
        return {"items": service.drafts_for(ctx, community, member), "capture": capture, "rules": rules is not None}
    except (DomainError, ValueError):
        return {"items": [], "capture": True, "rules": False}


def install(app: FastAPI) -> None:
    """The tables (if missing) and the partial's template global."""
    from backend.web.pages import env

    create_capture_tables(app.state.context.sessions.kw["bind"])
    env.globals["capture_drafts"] = capture_drafts
