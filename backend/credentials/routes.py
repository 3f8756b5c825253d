"""Open Badges 3.0 credentials: each badge as a signed OpenBadgeCredential, a member's
credentials, the revocation status lists, the issuer's DID documents (did:web) and the JSON-LD
contexts the credentials use, served from the package (verifiers here have no internet).

A credential and a status list each come in two signed forms, chosen by `?format=` or else by
the Accept header: `jwt` (application/vc+jwt, ES256) and `di` (the JSON-LD document with its
Data Integrity proof: application/vc, or application/vc+ld+json or application/ld+json when
that is what was asked for). A credential's URL answers its readable JSON (both forms inside)
unless asked otherwise; a status list's answers the JWT unless asked for JSON, as the DCC
verifier's loader asks (Accept: application/ld+json, application/json)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path, Query
from fastapi.responses import Response

from backend.credentials import contexts, service
from backend.credentials.issuer import DI_MEDIA_TYPE, MEDIA_TYPE
from backend.credentials.schemas import ContextsOut, CredentialOut, MemberCredentialsOut, StatusListOut
from backend.dependencies import AddressPath, CommunityDep, ContextDep, IdPath
from backend.errors import NotFound
from backend.i18n import gettext as _

router = APIRouter(tags=["credentials"])
service_router = APIRouter(tags=["credentials"])


class VcJwtResponse(Response):
    """A compact JWS whose payload is a credential (VC-JOSE-COSE)."""

    media_type = MEDIA_TYPE


class JsonLdResponse(Response):
    media_type = "application/ld+json"


class VcResponse(Response):
    """A credential with an embedded proof (VC Data Model 2.0: application/vc)."""

    media_type = DI_MEDIA_TYPE


# What a verifier of Data Integrity proofs may ask for: VC 2.0's type, its draft's, plain JSON-LD.
DI_TYPES = (DI_MEDIA_TYPE, "application/vc+ld+json", "application/ld+json")
Format = Literal["jwt", "di"]
FormatQuery = Annotated[
    Format | None,
    Query(
        description="jwt: the credential as application/vc+jwt (ES256); di: the credential with its Data "
        "Integrity proof (eddsa-rdfc-2022), application/vc. Unset: as the Accept header asks."
    ),
]
AcceptHeader = Annotated[str | None, Header(include_in_schema=False)]


def preferred(accept: str | None, offered: Sequence[str]) -> str | None:
    """The offered media type that the Accept header ranks highest (by q; a tie goes to the one
    offered first), or None when it names none of them: wildcards choose nothing, so a browser or
    a client that accepts anything gets the resource's usual answer."""
    ranks: dict[str, float] = {}
    for entry in (accept or "").split(","):
        media_type, *parameters = (part.strip() for part in entry.split(";"))
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        media_type = media_type.lower()
        if media_type in offered and quality > 0:
            ranks[media_type] = max(ranks.get(media_type, 0.0), quality)
    if not ranks:
        return None
    return max(offered, key=lambda media_type: (ranks.get(media_type, 0.0), -offered.index(media_type)))


def _negotiated(format: Format | None, accept: str | None, offered: Sequence[str], usual: str) -> str:
    """The media type to answer: `?format=` first, then the Accept header, then `usual`."""
    if format == "jwt":
        return MEDIA_TYPE
    if format == "di":
        return DI_MEDIA_TYPE
    return preferred(accept, offered) or usual


def _signed(chosen: str, out: CredentialOut | StatusListOut, **headers: str) -> Response:
    """The JWT or the proven document of `out`, as `chosen` asked; Vary: Accept, since the same
    URL answers either."""
    headers = {"Vary": "Accept", **headers}
    if chosen == MEDIA_TYPE:
        return VcJwtResponse(out.jwt, headers=headers)
    return VcResponse(json.dumps(out.data_integrity, indent=2), media_type=chosen, headers=headers)


class DidJsonResponse(Response):
    media_type = "application/did+json"


HoldingPath = Annotated[int, Path(ge=1, le=2**32 - 1, description="Holders after this many recoveries of a badge")]


_VC_JWT: dict[int | str, dict[str, Any]] = {
    200: {"description": "A compact JWS (application/vc+jwt)", "content": {MEDIA_TYPE: {"schema": {"type": "string"}}}}
}
_SIGNED_FORMS: dict[str, dict[str, Any]] = {
    MEDIA_TYPE: {"schema": {"type": "string"}},
    **{media_type: {"schema": {"type": "object"}} for media_type in DI_TYPES},
}


@router.get(
    "/badges/{token_id}/credential",
    response_model=CredentialOut,
    responses={200: {"description": "The credential, readable or in one signed form", "content": _SIGNED_FORMS}},
)
def badge_credential(
    ctx: ContextDep,
    community: CommunityDep,
    token_id: IdPath,
    response: Response,
    format: FormatQuery = None,
    accept: AcceptHeader = None,
):
    """The badge as an Open Badges 3.0 OpenBadgeCredential with both its signed forms (JSON); or, with
    `?format=` or an Accept of application/vc+jwt, application/vc, application/vc+ld+json or
    application/ld+json, the one signed form alone (the URL of the credential's `id`)."""
    chosen = _negotiated(format, accept, (*DI_TYPES, MEDIA_TYPE, "application/json"), "application/json")
    out = service.badge_credential(ctx, community, token_id, prove=chosen != MEDIA_TYPE)
    if chosen == "application/json":
        response.headers["Vary"] = "Accept"
        return out
    return _signed(chosen, out)


@router.get("/badges/{token_id}/credential.jwt", response_class=VcJwtResponse, responses=_VC_JWT)
def badge_credential_jwt(ctx: ContextDep, community: CommunityDep, token_id: IdPath):
    """The badge's signed credential alone, as application/vc+jwt (ES256): what a wallet or a profile imports."""
    out = service.badge_credential(ctx, community, token_id, prove=False)
    return VcJwtResponse(
        out.jwt, headers={"Content-Disposition": f'attachment; filename="{community.slug}-badge-{token_id}.jwt"'}
    )


@router.get("/members/{address}/credentials", response_model=MemberCredentialsOut)
def member_credentials(ctx: ContextDep, community: CommunityDep, address: AddressPath):
    """Every badge the member holds, as signed credentials (a verifier reads validity and status itself)."""
    return service.member_credentials(ctx, community, address)


_STATUS_OFFERED = (*DI_TYPES, "application/json", MEDIA_TYPE)


@router.get(
    "/credentials/status",
    response_class=VcJwtResponse,
    responses={200: {"description": "The status list, signed", "content": _SIGNED_FORMS}},
)
def status_list_jwt(ctx: ContextDep, community: CommunityDep, format: FormatQuery = None, accept: AcceptHeader = None):
    """The community's revocation status list: a BitstringStatusListCredential, signed: application/vc+jwt
    (ES256) unless `?format=di` or an Accept of JSON or JSON-LD asks for it with its Data Integrity proof."""
    chosen = _negotiated(format, accept, _STATUS_OFFERED, MEDIA_TYPE)
    return _signed(DI_MEDIA_TYPE if chosen == "application/json" else chosen, service.status_list(ctx, community))


@router.get("/credentials/status.json", response_model=StatusListOut)
def status_list(ctx: ContextDep, community: CommunityDep):
    """The revocation status list, readable: the credential, its JWT, and the token ids revoked."""
    return service.status_list(ctx, community)


# The readable form first: `{holding}` would otherwise match "1.json" (and refuse it, 422).
@router.get("/credentials/status/{holding}.json", response_model=StatusListOut)
def holding_status_list(ctx: ContextDep, community: CommunityDep, holding: HoldingPath):
    """The revocation status list of the credentials of recovered badges' holders, readable."""
    return service.status_list(ctx, community, holding)


@router.get(
    "/credentials/status/{holding}",
    response_class=VcJwtResponse,
    responses={200: {"description": "The status list, signed", "content": _SIGNED_FORMS}},
)
def holding_status_list_jwt(
    ctx: ContextDep,
    community: CommunityDep,
    holding: HoldingPath,
    format: FormatQuery = None,
    accept: AcceptHeader = None,
):
    """The revocation status list of the credentials of the holders badges were recovered to, after
    `holding` recoveries: a BitstringStatusListCredential, signed as the list of first holders is
    (application/vc+jwt, or with its Data Integrity proof). Bit i is set when badge i was revoked or
    disowned, or recovered again since."""
    chosen = _negotiated(format, accept, _STATUS_OFFERED, MEDIA_TYPE)
    return _signed(
        DI_MEDIA_TYPE if chosen == "application/json" else chosen, service.status_list(ctx, community, holding)
    )


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
    """The community's DID document (did:web:<host>:communities:<slug>): the issuer's two public keys,
    the Ed25519 one as a Multikey (#key-1, Data Integrity proofs) and the P-256 one as a JWK (#key-2, JWTs)."""
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
    """The service's DID document (did:web:<host>): the keys every community's credentials are signed with."""
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
        raise NotFound(_("No context '%(name)s' here; GET /contexts lists them", name=name))
    return JsonLdResponse(contexts.text(name))


def check_issuer(ctx) -> None:
    """Build the issuer at start-up, so a refused or malformed CC_ISSUER_KEY stops the service
    with its reason instead of failing the first credential."""
    service.issuer(ctx)
