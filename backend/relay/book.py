"""The API's side of the outbox: member nonces in flight, budgets, accepting a request, and
following it to its end. Every API process reads and writes the same outbox, so what one
process accepted, another sees (several processes over one PostgreSQL).

- Nonces: a member's request holds its nonce from the moment it is accepted until it is settled,
  and, if it executed, until its block is too deep to be rolled back (a rolled-back request is
  sent again by the relayer, with the same nonce). Prepare hands out the first nonce after those;
  submit refuses a nonce that is used, in flight, or past a gap. Two requests prepared at the same
  moment get the same nonce: the first submitted is accepted, the other refused before anything is
  sent (409).
- Budgets (budgets.py): per member from the outbox, so they hold across processes; per client
  address in this process's memory.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import and_, bindparam, func, insert, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from backend.chain.on_loop import on_loop, wait_on_loop
from backend.errors import Conflict, NotFound, TooManyRequests
from backend.i18n import gettext as _
from backend.indexer.db import SQLITE_BUSY_TIMEOUT_SECONDS, DriverStatement, autocommit_twin, loop_twin
from backend.relay.arrivals import Arrivals
from backend.relay.budgets import (
    IS_STRIKE,
    WITHIN_BUDGETS,
    ClientBudgets,
    Strikes,
    budget_params,
    budget_refusal,
    client_refusal,
)
from backend.relay.outbox import (
    ACTIVE,
    OF_MEMBER,
    REQUESTS,
    USED_NONCE,
    RelayRequest,
    recheck_from,
    state_in,
)
from backend.relay.payloads import Payloads
from backend.settings import Settings

# The statements a relayed write runs, built once (building one cost more than running it) and
# run on the session's connection, without the ORM's bookkeeping. Each is bounded by an index
# on more than who the member is (tests/backend/test_relay_book.py reads their plans).
# The member's nonces from the chain's on that the outbox holds: in flight, or executed in a
# block recent enough to be rolled back (the relayer would then send that same request again).
# Their payloads are read apart (payloads.py), for those this process does not hold already, by
# id and accept time (the id alone could name another request in an outbox restored from a backup).
# Both ends of the nonces a parameter: PostgreSQL runs a statement prepared by its driver (from its
# sixth execution on a connection) with a plan made for any parameters, which guesses a third of
# the member's rows for `nonce >= x` and read them all through the member's index by state; for a
# range with both ends it guesses a narrow one, and searches ix_relay_request_member_nonce.
# NONCES_AHEAD is far past any nonce in flight (the outbox refuses one past a gap).
NONCES_AHEAD = 2**32
_NONCES_HELD = RelayRequest.nonce.between(bindparam("chain_nonce"), bindparam("nonce_to"))
_FLYING = select(RelayRequest.id, RelayRequest.nonce, RelayRequest.gas, RelayRequest.created_at).where(
    *OF_MEMBER,
    _NONCES_HELD,
    or_(state_in(ACTIVE), and_(state_in(USED_NONCE), RelayRequest.block_number >= bindparam("recent_from"))),
)
# The same, with where each executed one was mined (None while in flight): what a check that
# pins its simulation to a block may leave out of its replays (simulation.py, judged).
_FLYING_MINED = select(
    RelayRequest.id, RelayRequest.nonce, RelayRequest.gas, RelayRequest.block_number, RelayRequest.created_at
).where(
    *OF_MEMBER,
    _NONCES_HELD,
    or_(state_in(ACTIVE), and_(state_in(USED_NONCE), RelayRequest.block_number >= bindparam("recent_from"))),
)
_SAME = (
    select(RelayRequest.id, RelayRequest.state, RelayRequest.error)
    .where(
        *OF_MEMBER,
        RelayRequest.forwarder == bindparam("forwarder"),
        RelayRequest.nonce == bindparam("nonce"),
        RelayRequest.signature == bindparam("signature"),
    )
    .order_by(RelayRequest.id.desc())
    .limit(1)
)
# The reads every check runs, on the driver's own cursor (DriverStatement: their columns need no
# conversion).
_FLYING_READ, _FLYING_MINED_READ, _SAME_READ = (DriverStatement(s) for s in (_FLYING, _FLYING_MINED, _SAME))
# A request accepted, every column it is written with named (the driver's cursor runs no Python-side
# column defaults: tests/backend/test_driver_statements.py holds its row to the ORM's).
_ACCEPTED_COLUMNS = (
    "community",
    "kind",
    "forwarder",
    "signer",
    "nonce",
    "target",
    "payload",
    "signature",
    "gas",
    "client",
    "state",
    "attempts",
    "created_at",
)
_ACCEPT = DriverStatement(
    insert(REQUESTS)
    .values({name: bindparam(name) for name in _ACCEPTED_COLUMNS})
    .returning(RelayRequest.__table__.c.id)
)
# A member's request written only if it is within every budget, in one statement (budgets.py,
# WITHIN_BUDGETS): no row back means a refusal, or a budget that moved, for accept's read to say.
_ACCEPT_WITHIN_BUDGETS = DriverStatement(
    insert(REQUESTS)
    .from_select(
        _ACCEPTED_COLUMNS,
        select(*(bindparam(name, type_=REQUESTS.c[name].type) for name in _ACCEPTED_COLUMNS)).where(WITHIN_BUDGETS),
    )
    .returning(RelayRequest.__table__.c.id)
)


class HeldRequest(NamedTuple):
    """A member's request the outbox holds: its forwarder nonce, its payload (the signed request
    as JSON) and its share of a transaction's gas."""

    nonce: int
    payload: dict[str, Any]
    gas: int


class SameRequest(NamedTuple):
    """A request accepted before with the very same signature: its id, its state and why it failed."""

    id: int
    state: str
    error: str | None


def next_nonce(chain_nonce: int, held: list[HeldRequest]) -> int:
    """The nonce for a request being prepared: the first from the chain's on after those the
    outbox holds (`RelayBook.held`)."""
    flying = {r.nonce for r in held}
    nonce = chain_nonce
    while nonce in flying:
        nonce += 1
    return nonce


def check_nonce(chain_nonce: int, nonce: int, held: list[HeldRequest]) -> None:
    """Refuse a signed request bound to fail for its nonce: used (a request whose call reverted
    inside a batch used its nonce too), held by the outbox (`RelayBook.held`), or past a gap."""
    flying = {r.nonce for r in held}
    if nonce < chain_nonce or nonce in flying:
        raise Conflict(
            _(
                "A request of this signer with nonce %(nonce)s was already relayed (this one, or another prepared at "
                "the same moment): a nonce works once; prepare it again",
                nonce=nonce,
            ),
            error="ReplayedRequest",
        )
    gap = [n for n in range(chain_nonce, nonce) if n not in flying]
    if gap:
        raise Conflict(
            _(
                "The request's nonce %(nonce)s is ahead of the signer's next nonce %(next)s: prepare it again",
                nonce=nonce,
                next=gap[0],
            ),
            error="NonceAhead",
        )


# As long as a thread waits for SQLite's write lock.
LOCK_WAIT_SECONDS = float(SQLITE_BUSY_TIMEOUT_SECONDS)
T = TypeVar("T")


def _locked(exc: OperationalError) -> bool:
    """SQLite's SQLITE_BUSY or SQLITE_LOCKED (extended codes too: a snapshot another write made
    stale): another connection holds, or changed, what this write needs."""
    return (getattr(exc.orig, "sqlite_errorcode", None) or 0) & 0xFF in (5, 6)


class RelayBook:
    def __init__(
        self, *, settings: Settings, sessions: sessionmaker[Session], arrivals: Arrivals | None = None
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.clients = ClientBudgets(settings)
        # The reads of a check run on a connection of the engine: their statements are Core, and an
        # ORM session around each (made, bound, expunged, closed) cost as much as running it.
        self.engine: Engine = sessions.kw["bind"]
        self.reads = autocommit_twin(self.engine)  # for the reads of one statement (or two) each
        self.loop_writes = loop_twin(self.engine)  # SQLite: the accept's, on the event loop (_written)
        # Told of each request accepted: wakes this process's relayer worker (None: no worker here).
        self.arrivals = arrivals
        self.payloads = Payloads()  # kept in memory by request id; the relayer's packing reads them too

    # ------------------------------------------------------------------ nonces

    def held(self, community: str, signer: str, chain_nonce: int, head: int) -> list[HeldRequest]:
        """The member's requests from `chain_nonce` on that the outbox holds, oldest nonce first:
        in flight, or executed in a block recent enough to be rolled back (the relayer would then
        send that same request again, so if the chain gave its nonce back, it comes before any new
        one). Only nonces the chain has not used matter, and reading from there on keeps this
        bounded by the member's requests in flight, not by all they ever made."""
        with self.reads.connect() as connection:
            rows = _FLYING_READ.rows(connection, self._held_params(community, signer, chain_nonce, head))
            payloads = self.payloads.of(connection, {row[0]: row[3] for row in rows})
        return sorted(
            (HeldRequest(int(nonce or 0), payloads[request_id], gas) for request_id, nonce, gas, _ in rows),
            key=lambda request: request.nonce,
        )

    def held_after(self, community: str, signer: str, from_nonce: int, head: int) -> tuple[int, list[HeldRequest]]:
        """As `held` from `from_nonce` on, less the oldest of them that the outbox knows executed
        in block `head` or before (they are in that block's state): the first nonce not known
        executed, and the requests from it on."""
        with self.reads.connect() as connection:
            rows = _FLYING_MINED_READ.rows(connection, self._held_params(community, signer, from_nonce, head))
            # A member's rows all have nonces (the outbox's direct calls have none, and no signer).
            flying = sorted(((i, int(n or 0), g, mined) for i, n, g, mined, _ in rows), key=lambda row: row[1])
            accepted_at = {row[0]: row[4] for row in rows}
            first = from_nonce
            while flying and flying[0][1] == first and flying[0][3] is not None and flying[0][3] <= head:
                flying.pop(0)
                first += 1
            flying = [row for row in flying if row[1] >= first]
            payloads = self.payloads.of(connection, {row[0]: accepted_at[row[0]] for row in flying})
        return first, [HeldRequest(nonce, payloads[request_id], gas) for request_id, nonce, gas, _ in flying]

    def _held_params(self, community: str, signer: str, from_nonce: int, head: int) -> dict[str, Any]:
        """The parameters of _FLYING and _FLYING_MINED: the member's nonces from `from_nonce` on."""
        return {
            "community": community,
            "signer": signer,
            "chain_nonce": from_nonce,
            "nonce_to": from_nonce + NONCES_AHEAD,
            "recent_from": recheck_from(head, self.settings.confirmations),
        }

    def same_request(
        self, community: str, forwarder: str, signer: str, nonce: int, signature: str
    ) -> SameRequest | None:
        """The newest request with exactly this signature, if one was accepted: a key's signature
        covers every field, so it is the same request, whatever became of it. (A wallet may approve
        another request with the same signature bytes at the same nonce; that one is answered as
        the first, and never sent: the member's own confusion, nothing paid twice.)"""
        with self.reads.connect() as connection:
            rows = _SAME_READ.rows(
                connection,
                {
                    "community": community,
                    "signer": signer,
                    "forwarder": forwarder,
                    "nonce": nonce,
                    "signature": signature,
                },
            )
        return SameRequest(*rows[0]) if rows else None

    # ------------------------------------------------------------------ accepting

    def accept(
        self,
        *,
        community: str,
        kind: str,
        forwarder: str,
        signer: str | None,
        nonce: int | None,
        target: str,
        payload: dict[str, Any],
        signature: str | None,
        gas: int,
        client: str,
    ) -> int:
        """Charge the budgets and write the request to the outbox; its id. Refuses (429) past a
        budget, and (409) a request whose nonce another request holds."""
        now = time.time()
        ticket = self.clients.charge(client, gas)
        row = {
            "community": community,
            "kind": kind,
            "forwarder": forwarder,
            "signer": signer,
            "nonce": nonce,
            "target": target,
            "payload": payload,
            "signature": signature,
            "gas": gas,
            "client": client,
            "state": "queued",
            "attempts": 0,
            "created_at": now,
        }
        try:
            request_id = None
            if signer is not None:
                request_id = self._written(self.reads, lambda engine: self._accept_within_budgets(engine, row, now))
            if request_id is None:
                request_id = self._written(self.engine, lambda engine: self._accept_or_refuse(engine, row, now))
            self.payloads.keep(request_id, now, payload)
        except IntegrityError as exc:
            self.clients.refund(ticket)
            if signer is not None and signature is not None and nonce is not None:
                same = self.same_request(community, forwarder, signer, nonce, signature)
                if same is not None and same.state in ACTIVE:  # the same request, submitted twice at once
                    return same.id
            raise Conflict(
                _("A request of this signer with nonce %(nonce)s is already being relayed", nonce=nonce),
                error="ReplayedRequest",
            ) from exc
        except TooManyRequests:
            self.clients.refund(ticket)
            raise
        if self.arrivals is not None:
            self.arrivals.arrived(gas)
        return request_id

    def _accept_or_refuse(self, engine: Engine, row: dict[str, Any], now: float) -> int:
        """The request written if no budget refuses it (read first, to say which one); its id."""
        # A connection's transaction, not an ORM session's: every statement here is Core, and
        # the session around them (made, bound, closed) cost a tenth of a write's outbox work.
        with engine.begin() as connection:
            signer, client = row["signer"], row["client"]
            refusal = (
                client_refusal(connection, self.settings, client=client)
                if signer is None
                else budget_refusal(
                    connection,
                    self.settings,
                    community=row["community"],
                    signer=signer,
                    client=client,
                    gas=row["gas"],
                    now=now,
                )
            )
            if refusal:
                raise refusal
            ((request_id,),) = _ACCEPT.rows(connection, row)
        return request_id

    def _written(self, engine: Engine, write: Callable[[Engine], T]) -> T:
        """write(engine). On the event loop over SQLite (on_loop.py), on loop_writes, which is told
        at once when another connection holds the write lock (the indexer's page of events, the
        relayer's settling): the loop answers other requests meanwhile, and this tries again after
        a pause that doubles (1 to 50 ms), as SQLite's own busy wait would in a thread, for as long
        (LOCK_WAIT_SECONDS). What write did in its failed transaction was rolled back with it."""
        if self.loop_writes is None or not on_loop():
            return write(engine)
        pause, until = 0.001, time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            try:
                return write(self.loop_writes)
            except OperationalError as exc:
                if not _locked(exc) or time.monotonic() >= until:
                    raise
            wait_on_loop(asyncio.sleep(pause))
            pause = min(2 * pause, 0.05)

    def _accept_within_budgets(self, engine: Engine, row: dict[str, Any], now: float) -> int | None:
        """A member's request written in one statement if it is within every budget: its id, or
        None (refused, or a budget moved) for accept's read and insert to say why. On the reads'
        engine: on PostgreSQL in autocommit, where the statement is its own transaction (no BEGIN
        is sent, and the commit sends nothing); on SQLite the engine itself, whose driver begins a
        transaction for an insert, committed here."""
        with engine.begin() as connection:
            rows = _ACCEPT_WITHIN_BUDGETS.rows(connection, {**row, **budget_params(self.settings, now=now)})
        return rows[0][0] if rows else None

    # ------------------------------------------------------------------ following

    def get(self, request_id: int) -> RelayRequest:
        with self.sessions() as session:
            row = session.get(RelayRequest, request_id)
        if row is None:
            raise NotFound(_("No relayed request %(request)s", request=request_id))
        return row

    def by_tx_hash(self, tx_hash: str) -> list[RelayRequest]:
        with self.sessions() as session:
            # Hashes are stored as the node gives them, lowercase: the index serves this.
            return list(session.scalars(select(RelayRequest).where(RelayRequest.tx_hash == tx_hash.lower())))

    def wait_settled(self, request_id: int, timeout: float) -> RelayRequest | None:
        """The request once settled, or None if it is still in flight after `timeout` seconds."""
        if on_loop():  # it sleeps between looks: a thread's to wait (signed_submits.py), never the loop's
            raise RuntimeError("a request is waited for in a thread, not on the event loop")
        deadline = time.monotonic() + timeout
        delay = 0.01
        while True:
            row = self.get(request_id)
            if row.state not in ACTIVE:
                return row
            if time.monotonic() > deadline:
                return None
            time.sleep(delay)
            delay = min(delay * 1.5, 0.1)

    def in_flight(self) -> int:
        with self.sessions() as session:
            return session.scalar(select(func.count()).select_from(RelayRequest).where(state_in(ACTIVE))) or 0

    def strikes(self, community: str, now: float) -> dict[str, Strikes]:
        """Each member's strikes within the cool-off (members with none are left out): what the
        relayer learned of whose requests fail on chain after passing its checks."""
        with self.sessions() as session:
            rows = session.execute(
                select(RelayRequest.signer, func.count(RelayRequest.id), func.min(RelayRequest.settled_at))
                .where(
                    RelayRequest.community == community,
                    state_in(("failed", "reverted")),
                    RelayRequest.settled_at > now - self.settings.member_strike_cooloff_seconds,
                    IS_STRIKE,
                )
                .group_by(RelayRequest.signer)
            ).all()
        return {signer: Strikes(count, oldest) for signer, count, oldest in rows if signer is not None}

    def spent(self, community: str) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
        """What the relayer paid for the community and for each member (the outbox's whole history)."""
        columns = (
            func.count(RelayRequest.id).filter(RelayRequest.tx_hash.is_not(None)),
            func.count(RelayRequest.id).filter(RelayRequest.state == "succeeded"),
            func.count(RelayRequest.id).filter(or_(RelayRequest.state == "reverted", RelayRequest.state == "failed")),
            func.coalesce(func.sum(RelayRequest.gas_used), 0),
            func.coalesce(func.sum(RelayRequest.fee_wei), 0),
        )
        names = ("requests", "succeeded", "failed", "gas_used", "fees_wei")
        with self.sessions() as session:
            total = session.execute(select(*columns).where(RelayRequest.community == community)).one()
            members = session.execute(
                select(RelayRequest.signer, *columns)
                .where(RelayRequest.community == community, RelayRequest.signer.is_not(None))
                .group_by(RelayRequest.signer)
            ).all()
        return (
            dict(zip(names, (int(value or 0) for value in total))),
            {str(row[0]): dict(zip(names, (int(value or 0) for value in row[1:]))) for row in members},
        )
