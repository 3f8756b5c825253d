"""Assembles the FastAPI app: routers, problem+json errors, the indexer's lifetime."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

from fastapi import FastAPI

from backend import web
from backend.api import docs, problems
from backend.api.routers import (
    attestations,
    badges,
    claims,
    communities,
    consent,
    credentials,
    delegations,
    indicators,
    members,
    organisations,
    proposals,
    relayer,
    reports,
    requests,
    transactions,
    votes,
)
from backend.context import Context
from backend.settings import Settings, get_settings

RESOURCES = (indicators, organisations, proposals, votes, delegations, members, claims, attestations, consent, badges,
             transactions, requests, relayer, credentials, reports)


def create_app(settings: Settings | None = None, *, run_indexer: bool = True) -> FastAPI:
    settings = settings or get_settings()
    context = Context.build(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if run_indexer:
            context.indexer.start()
        context.worker.start()  # sends what waits in the outbox, while this process leads
        yield
        context.worker.stop()
        context.indexer.stop()

    app = FastAPI(
        title="Contribution Commons",
        description="Community-governed indicators of value and soulbound contribution badges. "
        "Writes are two steps: POST .../prepare returns EIP-712 typed data; POST the signed request to relay it.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None if docs.SWAGGER_UI.exists() else "/docs",
    )
    app.state.context = context
    app.state.index_reads = asyncio.Semaphore(settings.index_read_slots)
    problems.install(app)
    docs.install(app)
    app.include_router(communities.router)
    # Open Badges credentials: the issuer (a public development key is refused off local chains),
    # its did:web documents and the JSON-LD contexts, served from the package.
    credentials.check_issuer(context)
    app.include_router(credentials.service_router)
    app.include_router(communities.community_router, prefix="/communities/{community}")
    for resource in RESOURCES:
        app.include_router(resource.router, prefix="/communities/{community}")
        # Top-level aliases answer when exactly one community is served.
        app.include_router(resource.router, include_in_schema=False)
    # The web app for members, over the same read models (backend/web).
    web.install(app)
    problems.document(app)
    return app
