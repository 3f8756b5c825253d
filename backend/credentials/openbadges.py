"""Open Badges 3.0 documents: an `OpenBadgeCredential` for a badge (with one
`EndorsementCredential` per attestation) and the community's `BitstringStatusListCredential`s.
Plain functions over plain facts (no database, no key): service.py gathers the facts and
issuer.py signs what comes out.

A credential is issued per holding of a badge: to its first holder (holding 0), then to each
holder governance recovers it to (holding n after n recoveries). Each has its own id (and so
`jti`) and its own status entry: bit `token id` of the community's status list for that holding
(statuslist.py), so a recovery revokes exactly the lost key's credential. Holding 0 keeps the
id and status entry of credentials issued before holdings were counted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from backend.credentials import contexts


def iso(timestamp: int) -> str:
    """A chain time (unix seconds) as an XML Schema dateTime in UTC, as VC 2.0 wants."""
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def did_pkh(chain_id: int, address: str) -> str:
    """A member's account as a DID (did:pkh, CAIP-10): the holder or an endorser."""
    return f"did:pkh:eip155:{chain_id}:{address}"


@dataclass(frozen=True)
class IndicatorTerms:
    indicator_id: int
    version: int
    name: str
    description_uri: str
    category: str
    orientation: str  # object | community
    weight: int
    endorsements_required: int
    validity: int  # seconds; 0 = forever


@dataclass(frozen=True)
class Endorsement:
    attester: str
    count: int  # 1 for the first attestation of the claim, ...
    timestamp: int
    tx_hash: str


@dataclass(frozen=True)
class BadgeFacts:
    community_slug: str
    community_name: str
    chain_id: int
    badge_contract: str
    token_id: int
    owner: str
    contributor: str
    submitter: str
    minted_at: int
    tx_hash: str
    terms: IndicatorTerms  # the indicator at the version the badge was earned under
    evidence_uri: str
    evidence_uri_linkable: bool  # a scheme this service accepts (https, ipfs, ...): usable as an IRI
    evidence_hash: str
    endorsements: tuple[Endorsement, ...]
    holding: int  # 0 for the badge's first holder, n after n recoveries
    held_since: int  # when `owner` got it: the mint, or the recovery

    @property
    def valid_until(self) -> int | None:
        return self.minted_at + self.terms.validity if self.terms.validity else None


def community_url(base_url: str, slug: str) -> str:
    return f"{base_url}/communities/{slug}"


def credential_id(base_url: str, slug: str, token_id: int, holding: int = 0) -> str:
    """The credential of one holding of a badge: each holder's is another credential."""
    badge = f"{community_url(base_url, slug)}/badges/{token_id}"
    return f"{badge}/credential" if holding == 0 else f"{badge}/holdings/{holding}/credential"


def status_list_url(base_url: str, slug: str, holding: int = 0) -> str:
    """The status list of the badges' credentials of one holding (bit i: badge i's)."""
    status = f"{community_url(base_url, slug)}/credentials/status"
    return status if holding == 0 else f"{status}/{holding}"


def criteria_words(facts: BadgeFacts) -> str:
    t = facts.terms
    validity = "counts for ever" if not t.validity else f"counts for {t.validity} seconds after it is minted"
    return (
        f"A member of {facts.community_name} made a contribution recognised by the indicator "
        f'"{t.name}" (version {t.version}, as adopted by the community\'s own vote; described at '
        f"{t.description_uri or 'no description link'}): the contribution was claimed with evidence, and "
        f"{t.endorsements_required} other member{'s' if t.endorsements_required != 1 else ''} attested it "
        f"with their own signatures, after which the badge was minted on chain {facts.chain_id}. "
        f'Weight {t.weight}, {t.orientation}-oriented, category "{t.category}"; the badge {validity}.'
    )


def open_badge_credential(facts: BadgeFacts, *, issuer_did: str, base_url: str) -> dict[str, Any]:
    """The badge as an OpenBadgeCredential (VC 2.0 data model, OB 3.0.3 context)."""
    t, slug = facts.terms, facts.community_slug
    cid = credential_id(base_url, slug, facts.token_id, facts.holding)
    status = status_list_url(base_url, slug, facts.holding)
    issuer = {"id": issuer_did, "type": ["Profile"], "name": facts.community_name, "url": f"{base_url}/c/{slug}"}
    criteria: dict[str, Any] = {"narrative": criteria_words(facts)}
    evidence: dict[str, Any] = {
        "type": ["Evidence"],
        "name": "Evidence of the contribution",
        "narrative": f"Given with the claim; its hash is recorded in badge {facts.token_id} on chain.",
        "evidenceUri": facts.evidence_uri,
        "evidenceHash": facts.evidence_hash,
    }
    if facts.evidence_uri_linkable:
        evidence = {"id": facts.evidence_uri, **evidence}
    credential: dict[str, Any] = {
        "@context": contexts.credential_contexts(base_url),
        "id": cid,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": t.name,
        "description": f"A contribution badge of {facts.community_name}, attested by its members.",
        "issuer": issuer,
        # Valid from when this holder got it; awarded when it was minted.
        "validFrom": iso(facts.held_since),
        "awardedDate": iso(facts.minted_at),
        "credentialSubject": {
            "id": did_pkh(facts.chain_id, facts.owner),
            "type": ["AchievementSubject"],
            "achievement": {
                "id": f"{community_url(base_url, slug)}/indicators/{t.indicator_id}#version-{t.version}",
                "type": ["Achievement"],
                "achievementType": "Badge",
                "name": t.name,
                "description": f'"{t.name}", an indicator of value of {facts.community_name} (version '
                f"{t.version}); described at {t.description_uri or '(no link)'}.",
                "criteria": criteria,
                "tag": [t.category, f"{t.orientation}-oriented"],
                "version": str(t.version),
                "indicatorId": t.indicator_id,
                "indicatorVersion": t.version,
                "descriptionUri": t.description_uri,
                "weight": t.weight,
                "orientation": t.orientation,
                "category": t.category,
                "endorsementsRequired": t.endorsements_required,
                "validitySeconds": t.validity,
            },
            "chainId": facts.chain_id,
            "badgeContract": facts.badge_contract,
            "tokenId": facts.token_id,
            "transactionHash": facts.tx_hash,
        },
        "evidence": [evidence],
        "credentialStatus": {
            "id": f"{status}#{facts.token_id}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(facts.token_id),
            "statusListCredential": status,
        },
        "endorsement": [endorsement_credential(facts, e, cid, base_url) for e in facts.endorsements],
    }
    if facts.valid_until is not None:
        credential["validUntil"] = iso(facts.valid_until)
    return credential


def endorsement_credential(facts: BadgeFacts, e: Endorsement, endorsed: str, base_url: str) -> dict[str, Any]:
    """One attestation as an EndorsementCredential. Its issuer is the attester (did:pkh): their own
    signature is the EIP-712 attestation relayed on chain in `transactionHash`; the document itself
    is secured by the enclosing credential's signature."""
    return {
        "@context": contexts.credential_contexts(base_url),
        "id": f"{endorsed}#endorsement-{e.count}",
        "type": ["VerifiableCredential", "EndorsementCredential"],
        "name": f"Attestation {e.count} of {facts.terms.endorsements_required} by {e.attester}",
        "issuer": {"id": did_pkh(facts.chain_id, e.attester), "type": ["Profile"]},
        "validFrom": iso(e.timestamp),
        "credentialSubject": {
            "id": endorsed,
            "type": ["EndorsementSubject"],
            "endorsementComment": f"{e.attester}, a member of {facts.community_name}, attested this contribution "
            f"on chain {facts.chain_id} with their own signature.",
        },
        "evidence": [
            {
                "type": ["Evidence"],
                "name": "On-chain attestation",
                "chainId": facts.chain_id,
                "transactionHash": e.tx_hash,
            }
        ],
    }


def jwt_claims(credential: dict[str, Any]) -> dict[str, Any]:
    """The credential as a VC-JOSE payload: the credential itself, plus the registered JWT claims
    that mirror it (iss, sub, jti, nbf and exp), so that any JOSE library checks the validity
    period natively. The JSON-LD document is the payload without those five."""
    claims = dict(credential)
    issuer = credential["issuer"]
    claims["iss"] = issuer["id"] if isinstance(issuer, dict) else issuer
    claims["jti"] = credential["id"]
    subject = credential.get("credentialSubject", {})
    if isinstance(subject, dict) and "id" in subject:
        claims["sub"] = subject["id"]
    claims["nbf"] = _unix(credential["validFrom"])
    if "validUntil" in credential:
        claims["exp"] = _unix(credential["validUntil"])
    return claims


JWT_REGISTERED = ("iss", "sub", "jti", "nbf", "exp")


def _unix(value: str) -> int:
    return int(datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())


def status_list_credential(
    *, slug: str, issuer_did: str, base_url: str, encoded_list: str, valid_from: int, holding: int = 0
) -> dict[str, Any]:
    url = status_list_url(base_url, slug, holding)
    return {
        "@context": [contexts.VC_V2],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_did,
        "validFrom": iso(valid_from),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encoded_list,
        },
    }
