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
import time
from dataclasses import dataclass, field
from typing import Any

from eth_abi import encode
from eth_account.messages import _hash_eip191_message, encode_typed_data
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend import units
from backend.chain.addresses import checksum
from backend.chain.deployments import Community
from backend.chain.rpc import RpcError
from backend.chain.typed_data import ERC1271_MAGIC_VALUE, recover_signer
from backend.context import Context
from backend.errors import Conflict, InvalidRequest, InvalidSignature, NodeUnavailable, TooManyRequests, Unprocessable
from backend.i18n import gettext
from backend.relay.gas import wallet_check_gas
from backend.units import span

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
    # How the refusals name the requests, in the plural (a catalog message, N_), and where they are prepared.
    what: str
    prepared_at: str
    # Earlier shapes of a kind's types still taken, by primary type: a signer made before a field
    # was added (an optional one) keeps working.
    earlier: dict[str, tuple[dict[str, list[dict[str, str]]], ...]] = field(default_factory=dict)

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
        if primary not in self.kinds or (
            typed.get("types") != self.kinds[primary][1] and typed.get("types") not in self.earlier.get(primary, ())
        ):
            raise InvalidRequest(
                gettext(
                    "typed_data is not %(what)s as %(prepared)s answers it: sign exactly the typed data it answered",
                    what=gettext(self.what),
                    prepared=self.prepared_at,
                )
            )
        given = dict(typed.get("domain") or {})
        if given.get("verifyingContract"):
            given["verifyingContract"] = checksum(given["verifyingContract"])
        expected = self.domain(ctx, community)
        if given != expected:
            raise InvalidRequest(
                gettext(
                    "These %(what)s were signed for another community or chain (domain %(domain)s); this is "
                    "'%(community)s' on chain %(chain)s, whose Membership is %(membership)s",
                    what=gettext(self.what),
                    domain=given,
                    community=community.slug,
                    chain=expected["chainId"],
                    membership=expected["verifyingContract"],
                )
            )
        if typed["message"].get("community") != community.slug:
            raise InvalidRequest(
                gettext(
                    "These %(what)s name community %(named)s, not '%(community)s'",
                    what=gettext(self.what),
                    named=repr(typed["message"].get("community")),
                    community=community.slug,
                )
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
        raise NodeUnavailable(
            gettext(
                "The chain node could not say whether %(member)s is a contract account: %(why)s",
                member=member,
                why=code.message,
            )
        )
    if code in ("0x", "0x0", ""):
        said = (
            gettext(
                "This is signed by %(signer)s, not by %(member)s: %(why)s", signer=recovered, member=member, why=why
            )
            if recovered
            else gettext(
                "This is signed by no key that can be recovered, not by %(member)s: %(why)s", member=member, why=why
            )
        )
        raise InvalidSignature(said, error="NotTheMembersSignature")
    if isinstance(answer, str) and bytes.fromhex(answer[2:])[:32] == ERC1271_MAGIC_VALUE.ljust(32, b"\0"):
        return
    raise InvalidSignature(
        gettext(
            "%(member)s is a contract account, and it refused this signature (its isValidSignature did not answer "
            "ERC-1271's magic value): sign exactly the typed data .../prepare answered, as the account signs",
            member=member,
        ),
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
            gettext(
                "The request is dated %(ahead)s in the future: sign the typed data .../prepare answers",
                ahead=span(issued_at - now),
            )
        )
    if issued_at < now - max_age:
        raise Unprocessable(
            gettext(
                "The request was signed %(age)s ago, and a request is good for %(max_age)s: prepare and sign it again",
                age=span(now - issued_at),
                max_age=span(max_age),
            ),
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
            gettext(
                "%(member)s already %(doing)s %(count)s times in the last hour in '%(community)s': try again in "
                "%(wait)s",
                member=member,
                doing=gettext(doing),
                count=limit,
                community=community.slug,
                wait=units.wait(retry),
            ),
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
            gettext("This signed request was accepted already: each is used once. Prepare and sign again"),
            error="ReplayedRequest",
        ) from None
