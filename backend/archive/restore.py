"""Restoring an index from the chain into an empty database (`python -m backend restore`): every
community of the deployments file and those created through its factory (backend/indexer/factory.py),
each from its deployment block to the head, a page of blocks at a time, saying how far it got. A
database that holds an index already is refused: `reindex` is how an index in use is rebuilt
(beside it, swapped in once complete).

The index is built in place by the indexer's own code, each page in its own transaction with the
cursor: a restore that stops half-way (the node gone, interrupted) leaves an index the service
goes on from."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, inspect, select
from sqlalchemy.engine import Engine

from backend.archive.verify import node_refused
from backend.chain.deployments import Deployments
from backend.chain.gateway import ChainGateway
from backend.chain.rpc import RpcError
from backend.errors import DomainError
from backend.i18n import gettext as _
from backend.i18n import ngettext, use_locale
from backend.indexer.db import make_engine, make_sessionmaker
from backend.indexer.follower import Indexer
from backend.indexer.models import Base, Cursor, EventRecord, SchemaStamp, SetAside
from backend.relay.leader import LeaderLock
from backend.settings import Settings
from backend.units import number

OK, REFUSED, UNAVAILABLE = 0, 1, 3


class CannotRestore(Exception):
    """Nothing to restore into, or no way to go on: a sentence saying why and what to do."""


def index_held(engine: Engine) -> str | None:
    """The index the database holds, in words; None when it holds none (no table of the index, or
    only empty ones: a service that started and never indexed)."""
    existing = set(inspect(engine).get_table_names())
    tables = [t for t in Base.metadata.sorted_tables if t.name in existing and t.name != SchemaStamp.__tablename__]
    with engine.connect() as connection:
        if Cursor.__tablename__ in existing:
            cursors = connection.execute(select(Cursor.community, Cursor.block_number).order_by(Cursor.community))
            reached = [  # a community's cursor (the factory's own, keyed ":factory", is no community)
                _("%(slug)s up to block %(block)s", slug=slug, block=number(block))
                for slug, block in cursors.all()
                if not slug.startswith(":")
            ]
            if reached:
                return _("an index of %(communities)s", communities=", ".join(reached))
        for table in tables:
            if connection.execute(select(1).select_from(table).limit(1)).first() is not None:
                return _("rows of the index in its table %(table)s", table=table.name)
    return None


@dataclass(frozen=True)
class Restored:
    heads: dict[str, int]  # community -> the block its index reached
    events: int
    set_aside: int


class Progress:
    """Progress in blocks, said at most once a second, and the last step always."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self.write = write
        self._said = 0.0

    def start(self, slug: str, first: int, head: int) -> None:
        self.write(
            _(
                "community %(slug)s: indexing blocks %(first)s to %(head)s",
                slug=slug,
                first=number(first),
                head=number(head),
            )
        )

    def __call__(self, slug: str, reached: int, head: int) -> None:
        now = time.monotonic()
        if reached < head and now - self._said < 1.0:
            return
        self._said = now
        self.write(
            _(
                "community %(slug)s: block %(block)s of %(head)s indexed",
                slug=slug,
                block=number(reached),
                head=number(head),
            )
        )


def restore(settings: Settings, progress: Progress) -> Restored:
    """Every community of the deployments file, and those created through its community factory by
    the creators the service follows, indexed from the chain into the empty database of `settings`,
    up to the head (less the confirmation depth). Raises CannotRestore, and the chain's errors
    (NodeUnavailable) as they are."""
    deployments = Deployments.load(settings.deployments_file)
    gateway = ChainGateway(settings=settings, deployments=deployments)
    chain_id = int(gateway.rpc.request("eth_chainId"), 16)
    if chain_id != deployments.chain_id:
        raise CannotRestore(
            _(
                "The node at %(url)s serves chain %(chain)s, but the deployments file is for chain %(expected)s",
                url=settings.rpc_url,
                chain=chain_id,
                expected=deployments.chain_id,
            )
        )
    engine = make_engine(settings.database_url)
    try:
        held = index_held(engine)
        if held:
            raise CannotRestore(
                _(
                    "The database holds %(what)s: restore writes only into an empty database. To rebuild the "
                    "index of a database in use, run python -m backend reindex; to restore, give an empty "
                    "database (DATABASE_URL).",
                    what=held,
                )
            )
        # A service on the same database would index it at the same time: it waits while this leads.
        leader = LeaderLock(engine=engine)
        if not leader.try_acquire():
            raise CannotRestore(
                _(
                    "A service is running on this database (it holds the lock of the process that indexes): stop "
                    "it first. Left running, it builds the index from the chain itself."
                )
            )
        try:
            sessions = make_sessionmaker(engine)
            indexer = Indexer(gateway=gateway, sessions=sessions)
            head = gateway.block_number() - settings.confirmations
            # The communities created through the factory up to the head, restored with the file's own.
            indexer.factory.sync(head)
            heads = {}
            for community in list(indexer.communities.values()):
                reached = indexer.cursor(community)[0]
                progress.start(community.slug, reached + 1, head)
                while reached < head:
                    target = min(reached + settings.index_page_blocks, head)
                    reached = indexer.sync_to(community, target)
                    if reached < target:
                        raise CannotRestore(
                            _(
                                "The chain changed under the restore (reset or reorganised) at block %(block)s: "
                                "empty the database and restore again",
                                block=number(target),
                            )
                        )
                    progress(community.slug, reached, head)
                heads[community.slug] = reached
            with sessions() as session:
                events = session.scalar(select(func.count()).select_from(EventRecord)) or 0
                set_aside = session.scalar(select(func.count()).select_from(SetAside)) or 0
            return Restored(heads, events, set_aside)
        finally:
            leader.release()
    finally:
        engine.dispose()


def main(settings: Settings) -> int:
    """`python -m backend restore`: its words on stdout and stderr, and its exit code."""
    from backend.cli.language import from_environment

    # The lock is taken to keep a service from indexing at the same time, not to relay: said otherwise.
    logging.getLogger("backend.relay.leader").setLevel(logging.WARNING)
    with use_locale(from_environment()):
        return _run(settings)


def _run(settings: Settings) -> int:
    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    started = time.monotonic()
    try:
        restored = restore(settings, Progress(say))
    except CannotRestore as exc:
        say(_("Restore refused: %(why)s", why=exc))
        return REFUSED
    except (DomainError, RpcError) as exc:  # the node went away, or would not answer
        why = exc.detail if isinstance(exc, DomainError) else node_refused(exc)
        say(
            _(
                "Restore stopped: %(why)s. What was indexed so far is kept: start the service on this database "
                "(it goes on from there), or empty it and restore again.",
                why=why.rstrip("."),
            )
        )
        return UNAVAILABLE
    except KeyboardInterrupt:
        say(_("Restore interrupted. What was indexed so far is kept: the service goes on from there."))
        return REFUSED
    reached = ", ".join(
        _("%(slug)s up to block %(block)s", slug=slug, block=number(block)) for slug, block in restored.heads.items()
    )
    print(
        ngettext(
            "Restored the index of %(num)s community from the chain (%(communities)s): %(events)s events in "
            "%(seconds)s seconds.",
            "Restored the index of %(num)s communities from the chain (%(communities)s): %(events)s events in "
            "%(seconds)s seconds.",
            len(restored.heads),
            communities=reached,
            events=number(restored.events),
            seconds=number(round(time.monotonic() - started, 1)),
        ),
        flush=True,
    )
    if restored.set_aside:
        say(
            ngettext(
                "%(num)s event could not be stored and is set aside (GET /health lists them)",
                "%(num)s events could not be stored and are set aside (GET /health lists them)",
                restored.set_aside,
            )
        )
    return OK
