"""Follows each community's events into the database.

Per community: read logs from the cursor to the head (minus the confirmation depth) in pages,
decode them with eth-abi, skip any (block, log index) already stored, apply the projections,
and move the cursor, all in one transaction per page. Run from a background thread, and on
demand by a write that wants its own events visible before it answers.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import delete, select, tuple_
from sqlalchemy.orm import Session, sessionmaker

from backend.chain.deployments import Community
from backend.chain.gateway import ChainGateway
from backend.errors import DomainError, TimedOut
from backend.indexer import projections
from backend.indexer.models import PROJECTIONS, Cursor, EventRecord

log = logging.getLogger(__name__)

_JS_SAFE = 2**53


def _json_safe(value):
    # uint256 values (proposal ids) would lose digits as JSON numbers in some databases.
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= _JS_SAFE:
        return str(value)
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


class Indexer:
    def __init__(self, gateway: ChainGateway, sessions: sessionmaker[Session]) -> None:
        self.gateway = gateway
        self.sessions = sessions
        self.settings = gateway.settings
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None

    @property
    def communities(self) -> dict[str, Community]:
        return self.gateway.deployments.communities

    # ------------------------------------------------------------------ cursor

    def cursor(self, community: Community) -> tuple[int, int]:
        """(last indexed block, its timestamp); before any indexing, the block before deployment."""
        with self.sessions() as session:
            row = session.get(Cursor, community.slug)
            if row is None:
                return community.deployment_block - 1, 0
            return row.block_number, row.block_timestamp

    # ------------------------------------------------------------------ syncing

    def sync(self) -> int:
        """Index every community up to the safe head; returns that head."""
        with self._lock:
            head = self.gateway.block_number() - self.settings.confirmations
            for community in self.communities.values():
                self._sync_community(community, head)
            self.last_error = None
            return head

    def catch_up(self, block_number: int, timeout: float | None = None) -> None:
        """Return once `block_number` is indexed (a write's own block), syncing if need be."""
        deadline = time.monotonic() + (timeout or self.settings.receipt_timeout_seconds)
        while True:
            if all(self.cursor(c)[0] >= block_number for c in self.communities.values()):
                return
            if self.sync() >= block_number:
                continue
            if time.monotonic() > deadline:
                raise TimedOut(f"Block {block_number} is mined but not yet {self.settings.confirmations} blocks deep")
            time.sleep(self.settings.index_poll_seconds)

    def _sync_community(self, community: Community, head: int) -> None:
        self._forget_if_chain_changed(community)
        cursor, _ = self.cursor(community)
        addresses = list(community.contracts.values())
        by_address = {address.lower(): key for key, address in community.contracts.items()}
        while cursor < head:
            last = min(cursor + self.settings.index_page_blocks, head)
            logs = self.gateway.get_logs(addresses, cursor + 1, last)
            blocks = sorted({int(entry["blockNumber"], 16) for entry in logs} | {last})
            headers = self.gateway.block_headers(blocks)
            if any(header is None for header in headers.values()):
                return  # the chain moved under us (a reset): the next sync notices and starts over
            self._store(community, logs, by_address, headers, last)
            cursor = last

    def _forget_if_chain_changed(self, community: Community) -> None:
        """A local chain restarted without its state, or a reorganisation deeper than the
        confirmation depth, leaves the index describing blocks the chain no longer has: the
        cursor's block hash tells, and the community is indexed again from its deployment."""
        with self.sessions() as session:
            row = session.get(Cursor, community.slug)
            if row is None or row.block_hash is None:
                return
            number, expected = row.block_number, row.block_hash
        header = self.gateway.block_headers([number])[number]
        if header is not None and header[1] == expected:
            return
        log.warning("block %s of community %s is no longer on the chain (was %s): rebuilding its index",
                    number, community.slug, expected)
        with self.sessions.begin() as session:
            self._forget(session, [community.slug])

    def _store(self, community, logs, by_address, headers, last: int) -> None:
        timestamps = {number: header[0] for number, header in headers.items()}
        abis = self.gateway.deployments.abis
        decoded: list[projections.Log] = []
        for entry in logs:
            if entry.get("removed"):
                continue
            key = by_address.get(entry["address"].lower())
            topics = [bytes.fromhex(t[2:]) for t in entry["topics"]]
            event = abis[key].events.get(topics[0]) if key and topics else None
            if event is None:
                continue
            block = int(entry["blockNumber"], 16)
            decoded.append(projections.Log(
                community=community.slug, contract=key, name=event.name,
                args=event.decode(topics, bytes.fromhex(entry["data"][2:])),
                block_number=block, log_index=int(entry["logIndex"], 16),
                timestamp=timestamps[block], tx_hash=entry["transactionHash"],
            ))
        with self.sessions.begin() as session:
            seen = set()
            if decoded:
                positions = [(d.block_number, d.log_index) for d in decoded]
                seen = set(session.execute(
                    select(EventRecord.block_number, EventRecord.log_index).where(
                        tuple_(EventRecord.block_number, EventRecord.log_index).in_(positions)
                    )
                ).all())
            for item in decoded:
                if (item.block_number, item.log_index) in seen:
                    continue  # idempotent: this event was indexed already
                session.add(EventRecord(
                    community=item.community, block_number=item.block_number, log_index=item.log_index,
                    tx_hash=item.tx_hash, timestamp=item.timestamp, contract=item.contract, name=item.name,
                    args={k: _json_safe(v) for k, v in item.args.items()},
                ))
                projections.apply(session, item)
            session.merge(Cursor(community=community.slug, block_number=last, block_timestamp=timestamps[last],
                                 block_hash=headers[last][1]))

    # ------------------------------------------------------------------ rebuild

    def reset(self, community: Community | None = None) -> None:
        """Forget everything indexed (for one community or all): the next sync rebuilds it."""
        slugs = [community.slug] if community else list(self.communities)
        with self._lock, self.sessions.begin() as session:
            self._forget(session, slugs)

    @staticmethod
    def _forget(session: Session, slugs: list[str]) -> None:
        for table in PROJECTIONS:
            session.execute(delete(table).where(table.community.in_(slugs)))
        session.execute(delete(EventRecord).where(EventRecord.community.in_(slugs)))
        session.execute(delete(Cursor).where(Cursor.community.in_(slugs)))

    def reindex(self) -> int:
        self.reset()
        return self.sync()

    # ------------------------------------------------------------------ background

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="indexer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.sync()
            except DomainError as exc:  # node down: keep trying, the API says 503 meanwhile
                self.last_error = exc.detail
            except Exception as exc:  # never let the thread die; say why in /health
                self.last_error = repr(exc)
                log.exception("indexer sync failed")
            self._stop.wait(self.settings.index_poll_seconds)
