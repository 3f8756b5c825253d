"""The state a member's requests in flight leave, carried from one relay check to the next.

A check simulates a member's new request behind their requests the chain has not executed yet
(simulation.py), and replaying them costs the node in proportion to how many there are: a member
writing fast, with twenty in flight, made each check replay twenty calls. Instead, each check of
such a member also traces its new request (debug_traceCall, prestateTracer in diff mode) on the
state the requests before it leave, and keeps the storage it writes: the next check sets that
storage by a state override and replays nothing, so the node's work per check stays flat however
many are in flight. What is carried is exactly what the replays would have left, on the same
head, at the same clock and block number, the same requests in the same order: anything else (a
new block, the clock moved on, a request this process did not trace, another process's) and the
check replays what the carry does not cover, and traces them with its request to carry again.

Carried only when each traced call changed nothing but storage: one that moved value, created a
contract or changed an account's nonce (other than its sender's) is replayed, as before.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from typing import Any, TypeVar

from backend.chain.rpc import Json
from backend.relay.book import HeldRequest

# account (lower-case, one key per account) -> storage slot -> value, as a state override's
# stateDiff takes them.
Writes = dict[str, dict[str, str]]

_Kept = TypeVar("_Kept")
# One signed request, whole, as the outbox's payload holds it: its nonce, signature, target,
# calldata (lower-case hex), value, gas and deadline. Not its nonce and signature alone: a contract
# wallet (an EIP-7702 account is a key and a wallet at once) may approve any request with the same
# signature bytes, and a carry or a verdict on one must never be taken for another's.
RequestKey = tuple[int, str, str, str, int, int, int]


@dataclass(frozen=True)
class Carried:
    """The storage a member's requests leave when run, in order, on the state of block `head` in
    the block simulated two after it at `clock` (simulation._behind_direct's second block)."""

    head: str  # the block's hash
    clock: int
    requests: tuple[RequestKey, ...]
    writes: Writes


# By member (forwarder and signer): the carry their last check used, and the one their newest
# request's check traced, not yet held (the outbox may still refuse it: budgets, a conflict). One
# of each, for at most _MEMBERS members, each of at most _SLOTS storage slots: at most about 70 MB
# whoever writes how fast (a member writing fast carries a few dozen slots, a few kilobytes). Past
# them, checks replay. And the head and clock on which a member's requests could not be carried
# (a call that did more than write storage, too many slots, a request the forwarder skipped): no
# more traces for them there.
_CARRIED: dict[tuple[str, str], Carried] = {}
_TRACED: dict[tuple[str, str], Carried] = {}
_UNCARRIED: dict[tuple[str, str], tuple[str, int]] = {}
_MEMBERS = 256
_SLOTS = 512


def request_key(request: HeldRequest) -> RequestKey:
    """A held request's key. Its calldata is the payload's own text, not a copy (the keys kept hold
    no more than the outbox's payloads do): relay.submit writes it as lower-case hex, as
    struct_key's; a payload written otherwise only ever misses a key, never matches another's."""
    payload = request.payload
    return (
        request.nonce,
        payload["signature"].lower(),
        payload["to"].lower(),
        payload["data"],
        int(payload["value"]),
        int(payload["gas"]),
        int(payload["deadline"]),
    )


def struct_key(nonce: int, struct: tuple) -> RequestKey:
    """request_key of a request as forward_request_struct gives it, before the outbox holds it."""
    _, to, value, gas, deadline, data, signature = struct
    return nonce, "0x" + signature.hex(), to.lower(), "0x" + data.hex(), int(value), int(gas), int(deadline)


def carried_over(forwarder: str, signer: str, head: str, clock: int, held: list[HeldRequest]) -> Carried:
    """The state carried over the longest run of `held`, from its first, that this process
    traced on block `head` at `clock`; nothing carried (no requests) if none."""
    keys = tuple(request_key(r) for r in held)
    member = (forwarder, signer)
    best = Carried(head, clock, (), {})
    for known in (_TRACED.get(member), _CARRIED.get(member)):
        if (
            known is not None
            and known.head == head
            and known.clock == clock
            and len(best.requests) < len(known.requests) <= len(keys)
            and known.requests == keys[: len(known.requests)]
        ):
            best = known
    if best.requests and _CARRIED.get(member) is not best:
        _remember(_CARRIED, member, best)
    return best


def note_traced(forwarder: str, signer: str, carried: Carried) -> None:
    """The state the member's newest request leaves behind those before it, as its check traced it."""
    _remember(_TRACED, (forwarder, signer), carried)


def note_uncarried(forwarder: str, signer: str, head: str, clock: int) -> None:
    _remember(_UNCARRIED, (forwarder, signer), (head, clock))


def carriable(forwarder: str, signer: str, head: str, clock: int) -> bool:
    return _UNCARRIED.get((forwarder, signer)) != (head, clock)


# Nodes (by URL) and whether their debug_traceCall honours state and block overrides, as a probe
# found (probe_params, probe_passed) or a trace showed since (overrides_honoured), until when, and
# since when. Several nodes have ignored overrides without a word (a carry traced so would miss
# the writes of the requests before it); many paid providers have no debug namespace. Trusted for
# TRUSTED_SECONDS (then probed again: a URL may lead to another node by then); not trusted for
# DOUBTED_SECONDS after a failed probe, a refused trace or one that showed an override ignored,
# REFUSED_SECONDS after a refused batch holding a trace (each refusal fails the others' checks
# sharing its round trip); meanwhile, checks replay. One probe at a time: the others replay.
TRUSTED_SECONDS, DOUBTED_SECONDS, REFUSED_SECONDS = 1800.0, 600.0, 86_400.0
_PROBING_SECONDS = 60.0


@dataclass(frozen=True)
class _Verdict:
    trusted: bool
    until: float
    since: float


_NODES: dict[str, _Verdict] = {}
_NODES_LOCK = threading.Lock()


def trusted(node: str) -> bool | None:
    """Whether `node`'s traces may be carried; None if not known (yet, or again): probe it."""
    known = _NODES.get(node)
    return None if known is None or time.monotonic() >= known.until else known.trusted


def note_node(node: str, trusted: bool, seconds: float, since: float | None = None) -> None:
    """What was found of `node`, for `seconds`; ignored if something newer was noted since `since`
    (a probe that began before a refusal, answered after it)."""
    now = time.monotonic()
    with _NODES_LOCK:
        known = _NODES.get(node)
        if since is not None and known is not None and known.since > since:
            return
        _NODES[node] = _Verdict(trusted, now + seconds, now)


def begin_probe(node: str) -> float | None:
    """When this thread's probe of `node` begins, if it is the one to probe it; None if not."""
    now = time.monotonic()
    with _NODES_LOCK:
        known = _NODES.get(node)
        if known is not None and now < known.until:
            return None
        _NODES[node] = _Verdict(False, now + _PROBING_SECONDS, now)  # meanwhile, the others replay
        return now


# Members' last checks' times (_BUSY_CHECKS of them): a member writing a few a second has the
# state of their requests carried anew after each block or second (a trace of all of them through
# the forwarder); one writing slowly (on a chain of 12-second blocks, say) would pay that trace
# for each request, and replays instead.
_BUSY_CHECKS = 4
_RECENT: dict[tuple[str, str], tuple[float, ...]] = {}


def busy(forwarder: str, signer: str) -> bool:
    """Whether the member was checked _BUSY_CHECKS times within the last second, this check among them."""
    now, member = time.monotonic(), (forwarder, signer)
    previous = _RECENT.get(member, ())
    recent = (*previous[max(0, len(previous) - _BUSY_CHECKS + 1) :], now)
    _remember(_RECENT, member, recent, _MEMBERS * 16)
    return len(recent) == _BUSY_CHECKS and now - recent[0] < 1.0


def overrides_honoured(writes: Writes, trace: Any) -> bool:
    """Whether a trace's `pre` shows each slot it changed that `writes` set as the override set it
    (a node that ignored the override shows the chain's value)."""
    try:
        for address, before in trace["pre"].items():
            overridden = writes.get(address.lower(), {})
            for slot, value in (before.get("storage") or {}).items():
                if slot in overridden and overridden[slot] != value:
                    return False
    except (KeyError, TypeError, AttributeError):
        return True  # not a diff at all: after_trace refuses it
    return True


# The probe: a call to an address whose code, set by a state override, stores the block's time and
# number and a slot the override sets; the trace must show all three as overridden.
_PROBE = "0x00000000000000000000000000000000000ca11e"
_PROBE_CODE = "0x426000554360015560035460025500"  # sstore(0, timestamp) sstore(1, number) sstore(2, sload(3))
_PROBE_MARK = "0x" + "5a" * 32


def _slot(index: int) -> str:
    return "0x" + index.to_bytes(32, "big").hex()


def probe_params(sender: str, number: int, clock: int) -> list[Any]:
    """debug_traceCall's params for the probe, as trace_params would run it (block `number` + 2, `clock`)."""
    overrides = {_PROBE: {"code": _PROBE_CODE, "stateDiff": {_slot(3): _PROBE_MARK}}}
    return [{"from": sender, "to": _PROBE, "gas": hex(100_000)}, hex(number), _options(number, clock, overrides)]


def probe_passed(trace: Any, number: int, clock: int) -> bool:
    if not isinstance(trace, dict) or not isinstance(trace.get("post"), dict):
        return False
    after = next((v for k, v in trace["post"].items() if k.lower() == _PROBE), None)
    storage = after.get("storage") if isinstance(after, dict) else None
    return storage == {_slot(0): _slot(clock), _slot(1): _slot(number + 2), _slot(2): _PROBE_MARK}


def _remember(kept: dict[tuple[str, str], _Kept], member: tuple[str, str], value: _Kept, most: int = _MEMBERS) -> None:
    """`value` kept for `member`, in a dict of at most `most` members (all forgotten past it)."""
    if len(kept) >= most and member not in kept:
        kept.clear()
    kept[member] = value


def overrides(writes: Writes, account: str, slot: str, value: str) -> Writes:
    """The carried writes as a state override, with one slot set over them (the member's nonce)."""
    out = {address: dict(slots) for address, slots in writes.items()}
    out.setdefault(account.lower(), {})[slot] = value
    return out


def as_state_override(writes: Writes) -> dict[str, dict[str, dict[str, str]]]:
    return {address: {"stateDiff": slots} for address, slots in writes.items()}


# A request traced as the relayer sends it (simulation._trace) pays for its gas at one wei a gas, in
# a block whose base fee is one wei (so nothing goes to the block's miner; `baseFeePerGas` is the
# name geth and Erigon read, and Anvil and Reth take it too), from a balance the override sets:
# what its sender's balance falls by is the gas it used, the figure a simulation gives, and its
# trace answers the check without one (simulation._as_simulated).
TRACE_GAS_PRICE = 1
TRACE_BALANCE = 10**24


def trace_params(call_text: str, number: int, clock: int, writes: Writes, text: Any, payer: str | None = None) -> Json:
    """debug_traceCall's params for a call run in the block simulated two after block `number`,
    at `clock`, on the state `writes` override: the storage it changes (prestateTracer's diff,
    without code), as simulation._behind_direct's second block runs it. With a `payer` (the call's
    sender), it pays for its gas at TRACE_GAS_PRICE from TRACE_BALANCE."""
    overrides: dict[str, Any] = as_state_override(writes)
    if payer is not None:
        overrides[payer.lower()] = {**overrides.get(payer.lower(), {}), "balance": hex(TRACE_BALANCE)}
    options = _options(number, clock, overrides)
    if payer is not None:
        options["blockOverrides"]["baseFeePerGas"] = hex(TRACE_GAS_PRICE)
    return Json(f"[{call_text},{text(hex(number))},{text(options)}]")


def _options(number: int, clock: int, overrides: dict[str, Any]) -> dict[str, Any]:
    return {
        "tracer": "prestateTracer",
        "tracerConfig": {"diffMode": True, "disableCode": True},
        "blockOverrides": {"number": hex(number + 2), "time": hex(clock)},
        "stateOverrides": overrides,
    }


def after_trace(base: Carried, requests: tuple[RequestKey, ...], trace: Any, sender: str) -> Carried | None:
    """The state carried once the traced call ran on `base`, covering `requests`; None if the
    trace is not a diff of storage alone (value moved, code or nonces changed but the sender's),
    is not a trace at all (a node without debug_traceCall, or one that failed), or would carry
    more than _SLOTS slots."""
    try:
        writes = _written(base.writes, trace["pre"], trace["post"], sender.lower())
    except (KeyError, TypeError, AttributeError, ValueError):  # not a prestate diff
        return None
    if writes is None or sum(len(slots) for slots in writes.values()) > _SLOTS:
        return None
    return Carried(base.head, base.clock, requests, writes)


def _written(carried: Writes, pre: dict[str, Any], post: dict[str, Any], sender: str) -> Writes | None:
    """`carried` with the storage a trace's diff wrote over it; None if it did more than write storage."""
    writes = {address: dict(slots) for address, slots in carried.items()}
    for address in {*pre, *post}:
        before, after = pre.get(address) or {}, post.get(address) or {}
        # The sender's nonce (and fee, if any) move with any call; nobody else's may.
        moved = ("code",) if address.lower() == sender else ("balance", "nonce", "code")
        if any(field in after for field in moved):
            return None
        # Diff mode leaves out of `post` a slot written back to zero: it is in `pre` alone.
        written = {slot: _ZERO for slot in before.get("storage") or {}}
        written.update(after.get("storage") or {})
        if not all(_WORD.fullmatch(slot) and _WORD.fullmatch(value) for slot, value in written.items()):
            return None  # a slot or value that is not 32 bytes of hex: a node's override would refuse it
        if written:
            writes.setdefault(address.lower(), {}).update(written)
    return writes


_ZERO = "0x" + "00" * 32
_WORD = re.compile(r"0x[0-9a-f]{64}")
