"""Simulating a member's call as the chain will run it, for prepare and submit (checks.py).

Both read the head and the member's nonce, then simulate the block after the head on its state,
behind the member's requests the outbox holds that the chain has not executed (eth_simulateV1:
the member's nonce read on the simulation's own state, those few calls, then this one), so that
a request is judged after them whether they still wait in the outbox or in the node's pool.
"""

from __future__ import annotations

import re
import time
from functools import lru_cache
from typing import Any, NamedTuple, TypedDict

import msgspec

from backend import units
from backend.chain.deployments import Community
from backend.chain.gateway import HEAD_CALL, ChainGateway, clock_of
from backend.chain.hashing import keccak
from backend.chain.rpc import Json
from backend.chain.typed_data import (
    execute_batch_calldata,
    forward_request_typed_data,
    recover_signer,
    signature_flaw,
    typed_data_digest,
)
from backend.context import Context
from backend.errors import BatchRefused, ChainRefused, NodeUnavailable, Unprocessable
from backend.i18n import gettext
from backend.relay import carried as carrying
from backend.relay.book import HeldRequest, check_nonce
from backend.relay.carried import Carried, RequestKey, Writes
from backend.relay.gas import NONCE_READ_GAS, batch_gas
from backend.relay.outbox import struct_of


class _SimulatedCall(TypedDict, total=False):
    status: str
    gasUsed: str
    returnData: str
    error: dict[str, Any]


class _SimulatedBlock(TypedDict, total=False):
    calls: list[_SimulatedCall]


class _Answer(TypedDict, total=False):
    jsonrpc: str
    id: int
    # A simulation's blocks, a block read whole (the head), a call's return data (a nonce).
    result: list[_SimulatedBlock] | dict[str, Any] | str | None
    error: dict[str, Any]


# What a check reads of the node's answers (Rpc.batch's shape): of a simulation, each call's
# status, gas, return data and error, not its logs, which were most of the answer's bytes (eight
# requests in flight replayed, each with its events) and of the time spent reading it.
CHECK_ANSWERS = list[_Answer]

# Simulations run at most this many times when the node's state was older than the nonce the
# outbox was read from, or newer than the head with a clock behind it (see simulated_behind); more
# means the node keeps moving under us.
SIMULATION_RUNS = 4


def _nonce_read(ctx: Context, community: Community, signer: str) -> dict[str, str]:
    """forwarder.nonces(signer) as a call: read on "latest" beside the head, and first in each
    simulated block, on that block's own state."""
    return {"to": community.contracts["forwarder"], "data": _nonces_data(ctx.gateway, signer)}


@lru_cache(maxsize=4096)
def _nonces_data(gateway: ChainGateway, signer: str) -> str:
    """nonces(signer)'s calldata: ABI-encoded once per member, not twice per check."""
    return "0x" + gateway.abi("forwarder").function("nonces").encode(signer).hex()


def _ok(result: Any) -> Any:
    if isinstance(result, Exception):
        raise result
    return result


def _text(value: Any) -> str:
    """A value as JSON text, by msgspec: six times json.dumps's speed on the small objects a
    simulation's params are written from."""
    return msgspec.json.encode(value).decode()


def as_forwarded(ctx: Context, community: Community, target: str, data: bytes, signer: str) -> dict[str, str]:
    """The call exactly as the forwarder makes it: the member's address appended (ERC-2771), with
    the most gas the relayer pays for per request."""
    return {
        "from": community.contracts["forwarder"],
        "to": community.target_address(target, signer),
        "data": "0x" + (data + bytes.fromhex(signer[2:])).hex(),
        "gas": hex(ctx.settings.relay_max_gas_per_request),
    }


def chain_and_outbox(ctx: Context, community: Community, signer: str) -> tuple[dict[str, Any], int, list[HeldRequest]]:
    """The head, the member's forwarder nonce read with it (one round trip), and the member's
    requests the outbox holds from that nonce on: those the chain has not executed (in flight,
    or given back by a rolled-back block), which a new request of theirs comes after."""
    asked_at = time.monotonic()
    nonce_data, head = ctx.gateway.simulate(
        [("eth_call", [_nonce_read(ctx, community, signer), "latest"]), HEAD_CALL], CHECK_ANSWERS
    )
    head, chain_nonce = _ok(head), int(_ok(nonce_data), 16)
    ctx.gateway.note_head(head, asked_at)
    return head, chain_nonce, ctx.book.held(community.slug, signer, chain_nonce, int(head["number"], 16))


def simulated_behind(
    ctx: Context,
    community: Community,
    signer: str,
    head: dict[str, Any],
    chain_nonce: int,
    held: list[HeldRequest],
    calls: list[dict[str, str]],
) -> tuple[dict[str, Any], list[Any]]:
    """Each of `calls` simulated behind the member's requests the chain has not executed as of
    `head`, in one round trip. Each simulated block first reads the member's nonce, on the very
    state the simulation runs on: a node asked for the state of its newest block while it mines
    the next may answer with either (Anvil does), and not always the same one to two calls of one
    batch. The outbox was read from `chain_nonce`; if a simulation's state is older than that,
    the requests in between (executed since) were left out of the replay, and it runs again with
    the outbox read from the state's own nonce. A newer state only skips replays already executed,
    as the forwarder does on chain. But the simulated block's clock is set past `head`'s, and on a
    newer state it may be older than the newest block's (a chain whose clock runs ahead of the wall
    clock): a checkpoint (a vote delegation, the member's or another's) written there then reverts
    as unordered, whether or not the member's nonce moved. Such a simulation runs again on the head
    read anew, unless that head's time is no later than the simulated clock: no state the node
    could have used holds a later checkpoint (the clock is a timestamp, Membership.clock), and the
    failure is the call's own. Returns the head the simulations ran on, and theirs."""
    number = int(head["number"], 16)
    nonce_read = {
        **_nonce_read(ctx, community, signer),
        "from": ctx.gateway.relayer_address,
        "gas": hex(NONCE_READ_GAS),
    }
    replayed_from = chain_nonce
    for _ in range(SIMULATION_RUNS):
        # The simulated clock, read once for the replays' choice and the simulations (unless the
        # system clock is stepped back meanwhile, when a refusal may be taken for the call's own).
        ran_at = _clock(head)
        direct = _direct_ok(ctx, community, held, replayed_from, head, ran_at)
        simulations = _simulations(ctx, community, nonce_read, held, calls, head, direct, None, ran_at)
        results = ctx.gateway.simulate(simulations, CHECK_ANSWERS)
        state_nonce = _state_nonce(results)
        if state_nonce is None:
            return head, results
        if direct and state_nonce > replayed_from:
            # Replayed directly, a request the state had already executed ran twice: the state is
            # newer than the head read, so read both again.
            head, replayed_from, held = chain_and_outbox(ctx, community, signer)
            number = int(head["number"], 16)
            continue
        if state_nonce >= replayed_from:
            # The state may be newer than `head` whatever nonce it shows: the nonce read with the
            # head may come from the block mined meanwhile, and another member's delegation there
            # writes a checkpoint too. The head read anew says whether that could be: if its time
            # is no later than the simulated clock (the block it ran on, or one mined within the
            # wall clock's second), the call fails for a reason of its own. Otherwise it runs
            # again on that head; while blocks keep coming faster than the wall clock (a relayer
            # sending its queue, a block each), each run may meet a newer state again.
            if not _clock_behind_state(results):
                return head, results
            ran_on = head
            head, replayed_from, held = chain_and_outbox(ctx, community, signer)
            # (Only a node that still showed an older head after simulating on a newer block's
            # state, a block far ahead of the wall clock, could have a passing call refused here:
            # never a failing one accepted.)
            if int(head["timestamp"], 16) <= ran_at:
                return ran_on, results
            number = int(head["number"], 16)
            continue
        replayed_from = state_nonce
        held = ctx.book.held(community.slug, signer, state_nonce, number)
    raise NodeUnavailable(
        gettext(
            "The chain node's state kept changing under the relay check (block %(block)s); submit the request again",
            block=number,
        )
    )


# OpenZeppelin's Checkpoints: a checkpoint written at a time before the last one. The forwarder's
# execute reverts with FailedCall whatever its call reverted with, so that one may hide it.
_UNORDERED_CHECKPOINT = "0x" + keccak(text="CheckpointUnorderedInsertion()")[:4].hex()
_FORWARDED_CALL_FAILED = "0x" + keccak(text="FailedCall()")[:4].hex()
_MAYBE_CLOCK_BEHIND = (_UNORDERED_CHECKPOINT, _FORWARDED_CALL_FAILED)


def _clock_behind_state(results: list[Any]) -> bool:
    """Whether a simulated call, on a state newer than the head read, reverted for a checkpoint
    older than the state's last (the simulated block's clock was behind the state the node ran it
    on, never the call's fault), or as the forwarder's execute that hides why its call failed. Run
    again on the head read anew, a call that fails for a reason of its own fails again."""
    return any(
        not isinstance(result, ChainRefused)
        and (result[-1]["calls"][-1].get("returnData") or "").startswith(_MAYBE_CLOCK_BEHIND)
        for result in results
    )


# Members whose nonces a process remembers for its next checks (judged); past it, it starts again.
_NONCES_KEPT = 100_000


class NewRequest(NamedTuple):
    """The request a check judges, as a trace carries the state it leaves (carried.py): signed by
    the member's key, its call as the forwarder makes it, and itself as the relayer sends it."""

    key: RequestKey
    to: str
    data: str  # hex, the signer not yet appended
    gas: int  # signed for
    struct: tuple  # forward_request_struct
    share: int  # its share of a batch's gas (relay_gas)

    @property
    def deadline(self) -> int:
        return self.struct[4]


def judged(
    ctx: Context,
    community: Community,
    signer: str,
    nonce: int,
    calls: list[dict[str, str]],
    new: NewRequest | None = None,
) -> tuple[dict[str, Any], list[Any]]:
    """A signed request's nonce checked (check_nonce: used, held by the outbox, or past a gap)
    and `calls` simulated behind the member's requests the chain has not executed, as
    chain_and_outbox then simulated_behind do, in one round trip instead of two, most of the time.

    The simulations are pinned to the head the last check read, the member's replays start from
    the nonce their last check's simulation read (less those the outbox knows were executed by
    that head), and the head is read in the same batch. If that head is still the newest, and the
    nonce each simulation read first on its own state is where the replays start (or later, as
    simulated_behind takes it), this is the answer simulated_behind would give on that head. If
    not (a new block, a member this process has not checked, a state older than the outbox's
    account, a nonce already used), it runs the two round trips from the head just read.

    A member with many requests in flight has them carried, not replayed, on this fast path:
    `new`, the request judged, is traced in the same batch, and the state it leaves kept for their
    next check (carried.py)."""
    gateway, forwarder = ctx.gateway, community.contracts["forwarder"]
    head, guess = gateway.head_seen, gateway.nonces_seen.get((forwarder, signer))
    # A nonce below the one the member's last check read is most likely used: the two round trips
    # refuse it before simulating anything, as they always did.
    if head is not None and guess is not None and nonce >= guess:
        number = int(head["number"], 16)
        replayed_from, held = ctx.book.held_after(community.slug, signer, guess, number)
        nonce_read = {
            **_nonce_read(ctx, community, signer),
            "from": gateway.relayer_address,
            "gas": hex(NONCE_READ_GAS),
        }
        # The simulated clock, read once: what a carry was traced at, and is looked up by.
        clock = _clock(head)
        # A carry is only ever traced over requests found fit to replay directly on its head at its
        # clock (their nonces in a row, signed by the key, within their deadlines): those it covers
        # are not checked again, the rest are. (A member whose first request held is a wallet's
        # has nothing carried: no probe of the node on their account.)
        carried = (
            _carried(ctx, forwarder, signer, held, head, clock)
            if _in_a_row(held, replayed_from) and _key_signed(ctx, forwarder, held[0])
            else None
        )
        direct = _direct_ok(ctx, community, held, replayed_from, head, clock, carried)
        carried = carried if direct else None
        # The request as the relayer sends it, when it is all this check simulates: with every request
        # held carried, its trace, its gas paid, answers the check, and no simulation is sent.
        relayed = calls[0] if new is not None and len(calls) == 1 else None
        trace = None if carried is None else _trace(ctx, community, signer, held, head, clock, carried, new, relayed)
        paid = trace is not None and trace.paid
        asked_at = time.monotonic()
        simulations = (
            [] if paid else _simulations(ctx, community, nonce_read, held, calls, head, direct, carried, clock)
        )
        try:
            traced = [trace.call] if trace is not None else []
            fresh, *results = gateway.simulate([HEAD_CALL, *simulations, *traced], CHECK_ANSWERS)
        except NodeUnavailable as failed:
            if trace is None:
                raise
            # A provider that refuses a whole batch holding a trace (it answered the probe alone),
            # or fails it otherwise (a trace it is slow to answer): no traces from this node for a
            # while, and this check again without one (if the node is down, that fails as well).
            refused = isinstance(failed, BatchRefused)
            seconds = carrying.REFUSED_SECONDS if refused else carrying.DOUBTED_SECONDS
            carrying.note_node(gateway.rpc.url, False, seconds)
            trace, paid = None, False
            simulations = _simulations(ctx, community, nonce_read, held, calls, head, direct, carried, clock)
            fresh, *results = gateway.simulate([HEAD_CALL, *simulations], CHECK_ANSWERS)
        answer = results.pop() if trace is not None else None
        executed = True
        if paid and trace is not None and new is not None and carried is not None:
            judged_so = _as_simulated(trace, answer, forwarder, signer, new.key[0], replayed_from)
            if isinstance(judged_so, _Unanswered):
                # This check simulates, as below. A node whose trace could not answer it (one that
                # charges no gas in a trace, or ignored an override) gets no traces for a while;
                # a request that moved value to or from the relayer has its member's requests
                # replayed on this head and clock, and nobody else's.
                if judged_so.node_at_fault:
                    carrying.note_node(gateway.rpc.url, False, carrying.DOUBTED_SECONDS)
                else:
                    carrying.note_uncarried(forwarder, signer, carried.head, carried.clock)
                fresh = None
            else:
                results = [judged_so]
                executed = int(judged_so[-1]["calls"][-1]["status"], 16) == 1
        if isinstance(fresh, dict):
            gateway.note_head(fresh, asked_at)
            if fresh.get("hash") != head.get("hash"):
                gateway.head_seen = fresh
            else:
                state_nonce = _state_nonce(results)
                # Replayed directly, a state newer than the outbox's account ran executed requests twice.
                if (
                    state_nonce is not None
                    and (state_nonce == replayed_from or (state_nonce > replayed_from and not direct))
                    and not _clock_behind_state(results)
                ):
                    gateway.nonces_seen[(forwarder, signer)] = state_nonce
                    check_nonce(state_nonce, nonce, [r for r in held if r.nonce >= state_nonce])
                    # (A paid trace of a request that failed leaves nothing to carry: its check names the refusal.)
                    if trace is not None and carried is not None and new is not None and executed:
                        _carry(ctx, forwarder, signer, held, carried, new, trace, answer)
                    return head, results
    head, chain_nonce, held = chain_and_outbox(ctx, community, signer)
    check_nonce(chain_nonce, nonce, held)
    head, results = simulated_behind(ctx, community, signer, head, chain_nonce, held, calls)
    if len(gateway.nonces_seen) >= _NONCES_KEPT:
        gateway.nonces_seen.clear()
    gateway.head_seen = head
    state_nonce = _state_nonce(results)
    gateway.nonces_seen[(forwarder, signer)] = chain_nonce if state_nonce is None else state_nonce
    return head, results


def _state_nonce(results: list[Any]) -> int | None:
    """The lowest of the member's nonces the simulations read first, on their own states; None
    if the node could not simulate at all (reported by last_call, as the node's failure)."""
    read = []
    for result in results:
        if isinstance(result, ChainRefused):
            continue
        first = result[0]["calls"][0]  # the first block's first call, whichever layout (_simulations)
        # A uint256 as 32 bytes, from a call that succeeded: anything else (a node's fault, or no
        # forwarder code at that address) is the node's failure, never a number read from it.
        if int(first["status"], 16) != 1 or len(first.get("returnData") or "") != 66:
            raise NodeUnavailable(
                gettext("The chain node could not read the member's nonce in a simulation (eth_simulateV1)")
            )
        read.append(int(first["returnData"], 16))
    return min(read) if read else None


def _replays(ctx: Context, community: Community, requests: list[HeldRequest]) -> list[dict[str, str]]:
    """The member's requests the chain has not executed yet, oldest nonce first, each as the
    relayer sends it: alone in the forwarder's executeBatch with the relayer as refund receiver,
    so that one whose call reverts still uses its nonce (as on chain) and one mined meanwhile is
    skipped for its used nonce (as on chain) instead of failing the simulation."""
    return [_replayed(ctx.gateway, struct_of(r.payload), r.gas, community.contracts["forwarder"]) for r in requests]


@lru_cache(maxsize=4096)
def _replayed(gateway: ChainGateway, struct: tuple, share: int, forwarder: str) -> dict[str, str]:
    """One in-flight request as the relayer sends it. Cached: a member's request is replayed in
    each check of their next requests until it is mined, and ABI-encoding it again each time was
    a tenth of a write's time."""
    relayer = gateway.relayer_address
    data = execute_batch_calldata([struct], relayer)
    return {"from": relayer, "to": forwarder, "data": "0x" + data.hex(), "gas": hex(batch_gas([share], data))}


def _clock(head: dict[str, Any]) -> int:
    """The clock of the block simulated after `head`: past the head's own, and no earlier than now."""
    return max(clock_of(head), int(head["timestamp"], 16) + 1)


def _behind(earlier: list[dict[str, str]], call: dict[str, str], head: dict[str, Any]) -> tuple[str, list[Any]]:
    """`call` simulated after the calls `earlier` (eth_simulateV1), in one block that follows
    `head` on its state: the node runs those few calls, not a pending block of every transaction
    in its pool (what an eth_call on the pending block costs; under a burst it was most of
    Anvil's work). The state is pinned to `head`, the block the nonces were read on, and the block
    simulated is the next one, with its number and a clock past the head's: simulated on
    "latest", Anvil could take the clock of one block and the state of the next, mined meanwhile,
    and a vote delegation then reverted for a checkpoint older than the last."""
    calls = [*earlier, call]
    number = int(head["number"], 16)
    overrides = {
        "number": hex(number + 1),
        "time": hex(_clock(head)),
        # The block holds all of them whatever the chain's block gas limit (a node that
        # enforces it in a simulation, as geth does, would refuse a member with many requests
        # in flight).
        "gasLimit": hex(sum(int(c["gas"], 16) for c in calls)),
    }
    return "eth_simulateV1", [
        {"blockStateCalls": [{"blockOverrides": overrides, "calls": calls}], "validation": False},
        hex(number),
    ]


@lru_cache(maxsize=4096)
def _replayed_text(gateway: ChainGateway, struct: tuple, share: int, forwarder: str) -> str:
    """_replayed's call as JSON text, written once for every simulation that replays it."""
    return _text(_replayed(gateway, struct, share, forwarder))


def _simulations(
    ctx: Context,
    community: Community,
    nonce_read: dict[str, str],
    held: list[HeldRequest],
    calls: list[dict[str, str]],
    head: dict[str, Any],
    direct: bool = False,
    carried: Carried | None = None,
    clock: int | None = None,
) -> list[tuple[str, Json]]:
    """Each of `calls` simulated behind the nonce read and the member's `held` requests, replayed
    (_behind, or with `direct` _behind_direct: those `carried` covers set as the storage they
    leave, the others replayed), its params written as JSON text with each replay's text written
    once."""
    forwarder = community.contracts["forwarder"]
    if direct:
        replayed = held[len(carried.requests) :] if carried is not None else held
        texts = [
            _direct_text(forwarder, r.payload["to"], r.payload["data"], r.payload["from"], r.payload["gas"])
            for r in replayed
        ]
        writes = carried.writes if carried is not None else {}
        nonce = nonce_slot(held[0].payload["from"]), _word(held[0].nonce + len(held))
        override = carrying.as_state_override(carrying.overrides(writes, forwarder, *nonce))
        return [_behind_direct(nonce_read, replayed, texts, override, call, head, clock) for call in calls]
    replays = _replays(ctx, community, held)
    texts = [_replayed_text(ctx.gateway, struct_of(r.payload), r.gas, forwarder) for r in held]
    return [_behind_text(nonce_read, replays, texts, call, head) for call in calls]


# ---------------------------------------------------------------------- direct replays
#
# A request in flight replayed through the forwarder (its EIP-712 digest, the ECDSA recovery, the
# nonce, the batch) cost Anvil three times what its call alone does: measured, 0.21 against 0.07 ms
# of CPU a replay, and a member writing fast has several in flight behind each new request. A
# request signed by its signer's key is valid whenever it was (a key does not change its mind, as
# a contract wallet may), so what the forwarder adds to it is only the nonce it uses: each such
# request is replayed as the very call the forwarder makes (from the forwarder, the signer's
# address appended, the gas signed), and the member's nonce set past them all by a state override.
# The chain's own nonce is read first, in a block of its own without the override, so a state
# other than the one the replays were chosen for is still noticed.

# OpenZeppelin's ERC2771Forwarder keeps EIP712's two fallback strings in slots 0 and 1, then Nonces'
# mapping: a member's nonce is at keccak(member, 2). tests/e2e/test_relay_replays.py holds it
# against the chain's nonces().
_NONCES_SLOT = 2
# Requests found signed by their signer's key, by forwarder, signer and the request whole (its
# RequestKey: a wallet may approve another request with the same signature bytes): submit.py notes
# each the outbox accepts (only held requests are looked up; a key holds its calldata, so requests
# refused must not fill it); another process's are recovered once (_key_signed).
_KEY_SIGNED: dict[tuple[str, str, RequestKey], bool] = {}
_KEY_SIGNED_KEPT = 4096  # requests in flight are far fewer


@lru_cache(maxsize=4096)
def nonce_slot(signer: str) -> str:
    """The forwarder's storage slot of `signer`'s nonce."""
    return _word(int.from_bytes(keccak(bytes.fromhex(signer[2:].rjust(64, "0")) + _NONCES_SLOT.to_bytes(32, "big"))))


def _word(value: int) -> str:
    return "0x" + value.to_bytes(32, "big").hex()


def note_key_signed(forwarder: str, signer: str, request: RequestKey) -> None:
    """A request checks.py found signed by its signer's key, as the outbox holds it."""
    _remember_key_signed((forwarder, signer, request), True)


def _remember_key_signed(key: tuple[str, str, RequestKey], verdict: bool) -> None:
    if len(_KEY_SIGNED) >= _KEY_SIGNED_KEPT:
        _KEY_SIGNED.clear()
    _KEY_SIGNED[key] = verdict


def _key_signed(ctx: Context, forwarder: str, request: HeldRequest) -> bool:
    """Whether a held request's signature is its signer's key's, as the forwarder checks it."""
    payload = request.payload
    key = (forwarder, payload["from"], carrying.request_key(request))
    known = _KEY_SIGNED.get(key)
    if known is None:
        signature = bytes.fromhex(payload["signature"][2:])
        known = False
        if len(signature) == 65 and signature_flaw(signature) is None:
            typed = forward_request_typed_data(
                chain_id=ctx.gateway.chain_id,
                forwarder=forwarder,
                sender=payload["from"],
                target=payload["to"],
                data=payload["data"],
                nonce=request.nonce,
                deadline=int(payload["deadline"]),
                gas=int(payload["gas"]),
                value=int(payload["value"]),
            )
            try:
                known = recover_signer(typed_data_digest(typed), signature) == payload["from"]
            except Exception:  # not a signature that recovers: the forwarder's replay judges it
                known = False
        _remember_key_signed(key, known)
    return known


def _direct_ok(
    ctx: Context,
    community: Community,
    held: list[HeldRequest],
    replayed_from: int,
    head: dict[str, Any],
    clock: int | None = None,
    carried: Carried | None = None,
) -> bool:
    """Whether the member's `held` requests may be replayed directly: from `replayed_from` on with no
    gap, each signed by the member's key, none expired by the block the request is judged in (the
    forwarder would skip such a one and not use its nonce). Otherwise the forwarder replays them.
    Those `carried` covers, if it was traced on this head at this clock, were found so then (a carry
    is only ever traced over such requests, each whole: carried.request_key) and are not checked
    again."""
    if not _in_a_row(held, replayed_from):
        return False
    clock = _clock(head) if clock is None else clock
    judged_at = clock + 1
    traced_here = carried is not None and (carried.head, carried.clock) == (head["hash"], clock)
    known = len(carried.requests) if carried is not None and traced_here else 0
    forwarder = community.contracts["forwarder"]
    return all(
        request.nonce == replayed_from + i
        and int(request.payload["deadline"]) >= judged_at
        and _key_signed(ctx, forwarder, request)
        for i, request in enumerate(held[known:], start=known)
    )


def _in_a_row(held: list[HeldRequest], replayed_from: int) -> bool:
    """Whether `held` (sorted by nonce) starts at `replayed_from` and ends where a run with no gap
    would: a quick test that proves nothing of the nonces between (_direct_ok checks each)."""
    return bool(held) and held[0].nonce == replayed_from and held[-1].nonce == replayed_from + len(held) - 1


@lru_cache(maxsize=4096)
def _direct_text(forwarder: str, to: str, data: str, signer: str, gas: Any) -> str:
    """A held request as the forwarder's own call to its target, as JSON text."""
    call = {"from": forwarder, "to": to, "data": data + signer[2:].lower(), "gas": hex(int(gas))}
    return _text(call)


def _behind_direct(
    nonce_read: dict[str, str],
    held: list[HeldRequest],
    texts: list[str],
    override: dict[str, Any],
    call: dict[str, str],
    head: dict[str, Any],
    clock: int | None = None,
) -> tuple[str, Json]:
    """`call` simulated behind the member's requests replayed directly: the nonce read alone in
    the block after `head`, on its state (at `clock`, _clock's unless given); then, in the next
    block, the member's nonce set past the replays, the replays and `call`."""
    number, time = int(head["number"], 16), _clock(head) if clock is None else clock
    first = {"number": hex(number + 1), "time": hex(time), "gasLimit": nonce_read["gas"]}
    gas = sum(int(r.payload["gas"]) for r in held) + int(call["gas"], 16)
    second = {"number": hex(number + 2), "time": hex(time + 1), "gasLimit": hex(gas)}
    calls = ",".join([*texts, _text(call)])
    return "eth_simulateV1", Json(
        f'[{{"blockStateCalls":[{{"blockOverrides":{_text(first)},"calls":[{_text(nonce_read)}]}},'
        f'{{"blockOverrides":{_text(second)},"stateOverrides":{_text(override)},"calls":[{calls}]}}],'
        f'"validation":false}},{_text(hex(number))}]'
    )


def _behind_text(
    nonce_read: dict[str, str], replays: list[dict[str, str]], texts: list[str], call: dict[str, str], head: dict
) -> tuple[str, Json]:
    """_behind's simulation with its params as JSON text, the replays' text written beforehand: the
    same JSON, without encoding each replay again in each simulation of each check."""
    method, (payload, block) = _behind([nonce_read, *replays], call, head)
    overrides = payload["blockStateCalls"][0]["blockOverrides"]
    calls = ",".join([_text(nonce_read), *texts, _text(call)])
    return method, Json(
        f'[{{"blockStateCalls":[{{"blockOverrides":{_text(overrides)},"calls":[{calls}]}}],'
        f'"validation":{_text(payload["validation"])}}},{_text(block)}]'
    )


# ---------------------------------------------------------------------- state carried
#
# Replaying a member's requests in flight costs the node a little for each (0.044 ms of CPU a
# request replayed directly); tracing the request a check judges costs about what simulating it
# does (0.30 ms), once. Past `relay_carry_from` requests in flight, tracing is the cheaper: the
# state they leave is carried (carried.py), and the check replays none of them.


class _Trace(NamedTuple):
    """A check's trace of its request: the call, who sends it, and the storage its override sets."""

    call: tuple[str, Json]
    sender: str
    overridden: Writes
    gas: int = 0  # a paid trace's gas limit; 0 for a trace that only carries

    @property
    def paid(self) -> bool:
        """The request as the relayer sends it, its gas paid: its trace answers the check too."""
        return self.gas > 0


def _carried(
    ctx: Context, forwarder: str, signer: str, held: list[HeldRequest], head: dict[str, Any], clock: int
) -> Carried | None:
    """The state carried over the member's first `held` requests, for a check replaying them
    directly; None if the service carries nothing (too few in flight, a budget that allows no
    more, or a node that cannot trace)."""
    carry_from, budget = ctx.settings.relay_carry_from, ctx.settings.member_max_in_flight
    # A trace is only ever sent for a request within the member's budget (_trace): a carry from as
    # many as the budget allows would never start.
    if not carry_from or len(held) < carry_from or carry_from >= budget:
        return None
    node = ctx.gateway.rpc.url
    trusted = carrying.trusted(node)
    if trusted is None:
        began = carrying.begin_probe(node)
        if began is None:
            return None  # another thread probes it
        trusted = _probe(ctx, head, clock)
        seconds = carrying.TRUSTED_SECONDS if trusted else carrying.DOUBTED_SECONDS
        carrying.note_node(node, trusted, seconds, since=began)
    return carrying.carried_over(forwarder, signer, head["hash"], clock, held) if trusted else None


def _probe(ctx: Context, head: dict[str, Any], clock: int) -> bool:
    """Whether the node's debug_traceCall honours state and block overrides (carried.py's probe),
    asked alone: a provider that refuses a batch holding a debug_ method must not fail others'."""
    number = int(head["number"], 16)
    try:
        trace = ctx.gateway.rpc.request(
            "debug_traceCall", *carrying.probe_params(ctx.gateway.relayer_address, number, clock + 1)
        )
    except Exception:  # refused, or not answered: no traces from this node for now
        return False
    return carrying.probe_passed(trace, number, clock + 1)


def _trace(
    ctx: Context,
    community: Community,
    signer: str,
    held: list[HeldRequest],
    head: dict[str, Any],
    clock: int,
    carried: Carried,
    new: NewRequest | None,
    relayed: dict[str, str] | None = None,
) -> _Trace | None:
    """The trace of `new` on the state `carried` leaves: if the carry covers every request held,
    `relayed` (the request as the relayer sends it, the forwarder's execute), its gas paid, whose
    trace then answers the check as its simulation would (_as_simulated), or without it the new
    request's call alone; or else, through the forwarder, those it does not cover and the new
    request in one executeBatch (each request's nonce and signature then checked again by the
    forwarder, as on chain). Nothing if `new` is not the next request held."""
    forwarder, covered = community.contracts["forwarder"], len(carried.requests)
    writing_fast = carrying.busy(forwarder, signer)
    if (
        new is None
        or new.key[0] != held[0].nonce + len(held)
        # Expired by the block it is judged in, the forwarder would skip it (and use no nonce): a
        # carry is only ever traced over requests _direct_ok would replay directly.
        or new.deadline < clock + 1
        # Past the member's budget of requests in flight, the outbox refuses it whatever it leaves.
        or len(held) >= ctx.settings.member_max_in_flight
        or not carrying.carriable(forwarder, signer, carried.head, carried.clock)
        # All those not covered, through the forwarder: worth it for a member writing fast only.
        or (covered < len(held) and not writing_fast)
    ):
        return None
    gateway, number = ctx.gateway, int(head["number"], 16)
    writes = carrying.overrides(carried.writes, forwarder, nonce_slot(signer), _word(held[0].nonce + covered))
    if covered == len(held) and relayed is not None:
        sender = gateway.relayer_address
        call = _text({**relayed, "gasPrice": hex(carrying.TRACE_GAS_PRICE)})
        params = carrying.trace_params(call, number, clock + 1, writes, _text, payer=sender)
        return _Trace(("debug_traceCall", params), sender, writes, gas=int(relayed["gas"], 16))
    if covered == len(held):
        call, sender = _direct_text(forwarder, new.to, new.data, signer, new.gas), forwarder
    else:
        rest = held[covered:]
        data = execute_batch_calldata([*(struct_of(r.payload) for r in rest), new.struct], gateway.relayer_address)
        gas = batch_gas([*(r.gas for r in rest), new.share], data)
        sender = gateway.relayer_address
        call = _text({"from": sender, "to": forwarder, "data": "0x" + data.hex(), "gas": hex(gas)})
    params = carrying.trace_params(call, number, clock + 1, writes, _text)
    return _Trace(("debug_traceCall", params), sender, writes)


class _Unanswered(NamedTuple):
    """Why a paid trace could not answer its check: the node's doing (the trace refused, or not a
    diff, or an override not honoured, or no gas charged as set), or the request's (value it moved
    to or from the relayer put the gas read out of what a call could use)."""

    node_at_fault: bool


_NODE_AT_FAULT, _REQUESTS_DOING = _Unanswered(True), _Unanswered(False)


def _as_simulated(
    trace: _Trace, answer: Any, forwarder: str, signer: str, nonce: int, chain_nonce: int
) -> list[Any] | _Unanswered:
    """A check's answer when it traced its request as the relayer sends it, its gas paid (`trace`,
    _trace), instead of simulating it, in eth_simulateV1's shape (a block of the nonce read, a block
    of the request) as the rest of the check reads it: whether the request executed (the
    forwarder's nonce of the member moved past `nonce`: execute reverts whole when its call fails),
    and the gas it used (what the payer's balance fell by, at TRACE_GAS_PRICE). A request that
    failed is answered as reverted without saying why: the check then simulates it to name the
    refusal.

    The nonce read is `chain_nonce`, where the member's requests held start, unread: such a check
    has every request held carried on this head, and a carry on a head starts only from a check
    that read the member's nonce on its simulation's own state there and found it where the same
    first request held starts (judged); checks paying their traces only carry it further, over the
    same first request, on the same head (by hash: the same state).

    Unanswered when `answer` is not what a paid trace gives: not a diff, an override not honoured
    (the storage carried, or the payer's balance), or gas outside what a call could use (from the
    least a transaction costs to the call's gas limit). That last is the request's doing if any
    other account's balance moved (a call that paid the relayer back, say, from an account's own
    code under EIP-7702: value the relayer never sends), and the node's otherwise."""
    if isinstance(answer, ChainRefused) or not carrying.overrides_honoured(trace.overridden, answer):
        return _NODE_AT_FAULT
    payer = trace.sender.lower()
    try:
        pre = {address.lower(): account for address, account in answer["pre"].items()}
        post = {address.lower(): account for address, account in answer["post"].items()}
        before, after = pre[payer]["balance"], post[payer]["balance"]
        if not (_HEX.fullmatch(before) and _HEX.fullmatch(after)) or int(before, 16) != carrying.TRACE_BALANCE:
            return _NODE_AT_FAULT
        spent = int(before, 16) - int(after, 16)
        written = ((post.get(forwarder.lower()) or {}).get("storage") or {}).get(nonce_slot(signer))
        value_moved = any("balance" in account for address, account in post.items() if address != payer)
    except (KeyError, TypeError, AttributeError, ValueError):
        return _NODE_AT_FAULT
    gas, rest = divmod(spent, carrying.TRACE_GAS_PRICE)
    if rest or not _LEAST_GAS <= gas <= trace.gas:
        return _REQUESTS_DOING if value_moved else _NODE_AT_FAULT
    # A storage word as the node writes it (Anvil and geth: 32 bytes; another may leave off zeros).
    executed = isinstance(written, str) and bool(_HEX.fullmatch(written)) and int(written, 16) == nonce + 1
    call = {"status": "0x1" if executed else "0x0", "gasUsed": hex(gas), "returnData": "0x"}
    return [{"calls": [{"status": "0x1", "returnData": _word(chain_nonce)}]}, {"calls": [call]}]


_HEX = re.compile(r"0x[0-9a-fA-F]{1,64}")
_LEAST_GAS = 21_000  # what any transaction costs


def _carry(
    ctx: Context,
    forwarder: str,
    signer: str,
    held: list[HeldRequest],
    carried: Carried,
    new: NewRequest,
    trace: _Trace,
    answer: Any,
) -> None:
    """The state `new` leaves, as `trace` answered, kept for the member's next check, once the
    check's simulations held on the head they ran on. Not if the forwarder (tracing those not
    covered through it) skipped any: the nonce it leaves must be past the new request's."""
    if isinstance(answer, ChainRefused) or not carrying.overrides_honoured(trace.overridden, answer):
        carrying.note_node(ctx.gateway.rpc.url, False, carrying.DOUBTED_SECONDS)
        return
    # `carried` covers the first of `held`, found so by key (carried_over): their keys, not made again.
    covered = len(carried.requests)
    requests = (*carried.requests, *(carrying.request_key(r) for r in held[covered:]), new.key)
    after = carrying.after_trace(carried, requests, answer, trace.sender)
    if after is not None and trace.sender != forwarder:
        nonce = after.writes.get(forwarder.lower(), {}).get(nonce_slot(signer))
        after = after if nonce == _word(new.key[0] + 1) else None
    if after is None:
        carrying.note_uncarried(forwarder, signer, carried.head, carried.clock)
        return
    carrying.note_traced(forwarder, signer, after)


def last_call(ctx: Context, result: Any) -> tuple[int, ChainRefused | None]:
    """The gas the simulation's last call used, and its refusal (the custom error named) if it
    reverted. A simulation the node could not run at all is the node's failure, not the call's."""
    if isinstance(result, ChainRefused):
        raise NodeUnavailable(
            gettext(
                "The chain node could not simulate the request (eth_simulateV1, which the relayer needs): %(why)s",
                why=result.detail,
            )
        )
    call = result[-1]["calls"][-1]
    used = int(call["gasUsed"], 16)
    if int(call["status"], 16) == 1:
        return used, None
    name, args = ctx.gateway.errors.decode(bytes.fromhex(call.get("returnData", "0x")[2:]))
    if name == "EmptyRevert":
        reason = (call.get("error") or {}).get("message")
        said = gettext("The chain refused the request: %(why)s", why=reason or gettext("it reverted"))
        return used, ChainRefused("Reverted", {}, said)
    return used, ChainRefused(name, args)


def gas_needed(ctx: Context, result: Any) -> int:
    """The gas the member's call needs, as the forwarder makes it (its simulation's gas used);
    refused with the contract's custom error, or for needing more than the relayer pays for."""
    cap = ctx.settings.relay_max_gas_per_request
    used, refusal = last_call(ctx, result)
    if refusal is not None and refusal.error == "Reverted" and used >= cap:
        raise Unprocessable(
            gettext(
                "This call needs more than %(cap)s gas, the most the relayer pays for per request",
                cap=units.number(cap),
            )
        )
    if refusal is not None:
        raise refusal
    return used
