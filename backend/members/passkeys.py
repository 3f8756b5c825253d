"""Passkey accounts: a person without a wallet becomes a member through a passkey (WebAuthn, on the
phone or laptop they already have). Their member address is a small contract account, a clone from
the community's PasskeyAccountFactory, that accepts requests signed with the passkey (ERC-1271,
through the forwarder's existing path: contracts/PasskeyAccount.sol).

The address is known before the account exists (CREATE2 from the public key), so a person can be
admitted or credited at once. Deploying it is a call the relayer makes in its own name, through the
outbox like every write it pays for, and charged to the caller's client budget. It is idempotent:
asked again, the existing account is answered and nothing is sent.

The relayer deploys an account only when it can act: its address is a member, or the caller holds
the secret of an open invitation (the account is about to accept it). Anyone can make P-256 keys
by the thousand; without this rule each would cost the relayer a deployment (187,065 gas). Before
then the address is answered, and the account is deployed at its first write as a member.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backend.admissions.writes import invitation_of_secret
from backend.chain.addresses import checksum
from backend.chain.deployments import OWN_ACCOUNT, Community
from backend.chain.p256 import public_key
from backend.context import Context
from backend.errors import NotFound
from backend.i18n import gettext as _
from backend.relay.checks import prepare
from backend.relay.submit import TxOutcome, send_direct

# One account per passkey and community: the factory's salt is for a person's second account of
# one passkey, which the service does not make.
SALT = bytes(32)


@dataclass(frozen=True)
class PasskeyAccount:
    """A passkey's member account: its address, and the relayed creation when this call sent one."""

    address: str
    created: TxOutcome | None
    deployed: bool


def _factory(community: Community) -> str:
    if "passkeys" not in community.contracts:
        raise NotFound(
            _(
                "Community %(community)s was deployed before passkey accounts existed: it has no account "
                "factory. Members of it sign with a wallet.",
                community=community.slug,
            )
        )
    return community.contracts["passkeys"]


def account_address(ctx: Context, community: Community, qx: bytes, qy: bytes) -> str:
    """The member address of the passkey (qx, qy), deployed or not."""
    _factory(community)
    return checksum(ctx.gateway.read(community, "passkeys", "predict", qx, qy, SALT)[0])


def may_act(ctx: Context, community: Community, address: str, invitation_secret: str | None) -> bool:
    """Whether the account at `address` can do anything yet: it is a member, or it is about to accept
    the open invitation whose secret the caller holds."""
    if ctx.gateway.read(community, "membership", "isMember", address)[0]:
        return True
    if invitation_secret is None:
        return False
    invitation = invitation_of_secret(invitation_secret)
    return bool(ctx.gateway.read(community, "membership", "isOpenInvitation", invitation)[0])


def create_account(
    ctx: Context, community: Community, *, x: str, y: str, wait: bool, client: str, invitation_secret: str | None = None
) -> PasskeyAccount:
    """Deploy the passkey's account unless it exists or cannot act yet; its address either way."""
    qx, qy = public_key(x, y)
    address = account_address(ctx, community, qx, qy)
    if ctx.gateway.rpc.request("eth_getCode", address, "latest") not in ("0x", "0x0", ""):
        return PasskeyAccount(address, None, deployed=True)
    if not may_act(ctx, community, address, invitation_secret):
        return PasskeyAccount(address, None, deployed=False)
    data = ctx.gateway.abi("passkeys").function("create").encode(qx, qy, SALT)
    sent = send_direct(ctx, community, "passkeys", data, wait=wait, client=client)
    return PasskeyAccount(address, sent, deployed=True)


def prepare_key_change(
    ctx: Context, community: Community, *, signer: str, x: str, y: str, change: str
) -> dict[str, Any]:
    """A request to the signer's own account adding another passkey (a second device, a security
    key) or removing one: signed with a passkey the account holds, relayed like any other. The
    account refuses a fifth key, an unknown one, and its last one."""
    _factory(community)
    if OWN_ACCOUNT not in ctx.gateway.deployments.abis:
        raise NotFound(
            _(
                "Community %(community)s's deployments file was written before passkeys could be added: "
                "deploy it again with this version to add one",
                community=community.slug,
            )
        )
    qx, qy = public_key(x, y)
    data = ctx.gateway.abi(OWN_ACCOUNT).function("addKey" if change == "add" else "removeKey").encode(qx, qy)
    return prepare(ctx, community, signer=signer, target=OWN_ACCOUNT, data=data)
