"""Communities created on chain: the service follows the community factory that the deployments
file names, and serves each community created through it after it started, without a restart and
without a file to edit.

Anyone can call the factory, so the service trusts creators, not the factory: it serves the
communities of the accounts the deployments file names as having deployed (the factory's
deployer, each recorded community's creator) and of `follow_creators`, at most
`follow_max_communities` of them, in the order they were created. The creator is an indexed topic
of CommunityCreated, so the node itself leaves every other creator's communities out of its
answer: a stranger's thousand communities cost the service nothing but the blocks they fill. A
slug the deployments file already serves stays the file's (its contracts are the ones recorded);
a community created under it through the factory is refused, and /health says so.

The leader process (the one that indexes) reads the factory's events into `created_communities`,
in the same transaction as its cursor, like any event; every process serves what that table lists
(read again at each poll of the indexer's loop). Rebuilt from the chain with the rest of the index.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from backend.chain.addresses import checksum
from backend.chain.deployments import CONTRACT_KEYS, FACTORY, OPTIONAL_KEYS, Community, FactoryRecord
from backend.chain.gateway import ChainGateway, LatestBlock
from backend.indexer.models import CreatedCommunity, Cursor, LeftOut

log = logging.getLogger(__name__)

# The factory's cursor, among the communities' own: no slug can hold a colon.
CURSOR_KEY = ":factory"
# CommunityCreated(address indexed creator, bytes32 indexed slugHash, string slug, string name, contracts)
CREATED_EVENT = "CommunityCreated"
# CommunityFactory.CommunityContracts, in its order.
CONTRACTS_IN_EVENT = ("forwarder", "membership", "timelock", "governor", "registry", "badge", "passkeys")
# As CommunityFactory checks them (a factory that did not would still not put a bad slug in a URL).
SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?")


@dataclass
class FactoryState:
    """What following the factory found, for /health, as the index has it (every process reads
    it): creations left out past the cap, and refusals (slug clashes)."""

    over_cap: int = 0
    refused: dict[str, str] = field(default_factory=dict)


def community_of(row: CreatedCommunity) -> Community:
    return Community(
        slug=row.slug,
        name=row.name,
        deployment_block=row.block_number,
        contracts={key: checksum(address) for key, address in row.contracts.items()},
        creator=row.creator,
    )


class FactoryFollower:
    """Reads the factory's CommunityCreated events of followed creators, and has the gateway serve
    the communities they announce."""

    def __init__(self, *, gateway: ChainGateway, sessions: sessionmaker[Session]) -> None:
        self.gateway = gateway
        self.sessions = sessions
        self.settings = gateway.settings
        self.state = FactoryState()
        self._lock = threading.Lock()
        # The file's own communities, as it recorded them: their slugs are theirs whatever happens.
        self.file_slugs = frozenset(gateway.deployments.communities)
        # The head and the creators the last sync read to the end: the indexer polls a few times
        # a block, and a sync with nothing new cost two reads of the database and a block header.
        self._synced: tuple[int, tuple[str, ...]] | None = None

    @property
    def factory(self) -> FactoryRecord | None:
        return self.gateway.deployments.factory

    def creators(self) -> list[str]:
        return sorted(self.gateway.deployments.recorded_creators() | set(self.settings.follow_creators))

    def active(self) -> bool:
        return self.factory is not None and self.settings.follow_max_communities > 0 and bool(self.creators())

    # ------------------------------------------------------------------ every process

    def refresh(self) -> list[Community]:
        """Serve the communities the table lists (those not served yet); returns them."""
        if self.factory is None:
            return []
        with self.sessions() as session:
            rows = list(session.scalars(select(CreatedCommunity).order_by(CreatedCommunity.block_number)))
            left_out = session.get(LeftOut, self.factory.address)
        self.state.refused = {row.slug: row.refused for row in rows if row.refused}
        self.state.over_cap = left_out.count if left_out is not None else 0
        return self.gateway.follow([community_of(row) for row in rows if row.refused is None])

    # ------------------------------------------------------------------ the indexing process

    def sync(self, head: int, latest: LatestBlock | None = None) -> list[Community]:
        """Read the factory's events up to `head` into the table, then serve what it lists;
        returns the communities newly served. `latest`, the newest block as the caller read it,
        saves reading again what it already says (ChainGateway.block_headers)."""
        if not self.active():
            return []
        factory = self.factory
        assert factory is not None
        synced = (head, tuple(self.creators()))
        if synced == self._synced:
            return []
        with self._lock:
            self._forget_if_chain_changed(latest)
            cursor = self._cursor(factory)
            while cursor < head:
                last = min(cursor + self.settings.index_page_blocks, head)
                logs = self._created_logs(factory, cursor + 1, last)
                wanted = sorted({int(e["blockNumber"], 16) for e in logs} | {last})
                headers = {n: h for n, h in self.gateway.block_headers(wanted, latest).items() if h is not None}
                if len(headers) < len(wanted):
                    break  # the chain moved under us (a reset): the next sync notices
                with self.sessions.begin() as session:
                    for entry in logs:
                        self._store(session, factory, entry, headers[int(entry["blockNumber"], 16)][0])
                    timestamp, block_hash = headers[last]
                    session.merge(
                        Cursor(
                            community=CURSOR_KEY, block_number=last, block_timestamp=timestamp, block_hash=block_hash
                        )
                    )
                cursor = last
        added = self.refresh()
        self._synced = synced if cursor >= head else None
        return added

    def _cursor(self, factory: FactoryRecord) -> int:
        with self.sessions() as session:
            row = session.get(Cursor, CURSOR_KEY)
            return row.block_number if row is not None else factory.deployment_block - 1

    def _created_logs(self, factory: FactoryRecord, first: int, last: int) -> list[dict[str, Any]]:
        """CommunityCreated of the followed creators only: the node filters by the creator's topic."""
        [topic] = ["0x" + t.hex() for t, e in self.gateway.abi(FACTORY).events.items() if e.name == CREATED_EVENT]
        creators = ["0x" + "00" * 12 + creator[2:].lower() for creator in self.creators()]
        return self.gateway.rpc.request(
            "eth_getLogs",
            {"address": factory.address, "topics": [topic, creators], "fromBlock": hex(first), "toBlock": hex(last)},
        )

    def _store(self, session: Session, factory: FactoryRecord, entry: dict[str, Any], timestamp: int) -> None:
        if entry.get("removed"):
            return
        topics = [bytes.fromhex(t[2:]) for t in entry["topics"]]
        event = self.gateway.abi(FACTORY).events.get(topics[0]) if topics else None
        position = f"block {int(entry['blockNumber'], 16)}, log {int(entry['logIndex'], 16)}"
        try:
            assert event is not None
            args = event.decode(topics, bytes.fromhex(entry["data"][2:]))
            slug, name, addresses = args["slug"], args["name"], args["contracts"]
            contracts = dict(zip(CONTRACTS_IN_EVENT, addresses, strict=True))
        except Exception as exc:  # not as CommunityCreated says: never stops the index
            log.warning("the community factory's event at %s does not decode: %r", position, exc)
            return
        if not isinstance(slug, str) or not SLUG.fullmatch(slug) or "slug_raw" in args or "name_raw" in args:
            log.warning("the community factory announced a slug the service cannot serve at %s: %r", position, slug)
            return
        if session.get(CreatedCommunity, slug) is not None:
            return  # stored already (a page read again)
        refused = None
        if slug in self.file_slugs:
            recorded = self.gateway.deployments.communities[slug].contracts
            if all(recorded.get(key) == checksum(address) for key, address in contracts.items() if key in recorded):
                return  # the file's own community, created through the factory: served from the file
            refused = (
                f"another community is recorded under the slug '{slug}' in the deployments file, so the one "
                f"created through the factory at {position} is not served"
            )
        elif self._followed_count(session) >= self.settings.follow_max_communities:
            counted = session.get(LeftOut, factory.address)
            if counted is None:
                counted = LeftOut(factory=factory.address, count=0)
                session.add(counted)
            counted.count += 1
            log.warning(
                "community '%s' created through the factory at %s is not served: the service serves at most %s "
                "(follow_max_communities)",
                slug,
                position,
                self.settings.follow_max_communities,
            )
            return
        wanted = (*CONTRACT_KEYS, *OPTIONAL_KEYS)
        session.add(
            CreatedCommunity(
                slug=slug,
                name=name,
                creator=checksum(args["creator"]),
                contracts={key: checksum(address) for key, address in contracts.items() if key in wanted},
                block_number=int(entry["blockNumber"], 16),
                log_index=int(entry["logIndex"], 16),
                tx_hash=entry["transactionHash"],
                timestamp=timestamp,
                refused=refused,
            )
        )
        session.flush()

    @staticmethod
    def _followed_count(session: Session) -> int:
        query = select(func.count()).select_from(CreatedCommunity).where(CreatedCommunity.refused.is_(None))
        return session.scalar(query) or 0

    def _forget_if_chain_changed(self, latest: LatestBlock | None = None) -> None:
        """A local chain restarted without its state: the factory's record starts over (the
        communities created on the old chain stay served until the service restarts)."""
        with self.sessions() as session:
            row = session.get(Cursor, CURSOR_KEY)
            if row is None or row.block_hash is None:
                return
            number, expected = row.block_number, row.block_hash
        if latest is not None and latest.vouches_for(number, expected):
            return
        header = self.gateway.block_headers([number])[number]
        if header is not None and header[1] == expected:
            return
        log.warning("block %s is no longer on the chain: reading the community factory's events again", number)
        with self.sessions.begin() as session:
            session.execute(delete(CreatedCommunity))
            session.execute(delete(LeftOut))
            session.execute(delete(Cursor).where(Cursor.community == CURSOR_KEY))
