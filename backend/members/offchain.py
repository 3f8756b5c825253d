"""A member's off-chain signed request: EIP-712 typed data naming the community, the member and
when it was signed, that never goes on chain (how they hear, a draft dismissed, capture turned
off). Its domain is bound to one chain and to the community's Membership contract, so a signature
made for one community (or one chain) is no use in another; each use has a domain name of its own.

A key's signature is recovered (eth-account's EIP-712 hashing, eth_keys' recovery); any other
signer must be a contract account that accepts the signature when asked on chain, as ERC-1271 has
it (a passkey account, a Safe): `isValidSignature(digest, signature)` through the chain gateway,
with no more gas than the forwarder would give it.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass
from typing import Any

from eth_abi import encode
from eth_account.messages import _hash_eip191_message, encode_typed_data
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.chain.addresses import checksum
from backend.chain.deployments import Community
from backend.chain.rpc import RpcError
from backend.chain.typed_data import ERC1271_MAGIC_VALUE, recover_signer
from backend.context import Context
from backend.errors import Conflict, InvalidRequest, InvalidSignature, NodeUnavailable, TooManyRequests, Unprocessable
from backend.relay.gas import wallet_check_gas

# A request dated this far ahead of the service's clock is still taken (clocks differ a little).
FUTURE_SKEW_SECONDS = 60
HOUR = 3600

DOMAIN_FIELDS = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]


@dataclass(frozen=True)
class SignedRequests:
    """One use's signed requests: its domain name, and its kinds by primary type (kind, types)."""

    domain_name: str
    kinds: dict[str, tuple[str, dict[str, list[dict[str, str]]]]]
    # How the refusals name the requests, in the plural, and where they are prepared.
    what: str
    prepared_at: str

    def domain(self, ctx: Context, community: Community) -> dict[str, Any]:
        return {
            "name": self.domain_name,
            "version": "1",
            "chainId": ctx.gateway.chain_id,
            "verifyingContract": community.contracts["membership"],
        }

    def typed_data(self, ctx: Context, community: Community, primary: str, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "types": copy.deepcopy(self.kinds[primary][1]),
            "primaryType": primary,
            "domain": self.domain(ctx, community),
            "message": message,
        }

    def check_shape(self, ctx: Context, community: Community, typed: dict[str, Any]) -> str:
        """The signed request is one of ours, for this community on this chain: its kind."""
        primary = typed.get("primaryType")
        if primary not in self.kinds or typed.get("types") != self.kinds[primary][1]:
            raise InvalidRequest(
                f"typed_data is not {self.what} as {self.prepared_at} answers it: sign exactly the typed data it "
                "answered"
            )
        given = dict(typed.get("domain") or {})
        if given.get("verifyingContract"):
            given["verifyingContract"] = checksum(given["verifyingContract"])
        expected = self.domain(ctx, community)
        if given != expected:
            raise InvalidRequest(
                f"These {self.what} were signed for another community or chain (domain {given}); this is "
                f"'{community.slug}' on chain {expected['chainId']}, whose Membership is "
                f"{expected['verifyingContract']}"
            )
        if typed["message"].get("community") != community.slug:
            raise InvalidRequest(
                f"These {self.what} name community {typed['message'].get('community')!r}, not '{community.slug}'"
            )
        return self.kinds[primary][0]


def digest_of(typed_data: dict[str, Any]) -> bytes:
    """The EIP-712 digest: what a key signs and what a contract account is asked about."""
    return _hash_eip191_message(encode_typed_data(full_message=typed_data))


def check_signer(ctx: Context, digest: bytes, signature: bytes, member: str, *, why: str) -> None:
    """The member signed `digest`: with their key, or, if the member is a contract account, as it
    says when asked (ERC-1271). Otherwise refused in words; `why` says who alone may sign it."""
    recovered = None
    if len(signature) == 65:
        try:
            recovered = recover_signer(digest, signature)
        except Exception:
            recovered = None
        if recovered == member:
            return
    call = ERC1271_MAGIC_VALUE + encode(["bytes32", "bytes"], [digest, signature])
    code, answer = ctx.gateway.rpc.batch(
        [
            ("eth_getCode", [member, "latest"]),
            ("eth_call", [{"to": member, "data": "0x" + call.hex(), "gas": hex(wallet_check_gas(call))}, "latest"]),
        ],
        raise_errors=False,
    )
    if isinstance(code, RpcError):
        raise NodeUnavailable(f"The chain node could not say whether {member} is a contract account: {code.message}")
    if code in ("0x", "0x0", ""):
        who = f"by {recovered}" if recovered else "by no key that can be recovered"
        raise InvalidSignature(f"This is signed {who}, not by {member}: {why}", error="NotTheMembersSignature")
    if isinstance(answer, str) and bytes.fromhex(answer[2:])[:32] == ERC1271_MAGIC_VALUE.ljust(32, b"\0"):
        return
    raise InvalidSignature(
        f"{member} is a contract account, and it refused this signature (its isValidSignature did not answer "
        "ERC-1271's magic value): sign exactly the typed data .../prepare answered, as the account signs",
        error="WalletRefusedSignature",
    )


# ---------------------------------------------------------------------- once, fresh, within budget
# Each use keeps the requests it accepted in a table of its own (notifications' and capture's
# `SignedRequest`: digest, community, member, kind, issued_at, accepted_at), read and written here.


def check_fresh(ctx: Context, issued_at: int) -> None:
    """Refused (422) when signed too long ago, or dated ahead of the service's clock."""
    now, max_age = int(time.time()), ctx.settings.notify_signature_max_age_seconds
    if issued_at > now + FUTURE_SKEW_SECONDS:
        raise Unprocessable(
            f"The request is dated {issued_at - now} seconds in the future: sign the typed data .../prepare answers"
        )
    if issued_at < now - max_age:
        raise Unprocessable(
            f"The request was signed {now - issued_at} seconds ago, and a request is good for {max_age}: "
            "prepare and sign it again",
            error="StaleRequest",
        )


def check_budget(
    session: Session, table: Any, community: Community, member: str, limit: int, *, doing: str, budget: str
) -> None:
    """Refused (429) past `limit` accepted requests of the member within the hour; `doing` says
    what they did that many times ("changed or read their preferences"), `budget` names the budget."""
    recent = session.scalars(
        select(table.accepted_at)
        .where(table.community == community.slug, table.member == member, table.accepted_at > time.time() - HOUR)
        .order_by(table.accepted_at)
        .limit(limit)
    ).all()
    if len(recent) >= limit:
        retry = max(1, int(recent[0] + HOUR - time.time()) + 1)
        raise TooManyRequests(
            f"{member} already {doing} {limit} times in the last hour in '{community.slug}': try again in "
            f"{math.ceil(retry / 60)} minutes",
            budget=budget,
            retry_after=retry,
        )


def record_once(
    session: Session, table: Any, community: Community, member: str, kind: str, issued_at: int, digest: bytes
) -> None:
    """Keep the request's digest, in the caller's transaction: the same signed request is taken once (409)."""
    session.add(
        table(digest="0x" + digest.hex(), community=community.slug, member=member, kind=kind, issued_at=issued_at)
    )
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(
            "This signed request was accepted already: each is used once. Prepare and sign again",
            error="ReplayedRequest",
        ) from None
