"""Consent: a nominee accepts or declines a nomination, a holder disowns a badge, a member keeps
their profile out of public lists. Each is prepare + submit, relayed like every member action."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from backend.api.submit import relay_signed
from backend.consent import writes as consent_writes
from backend.consent.schemas import DisowningPrepareIn, NominationAnswerPrepareIn, ProfileVisibilityPrepareIn
from backend.dependencies import CommunityDep, ContextDep, WaitQuery
from backend.relay.schemas import SignedRequestIn, TxOut, TypedDataOut

router = APIRouter(tags=["consent"])


@router.post("/nomination-answers/prepare", response_model=TypedDataOut)
def prepare_answer(ctx: ContextDep, community: CommunityDep, body: NominationAnswerPrepareIn):
    """Accept or decline a nomination of yours: the typed data to sign. A nomination counts only once its
    nominee accepts it; attestations may gather before, and accepting one that already has enough mints
    its badge then. A declined nomination stays on record as declined and can no longer be attested or
    accepted. Refused: someone else's nomination (403 `BadgeNotNominee`), a claim of one's own (409
    `BadgeNotNomination`), a nomination already answered (409 `BadgeNominationDeclined`,
    `BadgeNominationAlreadyAccepted`)."""
    return TypedDataOut(
        typed_data=consent_writes.prepare_nomination_answer(
            ctx, community, signer=body.signer, claim_id=body.claim_id, answer=body.answer
        )
    )


@router.post("/nomination-answers", response_model=TxOut)
def submit_answer(
    ctx: ContextDep,
    community: CommunityDep,
    body: SignedRequestIn,
    request: Request,
    response: Response,
    wait: WaitQuery = True,
) -> Response:
    """Relay a signed acceptance or refusal of a nomination; `created.token_id` when accepting minted the badge."""
    return relay_signed(ctx, community, "nomination-answers", body, request, response, wait)


@router.post("/disownings/prepare", response_model=TypedDataOut)
def prepare_disowning(ctx: ContextDep, community: CommunityDep, body: DisowningPrepareIn):
    """Disown a badge you hold: the typed data to sign. It stops counting for good, its history stays and it
    shows as disowned (`disowned_at`); it cannot be taken back. Refused: a badge someone else holds (403
    `BadgeNotHolder`), one already disowned (409 `BadgeAlreadyDisowned`)."""
    return TypedDataOut(
        typed_data=consent_writes.prepare_disowning(ctx, community, signer=body.signer, token_id=body.token_id)
    )


@router.post("/disownings", response_model=TxOut)
def submit_disowning(
    ctx: ContextDep,
    community: CommunityDep,
    body: SignedRequestIn,
    request: Request,
    response: Response,
    wait: WaitQuery = True,
) -> Response:
    """Relay a signed disowning of a badge."""
    return relay_signed(ctx, community, "disownings", body, request, response, wait)


@router.post("/profile-visibility/prepare", response_model=TypedDataOut)
def prepare_visibility(ctx: ContextDep, community: CommunityDep, body: ProfileVisibilityPrepareIn):
    """Keep your profile out of public lists (`hidden: true`), or show it again: the typed data to sign.
    A hidden member is named in no list of members: GET /members, the web app's Members page and nominee
    picker, reports' per-member figures, organisations' contributors, the relayer's per-member figures.
    It is not secrecy: the chain is public, so the records they take part in (claims, badges, attestations,
    votes, proposals, delegations) keep their address, in their reads, listings and exports; their
    profile is still answered by address, and their badges count in every score and total
    (docs/members/hiding.md)."""
    return TypedDataOut(
        typed_data=consent_writes.prepare_profile_visibility(ctx, community, signer=body.signer, hidden=body.hidden)
    )


@router.post("/profile-visibility", response_model=TxOut)
def submit_visibility(
    ctx: ContextDep,
    community: CommunityDep,
    body: SignedRequestIn,
    request: Request,
    response: Response,
    wait: WaitQuery = True,
) -> Response:
    """Relay a signed change of the signer's profile visibility."""
    return relay_signed(ctx, community, "profile-visibility", body, request, response, wait)
