"""Relaying members' signed requests through the community's forwarder.

prepare: simulate the call as the member (so a request bound to fail is refused before anyone
signs it), then hand back the EIP-712 typed data to sign. submit: check the signed request
against this community, chain, nonce and deadline, simulate again, and only then send it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak, to_checksum_address

from backend.chain.deployments import Community
from backend.chain.gateway import HEAD_CALL, clock_of
from backend.chain.typed_data import (
    FORWARD_REQUEST_TYPES,
    FORWARDER_NAME,
    FORWARDER_VERSION,
    forward_request_struct,
    forward_request_typed_data,
    signature_flaw,
)
from backend.context import Context
from backend.errors import ChainRefused, Conflict, InvalidRequest, InvalidSignature, NodeUnavailable, Unprocessable


@dataclass
class TxOutcome:
    """What a write returns: the transaction and, once mined, what it created."""

    tx_hash: str
    status: str  # pending | succeeded | failed
    block_number: int | None = None
    created: dict[str, Any] = field(default_factory=dict)
    indexed: bool = False


# Requests sent but not yet seen mined, per (community, signer): nonces in flight. They let a
# member prepare the next request before the previous one is mined, and refuse a replay of one
# still in flight.
# Entries older than the receipt timeout are dropped, so a request that failed on chain
# does not hold its nonce for ever.
_in_flight: dict[tuple[str, str], dict[int, float]] = {}
_in_flight_lock = threading.Lock()
# Which in-flight entry each sent transaction holds, so a transaction found failed or dropped
# (a node restarted from an older state) frees its member nonce at once: the member's next
# request must reuse that nonce, or the forwarder refuses it. Insertion ordered, pruned by age.
_sent: dict[str, tuple[tuple[str, str], int, float]] = {}


def _track(tx_hash: str, key: tuple[str, str], nonce: int, stamp: float) -> None:
    with _in_flight_lock:
        _sent[tx_hash.lower()] = (key, nonce, stamp)
        stale = time.monotonic() - 600
        while _sent and next(iter(_sent.values()))[2] < stale:
            del _sent[next(iter(_sent))]


def _release(tx_hash: str) -> None:
    """The transaction will never execute: its member nonce is free again."""
    with _in_flight_lock:
        entry = _sent.pop(tx_hash.lower(), None)
        if entry is not None:
            key, nonce, stamp = entry
            if _in_flight.get(key, {}).get(nonce) == stamp:
                del _in_flight[key][nonce]


def _nonce_call(ctx: Context, community: Community, signer: str) -> tuple[str, list[Any]]:
    data = ctx.gateway.abi("forwarder").function("nonces").encode(signer)
    return "eth_call", [{"to": community.contracts["forwarder"], "data": "0x" + data.hex()}, "latest"]


def _ok(result: Any) -> Any:
    if isinstance(result, Exception):
        raise result
    return result


def _pending(community: Community, signer: str, chain_nonce: int) -> set[int]:
    with _in_flight_lock:
        nonces = _in_flight.setdefault((community.slug, signer), {})
        stale = time.monotonic() - 120
        for n in [n for n, sent in nonces.items() if n < chain_nonce or sent < stale]:
            del nonces[n]
        return set(nonces)


def prepare(ctx: Context, community: Community, *, signer: str, target: str, data: bytes) -> dict[str, Any]:
    ctx.gateway.check_chain()
    signer = to_checksum_address(signer)
    address = community.contracts[target]
    # The call exactly as the forwarder will make it: the member's address appended (ERC-2771).
    # Estimate, nonce and clock in one round trip; a refused estimate names the custom error.
    as_forwarded = {"from": community.contracts["forwarder"], "to": address,
                    "data": "0x" + (data + bytes.fromhex(signer[2:])).hex()}
    estimate, nonce_data, head = ctx.gateway.simulate(
        [("eth_estimateGas", [as_forwarded]), _nonce_call(ctx, community, signer), HEAD_CALL]
    )
    estimate = int(_ok(estimate), 16)
    chain_nonce = int(_ok(nonce_data), 16)
    pending = _pending(community, signer, chain_nonce)
    nonce = chain_nonce
    while nonce in pending:
        nonce += 1
    return forward_request_typed_data(
        chain_id=ctx.gateway.chain_id,
        forwarder=community.contracts["forwarder"],
        sender=signer,
        target=address,
        data=data,
        nonce=nonce,
        deadline=clock_of(_ok(head)) + ctx.settings.request_ttl_seconds,
        # Headroom: an attestation estimated before another one lands may be the one that mints.
        gas=estimate + estimate // 2 + 100_000,
    )


@dataclass(frozen=True)
class CheckedRequest:
    signer: str
    target: str  # contract key
    function: str
    args: dict[str, Any]
    nonce: int
    struct: tuple


def check(
    ctx: Context, community: Community, typed_data: dict[str, Any], signature: str, allowed: set[tuple[str, str]]
) -> CheckedRequest:
    """Everything about a signed request that can be known without sending it."""
    ctx.gateway.check_chain()
    domain, message = typed_data["domain"], typed_data["message"]
    if typed_data["primaryType"] != "ForwardRequest" or typed_data["types"] != FORWARD_REQUEST_TYPES:
        raise InvalidRequest("typed_data is not a ForwardRequest as returned by .../prepare")
    if (domain["name"], domain["version"]) != (FORWARDER_NAME, FORWARDER_VERSION):
        raise InvalidRequest(f"typed_data.domain must be {FORWARDER_NAME} version {FORWARDER_VERSION}")
    if domain["chainId"] != ctx.gateway.chain_id:
        raise InvalidRequest(f"The request was signed for chain {domain['chainId']}; this is chain {ctx.gateway.chain_id}")
    forwarder = community.contracts["forwarder"]
    if to_checksum_address(domain["verifyingContract"]) != forwarder:
        raise InvalidRequest(
            f"The request was signed for forwarder {domain['verifyingContract']}, "
            f"not this community's ({forwarder})"
        )
    target = community.key_of(message["to"])
    if target is None or target == "forwarder":
        raise InvalidRequest(f"{message['to']} is not one of this community's contracts")
    if message["value"] != 0:
        raise InvalidRequest("Relayed requests carry no value")
    data = bytes.fromhex(message["data"][2:])
    function = ctx.gateway.abi(target).functions_by_selector.get(data[:4])
    if function is None or (target, function.name) not in allowed:
        called = f"{target}.{function.name}" if function else f"an unknown function of {target}"
        wanted = " or ".join(sorted(f"{k}.{f}" for k, f in allowed))
        raise InvalidRequest(f"This endpoint relays {wanted}; the signed request calls {called}")
    try:
        args = function.decode_input(data)
    except Exception as exc:
        raise InvalidRequest(f"The request's data does not decode as {function.name}: {exc}") from exc

    signer = to_checksum_address(message["from"])
    sig = bytes.fromhex(signature[2:])
    flaw = signature_flaw(sig)
    if flaw:  # eth-account would recover the signer; the forwarder would not
        raise InvalidSignature(flaw[1], error=flaw[0])
    # Verify against our own canonical typed data, never against types the client sent.
    canonical = forward_request_typed_data(
        chain_id=domain["chainId"], forwarder=forwarder, sender=signer, target=message["to"], data=data,
        nonce=message["nonce"], deadline=message["deadline"], gas=message["gas"],
    )
    try:
        recovered = Account.recover_message(encode_typed_data(full_message=canonical), signature=sig)
    except Exception as exc:
        raise InvalidSignature(f"The signature cannot be recovered: {exc}", error="ERC2771ForwarderInvalidSigner") from exc
    if recovered != signer:
        raise InvalidSignature(
            f"The signature is by {recovered}, not by the request's signer {signer} "
            "(ERC2771ForwarderInvalidSigner): sign exactly the typed data .../prepare returned",
            error="ERC2771ForwarderInvalidSigner",
        )

    # Nonce, clock and what the contract itself would say, in one round trip; refusals are
    # reported in this order: replay, expiry, then the contract's custom error.
    as_forwarded = {"from": forwarder, "to": community.contracts[target],
                    "data": "0x" + (data + bytes.fromhex(signer[2:])).hex()}
    nonce_data, head, simulated = ctx.gateway.simulate(
        [_nonce_call(ctx, community, signer), HEAD_CALL, ("eth_call", [as_forwarded, "latest"])]
    )
    chain_nonce = int(_ok(nonce_data), 16)
    pending = _pending(community, signer, chain_nonce)
    nonce = message["nonce"]
    if nonce < chain_nonce or nonce in pending:
        raise Conflict(f"This signed request (nonce {nonce}) was already relayed: a signature works once",
                       error="ReplayedRequest")
    if any(n not in pending for n in range(chain_nonce, nonce)):
        raise Conflict(f"The request's nonce {nonce} is ahead of the signer's next nonce {chain_nonce}; prepare it again")
    now = clock_of(_ok(head))
    if message["deadline"] < now:
        raise Unprocessable(
            f"The request expired at {message['deadline']} (chain time is {now}): "
            "ERC2771ForwarderExpiredRequest; prepare and sign it again",
            error="ERC2771ForwarderExpiredRequest",
        )
    _ok(simulated)
    struct = forward_request_struct(canonical, sig)
    return CheckedRequest(signer, target, function.name, args, nonce, struct)


def relay(ctx: Context, community: Community, request: CheckedRequest, *, wait: bool) -> TxOutcome:
    forwarder = community.contracts["forwarder"]
    data = ctx.gateway.abi("forwarder").function("execute").encode(request.struct)
    # The forwarder's own costs (signature, nonce, event) on top of the gas the member signed for.
    gas = request.struct[3] * 64 // 63 + 80_000 + 16 * len(data)
    key = (community.slug, request.signer)
    stamp = time.monotonic()
    with _in_flight_lock:
        if request.nonce in _in_flight.setdefault(key, {}):
            raise Conflict(f"This signed request (nonce {request.nonce}) is already being relayed",
                           error="ReplayedRequest")
        _in_flight[key][request.nonce] = stamp
    try:
        tx_hash = ctx.gateway.relayer.send(forwarder, data, gas)
    except NodeUnavailable as exc:
        tx_hash = exc.extra.get("tx_hash")
        if tx_hash is None:  # nothing reached the node: the client may sign again
            with _in_flight_lock:
                _in_flight[key].pop(request.nonce, None)
            raise
        # The node went away while taking the transaction: it may have it. The answer must not
        # invite a new signature (two could then both be recorded): the status says which.
        _track(tx_hash, key, request.nonce, stamp)
        if not wait:
            return TxOutcome(tx_hash, "pending")
        raise NodeUnavailable(f"{exc.detail}: poll the transaction's status before signing again",
                              tx_hash=tx_hash) from exc
    except Exception:
        with _in_flight_lock:
            _in_flight[key].pop(request.nonce, None)
        raise
    _track(tx_hash, key, request.nonce, stamp)
    return finish(ctx, community, tx_hash, wait=wait)


def send_direct(ctx: Context, community: Community, target: str, data: bytes, *, wait: bool) -> TxOutcome:
    """A call the relayer makes in its own name (executing a passed proposal)."""
    ctx.gateway.check_chain()
    address = community.contracts[target]
    # A refused estimate names the contract's custom error, so bad input stops here.
    gas = ctx.gateway.estimate_gas(address, data, ctx.gateway.relayer.address)
    tx_hash = ctx.gateway.relayer.send(address, data, gas + gas // 4 + 20_000)
    return finish(ctx, community, tx_hash, wait=wait)


def finish(ctx: Context, community: Community, tx_hash: str, *, wait: bool) -> TxOutcome:
    if not wait:
        return TxOutcome(tx_hash, "pending")
    try:
        receipt = ctx.gateway.wait_for_receipt(tx_hash)
    except NodeUnavailable as exc:
        raise NodeUnavailable(f"Transaction {tx_hash} was sent, then the chain node went away: poll its status "
                              "before signing again", tx_hash=tx_hash) from exc
    outcome = outcome_of(ctx, community, tx_hash, receipt)
    if outcome.status == "succeeded":
        # A read right after this answer must see the write.
        ctx.indexer.catch_up(outcome.block_number)
        outcome.indexed = True
    else:
        _release(tx_hash)
        raise ChainRefused("TransactionReverted", {"tx_hash": tx_hash},
                           f"Transaction {tx_hash} was mined but reverted; nothing changed")
    return outcome


def status(ctx: Context, community: Community, tx_hash: str) -> TxOutcome:
    """pending while the node holds the transaction unmined; failed when it reverted, or when the
    node does not know it at all: never sent, or lost (a node restarted from an older state, a
    reorganisation), so a write once reported succeeded can turn failed. Failed means nothing
    it carried is recorded, and will not be: the member signs again."""
    receipt = ctx.gateway.receipt(tx_hash)
    if receipt is None:
        if ctx.gateway.rpc.request("eth_getTransactionByHash", tx_hash) is not None:
            return TxOutcome(tx_hash, "pending")
        _release(tx_hash)
        return TxOutcome(tx_hash, "failed")
    outcome = outcome_of(ctx, community, tx_hash, receipt)
    if outcome.status == "failed":
        _release(tx_hash)
    outcome.indexed = ctx.indexer.cursor(community)[0] >= (outcome.block_number or 0)
    return outcome


_CREATED = {
    ("governor", "ProposalCreated"): ("proposal_id", "proposalId", str),
    ("badge", "ClaimSubmitted"): ("claim_id", "claimId", int),
    ("badge", "BadgeMinted"): ("token_id", "tokenId", int),
    ("badge", "Attested"): ("attestations", "attestations", int),
    ("governor", "VoteCast"): ("vote_weight", "weight", int),
    ("governor", "ProposalExecuted"): ("executed_proposal_id", "proposalId", str),
    ("registry", "IndicatorDefined"): ("indicator_id", "indicatorId", int),
    ("membership", "MemberAdmitted"): ("member", "account", str),
}


def outcome_of(ctx: Context, community: Community, tx_hash: str, receipt: dict[str, Any]) -> TxOutcome:
    block = int(receipt["blockNumber"], 16)
    if int(receipt["status"], 16) != 1:
        return TxOutcome(tx_hash, "failed", block)
    created: dict[str, Any] = {}
    for entry in receipt["logs"]:
        key = community.key_of(entry["address"])
        topics = [bytes.fromhex(t[2:]) for t in entry["topics"]]
        event = ctx.gateway.abi(key).events.get(topics[0]) if key and topics else None
        if event is None:
            continue
        if (key, event.name) == ("forwarder", "ExecutedForwardRequest"):
            args = event.decode(topics, bytes.fromhex(entry["data"][2:]))
            if not args["success"]:
                return TxOutcome(tx_hash, "failed", block)
        spec = _CREATED.get((key, event.name))
        if spec:
            name, arg, kind = spec
            created[name] = kind(event.decode(topics, bytes.fromhex(entry["data"][2:]))[arg])
    return TxOutcome(tx_hash, "succeeded", block, created)


def proposal_id(targets: list[str], values: list[int], calldatas: list[bytes], description: str) -> int:
    """The Governor's hashProposal, computed locally."""
    from eth_abi import encode

    encoded = encode(
        ["address[]", "uint256[]", "bytes[]", "bytes32"],
        [targets, values, calldatas, keccak(text=description)],
    )
    return int.from_bytes(keccak(encoded), "big")
