"""Relaying members' signed requests through the community's forwarder.

prepare: simulate the call as the member (so a request bound to fail is refused before anyone
signs it), then hand back the EIP-712 typed data to sign. submit: check the signed request
against this community, chain, nonce and deadline, simulate again, and only then accept it
into the outbox, from which the relayer worker sends it.

Both read the head and the member's nonce, then simulate the block after the head on its state,
behind the member's requests the outbox holds that the chain has not executed (eth_simulateV1:
the member's nonce read on the simulation's own state, those few calls, then this one), so that
a request is judged after them whether they still wait in the outbox or in the node's pool.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from eth_abi import encode
from eth_utils import keccak

from backend.chain.addresses import checksum
from backend.chain.deployments import Community
from backend.chain.gateway import HEAD_CALL, ChainGateway, clock_of
from backend.chain.receipts import created_by
from backend.chain.rpc import RpcError
from backend.chain.typed_data import (
    ERC1271_MAGIC_VALUE,
    FORWARD_REQUEST_TYPES,
    FORWARDER_NAME,
    FORWARDER_VERSION,
    WALLET_SIGNATURE_GAS,
    forward_request_struct,
    forward_request_typed_data,
    recover_signer,
    signature_flaw,
    typed_data_digest,
)
from backend.context import Context
from backend.errors import (
    ChainRefused,
    Conflict,
    DomainError,
    IndexUnavailable,
    InvalidRequest,
    InvalidSignature,
    NodeUnavailable,
    NotFound,
    TimedOut,
    Unprocessable,
)
from backend.relayer.book import HeldRequest, check_nonce, next_nonce
from backend.relayer.outbox import batch_gas, struct_of
from backend.services import request_rules

log = logging.getLogger(__name__)


@dataclass
class TxOutcome:
    """What a write returns: its request and transaction and, once mined, what it created."""

    tx_hash: str | None  # None while the request waits in the outbox
    status: str  # pending | succeeded | failed
    block_number: int | None = None
    created: dict[str, Any] = field(default_factory=dict)
    indexed: bool = False
    request_id: int | None = None
    state: str | None = None  # the outbox's: queued | sent | succeeded | reverted | failed
    error: str | None = None


def _nonce_read(ctx: Context, community: Community, signer: str) -> dict[str, str]:
    """forwarder.nonces(signer) as a call: read on "latest" beside the head, and first in each
    simulated block, on that block's own state."""
    data = ctx.gateway.abi("forwarder").function("nonces").encode(signer)
    return {"to": community.contracts["forwarder"], "data": "0x" + data.hex()}


def _ok(result: Any) -> Any:
    if isinstance(result, Exception):
        raise result
    return result


def _as_forwarded(community: Community, target: str, data: bytes, signer: str) -> dict[str, str]:
    """The call exactly as the forwarder makes it: the member's address appended (ERC-2771)."""
    return {"from": community.contracts["forwarder"], "to": community.contracts[target],
            "data": "0x" + (data + bytes.fromhex(signer[2:])).hex()}


def _decoded(ctx: Context, target: str, data: bytes) -> tuple[str, dict[str, Any]]:
    function = ctx.gateway.abi(target).functions_by_selector.get(data[:4])
    if function is None:
        raise InvalidRequest(f"The request calls an unknown function of {target}")
    try:
        return function.name, function.decode_input(data)
    except Exception as exc:
        raise InvalidRequest(f"The request's data does not decode as {function.name}: {exc}") from exc


def _chain_and_outbox(ctx: Context, community: Community, signer: str) -> tuple[dict[str, Any], int, list[HeldRequest]]:
    """The head, the member's forwarder nonce read with it (one round trip), and the member's
    requests the outbox holds from that nonce on: those the chain has not executed (in flight,
    or given back by a rolled-back block), which a new request of theirs comes after."""
    nonce_data, head = ctx.gateway.simulate([("eth_call", [_nonce_read(ctx, community, signer), "latest"]), HEAD_CALL])
    head, chain_nonce = _ok(head), int(_ok(nonce_data), 16)
    return head, chain_nonce, ctx.book.held(community.slug, signer, chain_nonce, int(head["number"], 16))


# A forwarder.nonces view as the first call of each simulated block: well under this gas.
NONCE_READ_GAS = 50_000
# Simulations run again at most this many times when the node's state was older than the nonce
# the outbox was read from (see _simulated_behind); more means the node keeps moving under us.
SIMULATION_RUNS = 3


def _simulated_behind(ctx: Context, community: Community, signer: str, head: dict[str, Any], chain_nonce: int,
                      held: list[HeldRequest], calls: list[dict[str, str]]) -> list[Any]:
    """Each of `calls` simulated behind the member's requests the chain has not executed as of
    `head`, in one round trip. Each simulated block first reads the member's nonce, on the very
    state the simulation runs on: a node asked for the state of its newest block while it mines
    the next may answer with either (Anvil does), and not always the same one to two calls of one
    batch. The outbox was read from `chain_nonce`; if a simulation's state is older than that,
    the requests in between (executed since) were left out of the replay, and it runs again with
    the outbox read from the state's own nonce. A newer state only skips replays already executed,
    as the forwarder does on chain."""
    number = int(head["number"], 16)
    nonce_read = {**_nonce_read(ctx, community, signer), "from": ctx.gateway.relayer_address,
                  "gas": hex(NONCE_READ_GAS)}
    replayed_from = chain_nonce
    for _ in range(SIMULATION_RUNS):
        replays = _replays(ctx, community, held)
        results = ctx.gateway.simulate([_behind([nonce_read, *replays], call, head) for call in calls])
        state_nonce = _state_nonce(results)
        if state_nonce is None or state_nonce >= replayed_from:
            return results
        replayed_from = state_nonce
        held = ctx.book.held(community.slug, signer, state_nonce, number)
    raise NodeUnavailable(f"The chain node's state kept changing under the relay check (block {number}); "
                          "submit the request again")


def _state_nonce(results: list[Any]) -> int | None:
    """The lowest of the member's nonces the simulations read first, on their own states; None
    if the node could not simulate at all (reported by _last_call, as the node's failure)."""
    read = []
    for result in results:
        if isinstance(result, ChainRefused):
            continue
        first = result[-1]["calls"][0]
        # A uint256 as 32 bytes, from a call that succeeded: anything else (a node's fault, or no
        # forwarder code at that address) is the node's failure, never a number read from it.
        if int(first["status"], 16) != 1 or len(first.get("returnData") or "") != 66:
            raise NodeUnavailable("The chain node could not read the member's nonce in a simulation (eth_simulateV1)")
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
    data = gateway.abi("forwarder").function("executeBatch").encode([struct], relayer)
    return {"from": relayer, "to": forwarder, "data": "0x" + data.hex(), "gas": hex(batch_gas([share], data))}


def _behind(earlier: list[dict[str, str]], call: dict[str, str], head: dict[str, Any]) -> tuple[str, list[Any]]:
    """`call` simulated after the calls `earlier` (eth_simulateV1), in one block that follows
    `head` on its state: the node runs those few calls, not a pending block of every transaction
    in its pool (what an eth_call on the pending block costs; under a burst it was most of
    Anvil's work). The state is pinned to `head`, the block the nonces were read on, and the block
    simulated is the next one, with its number and a clock past the head's: simulated on
    "latest", Anvil could take the clock of one block and the state of the next, mined meanwhile,
    and a vote delegation then reverted for a checkpoint older than the last."""
    calls = [*earlier, call]
    number, timestamp = int(head["number"], 16), int(head["timestamp"], 16)
    overrides = {"number": hex(number + 1), "time": hex(max(clock_of(head), timestamp + 1)),
                 # The block holds all of them whatever the chain's block gas limit (a node that
                 # enforces it in a simulation, as geth does, would refuse a member with many requests
                 # in flight).
                 "gasLimit": hex(sum(int(c["gas"], 16) for c in calls))}
    return "eth_simulateV1", [{"blockStateCalls": [{"blockOverrides": overrides, "calls": calls}],
                               "validation": False}, hex(number)]


def _last_call(ctx: Context, result: Any) -> tuple[int, ChainRefused | None]:
    """The gas the simulation's last call used, and its refusal (the custom error named) if it
    reverted. A simulation the node could not run at all is the node's failure, not the call's."""
    if isinstance(result, ChainRefused):
        raise NodeUnavailable(f"The chain node could not simulate the request (eth_simulateV1, which the relayer "
                              f"needs): {result.detail}")
    call = result[-1]["calls"][-1]
    used = int(call["gasUsed"], 16)
    if int(call["status"], 16) == 1:
        return used, None
    name, args = ctx.gateway.errors.decode(bytes.fromhex(call.get("returnData", "0x")[2:]))
    if name == "EmptyRevert":
        reason = (call.get("error") or {}).get("message")
        return used, ChainRefused("Reverted", {}, f"The chain refused the request: {reason or 'it reverted'}")
    return used, ChainRefused(name, args)


def _gas_needed(ctx: Context, result: Any) -> int:
    """The gas the member's call needs, as the forwarder makes it (its simulation's gas used);
    refused with the contract's custom error, or for needing more than the relayer pays for."""
    cap = ctx.settings.relay_max_gas_per_request
    used, refusal = _last_call(ctx, result)
    if refusal is not None and refusal.error == "Reverted" and used >= cap:
        raise Unprocessable(f"This call needs more than {cap:,} gas, the most the relayer pays for per request")
    if refusal is not None:
        raise refusal
    return used


def gas_ceiling(ctx: Context, estimate: int) -> int:
    """The most gas a member may sign for a call estimated at `estimate`."""
    settings = ctx.settings
    return min(int(estimate * settings.relay_gas_factor) + settings.relay_gas_slack,
               settings.relay_max_gas_per_request)


def prepare(ctx: Context, community: Community, *, signer: str, target: str, data: bytes) -> dict[str, Any]:
    ctx.gateway.check_chain()
    signer = checksum(signer)
    function, args = _decoded(ctx, target, data)
    request_rules.check_call(ctx, community, target=target, function=function, args=args)
    # The call simulated behind the member's requests the chain has not executed yet.
    as_forwarded = {**_as_forwarded(community, target, data, signer),
                    "gas": hex(ctx.settings.relay_max_gas_per_request)}
    head, chain_nonce, held = _chain_and_outbox(ctx, community, signer)
    nonce = next_nonce(chain_nonce, held)
    simulated, = _simulated_behind(ctx, community, signer, head, chain_nonce, held, [as_forwarded])
    estimate = _gas_needed(ctx, simulated)
    return forward_request_typed_data(
        chain_id=ctx.gateway.chain_id,
        forwarder=community.contracts["forwarder"],
        sender=signer,
        target=community.contracts[target],
        data=data,
        nonce=nonce,
        deadline=clock_of(head) + ctx.settings.request_ttl_seconds,
        # Headroom: an attestation estimated before another one lands may be the one that mints.
        gas=min(estimate + estimate // 2 + 100_000, gas_ceiling(ctx, estimate)),
    )


def relay_gas(struct: tuple, data: bytes, wallet: bool = False) -> int:
    """The relayer's transaction gas for forwarder.execute: the forwarder's own costs
    (signature, nonce, event) on top of the gas the member signed for, and for a contract
    wallet the most its signature check may use on chain (WALLET_SIGNATURE_GAS), so that a
    wallet answering differently at execution cannot take the gas of the batch's others."""
    return struct[3] * 64 // 63 + 80_000 + 16 * len(data) + (WALLET_SIGNATURE_GAS if wallet else 0)


@dataclass(frozen=True)
class CheckedRequest:
    signer: str
    target: str  # contract key
    function: str
    args: dict[str, Any]
    nonce: int
    struct: tuple
    signature: str
    accepted_as: int | None = None  # the very same signed request was accepted before: its id
    wallet: bool = False  # the signer is a contract wallet that accepted the signature (ERC-1271)


def check(
    ctx: Context, community: Community, typed_data: dict[str, Any], signature: str, allowed: set[tuple[str, str]]
) -> CheckedRequest:
    """Everything about a signed request that can be known without sending it: the same rules
    as prepare, the signature, the nonce and deadline, the gas signed for, and a simulation of
    the forwarder's `execute` exactly as the relayer would send it."""
    ctx.gateway.check_chain()
    domain, message = typed_data["domain"], typed_data["message"]
    if typed_data["primaryType"] != "ForwardRequest" or typed_data["types"] != FORWARD_REQUEST_TYPES:
        raise InvalidRequest("typed_data is not a ForwardRequest as returned by .../prepare")
    if (domain["name"], domain["version"]) != (FORWARDER_NAME, FORWARDER_VERSION):
        raise InvalidRequest(f"typed_data.domain must be {FORWARDER_NAME} version {FORWARDER_VERSION}")
    if domain["chainId"] != ctx.gateway.chain_id:
        raise InvalidRequest(f"The request was signed for chain {domain['chainId']}; this is chain {ctx.gateway.chain_id}")
    forwarder = community.contracts["forwarder"]
    if checksum(domain["verifyingContract"]) != forwarder:
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
    function, args = _decoded(ctx, target, data)
    if (target, function) not in allowed:
        wanted = " or ".join(sorted(f"{k}.{f}" for k, f in allowed))
        raise InvalidRequest(f"This endpoint relays {wanted}; the signed request calls {target}.{function}")
    request_rules.check_call(ctx, community, target=target, function=function, args=args)
    signer = checksum(message["from"])

    sig = bytes.fromhex(signature[2:])
    # Verify against our own canonical typed data, never against types the client sent.
    canonical = forward_request_typed_data(
        chain_id=domain["chainId"], forwarder=forwarder, sender=signer, target=message["to"], data=data,
        nonce=message["nonce"], deadline=message["deadline"], gas=message["gas"],
    )
    wallet = _check_signature(ctx, community, canonical, sig, signer)

    # Submitting is idempotent: the very same signed request again (a client that lost the answer,
    # to a broken connection or a database that failed as it committed) is the request accepted
    # before, never a second one. One that failed is never relayed again: a wallet that answers
    # one way when simulated and another on chain would make the relayer pay for it each time.
    key = signature_key(signature)
    same = ctx.book.same_request(community.slug, forwarder, signer, message["nonce"], key)
    if same is not None and same.state == "failed":
        raise Conflict(f"This signed request was relayed before, as request {same.id}, and was not executed "
                       f"({same.error}). A signature is relayed once: prepare and sign the request again",
                       error="RequestAlreadyFailed", request_id=same.id)
    if same is not None:
        return CheckedRequest(signer, target, function, args, message["nonce"], (), key, same.id)

    # Nonce and clock; then what the contract itself would say and the gas the call needs, and the
    # whole forwarder.execute as the relayer would send it, in one round trip, both behind the
    # member's requests the chain has not executed yet. Refusals are reported in this order:
    # replay, expiry, the contract's custom error, gas, anything else.
    struct = forward_request_struct(canonical, sig)
    execute = ctx.gateway.abi("forwarder").function("execute").encode(struct)
    as_forwarded = {**_as_forwarded(community, target, data, signer),
                    "gas": hex(ctx.settings.relay_max_gas_per_request)}
    as_relayed = {"from": ctx.gateway.relayer_address, "to": forwarder, "data": "0x" + execute.hex(),
                  "gas": hex(relay_gas(struct, execute, wallet))}
    nonce = message["nonce"]
    head, chain_nonce, held = _chain_and_outbox(ctx, community, signer)
    check_nonce(chain_nonce, nonce, held)
    simulated, relayed = _simulated_behind(ctx, community, signer, head, chain_nonce, held, [as_forwarded, as_relayed])
    now = clock_of(head)
    if message["deadline"] < now:
        raise Unprocessable(
            f"The request expired at {message['deadline']} (chain time is {now}): "
            "ERC2771ForwarderExpiredRequest; prepare and sign it again",
            error="ERC2771ForwarderExpiredRequest",
        )
    headroom = ctx.settings.relay_min_deadline_headroom_seconds
    if message["deadline"] < now + headroom:
        raise Unprocessable(
            f"The request expires in {message['deadline'] - now} seconds, too soon to be sure it is mined in time "
            f"(the relayer needs at least {headroom} seconds, and pays for requests that expire on the way): "
            "prepare and sign it again", error="RequestDeadlineTooClose")
    needed = _gas_needed(ctx, simulated)
    if message["gas"] < needed:
        raise Unprocessable(f"The request signs for {message['gas']:,} gas, but the call needs {needed:,}: it "
                            "would run out of gas on chain. Prepare and sign it again", error="RelayGasTooLow")
    if message["gas"] > gas_ceiling(ctx, needed):
        raise Unprocessable(f"The request signs for {message['gas']:,} gas; the call needs {needed:,}, and the "
                            f"relayer pays for at most {gas_ceiling(ctx, needed):,}. Prepare and sign it again",
                            error="RelayGasTooHigh")
    _, refusal = _last_call(ctx, relayed)
    if refusal is not None:
        raise Unprocessable(f"The forwarder would refuse this request ({refusal.error}): prepare and sign it again",
                            error=refusal.error)
    return CheckedRequest(signer, target, function, args, nonce, struct, key, wallet=wallet)


def signature_key(signature: str) -> str:
    """What the outbox keeps of a signature to know the same signed request again: the signature
    itself (a key's, 65 bytes), or the hash of a contract wallet's longer one (the outbox's column
    holds 132 characters; the whole signature is in the request's payload)."""
    signature = signature.lower()
    return signature if len(signature) <= 132 else "0x" + keccak(hexstr=signature).hex().removeprefix("0x")


def _check_signature(ctx: Context, community: Community, typed_data: dict[str, Any], sig: bytes, signer: str) -> bool:
    """Whose signature it is: False when the request's signer is the key that signed (as the
    forwarder's ECDSA recovery finds it); True when the signer is a contract wallet that accepts
    it (ERC-1271, asked on the chain as the forwarder asks it); otherwise refused in words. A
    key's signature costs no round trip; only one that is not the signer's key asks the node
    for the signer's code and, in the same batch, the wallet's answer."""
    if len(sig) != 65:  # not an ECDSA signature: only a contract wallet may take it
        flaw = ("ECDSAInvalidSignatureLength",
                f"The signature is {len(sig):,} bytes: a key's signature is 65, and only a contract wallet's "
                f"may be longer, but {signer} is not a contract (ECDSAInvalidSignatureLength)")
    else:
        flaw = signature_flaw(sig)
    recovered, failure = None, None
    digest = typed_data_digest(typed_data)
    if flaw is None:
        try:
            recovered = recover_signer(digest, sig)
        except Exception as exc:
            failure = exc
        if recovered == signer:
            return False
    # Not the signer's key. A contract wallet judges signatures in its own way (a Safe's owners, a
    # passkey): ask it, from the forwarder's address, with no more gas than the forwarder gives it.
    call = _IS_VALID_SIGNATURE + encode(["bytes32", "bytes"], [digest, sig])
    code, answer = ctx.gateway.rpc.batch(
        [("eth_getCode", [signer, "latest"]),
         ("eth_call", [{"from": community.contracts["forwarder"], "to": signer, "data": "0x" + call.hex(),
                        "gas": hex(_WALLET_CALL_GAS + sum(16 if b else 4 for b in call))}, "latest"])],
        raise_errors=False,
    )
    if isinstance(code, RpcError):
        raise NodeUnavailable(f"The chain node could not say whether {signer} is a contract: {code.message}")
    if code in ("0x", "0x0", ""):
        if flaw:  # eth-account would recover the signer; the forwarder would not
            raise InvalidSignature(flaw[1], error=flaw[0])
        if failure is not None:
            raise InvalidSignature(f"The signature cannot be recovered: {failure}",
                                   error="ERC2771ForwarderInvalidSigner") from failure
        raise InvalidSignature(
            f"The signature is by {recovered}, not by the request's signer {signer} "
            "(ERC2771ForwarderInvalidSigner): sign exactly the typed data .../prepare returned",
            error="ERC2771ForwarderInvalidSigner",
        )
    if isinstance(answer, RpcError):
        out_of_gas = "outofgas" in answer.message.lower().replace(" ", "")
        why = (f"ran out of the {WALLET_SIGNATURE_GAS:,} gas the forwarder gives it" if out_of_gas
               else f"reverted ({answer.message[:200]})")
    elif bytes.fromhex(answer[2:])[:32] == ERC1271_MAGIC_VALUE.ljust(32, b"\0"):
        return True
    else:
        why = f"answered {answer[:74]}{'...' if len(answer) > 74 else ''}, not ERC-1271's magic value 0x1626ba7e"
    raise InvalidSignature(
        f"{signer} is a contract wallet, and it refused this signature: its isValidSignature {why} "
        "(WalletRefusedSignature; the forwarder would revert with ERC2771ForwarderInvalidSigner). Sign "
        "exactly the typed data .../prepare returned, as the wallet signs for its owners",
        error="WalletRefusedSignature",
    )


# ERC-1271's isValidSignature(bytes32,bytes), as the forwarder (OpenZeppelin's SignatureChecker) calls it.
_IS_VALID_SIGNATURE = ERC1271_MAGIC_VALUE
# The gas the service lets a wallet's check use: on chain the forwarder calls itself with
# WALLET_SIGNATURE_GAS and hands the wallet 63/64 of what is left after its own few thousand; here
# the wallet gets no more than that (plus the call's intrinsic 21,000 and its calldata's gas). The
# simulation of the forwarder's execute, after this, runs the wallet exactly as the chain will.
_WALLET_CALL_GAS = 21_000 + WALLET_SIGNATURE_GAS * 63 // 64 - 10_000


def relay(ctx: Context, community: Community, request: CheckedRequest, *, wait: bool, client: str) -> TxOutcome:
    """Accept a checked request into the outbox (the relayer worker sends it), then answer: at
    once with its id (wait=false), or once it is mined and indexed."""
    execute = ctx.gateway.abi("forwarder").function("execute").encode(request.struct)
    sender, to, value, gas, deadline, data, signature = request.struct
    payload = {"from": sender, "to": to, "value": value, "gas": gas, "deadline": deadline,
               "data": "0x" + data.hex(), "signature": "0x" + signature.hex()}
    request_id = ctx.book.accept(community=community.slug, kind="forward", forwarder=community.contracts["forwarder"],
                                 signer=request.signer, nonce=request.nonce, target=to, payload=payload,
                                 signature=request.signature, gas=relay_gas(request.struct, execute, request.wallet),
                                 client=client)
    return follow(ctx, community, request_id, wait=wait)


def send_direct(ctx: Context, community: Community, target: str, data: bytes, *, wait: bool,
                client: str) -> TxOutcome:
    """A call the relayer makes in its own name (executing a passed proposal), through the outbox."""
    ctx.gateway.check_chain()
    address = community.contracts[target]
    # A refused estimate names the contract's custom error, so bad input stops here.
    gas = ctx.gateway.estimate_gas(address, data, ctx.gateway.relayer_address)
    request_id = ctx.book.accept(community=community.slug, kind="direct", forwarder=community.contracts["forwarder"],
                                 signer=None, nonce=None, target=address, payload={"data": "0x" + data.hex()},
                                 signature=None, gas=gas + gas // 4 + 20_000, client=client)
    return follow(ctx, community, request_id, wait=wait)


def follow(ctx: Context, community: Community, request_id: int, *, wait: bool) -> TxOutcome:
    """The answer for an accepted request. Whatever fails from here on carries its id (and its
    transaction's hash once sent), so that a client follows it instead of signing again."""
    if not wait:
        return TxOutcome(None, "pending", request_id=request_id)
    try:
        row = ctx.book.wait_settled(request_id, ctx.settings.receipt_timeout_seconds)
        if row is None:
            raise TimedOut(f"Request {request_id} was accepted but is not mined yet; follow its status",
                           request_id=request_id)
        outcome = outcome_of_row(row)
        if row.state == "reverted":
            reverted = ChainRefused("TransactionReverted", {"tx_hash": row.tx_hash},
                                    f"Request {request_id} was mined in {row.tx_hash} but its call reverted "
                                    f"({row.error}); nothing changed")
            reverted.extra.update(tx_hash=row.tx_hash, request_id=request_id)
            raise reverted
        if row.state == "failed":
            raise Conflict(f"Request {request_id} was not executed: {row.error}; prepare and sign it again",
                           error="RequestNotExecuted", request_id=request_id)
        # A read right after this answer must see the write: indexed says whether it will (false
        # when indexing is failing, its database away say; the write stands all the same).
        outcome.indexed = ctx.indexer.catch_up(outcome.block_number, community=community)
        return outcome
    except ChainRefused:
        raise
    except DomainError as exc:
        exc.extra.setdefault("request_id", request_id)
        raise
    except Exception as exc:  # the index's database, most likely: the request is safe in the outbox or out there
        log.warning("request %s accepted, then answering failed: %r", request_id, exc)
        raise IndexUnavailable(f"Request {request_id} was accepted, but the service could not confirm it "
                               f"({type(exc).__name__}): follow its status before signing again",
                               request_id=request_id) from exc


_STATUS = {"queued": "pending", "sent": "pending", "succeeded": "succeeded", "reverted": "failed", "failed": "failed"}


def outcome_of_row(row) -> TxOutcome:
    return TxOutcome(row.tx_hash, _STATUS[row.state], row.block_number, dict(row.created or {}),
                     request_id=row.id, state=row.state, error=row.error)


def request_status(ctx: Context, community: Community, request_id: int) -> TxOutcome:
    """A relayed request's status from the outbox: pending (queued or sent), succeeded with what
    it created, or failed (its call reverted, or the forwarder did not execute it)."""
    row = ctx.book.get(request_id)
    if row.community != community.slug:
        raise NotFound(f"No relayed request {request_id} in community {community.slug}")
    outcome = outcome_of_row(row)
    if row.block_number is not None:
        try:
            outcome.indexed = ctx.indexer.cursor(community)[0] >= row.block_number
        except Exception as exc:  # the index's database is away
            log.warning("index cursor unavailable: %r", exc)
    return outcome


def status(ctx: Context, community: Community, tx_hash: str) -> TxOutcome:
    """A transaction's status: a relayer transaction from the outbox; any other from the chain
    (pending while the node holds it, failed when it reverted); a hash neither knows is 404."""
    rows = [r for r in ctx.book.by_tx_hash(tx_hash) if r.community == community.slug]
    if rows:
        return request_status(ctx, community, rows[0].id)
    receipt = ctx.gateway.receipt(tx_hash)
    if receipt is None:
        if ctx.gateway.rpc.request("eth_getTransactionByHash", tx_hash) is not None:
            return TxOutcome(tx_hash, "pending")
        raise NotFound(f"No transaction {tx_hash} on this chain")
    outcome = TxOutcome(tx_hash, "succeeded" if int(receipt["status"], 16) == 1 else "failed",
                        int(receipt["blockNumber"], 16),
                        created_by(ctx.deployments, community, receipt["logs"]))
    try:
        outcome.indexed = ctx.indexer.cursor(community)[0] >= (outcome.block_number or 0)
    except Exception as exc:
        log.warning("index cursor unavailable: %r", exc)
    return outcome


def proposal_id(targets: list[str], values: list[int], calldatas: list[bytes], description: str) -> int:
    """The Governor's hashProposal, computed locally."""
    from eth_abi import encode

    encoded = encode(
        ["address[]", "uint256[]", "bytes[]", "bytes32"],
        [targets, values, calldatas, keccak(text=description)],
    )
    return int.from_bytes(keccak(encoded), "big")
