"""The service's long-lived parts, built once per process and shared by API and CLI."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from backend.chain.deployments import Community, Deployments
from backend.chain.gateway import ChainGateway
from backend.errors import NotFound
from backend.i18n import gettext as _
from backend.indexer.db import make_engine, make_sessionmaker
from backend.indexer.follower import Indexer
from backend.relay.arrivals import Arrivals
from backend.relay.book import RelayBook
from backend.relay.leader import LeaderLock
from backend.relay.outbox import create_outbox
from backend.relay.worker import RelayWorker
from backend.settings import Settings


@dataclass(kw_only=True)
class Context:
    settings: Settings
    gateway: ChainGateway
    indexer: Indexer
    sessions: sessionmaker[Session]
    book: RelayBook  # the outbox as the API sees it: nonces in flight, budgets, accepting, following
    worker: RelayWorker  # sends what waits in the outbox, while this process leads

    @classmethod
    def build(cls, settings: Settings) -> Context:
        deployments = Deployments.load(settings.deployments_file)
        gateway = ChainGateway(settings=settings, deployments=deployments)
        sessions = make_sessionmaker(make_engine(settings.database_url))
        engine = sessions.kw["bind"]
        create_outbox(engine)
        leader = LeaderLock(engine=engine)  # one process relays and indexes; any number answer
        # A request accepted by this process wakes its relayer worker, or fills its transaction.
        arrivals = Arrivals(batch_gas=settings.relay_batch_gas, batch_max=settings.relay_batch_max)
        book = RelayBook(settings=settings, sessions=sessions, arrivals=arrivals)
        worker = RelayWorker(
            settings=settings,
            gateway=gateway,
            sessions=sessions,
            reads=book.reads,
            payloads=book.payloads,  # packing reads what the checks kept: a request accepted here is in memory
            leader=leader,
            arrivals=arrivals,
        )
        indexer = Indexer(gateway=gateway, sessions=sessions, leader=leader)
        # Communities created on chain that an earlier run (or the indexing process) found: served at once.
        indexer.factory.refresh()
        return cls(settings=settings, gateway=gateway, indexer=indexer, sessions=sessions, book=book, worker=worker)

    @property
    def deployments(self) -> Deployments:
        return self.gateway.deployments

    def community(self, slug: str | None) -> Community:
        communities = self.deployments.communities
        if slug is None:
            if len(communities) == 1:
                return next(iter(communities.values()))
            raise NotFound(
                _(
                    "This service serves %(count)s communities; use /communities/{slug}/... with one of: %(slugs)s",
                    count=len(communities),
                    slugs=", ".join(sorted(communities)),
                )
            )
        if slug not in communities:
            raise NotFound(_("No community '%(slug)s' here; GET /communities lists them", slug=slug))
        return communities[slug]
