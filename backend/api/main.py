"""Assembles the FastAPI app: routers, problem+json errors, the indexer's lifetime."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

from backend.api import problems
from backend.api.routers import (
    attestations,
    badges,
    claims,
    communities,
    delegations,
    indicators,
    members,
    proposals,
    transactions,
    votes,
)
from backend.context import Context
from backend.settings import Settings, get_settings

RESOURCES = (indicators, proposals, votes, delegations, members, claims, attestations, badges, transactions)


def create_app(settings: Settings | None = None, *, run_indexer: bool = True) -> FastAPI:
    settings = settings or get_settings()
    context = Context.build(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if run_indexer:
            context.indexer.start()
        yield
        context.indexer.stop()

    app = FastAPI(
        title="Contribution Commons",
        description="Community-governed indicators of value and soulbound contribution badges. "
        "Writes are two steps: POST .../prepare returns EIP-712 typed data; POST the signed request to relay it.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.context = context
    problems.install(app)
    app.include_router(communities.router)
    app.include_router(communities.community_router, prefix="/communities/{community}")
    for resource in RESOURCES:
        app.include_router(resource.router, prefix="/communities/{community}")
        # Top-level aliases answer when exactly one community is served.
        app.include_router(resource.router, include_in_schema=False)
    problems.document(app)
    return app
