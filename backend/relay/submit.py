"""Handing a checked request to the relayer, and following it to its end.

relay: a member's request that passed every check (checks.py) goes into the outbox, from which
the relayer worker sends it; send_direct: a call the relayer makes in its own name. Either is
answered at once with its id, or once mined and indexed (follow). request_status and status say
where a request or a transaction is: from the outbox, or for any other transaction the chain.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from backend.chain.deployments import Community
from backend.chain.logs import decode_logs
from backend.chain.receipts import created_by
from backend.chain.typed_data import execute_calldata
from backend.context import Context
from backend.errors import ChainRefused, Conflict, DomainError, IndexUnavailable, NotFound, TimedOut
from backend.i18n import gettext as _
from backend.relay.book import HeldRequest
from backend.relay.carried import request_key
from backend.relay.checks import CheckedRequest, check
from backend.relay.gas import direct_gas, relay_gas
from backend.relay.outbox import RelayRequest
from backend.relay.simulation import note_key_signed

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


def relay(ctx: Context, community: Community, request: CheckedRequest, *, wait: bool, client: str) -> TxOutcome:
    """Accept a checked request into the outbox (the relayer worker sends it), then answer: at
    once with its id (wait=false), or once it is mined and indexed."""
    sender, to, value, gas, deadline, data, signature = request.struct
    payload = {
        "from": sender,
        "to": to,
        "value": value,
        "gas": gas,
        "deadline": deadline,
        "data": "0x" + data.hex(),
        "signature": "0x" + signature.hex(),
    }
    request_id = ctx.book.accept(
        community=community.slug,
        kind="forward",
        forwarder=community.contracts["forwarder"],
        signer=request.signer,
        nonce=request.nonce,
        target=to,
        payload=payload,
        signature=request.signature,
        # As check() simulated it: ABI-encoding the execute again for its length was 0.07 ms a write.
        gas=request.gas or relay_gas(request.struct, execute_calldata(request.struct), request.wallet),
        client=client,
    )
    if not request.wallet:  # replayed behind the member's next requests as its call alone (simulation.py)
        held = HeldRequest(request.nonce, payload, 0)
        note_key_signed(community.contracts["forwarder"], request.signer, request_key(held))
    return follow(ctx, community, request_id, wait=wait)


def send_direct(ctx: Context, community: Community, target: str, data: bytes, *, wait: bool, client: str) -> TxOutcome:
    """A call the relayer makes in its own name (executing a passed proposal), through the outbox."""
    ctx.gateway.check_chain()
    address = community.contracts[target]
    # A refused estimate names the contract's custom error, so bad input stops here.
    gas = ctx.gateway.estimate_gas(address, data, ctx.gateway.relayer_address)
    request_id = ctx.book.accept(
        community=community.slug,
        kind="direct",
        forwarder=community.contracts["forwarder"],
        signer=None,
        nonce=None,
        target=address,
        payload={"data": "0x" + data.hex()},
        signature=None,
        gas=direct_gas(gas),
        client=client,
    )
    return follow(ctx, community, request_id, wait=wait)


def follow(ctx: Context, community: Community, request_id: int, *, wait: bool) -> TxOutcome:
    """The answer for an accepted request. Whatever fails from here on carries its id (and its
    transaction's hash once sent), so that a client follows it instead of signing again."""
    if not wait:
        return TxOutcome(None, "pending", request_id=request_id)
    try:
        row = ctx.book.wait_settled(request_id, ctx.settings.receipt_timeout_seconds)
        if row is None:
            raise TimedOut(
                _("Request %(request)s was accepted but is not mined yet; follow its status", request=request_id),
                request_id=request_id,
            )
        outcome = outcome_of_row(row)
        if row.state == "reverted":
            reverted = ChainRefused(
                "TransactionReverted",
                {"tx_hash": row.tx_hash},
                _(
                    "Request %(request)s was mined in %(tx)s but its call reverted (%(why)s); nothing changed",
                    request=request_id,
                    tx=row.tx_hash,
                    why=_(row.error) if row.error else "",
                ),
            )
            reverted.extra.update(tx_hash=row.tx_hash, request_id=request_id)
            raise reverted
        if row.state == "failed":
            raise Conflict(
                _(
                    "Request %(request)s was not executed: %(why)s; prepare and sign it again",
                    request=request_id,
                    why=_(row.error) if row.error else "",
                ),
                error="RequestNotExecuted",
                request_id=request_id,
            )
        # A read right after this answer must see the write: indexed says whether it will (false
        # when indexing is failing, its database away say; the write stands all the same).
        outcome.indexed = ctx.indexer.catch_up(outcome.block_number or 0, community=community)
        return outcome
    except ChainRefused:
        raise
    except DomainError as exc:
        exc.extra.setdefault("request_id", request_id)
        raise
    except Exception as exc:  # the index's database, most likely: the request is safe in the outbox or out there
        log.warning("request %s accepted, then answering failed: %r", request_id, exc)
        raise IndexUnavailable(
            _(
                "Request %(request)s was accepted, but the service could not reach its database to confirm it: "
                "follow its status before signing anything again",
                request=request_id,
            ),
            request_id=request_id,
            error=type(exc).__name__,
        ) from exc


_STATUS = {"queued": "pending", "sent": "pending", "succeeded": "succeeded", "reverted": "failed", "failed": "failed"}


def outcome_of_row(row: RelayRequest) -> TxOutcome:
    return TxOutcome(
        row.tx_hash,
        _STATUS[row.state],
        row.block_number,
        dict(row.created or {}),
        request_id=row.id,
        state=row.state,
        error=_(row.error) if row.error else None,  # the outbox's words (outbox.py), said in the request's language
    )


def request_status(ctx: Context, community: Community, request_id: int) -> TxOutcome:
    """A relayed request's status from the outbox: pending (queued or sent), succeeded with what
    it created, or failed (its call reverted, or the forwarder did not execute it)."""
    row = ctx.book.get(request_id)
    if row.community != community.slug:
        raise NotFound(
            _("No relayed request %(request)s in community %(community)s", request=request_id, community=community.slug)
        )
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
        raise NotFound(_("No transaction %(tx)s on this chain", tx=tx_hash))
    outcome = TxOutcome(
        tx_hash,
        "succeeded" if receipt.succeeded else "failed",
        receipt.block_number,
        created_by(decode_logs(ctx.deployments.abis, community, receipt.logs)),
    )
    try:
        outcome.indexed = ctx.indexer.cursor(community)[0] >= (outcome.block_number or 0)
    except Exception as exc:
        log.warning("index cursor unavailable: %r", exc)
    return outcome


# Which contract functions each submit endpoint relays.
ALLOWED = {
    "claims": {
        ("badge", "claim"),
        ("badge", "nominate"),
        ("badge", "claimWithOrganisation"),
        ("badge", "nominateWithOrganisation"),
    },
    "attestations": {("badge", "attest"), ("badge", "attestWith")},
    "votes": {("governor", "castVote"), ("governor", "castVoteWithReason")},
    "delegations": {("membership", "delegate")},
    "proposals": {("governor", "propose")},
    # The guardian's cancellation of a proposal (the governor refuses anyone else once voting opened).
    "cancellations": {("governor", "cancel")},
    "nomination-answers": {("badge", "acceptNomination"), ("badge", "declineNomination")},
    "disownings": {("badge", "disown")},
    "profile-visibility": {("badge", "setProfileHidden")},
    # A passkey member's own account: another passkey added, or one removed.
    "passkey-keys": {("account", "addKey"), ("account", "removeKey")},
    "names": {("membership", "setName"), ("membership", "linkAccount")},
    "vouches": {("membership", "vouch")},
    "invitations": {
        ("membership", "invite"),
        ("membership", "withdrawInvitation"),
        ("membership", "acceptInvitation"),
    },
}


def submit(
    ctx: Context,
    community: Community,
    *,
    kind: str,
    typed_data: dict[str, Any],
    signature: str,
    wait: bool,
    client: str,
) -> TxOutcome:
    request = check(ctx, community, typed_data, signature, ALLOWED[kind])
    if request.accepted_as is not None:
        return follow(ctx, community, request.accepted_as, wait=wait)
    return relay(ctx, community, request, wait=wait, client=client)
