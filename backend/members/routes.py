from __future__ import annotations

from fastapi import APIRouter, Request, Response

from backend.api.submit import client_of, relay_signed, tx_response
from backend.dependencies import AddressPath, CommunityDep, ContextDep, IndexRead, PagingDep, WaitQuery
from backend.members import passkeys
from backend.members import service as member_reads
from backend.members import writes as member_writes
from backend.members.schemas import (
    DelegationPrepareIn,
    LinkedAccountPrepareIn,
    MemberOut,
    NamePrepareIn,
    PasskeyAccountIn,
    PasskeyAccountOut,
    PasskeyKeyPrepareIn,
    ProfileOut,
    ScoreHistoryOut,
)
from backend.relay.schemas import SignedRequestIn, TxOut, TypedDataOut
from backend.schemas import Page

# Every read here is answered from the index alone.
router = APIRouter(prefix="/members", tags=["members"], dependencies=[IndexRead])


@router.get("", response_model=Page[MemberOut])
def list_members(ctx: ContextDep, community: CommunityDep, paging: PagingDep, active: bool | None = True):
    """Members (current ones unless active=false or omitted with active=). A public list: members who keep
    their profile hidden are left out (and from `total`); GET /members/{address} and their profile still
    answer, and their badges count everywhere."""
    items, total = member_reads.list_members(ctx, community, active=active, limit=paging.limit, offset=paging.offset)
    return Page(items=items, total=total, limit=paging.limit, offset=paging.offset)


@router.get("/{address}", response_model=MemberOut)
def get_member(ctx: ContextDep, community: CommunityDep, address: AddressPath):
    """One member: since when, delegate, votes held."""
    return member_reads.get_member(ctx, community, address)


@router.get("/{address}/profile", response_model=ProfileOut)
def get_profile(ctx: ContextDep, community: CommunityDep, address: AddressPath, paging: PagingDep):
    """A member's contribution profile: weighted scores from the badges that count now, and one
    page of their badges (oldest first; `limit` and `offset` page through them)."""
    return member_reads.profile(ctx, community, address, limit=paging.limit, offset=paging.offset)


@router.get("/{address}/profile/history", response_model=ScoreHistoryOut)
def get_score_history(ctx: ContextDep, community: CommunityDep, address: AddressPath):
    """A member's weighted score over time: a point at each badge minted, revoked or expired."""
    return member_reads.score_history(ctx, community, address)


# ---------------------------------------------------------------------- delegations

delegations_router = APIRouter(prefix="/delegations", tags=["delegations"])


@delegations_router.post("/prepare", response_model=TypedDataOut)
def prepare_delegation(ctx: ContextDep, community: CommunityDep, body: DelegationPrepareIn):
    """Delegate your vote to another member: the typed data to sign."""
    return TypedDataOut(
        typed_data=member_writes.prepare_delegation(ctx, community, signer=body.signer, delegatee=body.delegatee)
    )


@delegations_router.post("", response_model=TxOut)
def submit_delegation(
    ctx: ContextDep,
    community: CommunityDep,
    body: SignedRequestIn,
    request: Request,
    response: Response,
    wait: WaitQuery = True,
) -> Response:
    """Delegate your vote to another member: relay the signed request."""
    return relay_signed(ctx, community, "delegations", body, request, response, wait)


# ---------------------------------------------------------------------- names and linked accounts
# A member's name and accounts elsewhere: set with their own signature, kept on chain as events.
names_router = APIRouter(tags=["members"])


@names_router.post("/names/prepare", response_model=TypedDataOut)
def prepare_name(ctx: ContextDep, community: CommunityDep, body: NamePrepareIn):
    """Set the name others see instead of your address (1-32 characters; an empty one clears it): the
    typed data to sign. Refused (409) when another member of the community holds it already."""
    return TypedDataOut(typed_data=member_writes.prepare_name(ctx, community, signer=body.signer, name=body.name))


@names_router.post("/linked-accounts/prepare", response_model=TypedDataOut)
def prepare_linked_account(ctx: ContextDep, community: CommunityDep, body: LinkedAccountPrepareIn):
    """Link your account on GitHub, GitLab, drupal.org or the community's Discourse, so work done there
    finds you (an empty handle unlinks it): the typed data to sign. Refused (409) when another member
    linked it already."""
    typed_data = member_writes.prepare_linked_account(
        ctx, community, signer=body.signer, site=body.site, handle=body.handle
    )
    return TypedDataOut(typed_data=typed_data)


@names_router.post("/names", response_model=TxOut)
def submit_name(
    ctx: ContextDep,
    community: CommunityDep,
    body: SignedRequestIn,
    request: Request,
    response: Response,
    wait: WaitQuery = True,
) -> Response:
    """Set your name or a linked account: relay the signed request (either prepare's)."""
    return relay_signed(ctx, community, "names", body, request, response, wait)


# ---------------------------------------------------------------------- passkey accounts
# A person without a wallet: the member address of their passkey, deployed by the relayer.
passkeys_router = APIRouter(prefix="/passkey-accounts", tags=["members"])


@passkeys_router.post("", response_model=PasskeyAccountOut)
def create_passkey_account(
    ctx: ContextDep,
    community: CommunityDep,
    body: PasskeyAccountIn,
    request: Request,
    response: Response,
    wait: WaitQuery = True,
):
    """The member account of a passkey (its P-256 public key from navigator.credentials.create): its
    address, which may be admitted or credited before it exists, and the account deployed by the
    relayer in its own name once it can act (its address is a member, or `invitation_secret` opens an
    open invitation it is about to accept), charged to the caller's client budget; asked again, nothing
    is sent. Every request the member then signs with the passkey is relayed like any other.
    Refused: a key that is not a point of P-256 (422); a community deployed before passkey accounts (404)."""
    account = passkeys.create_account(
        ctx,
        community,
        x=body.x,
        y=body.y,
        wait=wait,
        client=client_of(request),
        invitation_secret=body.invitation_secret,
    )
    tx = tx_response(account.created, request, response) if account.created is not None else None
    return PasskeyAccountOut(address=account.address, deployed=account.deployed, deployed_now=tx is not None, tx=tx)


@passkeys_router.post("/keys/prepare", response_model=TypedDataOut)
def prepare_passkey_key(ctx: ContextDep, community: CommunityDep, body: PasskeyKeyPrepareIn):
    """Add another passkey to your passkey account (a second device, a security key: up to four), or
    remove one (never the last): the typed data to sign with a passkey the account holds. Lost every
    passkey? The community recovers the membership to a new account by a proposal."""
    typed_data = passkeys.prepare_key_change(ctx, community, signer=body.signer, x=body.x, y=body.y, change=body.change)
    return TypedDataOut(typed_data=typed_data)


@passkeys_router.post("/keys", response_model=TxOut)
def submit_passkey_key(
    ctx: ContextDep,
    community: CommunityDep,
    body: SignedRequestIn,
    request: Request,
    response: Response,
    wait: WaitQuery = True,
) -> Response:
    """Add or remove a passkey of your account: relay the signed request."""
    return relay_signed(ctx, community, "passkey-keys", body, request, response, wait)
