"""Open Badges 3.0 credentials: each badge as a signed OpenBadgeCredential, a member's
credentials, the revocation status lists, the issuer's DID documents (did:web) and the JSON-LD
contexts the credentials use, served from the package (verifiers here have no internet)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import Response
from pydantic import BaseModel, Field

from backend.credentials import contexts, service
from backend.credentials.issuer import MEDIA_TYPE
from backend.dependencies import AddressPath, CommunityDep, ContextDep, IdPath
from backend.errors import NotFound

router = APIRouter(tags=["credentials"])
service_router = APIRouter(tags=["credentials"])


class VcJwtResponse(Response):
    """A compact JWS whose payload is a credential (VC-JOSE-COSE)."""

    media_type = MEDIA_TYPE


class JsonLdResponse(Response):
    media_type = "application/ld+json"


class DidJsonResponse(Response):
    media_type = "application/did+json"


class CredentialOut(BaseModel):
    token_id: int
    media_type: str = Field(description="application/vc+jwt: `jwt` is the credential, signed")
    jwt: str = Field(
        description="The credential secured with VC-JOSE-COSE: a compact JWS, EdDSA over Ed25519, "
        "whose payload is `credential` plus the JWT claims iss, sub, jti, nbf and exp"
    )
    credential: dict[str, Any] = Field(
        description="The OpenBadgeCredential (W3C VC 2.0, Open Badges 3.0.3 context), "
        "with one EndorsementCredential per attestation"
    )
    issuer: str = Field(description="The community as did:web of this service")
    verification_method: str = Field(description="The DID URL of the key that signed (the JWT header's kid)")
    holding: int = Field(
        description="Whose credential of the badge this is: 0 its first holder's, n that of the "
        "holder governance recovered it to the n-th time; each has its own id and "
        "status entry, and a recovery revokes the lost key's"
    )
    status_list: str = Field(
        description="URL of the revocation status list of this holding (a BitstringStatusListCredential)"
    )
    status_list_index: int = Field(description="The credential's bit in `status_list`: the token id")
    revoked: bool = Field(description="Revoked by governance (or disowned): the status list's bit is set")
    valid_until: int | None = Field(description="Unix seconds from the indicator's validity period; null: for ever")


class MemberCredentialsOut(BaseModel):
    holder: str = Field(description="The member as did:pkh (the credentials' subject)")
    items: list[CredentialOut]


class StatusListOut(BaseModel):
    media_type: str
    jwt: str = Field(description="The BitstringStatusListCredential, signed (what the status URL answers)")
    credential: dict[str, Any]
    holding: int = Field(description="The holding whose credentials the list says (0: the badges' first holders')")
    length: int = Field(description="Bits in the list (at least 131,072)")
    revoked: list[int] = Field(description="Token ids whose bit is set")


HoldingPath = Annotated[int, Path(ge=1, le=2**32 - 1, description="Holders after this many recoveries of a badge")]


class ContextsOut(BaseModel):
    contexts: dict[str, str] = Field(
        description="Each context URL the credentials use -> where this service serves that document"
    )


_VC_JWT: dict[int | str, dict[str, Any]] = {
    200: {"description": "A compact JWS (application/vc+jwt)", "content": {MEDIA_TYPE: {"schema": {"type": "string"}}}}
}


@router.get("/badges/{token_id}/credential", response_model=CredentialOut)
def badge_credential(ctx: ContextDep, community: CommunityDep, token_id: IdPath):
    """The badge as an Open Badges 3.0 OpenBadgeCredential, and the same signed (application/vc+jwt)."""
    return service.badge_credential(ctx, community, token_id)


@router.get("/badges/{token_id}/credential.jwt", response_class=VcJwtResponse, responses=_VC_JWT)
def badge_credential_jwt(ctx: ContextDep, community: CommunityDep, token_id: IdPath):
    """The badge's signed credential alone, as application/vc+jwt: what a wallet or a profile imports."""
    out = service.badge_credential(ctx, community, token_id)
    return VcJwtResponse(
        out["jwt"], headers={"Content-Disposition": f'attachment; filename="{community.slug}-badge-{token_id}.jwt"'}
    )


@router.get("/members/{address}/credentials", response_model=MemberCredentialsOut)
def member_credentials(ctx: ContextDep, community: CommunityDep, address: AddressPath):
    """Every badge the member holds, as signed credentials (a verifier reads validity and status itself)."""
    return service.member_credentials(ctx, community, address)


@router.get("/credentials/status", response_class=VcJwtResponse, responses=_VC_JWT)
def status_list_jwt(ctx: ContextDep, community: CommunityDep):
    """The community's revocation status list: a BitstringStatusListCredential, signed (application/vc+jwt)."""
    return VcJwtResponse(service.status_list(ctx, community)["jwt"])


@router.get("/credentials/status.json", response_model=StatusListOut)
def status_list(ctx: ContextDep, community: CommunityDep):
    """The revocation status list, readable: the credential, its JWT, and the token ids revoked."""
    return service.status_list(ctx, community)


# The readable form first: `{holding}` would otherwise match "1.json" (and refuse it, 422).
@router.get("/credentials/status/{holding}.json", response_model=StatusListOut)
def holding_status_list(ctx: ContextDep, community: CommunityDep, holding: HoldingPath):
    """The revocation status list of the credentials of recovered badges' holders, readable."""
    return service.status_list(ctx, community, holding)


@router.get("/credentials/status/{holding}", response_class=VcJwtResponse, responses=_VC_JWT)
def holding_status_list_jwt(ctx: ContextDep, community: CommunityDep, holding: HoldingPath):
    """The revocation status list of the credentials of the holders badges were recovered to, after
    `holding` recoveries: a BitstringStatusListCredential, signed (application/vc+jwt). Bit i is
    set when badge i was revoked or disowned, or recovered again since."""
    return VcJwtResponse(service.status_list(ctx, community, holding)["jwt"])


@router.get(
    "/did.json",
    response_class=DidJsonResponse,
    responses={
        200: {
            "description": "The community's DID document",
            "content": {"application/did+json": {"schema": {"type": "object"}}},
        }
    },
)
def community_did(ctx: ContextDep, community: CommunityDep):
    """The community's DID document (did:web:<host>:communities:<slug>): the issuer's public key as a JWK."""
    import json

    return DidJsonResponse(json.dumps(service.issuer(ctx).did_document(community.slug), indent=2))


@service_router.get(
    "/.well-known/did.json",
    response_class=DidJsonResponse,
    responses={
        200: {
            "description": "The service's DID document",
            "content": {"application/did+json": {"schema": {"type": "object"}}},
        }
    },
)
def service_did(ctx: ContextDep):
    """The service's DID document (did:web:<host>): the key every community's credentials are signed with."""
    import json

    return DidJsonResponse(json.dumps(service.issuer(ctx).did_document(), indent=2))


@service_router.get("/contexts", response_model=ContextsOut)
def list_contexts(ctx: ContextDep):
    """The JSON-LD contexts the credentials use, and where this service serves each (no internet needed)."""
    base = service.issuer(ctx).base_url
    return {"contexts": {url: f"{base}/contexts/{name}" for url, name in sorted(contexts.by_url(base).items())}}


@service_router.get(
    "/contexts/{name}",
    response_class=JsonLdResponse,
    responses={
        200: {
            "description": "A JSON-LD context document",
            "content": {"application/ld+json": {"schema": {"type": "object"}}},
        }
    },
)
def get_context_document(name: str = Path(pattern=r"^[a-z0-9.-]{1,64}$")):
    """One JSON-LD context document, byte for byte the published one (or this project's own terms)."""
    if name not in contexts.FILES:
        raise NotFound(f"No context '{name}' here; GET /contexts lists them")
    return JsonLdResponse(contexts.text(name))


def check_issuer(ctx) -> None:
    """Build the issuer at start-up, so a refused or malformed CC_ISSUER_KEY stops the service
    with its reason instead of failing the first credential."""
    service.issuer(ctx)
