"""What the service's background loops cost while nothing happens: they poll, and most polls
find nothing.

The indexer polls the chain several times a block. A poll on a chain that has not changed since
the last sync of everything (the same latest block, by its hash) reads the head and nothing else:
no database statement, no other call to the node. Anything else is a full sync: a new block, a
chain replaced by another of the same height, a community that failed, an index reset.

The relayer looks at the outbox every `relay_poll_seconds` for requests other processes accepted.
With nothing queued, nothing of its own in flight and nothing mined recently enough to be rolled
back, a look is one statement and no call to the node; a look at an empty queue loads nothing.

On a chain of their own (Anvil, the example community deployed), driven in-process, with every
call to the node and every SQL statement counted.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import psycopg
import pytest
from eth_account import Account
from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from backend.app import create_app
from backend.context import Context
from backend.errors import NodeUnavailable
from backend.indexer.models import Cursor, EventRecord
from backend.relay.outbox import RECHECK_BLOCKS, RelayBatch
from backend.relay.worker import HEAD_SHARED_SECONDS
from backend.settings import ANVIL_DEV_KEYS, Settings
from devstack.stack import Anvil, deploy, rpc, wait_until
from tests.e2e.conftest import POSTGRES_URL, _postgres_database


@dataclass
class Counted:
    """What the service asked of the node (methods, in order) and of its database (statements)."""

    calls: list[str] = field(default_factory=list)
    statements: int = 0

    def reset(self) -> None:
        self.calls.clear()
        self.statements = 0


@dataclass
class Service:
    ctx: Context
    anvil: Anvil
    counted: Counted

    def sync(self, **kwargs) -> int:
        self.counted.reset()
        return self.ctx.indexer.sync(rest=True, **kwargs)

    def cursor(self) -> Cursor:
        with self.ctx.sessions() as session:
            row = session.get(Cursor, "example")
            assert row is not None
            session.expunge(row)
            return row

    def latest(self) -> dict:
        return rpc(self.anvil.url, "eth_getBlockByNumber", "latest", False)


@pytest.fixture(params=["sqlite", "postgresql"])
def service(request, tmp_path) -> Iterator[Service]:
    anvil = Anvil(tmp_path)
    anvil.start()
    cleanup = None
    try:
        deployments = deploy(anvil, tmp_path / "deployments")
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path / 'index.sqlite3'}"
        else:
            url, cleanup = _postgres_database()
        settings = Settings(rpc_url=anvil.url, deployments_file=deployments, DATABASE_URL=url, index_poll_seconds=0.01)
        app = create_app(settings, run_indexer=False)
        ctx: Context = app.state.context
        counted = Counted()
        rpc_client = ctx.gateway.rpc
        send = rpc_client._send

        def counting_send(body: bytes, shape=None):
            payload = json.loads(body)
            counted.calls.extend(p["method"] for p in (payload if isinstance(payload, list) else [payload]))
            return send(body, shape)

        rpc_client._send = counting_send  # type: ignore[method-assign]
        # The ORM's engine, and the one for reads of one statement (the same one on SQLite).
        engines = list({id(e): e for e in (ctx.sessions.kw["bind"], ctx.book.reads)}.values())

        def statement(*_args) -> None:
            counted.statements += 1

        for engine in engines:
            event.listen(engine, "before_cursor_execute", statement)
        try:
            yield Service(ctx, anvil, counted)
        finally:
            for engine in engines:
                event.remove(engine, "before_cursor_execute", statement)
                engine.dispose()
    finally:
        anvil.stop()
        if cleanup:
            cleanup()


def test_a_poll_on_an_unchanged_chain_reads_the_head_and_nothing_else(service: Service):
    head = service.sync()
    assert service.cursor().block_number == head  # the first sync indexed everything
    assert service.counted.statements > 0
    state = service.ctx.indexer.state("example")
    synced_at = state.synced_at

    for _ in range(3):
        assert service.sync() == head
        assert service.counted.calls == ["eth_getBlockByNumber"]
        assert service.counted.statements == 0
    assert state.synced_at is not None and synced_at is not None and state.synced_at >= synced_at
    assert service.ctx.indexer.last_error is None

    # Asked for outright (the index command, a write waiting for its block), a sync is never skipped:
    # it reads the cursors. The head it read is the cursor's block, so the node is asked nothing more.
    service.counted.reset()
    service.ctx.indexer.sync()
    assert service.counted.statements > 0 and service.counted.calls == ["eth_getBlockByNumber"]

    # A new block: indexed, then quiet again. The head read says what the community's sync needs of
    # it (that the cursor's block is its parent, and its own hash and time): no block read again.
    rpc(service.anvil.url, "evm_mine")
    assert service.sync() == head + 1
    assert service.cursor().block_number == head + 1
    assert service.cursor().block_hash == service.latest()["hash"]
    assert sorted(service.counted.calls) == ["eth_getBlockByNumber", "eth_getLogs", "eth_getLogs"]
    assert service.counted.statements > 0
    service.sync()
    assert service.counted.calls == ["eth_getBlockByNumber"] and service.counted.statements == 0


def test_a_chain_replaced_by_another_of_the_same_height_is_indexed_again(service: Service):
    """A local chain restarted and brought back to the same height: the same head number, another
    hash. A poll that compared numbers would skip it and serve blocks that no longer exist."""
    snapshot = rpc(service.anvil.url, "evm_snapshot")
    rpc(service.anvil.url, "evm_mine")
    head = service.sync()
    before = service.latest()
    assert service.cursor().block_hash == before["hash"]

    rpc(service.anvil.url, "evm_revert", snapshot)
    rpc(service.anvil.url, "evm_mine", hex(int(before["timestamp"], 16) + 7))  # another block, same number
    after = service.latest()
    assert after["number"] == before["number"] and after["hash"] != before["hash"]

    assert service.sync() == head
    assert len(service.counted.calls) > 1  # not skipped
    assert service.cursor().block_hash == after["hash"]  # the index describes the chain there is
    with service.ctx.sessions() as session:
        assert session.scalar(select(func.count()).select_from(EventRecord)) > 0  # indexed again from deployment
    service.sync()
    assert service.counted.calls == ["eth_getBlockByNumber"]


def test_a_chain_replaced_and_grown_a_block_past_the_index_is_indexed_again(service: Service):
    """The index's newest block replaced by another, and a block mined on top: the newest block is
    one past the cursor, but its parent is not the cursor's block. Taking the chain's moving one
    block for proof that the cursor's block is still there would keep serving that block's events,
    which the chain no longer has."""
    snapshot = rpc(service.anvil.url, "evm_snapshot")
    member = Account.from_key(ANVIL_DEV_KEYS[1]).address  # a member since the deployment
    data = service.ctx.gateway.abi("membership").function("delegate").encode(member)
    membership = service.ctx.gateway.deployments.communities["example"].contracts["membership"]
    sent = rpc(service.anvil.url, "eth_sendTransaction", {"from": member, "to": membership, "data": "0x" + data.hex()})
    # Anvil answers once the transaction is in its pool, and mines it a moment later.
    wait_until(
        lambda: rpc(service.anvil.url, "eth_getTransactionReceipt", sent), timeout=30, what="the delegation mined"
    )
    service.sync()
    before = service.latest()
    gone = int(before["number"], 16)
    assert service.cursor().block_hash == before["hash"]
    assert _events_in(service, gone) == ["DelegateChanged"]

    rpc(service.anvil.url, "evm_revert", snapshot)
    rpc(service.anvil.url, "evm_mine", hex(int(before["timestamp"], 16) + 7))  # the cursor's block, replaced
    rpc(service.anvil.url, "evm_mine")  # and one on top
    after = service.latest()
    assert int(after["number"], 16) == gone + 1 and after["parentHash"] != before["hash"]

    service.sync()
    assert service.cursor().block_hash == after["hash"]
    assert _events_in(service, gone) == []  # the replaced block's events are gone from the index too


def _events_in(service: Service, block: int) -> list[str]:
    with service.ctx.sessions() as session:
        return list(session.scalars(select(EventRecord.name).where(EventRecord.block_number == block)))


def test_a_community_that_failed_is_tried_again_on_an_unchanged_chain(service: Service, monkeypatch):
    indexer = service.ctx.indexer
    original = indexer._sync_community
    failures = Counter[str]()

    def failing_once(community, head, *latest):
        if not failures[community.slug]:
            failures[community.slug] += 1
            raise RuntimeError("the index's database refused a page")
        return original(community, head, *latest)

    monkeypatch.setattr(indexer, "_sync_community", failing_once)
    head = service.sync()
    assert indexer.state("example").error == "RuntimeError: the index's database refused a page"

    time.sleep(0.05)  # its rest (the poll interval, doubled per failure in a row) is over
    service.sync()
    assert len(service.counted.calls) > 1 and service.counted.statements > 0  # tried again, same chain
    assert indexer.state("example").error is None
    assert service.cursor().block_number == head
    service.sync()
    assert service.counted.calls == ["eth_getBlockByNumber"] and service.counted.statements == 0


def test_an_index_reset_is_rebuilt_by_the_next_poll_on_an_unchanged_chain(service: Service):
    head = service.sync()
    service.sync()
    assert service.counted.calls == ["eth_getBlockByNumber"]
    service.ctx.indexer.reset()
    with service.ctx.sessions() as session:
        assert session.get(Cursor, "example") is None

    service.sync()
    assert service.cursor().block_number == head
    with service.ctx.sessions() as session:
        assert session.scalar(select(func.count()).select_from(EventRecord)) > 0


def test_a_look_at_an_empty_queue_is_one_statement_and_no_session(service: Service, monkeypatch):
    """Loading the empty queue through the ORM (a session, the statement built and compiled,
    the result's machinery) was most of an idle relayer's CPU."""
    packing = service.ctx.worker.packing
    opened = []

    def counting_sessions(*args, **kwargs):
        opened.append(1)
        return service.ctx.sessions(*args, **kwargs)

    monkeypatch.setattr(packing, "sessions", counting_sessions)
    head = service.sync()
    service.counted.reset()
    assert packing.send_queued(head) is None
    assert (service.counted.calls, service.counted.statements, opened) == ([], 1, [])


def _a_moment_later() -> None:
    """Past the time a step takes the head read last (by a step, a check or the indexer) instead
    of asking the node again (worker.HEAD_SHARED_SECONDS)."""
    time.sleep(HEAD_SHARED_SECONDS * 1.5)


def test_an_idle_relayer_asks_the_node_nothing_until_it_has_something_to_watch(service: Service):
    worker = service.ctx.worker
    service.counted.reset()
    worker.step()  # it has seen no head yet
    assert "eth_blockNumber" in service.counted.calls
    head = worker._last_head
    assert head is not None
    for _ in range(3):
        service.counted.reset()
        worker.step()
        assert (service.counted.calls, service.counted.statements) == ([], 1)
    assert worker.state.paused is None

    # A transaction of its own waiting for its block: the head is read at each step, to settle it.
    with service.ctx.sessions.begin() as session:
        batch = RelayBatch(
            relayer=worker.key.address,
            relayer_nonce=0,
            to=worker.key.address,
            gas=21_000,
            attempts=[{"hash": "0x" + "ab" * 32, "raw": "0x", "max_fee": 1, "priority": 1}],
            state="sent",
            sent_block=head,
        )
        session.add(batch)
        session.flush()
        batch_id = batch.id
    service.counted.reset()
    _a_moment_later()
    worker.step()
    assert service.counted.calls[:1] == ["eth_blockNumber"]
    rpc(service.anvil.url, "evm_mine")
    service.counted.reset()
    _a_moment_later()
    worker.step()  # a new block: its receipt asked for
    assert "eth_getTransactionReceipt" in service.counted.calls

    # Mined in the last block: rechecked (a rollback would send its requests again) while recent.
    with service.ctx.sessions.begin() as session:
        mined = session.get(RelayBatch, batch_id)
        assert mined is not None
        mined.state, mined.block_number = "mined", head
    service.counted.reset()
    _a_moment_later()
    worker.step()
    assert "eth_blockNumber" in service.counted.calls
    for _ in range(service.ctx.settings.confirmations + RECHECK_BLOCKS + 1):
        rpc(service.anvil.url, "evm_mine")
    _a_moment_later()
    worker.step()  # reads the new head: the batch is now too deep to be rolled back
    service.counted.reset()
    worker.step()
    assert (service.counted.calls, service.counted.statements) == ([], 1)


def test_the_node_gone_and_back_while_the_chain_stands_still(service: Service):
    """A look that cannot read the head says so (/health's chain state), never counts as a quiet
    chain; the node back with the same chain, the looks are quiet again without a full sync."""
    indexer = service.ctx.indexer
    service.sync()
    service.anvil.stop()  # its state is kept: it comes back with the same chain
    with pytest.raises(NodeUnavailable):
        service.sync()
    assert indexer.chain_state.error is not None and "cannot be reached" in indexer.chain_state.error
    service.anvil.start()
    service.sync()
    assert service.counted.calls == ["eth_getBlockByNumber"] and service.counted.statements == 0
    assert indexer.last_error is None


@pytest.mark.parametrize("service", ["postgresql"], indirect=True)
def test_the_database_gone_and_back_while_the_relayer_is_idle(service: Service):
    """A step whose one read fails raises (the worker's loop says so at GET .../relayer and tries
    again): never taken for a relayer with nothing to do. The database back, it is idle again."""
    worker = service.ctx.worker
    worker.step()  # a head seen: idle from now on
    name = make_url(str(service.ctx.book.reads.url)).database
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        try:
            with pytest.raises(DBAPIError):
                worker.step()
        finally:
            admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
    service.counted.reset()
    worker.step()
    assert (service.counted.calls, service.counted.statements) == ([], 1)
