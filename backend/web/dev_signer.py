"""The development signer: on a local development chain only, the page may sign as Alice, Bob,
Carol or Dana (Anvil's public development accounts 1-4) without a wallet, so that a newcomer
can walk the whole story after `make run`.

It signs here, not in the browser: a browser implementation of eth_signTypedData_v4 would mean
vendoring and serving a secp256k1 and keccak library for a convenience that exists only on a
developer's own machine. The page still goes through the same EIP-1193 `request` call as a real
wallet; only the provider behind it differs. It signs nothing but this service's own
ForwardRequest for this chain and forwarder, only for those four public keys, and answers 403 on
any chain that is not local (31337/1337), as the relayer refuses those keys there."""

from __future__ import annotations

from eth_account import Account
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict

from backend.dependencies import ContextDep
from backend.errors import Forbidden, InvalidRequest
from backend.relay.schemas import TypedDataIn
from backend.settings import LOCAL_CHAIN_IDS
from backend.vocabulary import Address
from backend.web.present import dev_accounts

router = APIRouter(prefix="/dev-signer", include_in_schema=False)


class DevSignIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    address: Address
    typed_data: TypedDataIn


class DevSignOut(BaseModel):
    signature: str


def _json_only(request: Request) -> None:
    # A JSON body needs a CORS preflight from another origin; a plain form post from another
    # page never gets this far.
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise InvalidRequest("The development signer takes application/json")


def local_chain(chain_id: int) -> bool:
    return chain_id in LOCAL_CHAIN_IDS


@router.post("/sign", response_model=DevSignOut, dependencies=[Depends(_json_only)])
def sign(ctx: ContextDep, body: DevSignIn):
    """Sign a ForwardRequest with a development key: local chains only."""
    chain_id = ctx.gateway.chain_id
    if not local_chain(chain_id):
        raise Forbidden(
            f"The development signer works only on a local development chain (31337/1337); this service "
            f"serves chain {chain_id}: sign with your own wallet"
        )
    keys = {address: key for _name, address, key in dev_accounts()}
    if body.address not in keys:
        raise Forbidden(f"{body.address} is not one of the development signers (Alice, Bob, Carol, Dana)")
    typed = body.typed_data
    forwarders = {c.contracts["forwarder"] for c in ctx.deployments.communities.values()}
    if (
        typed.primaryType != "ForwardRequest"
        or typed.domain.chainId != chain_id
        or typed.domain.verifyingContract not in forwarders
        or typed.message.from_ != body.address
    ):
        raise Forbidden(
            "The development signer signs only this service's forward requests, on this chain, from the signer named"
        )
    signed = Account.sign_typed_data(keys[body.address], full_message=typed.as_dict())
    return DevSignOut(signature="0x" + signed.signature.hex().removeprefix("0x"))
