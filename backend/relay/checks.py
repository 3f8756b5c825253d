"""Checking members' requests before the relayer takes them, for the community's forwarder.

prepare: simulate the call as the member (so a request bound to fail is refused before anyone
signs it), then hand back the EIP-712 typed data to sign. check: the signed request against this
community, chain, nonce and deadline, its signature (a key's, or a contract wallet's as ERC-1271
has it), and a simulation again (simulation.py), before submit.py accepts it into the outbox,
from which the relayer worker sends it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi import encode

from backend.chain.addresses import checksum
from backend.chain.deployments import Community
from backend.chain.gateway import clock_of
from backend.chain.rpc import RpcError
from backend.chain.typed_data import (
    ERC1271_MAGIC_VALUE,
    FORWARD_REQUEST_TYPES,
    FORWARDER_NAME,
    FORWARDER_VERSION,
    WALLET_SIGNATURE_GAS,
    execute_calldata,
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
    InvalidRequest,
    InvalidSignature,
    NodeUnavailable,
    Unprocessable,
    utc_time,
)
from backend.i18n import gettext
from backend.relay import rules
from backend.relay.book import next_nonce
from backend.relay.carried import struct_key
from backend.relay.gas import call_gas_bounds, gas_ceiling, gas_to_sign, relay_gas, wallet_check_gas
from backend.relay.outbox import signature_key
from backend.relay.simulation import (
    NewRequest,
    as_forwarded,
    chain_and_outbox,
    gas_needed,
    judged,
    last_call,
    simulated_behind,
)
from backend.units import number, span

# ERC-1271's isValidSignature(bytes32,bytes), as the forwarder (OpenZeppelin's SignatureChecker) calls it.
_IS_VALID_SIGNATURE = ERC1271_MAGIC_VALUE


def _decoded(ctx: Context, target: str, data: bytes) -> tuple[str, dict[str, Any]]:
    function = ctx.gateway.abi(target).functions_by_selector.get(data[:4])
    if function is None:
        raise InvalidRequest(gettext("The request calls an unknown function of %(target)s", target=target))
    try:
        return function.name, function.decode_input(data)
    except Exception as exc:
        raise InvalidRequest(
            gettext("The request's data does not decode as %(function)s: %(why)s", function=function.name, why=exc)
        ) from exc


def prepare(ctx: Context, community: Community, *, signer: str, target: str, data: bytes) -> dict[str, Any]:
    ctx.gateway.check_chain()
    signer = checksum(signer)
    function, args = _decoded(ctx, target, data)
    rules.check_call(ctx, community, target=target, function=function, args=args)
    # The call simulated behind the member's requests the chain has not executed yet.
    forwarded = as_forwarded(ctx, community, target, data, signer)
    head, chain_nonce, held = chain_and_outbox(ctx, community, signer)
    nonce = next_nonce(chain_nonce, held)
    head, (simulated,) = simulated_behind(ctx, community, signer, head, chain_nonce, held, [forwarded])
    estimate = gas_needed(ctx, simulated)
    return forward_request_typed_data(
        chain_id=ctx.gateway.chain_id,
        forwarder=community.contracts["forwarder"],
        sender=signer,
        target=community.target_address(target, signer),
        data=data,
        nonce=nonce,
        deadline=clock_of(head) + ctx.settings.request_ttl_seconds,
        gas=gas_to_sign(ctx.settings, estimate),
    )


@dataclass(frozen=True)
class CheckedRequest:
    """A signed request that passed every check, as submit.py accepts it into the outbox."""

    signer: str
    target: str  # contract key
    function: str
    args: dict[str, Any]
    nonce: int
    struct: tuple
    signature: str
    accepted_as: int | None = None  # the very same signed request was accepted before: its id
    wallet: bool = False  # the signer is a contract wallet that accepted the signature (ERC-1271)
    gas: int = 0  # the relayer's gas for it (relay_gas), as its simulation as relayed used: 0 when not checked


def check(
    ctx: Context, community: Community, typed_data: dict[str, Any], signature: str, allowed: set[tuple[str, str]]
) -> CheckedRequest:
    """Everything about a signed request that can be known without sending it: the same rules
    as prepare, the signature, the nonce and deadline, the gas signed for, and a simulation of
    the forwarder's `execute` exactly as the relayer would send it."""
    ctx.gateway.check_chain()
    domain, message = typed_data["domain"], typed_data["message"]
    if typed_data["primaryType"] != "ForwardRequest" or typed_data["types"] != FORWARD_REQUEST_TYPES:
        raise InvalidRequest(gettext("typed_data is not a ForwardRequest as returned by .../prepare"))
    if (domain["name"], domain["version"]) != (FORWARDER_NAME, FORWARDER_VERSION):
        raise InvalidRequest(
            gettext(
                "typed_data.domain must be %(name)s version %(version)s", name=FORWARDER_NAME, version=FORWARDER_VERSION
            )
        )
    if domain["chainId"] != ctx.gateway.chain_id:
        raise InvalidRequest(
            gettext(
                "The request was signed for chain %(signed)s; this is chain %(chain)s",
                signed=domain["chainId"],
                chain=ctx.gateway.chain_id,
            )
        )
    forwarder = community.contracts["forwarder"]
    if checksum(domain["verifyingContract"]) != forwarder:
        raise InvalidRequest(
            gettext(
                "The request was signed for forwarder %(signed)s, not this community's (%(forwarder)s)",
                signed=domain["verifyingContract"],
                forwarder=forwarder,
            )
        )
    target = community.target_key(message["to"], message["from"])
    if target is None or target == "forwarder":
        raise InvalidRequest(gettext("%(target)s is not one of this community's contracts", target=message["to"]))
    if target == "badge" and checksum(message["to"]) != community.contracts["badge"]:
        # Signed for a version the community moved its records from: refused as that version
        # would refuse it (the forwarder would say only that the call failed).
        raise ChainRefused("BadgeRecordsMoved", {"records": community.contracts["badge"]})
    if message["value"] != 0:
        raise InvalidRequest(gettext("Relayed requests carry no value"))
    data = bytes.fromhex(message["data"][2:])
    function, args = _decoded(ctx, target, data)
    if (target, function) not in allowed:
        wanted = gettext(" or ").join(sorted(f"{k}.{f}" for k, f in allowed))
        raise InvalidRequest(
            gettext(
                "This endpoint relays %(wanted)s; the signed request calls %(called)s",
                wanted=wanted,
                called=f"{target}.{function}",
            )
        )
    rules.check_call(ctx, community, target=target, function=function, args=args)
    signer = checksum(message["from"])

    sig = bytes.fromhex(signature[2:])
    # Verify against our own canonical typed data, never against types the client sent.
    canonical = forward_request_typed_data(
        chain_id=domain["chainId"],
        forwarder=forwarder,
        sender=signer,
        target=message["to"],
        data=data,
        nonce=message["nonce"],
        deadline=message["deadline"],
        gas=message["gas"],
    )
    wallet = _check_signature(ctx, community, canonical, sig, signer)

    # Submitting is idempotent: the very same signed request again (a client that lost the answer,
    # to a broken connection or a database that failed as it committed) is the request accepted
    # before, never a second one. One that failed is never relayed again: a wallet that answers
    # one way when simulated and another on chain would make the relayer pay for it each time.
    key = signature_key(signature)
    same = ctx.book.same_request(community.slug, forwarder, signer, message["nonce"], key)
    if same is not None and same.state == "failed":
        raise Conflict(
            gettext(
                "This signed request was relayed before, as request %(request)s, and was not executed "
                "(%(why)s). A signature is relayed once: prepare and sign the request again",
                request=same.id,
                why=gettext(same.error) if same.error else "",  # the outbox's words (outbox.py), translated
            ),
            error="RequestAlreadyFailed",
            request_id=same.id,
        )
    if same is not None:
        return CheckedRequest(signer, target, function, args, message["nonce"], (), key, same.id)

    # Nonce and clock; then what the contract itself would say and the gas the call needs, and the
    # whole forwarder.execute as the relayer would send it, in one round trip, both behind the
    # member's requests the chain has not executed yet. Refusals are reported in this order:
    # replay, expiry, the contract's custom error, gas, anything else.
    struct = forward_request_struct(canonical, sig)
    execute = execute_calldata(struct)
    forwarded = as_forwarded(ctx, community, target, data, signer)
    gas = relay_gas(struct, execute, wallet)
    as_relayed = {"from": ctx.gateway.relayer_address, "to": forwarder, "data": "0x" + execute.hex(), "gas": hex(gas)}
    nonce = message["nonce"]
    accepted = CheckedRequest(signer, target, function, args, nonce, struct, key, wallet=wallet, gas=gas)
    # A key's request may have the state it leaves carried to the member's next check (carried.py).
    new = (
        None
        if wallet
        else NewRequest(struct_key(nonce, struct), message["to"], message["data"], message["gas"], struct, gas)
    )
    if new is not None and _executes_within_its_gas(ctx, community, signer, message, as_relayed, forwarded, new):
        return accepted
    # The one simulation above sent the request's trace, if any (a refusal, or gas near a rule):
    # not a second one here.
    head, (simulated, relayed) = judged(ctx, community, signer, nonce, [forwarded, as_relayed])
    _check_deadline(ctx, message, head)
    needed = gas_needed(ctx, simulated)
    if message["gas"] < needed:
        raise Unprocessable(
            gettext(
                "The request signs for %(signed)s gas, but the call needs %(needed)s: it would run out of gas on "
                "chain. Prepare and sign it again",
                signed=number(message["gas"]),
                needed=number(needed),
            ),
            error="RelayGasTooLow",
        )
    ceiling = gas_ceiling(ctx.settings, needed)
    if message["gas"] > ceiling:
        raise Unprocessable(
            gettext(
                "The request signs for %(signed)s gas; the call needs %(needed)s, and the relayer pays for at most "
                "%(ceiling)s. Prepare and sign it again",
                signed=number(message["gas"]),
                needed=number(needed),
                ceiling=number(ceiling),
            ),
            error="RelayGasTooHigh",
        )
    _, refusal = last_call(ctx, relayed)
    if refusal is not None:
        raise Unprocessable(
            gettext("The forwarder would refuse this request: %(why)s. Prepare and sign it again", why=refusal.detail),
            error=refusal.error,
        )
    return accepted


def _executes_within_its_gas(
    ctx: Context,
    community: Community,
    signer: str,
    message: dict[str, Any],
    as_relayed: dict[str, str],
    forwarded: dict[str, str],
    new: NewRequest,
) -> bool:
    """Whether one simulation instead of two accepts a key-signed request: the forwarder's execute
    as the relayer sends it. If it succeeds, the signature, the nonce and the contract's rules
    hold and the call ran within the gas signed. The gas rules are judged on bounds of what the
    call needs (call_gas_bounds): signed for at least the most, and at most the ceiling of the
    least, the request passes them whatever the exact figure. Its deadline is judged on the head it
    ran on, as always. Anything else (a refusal, or a gas near either rule) answers False, and the
    two simulations then judge it exactly and name the refusal in its usual order: prepare signs
    for well within both, so members' requests take one simulation."""
    head, (relayed,) = judged(ctx, community, signer, message["nonce"], [as_relayed], new)
    _check_deadline(ctx, message, head)
    used, refusal = last_call(ctx, relayed)
    if refusal is not None:
        return False
    least, most = call_gas_bounds(used, bytes.fromhex(as_relayed["data"][2:]), bytes.fromhex(forwarded["data"][2:]))
    return most <= message["gas"] <= gas_ceiling(ctx.settings, least)


def _check_deadline(ctx: Context, message: dict[str, Any], head: dict[str, Any]) -> None:
    """Refused when the request expired, or expires too soon to be mined in time, on `head`'s clock."""
    now = clock_of(head)
    if message["deadline"] < now:
        raise Unprocessable(
            gettext(
                "The request expired on %(deadline)s (the chain's clock reads %(now)s), before it could be sent: "
                "nothing was recorded. Sign it again",
                deadline=utc_time(message["deadline"]),
                now=utc_time(now),
            ),
            error="ERC2771ForwarderExpiredRequest",
        )
    headroom = ctx.settings.relay_min_deadline_headroom_seconds
    if message["deadline"] < now + headroom:
        raise Unprocessable(
            gettext(
                "The request expires in %(left)s, too soon to be sure it is mined in time (the relayer needs at "
                "least %(headroom)s, and pays for requests that expire on the way): prepare and sign it again",
                left=span(message["deadline"] - now),
                headroom=span(headroom),
            ),
            error="RequestDeadlineTooClose",
        )


def _check_signature(ctx: Context, community: Community, typed_data: dict[str, Any], sig: bytes, signer: str) -> bool:
    """Whose signature it is: False when the request's signer is the key that signed (as the
    forwarder's ECDSA recovery finds it); True when the signer is a contract wallet that accepts
    it (ERC-1271, asked on the chain as the forwarder asks it); otherwise refused in words. A
    key's signature costs no round trip; only one that is not the signer's key asks the node
    for the signer's code and, in the same batch, the wallet's answer."""
    flaw: tuple[str, str] | None
    if len(sig) != 65:  # not an ECDSA signature: only a contract wallet may take it
        flaw = (
            "ECDSAInvalidSignatureLength",
            gettext(
                "The signature is %(length)s bytes: a key's signature is 65, and only a contract wallet's may be "
                "longer, but %(signer)s is not a contract",
                length=number(len(sig)),
                signer=signer,
            ),
        )
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
        [
            ("eth_getCode", [signer, "latest"]),
            (
                "eth_call",
                [
                    {
                        "from": community.contracts["forwarder"],
                        "to": signer,
                        "data": "0x" + call.hex(),
                        "gas": hex(wallet_check_gas(call)),
                    },
                    "latest",
                ],
            ),
        ],
        raise_errors=False,
    )
    if isinstance(code, RpcError):
        raise NodeUnavailable(
            gettext(
                "The chain node could not say whether %(signer)s is a contract: %(why)s",
                signer=signer,
                why=code.message,
            )
        )
    if code in ("0x", "0x0", ""):
        if flaw:  # eth-account would recover the signer; the forwarder would not
            raise InvalidSignature(flaw[1], error=flaw[0])
        if failure is not None:
            raise InvalidSignature(
                gettext("The signature cannot be recovered: %(why)s", why=failure),
                error="ERC2771ForwarderInvalidSigner",
            ) from failure
        raise InvalidSignature(
            gettext(
                "The signature is by %(recovered)s, not by the request's signer %(signer)s: sign exactly the typed "
                "data .../prepare returned",
                recovered=recovered,
                signer=signer,
            ),
            error="ERC2771ForwarderInvalidSigner",
        )
    if isinstance(answer, RpcError):
        out_of_gas = "outofgas" in answer.message.lower().replace(" ", "")
        why = (
            gettext("ran out of the %(gas)s gas the forwarder gives it", gas=number(WALLET_SIGNATURE_GAS))
            if out_of_gas
            else gettext("reverted (%(why)s)", why=answer.message[:200])
        )
    elif bytes.fromhex(answer[2:])[:32] == ERC1271_MAGIC_VALUE.ljust(32, b"\0"):
        return True
    else:
        why = gettext(
            "answered %(answer)s, not ERC-1271's magic value 0x1626ba7e",
            answer=f"{answer[:74]}{'...' if len(answer) > 74 else ''}",
        )
    raise InvalidSignature(
        gettext(
            "%(signer)s is a contract wallet, and it refused this signature: its isValidSignature %(why)s (the "
            "forwarder would refuse it too). Sign exactly the typed data .../prepare returned, as the wallet signs "
            "for its owners",
            signer=signer,
            why=why,
        ),
        error="WalletRefusedSignature",
    )
