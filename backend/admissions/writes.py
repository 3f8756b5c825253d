"""The writes of admission a person signs: vouching, inviting, withdrawing an invitation, and
accepting one.

An invitation is an address whose private key (its secret) travels in the invitation link. The
service makes a fresh one for each invitation and keeps it nowhere; accepting, the invitee's
browser hands the secret back for this one call, and the service signs with it the acceptance by
the invitee's account (Membership's InvitationAcceptance), so the secret itself never goes on
chain and a copied acceptance cannot be redirected to another account. The account's own
signature is still what the relayer relays.
"""

from __future__ import annotations

from typing import Any

from eth_account import Account

from backend.chain.addresses import checksum
from backend.chain.deployments import Community
from backend.chain.typed_data import invitation_acceptance_typed_data
from backend.context import Context
from backend.errors import Unprocessable
from backend.i18n import gettext as _
from backend.relay.checks import prepare


def prepare_vouch(ctx: Context, community: Community, *, signer: str, candidate: str) -> dict[str, Any]:
    data = ctx.gateway.abi("membership").function("vouch").encode(checksum(candidate))
    return prepare(ctx, community, signer=signer, target="membership", data=data)


def prepare_invitation(
    ctx: Context, community: Community, *, signer: str, name: str
) -> tuple[dict[str, Any], str, str]:
    """The typed data of invite, the invitation's address, and its secret (0x hex)."""
    secret = Account.create()
    data = ctx.gateway.abi("membership").function("invite").encode(secret.address, name)
    typed_data = prepare(ctx, community, signer=signer, target="membership", data=data)
    return typed_data, secret.address, "0x" + bytes(secret.key).hex()


def prepare_withdrawal(ctx: Context, community: Community, *, signer: str, invitation: str) -> dict[str, Any]:
    data = ctx.gateway.abi("membership").function("withdrawInvitation").encode(checksum(invitation))
    return prepare(ctx, community, signer=signer, target="membership", data=data)


def invitation_of_secret(secret: str) -> str:
    try:
        return Account.from_key(secret).address
    except ValueError as exc:
        raise Unprocessable(_("This invitation link is damaged: its secret is not one the service made")) from exc


def prepare_acceptance(ctx: Context, community: Community, *, signer: str, secret: str) -> dict[str, Any]:
    """acceptInvitation(invitation, the secret's signature of the acceptance by `signer`)."""
    invitation = invitation_of_secret(secret)
    membership = community.contracts["membership"]
    typed = invitation_acceptance_typed_data(
        chain_id=ctx.gateway.chain_id,
        membership=membership,
        membership_name=ctx.gateway.read(community, "membership", "name")[0],
        invitation=invitation,
        account=signer,
    )
    signature = bytes(Account.sign_typed_data(secret, full_message=typed).signature)
    data = ctx.gateway.abi("membership").function("acceptInvitation").encode(invitation, signature)
    return prepare(ctx, community, signer=signer, target="membership", data=data)
