"""Assembles the service: the API (each domain's routes, problem+json errors, its docs) and the web
app (backend/web) over one Context, and the indexer's and relayer's lifetimes. The API and the web
app do not import each other; both are assembled here."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

from fastapi import FastAPI

from backend import web
from backend.admissions import routes as admissions
from backend.api import docs, problems, signed_submits
from backend.api.body_limit import BodyLimit
from backend.archive import routes as archive
from backend.badges import routes as badges
from backend.capture import routes as capture
from backend.capture import web as capture_web
from backend.claims import routes as claims
from backend.communities import routes as communities
from backend.consent import routes as consent
from backend.context import Context
from backend.credentials import routes as credentials
from backend.i18n.middleware import LocaleMiddleware
from backend.indicators import routes as indicators
from backend.members import routes as members
from backend.notifications import routes as notifications
from backend.notifications.worker import NoticeWorker
from backend.organisations import routes as organisations
from backend.proposals import routes as proposals
from backend.proposals.autoexec import ProposalExecutor
from backend.relay import routes as relay
from backend.reports import routes as reports
from backend.settings import Settings, get_settings
from backend.versions.carrier import RecordsCarrier

# Each community's resources, served under /communities/{community}/... (and at the top level when
# the service serves one community). No two routes answer the same method and path
# (tests/e2e/test_route_table.py), so their order changes nothing but speed: FastAPI tries each route
# in turn, a few microseconds each, so the writes members make most (claims, attestations, votes)
# and the profile come first.
COMMUNITY_ROUTERS = (
    claims.router,
    claims.attestations_router,
    proposals.votes_router,
    members.router,
    indicators.router,
    organisations.router,
    proposals.router,
    members.delegations_router,
    members.passkeys_router,
    members.names_router,
    admissions.router,
    consent.router,
    badges.router,
    relay.transactions_router,
    relay.requests_router,
    relay.router,
    credentials.router,
    reports.router,
    archive.router,
    notifications.router,
    capture.router,
)


def create_app(settings: Settings | None = None, *, run_indexer: bool = True) -> FastAPI:
    settings = settings or get_settings()
    context = Context.build(settings)
    notices = NoticeWorker.build(context)  # tells members what waits for them, while this process leads
    executor = ProposalExecutor(context)  # carries out passed proposals, while this process leads
    carrier = RecordsCarrier(context)  # carries records over to a version voted for, while this process leads

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if run_indexer:
            context.indexer.start()
        context.worker.start()  # sends what waits in the outbox, while this process leads
        notices.start()
        executor.start()
        carrier.start()
        yield
        carrier.stop()
        executor.stop()
        notices.stop()
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
    app.state.notices = notices
    app.state.executor = executor
    app.state.carrier = carrier
    app.state.index_reads = asyncio.Semaphore(settings.index_read_slots)
    # A body longer than any the API takes is refused before it is read (backend/api/body_limit.py);
    # added first, it is inside every other middleware, and outside the signed submits' door.
    app.add_middleware(BodyLimit, limit=settings.api_max_body_bytes, reads_own_body=capture.reads_own_body)
    problems.install(app)
    docs.install(app)
    # /communities and /health first: two routes for every other request to pass, where the list and
    # the health check (polled by monitors and load balancers) would otherwise be tried after every
    # community route, a third of their cost (bench.api: 0.78 -> 1.11 ms a GET /communities from wrk).
    app.include_router(communities.router)
    for router in COMMUNITY_ROUTERS:
        app.include_router(router, prefix="/communities/{community}")
        # Top-level aliases answer when exactly one community is served.
        app.include_router(router, include_in_schema=False)
    # Open Badges credentials: the issuer (a public development key is refused off local chains),
    # its did:web documents and the JSON-LD contexts, served from the package.
    credentials.check_issuer(context)
    app.include_router(credentials.service_router)
    app.include_router(communities.community_router, prefix="/communities/{community}")
    # The web app for members, over the same read models (backend/web).
    web.install(app)
    capture_web.install(app)  # capture's drafts on the waiting page, and its tables
    problems.document(app)
    # Each request in its member's language: the `lang` cookie, else Accept-Language (backend/i18n).
    app.add_middleware(LocaleMiddleware)
    # Members' signed requests, answered without FastAPI's per-request work (backend/api/signed_submits.py).
    # Where the node is on this machine and the index on SQLite, `wait=false` checks run on the event
    # loop, suspended while they wait for the node (backend/chain/on_loop.py); elsewhere in threads.
    on_loop = settings.checks_on_loop and context.gateway.rpc.plain
    signed_submits.install(app, checks_at_once=settings.signed_checks_at_once, checks_on_loop=on_loop)
    return app
