"""Credentials as answered: each signed credential with its signed forms, a member's, and the
status lists. The credentials and their proofs themselves (W3C VC 2.0 JSON-LD documents, signed
as they are) stay JSON objects: their bytes are what the signatures cover."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class CredentialOut(BaseModel):
    token_id: int
    media_type: str = Field(description="application/vc+jwt: `jwt` is the credential, signed")
    jwt: str = Field(
        description="The credential secured with VC-JOSE-COSE: a compact JWS, ES256 (P-256), whose payload "
        "is `credential` plus the JWT claims iss, sub, jti, nbf and exp (1EdTech's validator, JOSE libraries)"
    )
    credential: dict[str, Any] = Field(
        description="The OpenBadgeCredential (W3C VC 2.0, Open Badges 3.0.3 context), "
        "with one EndorsementCredential per attestation"
    )
    data_integrity: dict[str, Any] | None = Field(
        None,
        description="The same credential with an embedded Data Integrity proof, cryptosuite "
        "eddsa-rdfc-2022 by the Ed25519 key (the DCC verifier, the Learner Credential Wallet)",
    )
    issuer: str = Field(description="The community as did:web of this service")
    verification_method: str = Field(description="The DID URL of the key that signed the JWT (its header's kid)")
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
    jwt: str = Field(description="The BitstringStatusListCredential, signed ES256 (what the status URL answers)")
    credential: dict[str, Any]
    data_integrity: dict[str, Any] = Field(
        description="The same list with a Data Integrity proof (what the status URL answers to a JSON-LD verifier)"
    )
    holding: int = Field(description="The holding whose credentials the list says (0: the badges' first holders')")
    length: int = Field(description="Bits in the list (at least 131,072)")
    revoked: list[int] = Field(description="Token ids whose bit is set")


class ContextsOut(BaseModel):
    contexts: dict[str, str] = Field(
        description="Each context URL the credentials use -> where this service serves that document"
    )
