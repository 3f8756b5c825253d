"""Follows each community's events into the database.

Per community: read logs from the cursor to the head (minus the confirmation depth) in pages,
decode them (backend.chain.logs: the one decoder, which the relayer uses too), skip any (block,
log index) already stored, apply the projections, and move the cursor, all in one transaction
per page. Run from a background thread, and on demand by a write that wants its own events
visible before it answers.

Members are not all friendly, and whatever they put on chain must never stop the index:
- strings are decoded leniently and stored losslessly (backend.chain.abi: readable text, the
  exact bytes beside any text that had to be altered);
- communities are indexed apart: one community's failure is recorded in its own state (and
  shown by /health) while the others go on;
- an event that still cannot be stored (its projection or the database refuses it) is set
  aside, with its block, log index and exact log data, and the cursor moves past it. A page
  that fails is stored again one event per transaction, so only the event at fault is set
  aside. Failures of the database itself (unreachable, locked) are not the event's fault:
  nothing is set aside, the community's sync fails and is tried again.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, delete, func, select, tuple_
from sqlalchemy.exc import InterfaceError, OperationalError, StatementError
from sqlalchemy.orm import Session, sessionmaker

from backend.chain.abi import readable_text
from backend.chain.deployments import Community, Deployments
from backend.chain.gateway import ChainGateway, LatestBlock
from backend.chain.logs import DecodedLog, decode_logs
from backend.chain.on_loop import on_loop
from backend.errors import DomainError, TimedOut
from backend.i18n import gettext as _
from backend.indexer import projections, versions
from backend.indexer.db import scratch_index
from backend.indexer.factory import FactoryFollower
from backend.indexer.models import PROJECTIONS, Cursor, EventRecord, SetAside
from backend.relay.leader import LeaderLock

log = logging.getLogger(__name__)

_JS_SAFE = 2**53
# The database itself failing: not an event's fault, so never a reason to set one aside.
_DATABASE_DOWN = (OperationalError, InterfaceError)
_ERROR_CHARS = 1000
_MAX_REST_SECONDS = 60.0


def _json_safe(value):
    # uint256 values (proposal ids) would lose digits as JSON numbers in some databases.
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= _JS_SAFE:
        return str(value)
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def describe(exc: BaseException) -> str:
    """An error in words that any database and JSON can hold, without the SQL and parameters a
    database error carries (they may hold the very bytes that failed)."""
    if isinstance(exc, DomainError):
        text = exc.detail
    elif isinstance(exc, StatementError) and exc.orig is not None:
        text = f"{type(exc.orig).__name__}: {exc.orig}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    text = readable_text(text.strip())
    return text if len(text) <= _ERROR_CHARS else text[: _ERROR_CHARS - 1] + "…"


@dataclass
class IndexState:
    """How indexing one community (or reading the chain head) went, for /health. `error` is
    current (the last attempt failed) and cleared by the next success; `last_error` stays."""

    error: str | None = None
    error_at: float | None = None
    last_error: str | None = None
    last_error_at: float | None = None
    synced_at: float | None = None
    failures: int = 0  # in a row

    def failed(self, message: str) -> None:
        self.noted(message)
        self.error, self.error_at = self.last_error, self.last_error_at
        self.failures += 1

    def noted(self, message: str) -> None:
        self.last_error, self.last_error_at = message, time.time()

    def succeeded(self) -> None:
        self.error = self.error_at = None
        self.failures = 0
        self.synced_at = time.time()

    def resting(self, poll: float) -> bool:
        """Whether a community failing again and again should wait before its next try (the
        background loop only), so its failures cost the others little: the poll interval,
        doubled at each failure in a row, at most a minute."""
        if self.error_at is None:
            return False
        return time.time() < self.error_at + min(poll * 2 ** (self.failures - 1), _MAX_REST_SECONDS)


@dataclass
class _Entry:
    """One log of a page with its block's time: ready for its projection, or with the reason it
    could not be decoded."""

    log: DecodedLog
    timestamp: int
    decoded: projections.Log | None = None
    failure: str | None = None


class ReindexFailed(Exception):
    """The rebuild did not complete; the index in use was left as it was."""


class Indexer:
    def __init__(
        self, *, gateway: ChainGateway, sessions: sessionmaker[Session], leader: LeaderLock | None = None
    ) -> None:
        self.gateway = gateway
        self.sessions = sessions
        self.settings = gateway.settings
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # Communities created on chain after the service started, through the deployments file's
        # community factory (backend/indexer/factory.py): read before the communities at each sync.
        self.factory = FactoryFollower(gateway=gateway, sessions=sessions)
        self.factory_state = IndexState()
        # Reading the chain head (the node), then each community apart.
        self.chain_state = IndexState()
        self.states: dict[str, IndexState] = {slug: IndexState() for slug in self.communities}
        # With several service processes over one database, only the one holding this lock (the
        # relayer worker's, backend/relay/leader.py) indexes; the others read what it wrote. None:
        # this one indexes (a rebuild's scratch index).
        self.leader = leader
        # The latest block's hash and the communities served when a sync of everything last found
        # nothing failing: while both stay the same, the background loop's next sync would find
        # nothing to do (see `_unchanged`).
        self._clean_at: tuple[str, Deployments] | None = None

    @property
    def communities(self) -> dict[str, Community]:
        return self.gateway.deployments.communities

    def state(self, slug: str) -> IndexState:
        return self.states.setdefault(slug, IndexState())

    @property
    def last_error(self) -> str | None:
        """The current error, if any: the chain head unreadable, or a community failing."""
        if self.chain_state.error:
            return self.chain_state.error
        if self.factory_state.error:
            return f"the community factory: {self.factory_state.error}"
        for slug, state in self.states.items():
            if state.error:
                return f"{slug}: {state.error}"
        return None

    # ------------------------------------------------------------------ cursor

    def cursor(self, community: Community) -> tuple[int, int]:
        """(last indexed block, its timestamp); before any indexing, the block before deployment."""
        with self.sessions() as session:
            row = session.get(Cursor, community.slug)
            if row is None:
                return community.deployment_block - 1, 0
            return row.block_number, row.block_timestamp

    # ------------------------------------------------------------------ syncing

    def sync(self, communities: list[Community] | None = None, *, rest: bool = False) -> int:
        """Index the communities (every one by default) up to the safe head; returns that head.
        Raises only when the head cannot be read; a community that fails is recorded in its
        state, the others go on. With `rest` (the background loop), a community failing again and
        again is skipped until its rest is over (see IndexState.resting), and a sync of everything
        on a chain unchanged since the last one is skipped (`_unchanged`)."""
        with self._lock:
            try:
                latest = self.gateway.latest()
            except Exception as exc:
                self.chain_state.failed(describe(exc))
                raise
            head = latest.number - self.settings.confirmations
            self.chain_state.succeeded()
            if rest and communities is None and self._unchanged(latest.hash):
                return head
            if communities is None:
                self._clean_at = None
                self._follow_factory(head, latest)
            for community in communities or list(self.communities.values()):
                state = self.state(community.slug)
                if rest and state.resting(self.settings.index_poll_seconds):
                    continue
                try:
                    self._sync_community(community, head, latest)
                except Exception as exc:
                    message = describe(exc)
                    if message != state.error:
                        log.error(
                            "indexing community %s failed: %s",
                            community.slug,
                            message,
                            exc_info=not isinstance(exc, DomainError),
                        )
                    state.failed(message)
                else:
                    state.succeeded()
            if communities is None and self._serve_moves() and self.last_error is None:
                self._clean_at = (latest.hash, self.gateway.deployments)
            return head

    def _unchanged(self, latest_hash: str) -> bool:
        """Whether a sync of everything would find nothing to do: the chain's latest block is the
        one the last sync of everything saw, that sync found nothing failing, and the same
        communities are served. Its head read is all the background loop then costs: polling
        several times a block, most syncs were such, and each read the database and the node
        several times over (an idle service's indexer spent 25 ms of CPU a second). Each
        community counts as indexed as of now."""
        if (
            self._clean_at is None
            or self._clean_at[0] != latest_hash
            or self._clean_at[1] is not self.gateway.deployments
        ):
            return False
        for slug in self.communities:
            self.state(slug).succeeded()
        return True

    def _serve_moves(self) -> bool:
        """Serve each community's records where the index's moves left them (a failure of the
        database is noticed by the next sync; the version served stays meanwhile). Whether it could."""
        try:
            versions.refresh(self.gateway, self.sessions)
        except _DATABASE_DOWN as exc:
            log.warning("reading the records' moves failed: %s", describe(exc))
            return False
        return True

    def _follow_factory(self, head: int, latest: LatestBlock) -> None:
        """The communities created through the factory up to `head`, served from now on (and so
        indexed by this very sync). Its failure is its own: the communities already served go on."""
        try:
            added = self.factory.sync(head, latest)
        except Exception as exc:
            message = describe(exc)
            if message != self.factory_state.error:
                log.error(
                    "following the community factory failed: %s", message, exc_info=not isinstance(exc, DomainError)
                )
            self.factory_state.failed(message)
            return
        self.factory_state.succeeded()
        for community in added:
            log.info(
                "serving community %s, created through the factory at block %s",
                community.slug,
                community.deployment_block,
            )

    def catch_up(self, block_number: int, timeout: float | None = None, community: Community | None = None) -> bool:
        """Return once `block_number` is indexed (a write's own block), syncing if need be: True
        when it is, False when indexing it is failing (the chain holds the write all the same;
        /health says why). Raises TimedOut when the block is not yet deep enough in time, and
        the chain's own errors (node down) as they are."""
        if on_loop():  # it sleeps, and syncs under a lock held across the node's answers: a thread's
            raise RuntimeError("the index is caught up with in a thread, not on the event loop")
        wanted = [community] if community else list(self.communities.values())
        deadline = time.monotonic() + (timeout or self.settings.receipt_timeout_seconds)
        if self.leader is not None and not self.leader.held():
            return self._wait_for_leader(wanted, block_number, deadline)
        head: int | None = None
        while True:
            try:
                pending = [c for c in wanted if self.cursor(c)[0] < block_number]
                if not pending:
                    return True
                if head is not None:  # synced once already, and not there yet
                    if all(self.state(c.slug).error for c in pending):
                        return False
                    if time.monotonic() > deadline:
                        if head < block_number:
                            raise TimedOut(
                                _(
                                    "Block %(block)s is mined but not yet %(depth)s blocks deep",
                                    block=block_number,
                                    depth=self.settings.confirmations,
                                )
                            )
                        return False  # the chain moved under the index (a reset): not indexed
                    time.sleep(self.settings.index_poll_seconds)
                head = self.sync(pending)  # the other communities are the background loop's
            except DomainError:
                raise
            except Exception:  # the index's database: the write stands, the index catches up later
                log.exception("catching up to block %s failed", block_number)
                return False

    def _wait_for_leader(self, wanted: list[Community], block_number: int, deadline: float) -> bool:
        """Another process indexes: wait until its cursor passes the block (False at the deadline)."""
        while time.monotonic() < deadline:
            try:
                if all(self.cursor(c)[0] >= block_number for c in wanted):
                    return True
            except Exception:  # the index's database: the write stands, the index catches up later
                return False
            time.sleep(min(0.05, self.settings.index_poll_seconds))
        return False

    def sync_to(self, community: Community, block: int) -> int:
        """Index one community up to `block` exactly, whatever the head (an archive rebuilt as of its
        block, a restore going a page at a time; backend/archive). Returns the block reached: short
        of `block` when the chain moved under the index. Errors (the node gone) are raised."""
        with self._lock:
            self._sync_community(community, block)
        return self.cursor(community)[0]

    def _sync_community(self, community: Community, head: int, latest: LatestBlock | None = None) -> None:
        """Index one community up to `head`. `latest`, the newest block as this sync read it, saves
        reading again what it already says: whether the cursor's block is its parent (so still on
        the chain), and its own timestamp and hash when a page ends there."""
        self._forget_if_chain_changed(community, latest)
        cursor, _ = self.cursor(community)
        with self.sessions() as session:
            # The moves this index found in earlier pages: a caller may know fewer (an archive
            # being verified or an index restored, built from the community as deployed).
            indexed = versions.moves_of(session, community.slug)
        if len(indexed) > len(community.moves):
            community = community.with_moves(indexed)
        while cursor < head:
            last = min(cursor + self.settings.index_page_blocks, head)
            # Every version of the badge contract the records were in, and any they move to here.
            community, logs = versions.page_logs(self.gateway, community, cursor + 1, last)
            blocks = sorted({int(entry["blockNumber"], 16) for entry in logs} | {last})
            headers = self.gateway.block_headers(blocks, latest)
            if any(header is None for header in headers.values()):
                return  # the chain moved under us (a reset): the next sync notices and starts over
            self._store(community, logs, headers, last)
            cursor = last

    def _forget_if_chain_changed(self, community: Community, latest: LatestBlock | None = None) -> None:
        """A local chain restarted without its state, or a reorganisation deeper than the
        confirmation depth, leaves the index describing blocks the chain no longer has: the
        cursor's block hash tells, and the community is indexed again from its deployment. When
        the newest block (as this sync read it) is the cursor's block or its child, its hash or
        its parent's says so without another read: once a block, as the chain moves one at a time."""
        with self.sessions() as session:
            row = session.get(Cursor, community.slug)
            if row is None or row.block_hash is None:
                return
            number, expected = row.block_number, row.block_hash
        if latest is not None and latest.vouches_for(number, expected):
            return
        header = self.gateway.block_headers([number])[number]
        if header is not None and header[1] == expected:
            return
        log.warning(
            "block %s of community %s is no longer on the chain (was %s): rebuilding its index",
            number,
            community.slug,
            expected,
        )
        with self.sessions.begin() as session:
            self._forget(session, [community.slug])

    def _decode(self, community: Community, logs: list[dict[str, Any]], timestamps: dict[int, int]) -> list[_Entry]:
        entries: list[_Entry] = []
        for event in decode_logs(self.gateway.deployments.abis, community, logs):
            item = _Entry(event, timestamps[event.block_number])
            if event.error is not None:  # data that does not decode as the ABI says: kept, set aside
                item.failure = f"cannot decode {event.name}: {describe(event.error)}"
            else:
                item.decoded = projections.Log(
                    community=community.slug,
                    contract=event.contract,
                    name=event.name,
                    args=event.args,
                    block_number=event.block_number,
                    log_index=event.log_index,
                    timestamp=item.timestamp,
                    tx_hash=event.tx_hash,
                )
            entries.append(item)
        return entries

    def _store(self, community, logs, headers, last: int) -> None:
        timestamps = {number: header[0] for number, header in headers.items()}
        entries = self._decode(community, logs, timestamps)
        cursor = dict(
            community=community.slug, block_number=last, block_timestamp=timestamps[last], block_hash=headers[last][1]
        )
        try:  # the whole page in one transaction: the usual case
            with self.sessions.begin() as session:
                self._apply(session, community, entries)
                session.merge(Cursor(**cursor))
            return
        except _DATABASE_DOWN:
            raise
        except Exception as exc:
            log.warning(
                "community %s, blocks up to %s: %s; storing the page one event at a time",
                community.slug,
                last,
                describe(exc),
            )
        # One transaction per event: only the event at fault is set aside.
        for entry in entries:
            try:
                with self.sessions.begin() as session:
                    self._apply(session, community, [entry])
            except _DATABASE_DOWN:
                raise
            except Exception as exc:
                self._set_aside(community, entry, describe(exc))
        with self.sessions.begin() as session:
            session.merge(Cursor(**cursor))

    def _apply(self, session: Session, community: Community, entries: list[_Entry]) -> None:
        seen = set()
        if entries:
            positions = [(e.log.block_number, e.log.log_index) for e in entries]
            seen = set(
                session.execute(
                    select(EventRecord.block_number, EventRecord.log_index).where(
                        tuple_(EventRecord.block_number, EventRecord.log_index).in_(positions)
                    )
                ).all()
            )
        records = []
        for entry in entries:
            if (entry.log.block_number, entry.log.log_index) in seen:
                continue  # idempotent: this event was indexed already
            if entry.decoded is None:
                session.merge(self._set_aside_row(community, entry, entry.failure or "undecodable"))
                continue
            item = entry.decoded
            records.append(
                dict(
                    community=item.community,
                    block_number=item.block_number,
                    log_index=item.log_index,
                    tx_hash=item.tx_hash,
                    timestamp=item.timestamp,
                    contract=item.contract,
                    name=item.name,
                    args={k: _json_safe(v) for k, v in item.args.items()},
                )
            )
            projections.apply(session, item)
        projections.insert_new_rows(session)
        if records:
            # The event log in one bulk insert at the end: added one by one, each was flushed on
            # its own by the next projection's query (half of a backfill's time). Through Core:
            # the ORM's bulk insert took 1.5 times as long for the same rows.
            session.connection().execute(cast(Table, EventRecord.__table__).insert(), records)

    def _set_aside_row(self, community: Community, entry: _Entry, error: str) -> SetAside:
        event = entry.log
        log.error(
            "community %s: event %s at block %s, log %s set aside: %s",
            community.slug,
            event.name,
            event.block_number,
            event.log_index,
            error,
        )
        self.state(community.slug).noted(
            f"{event.name} at block {event.block_number}, log {event.log_index} set aside: {error}"
        )
        return SetAside(
            community=community.slug,
            block_number=event.block_number,
            log_index=event.log_index,
            tx_hash=event.tx_hash,
            timestamp=entry.timestamp,
            contract=event.contract,
            name=event.name,
            error=error,
            topics=list(event.raw["topics"]),
            data=event.raw["data"],
            set_aside_at=int(time.time()),
        )

    def _set_aside(self, community: Community, entry: _Entry, error: str) -> None:
        # Its own transaction; if even this fails, the community's sync fails and is tried again.
        with self.sessions.begin() as session:
            session.merge(self._set_aside_row(community, entry, error))

    # ------------------------------------------------------------------ rebuild

    def reset(self, community: Community | None = None) -> None:
        """Forget everything indexed (for one community or all): the next sync rebuilds it."""
        slugs = [community.slug] if community else list(self.communities)
        with self._lock, self.sessions.begin() as session:
            self._clean_at = None
            self._forget(session, slugs)

    @staticmethod
    def _forget(session: Session, slugs: list[str]) -> None:
        for table in (*PROJECTIONS, EventRecord, SetAside, Cursor):
            session.execute(delete(table).where(table.community.in_(slugs)))

    def reindex(self) -> int:
        """Rebuild the index from each deployment block beside the one in use (a scratch SQLite
        file next to it, or a scratch PostgreSQL schema), and replace the one in use with it in
        one transaction only once every community was indexed to the head. Raises ReindexFailed
        otherwise, with the index in use untouched. Returns the head indexed to."""
        with scratch_index(self.sessions.kw["bind"]) as scratch:
            builder = Indexer(gateway=self.gateway, sessions=scratch.sessions)
            try:
                head = builder.sync()
            except DomainError as exc:
                raise ReindexFailed(exc.detail) from exc
            failed = [f"community {slug}: {state.error}" for slug, state in builder.states.items() if state.error]
            if builder.factory_state.error:
                failed.append(f"the community factory: {builder.factory_state.error}")
            if failed:
                raise ReindexFailed("; ".join(failed))
            short = [c.slug for c in self.communities.values() if builder.cursor(c)[0] < head]
            if short:
                raise ReindexFailed(
                    f"the chain changed during the rebuild ({', '.join(short)} not indexed to "
                    f"block {head}); run it again"
                )
            with self._lock:
                self._clean_at = None
                scratch.swap()
        return head

    def set_aside_count(self) -> int:
        with self.sessions() as session:
            return session.scalar(select(func.count()).select_from(SetAside)) or 0

    # ------------------------------------------------------------------ background

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="indexer", daemon=True)
        self._thread.start()

    def _refresh_followed(self) -> None:
        try:
            self.factory.refresh()
        except Exception as exc:  # the database: the communities already served go on
            self.factory_state.failed(describe(exc))
        self._serve_moves()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        reported = None
        while not self._stop.is_set():
            if self.leader is not None and not (self.leader.held() or self.leader.try_acquire()):
                self._refresh_followed()  # another process indexes: serve what it found
                self._clean_at = None  # and its index is not what this one last synced
                self._stop.wait(self.settings.index_poll_seconds)
                continue
            try:
                self.sync(rest=True)
            except Exception as exc:  # node down: keep trying (the API says 503 meanwhile); never die
                if self.chain_state.error != reported:
                    log.warning(
                        "indexer cannot read the chain head: %s",
                        self.chain_state.error,
                        exc_info=not isinstance(exc, DomainError),
                    )
            reported = self.chain_state.error
            self._stop.wait(self.settings.index_poll_seconds)
