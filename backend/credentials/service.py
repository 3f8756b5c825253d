"""Credentials from the index: a badge's OpenBadgeCredential (signed twice: an ES256
application/vc+jwt, and the same credential with a Data Integrity proof), a member's credentials,
and each community's revocation status lists (signed the same two ways).

A badge's credential is its current holder's (one per holding, openbadges.py): nothing is
recorded when one is served, since it and its status are functions of the chain's events as
indexed (the mint, each recovery, revocation, disowning). Serving one twice gives the same
credential, and an index rebuilt from the chain gives the same credentials and status bits."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.chain.deployments import Community
from backend.context import Context
from backend.credentials import openbadges, statuslist
from backend.credentials.issuer import MEDIA_TYPE, Issuer
from backend.credentials.schemas import CredentialOut, MemberCredentialsOut, StatusListOut
from backend.errors import NotFound
from backend.i18n import gettext as _
from backend.i18n import ngettext
from backend.indexer import versions
from backend.indexer.models import (
    Attestation,
    Badge,
    Claim,
    Cursor,
    IndicatorVersion,
    Member,
)
from backend.indexer.reads import address_of
from backend.relay import rules as request_rules


def issuer(ctx: Context) -> Issuer:
    """The service's issuer, built once per context (a public development key is refused off
    local chains: `Issuer.from_settings`)."""
    found = ctx.__dict__.get("_issuer")
    if found is None:
        found = ctx.__dict__["_issuer"] = Issuer.from_settings(ctx.settings, ctx.gateway.chain_id)
    return found


def _facts(ctx: Context, session: Session, community: Community, badge: Badge) -> openbadges.BadgeFacts:
    v = session.get(IndicatorVersion, (community.slug, badge.indicator_id, badge.indicator_version))
    claim = session.get(Claim, (community.slug, badge.token_id))  # a badge's token id is its claim's id
    attestations = session.scalars(
        select(Attestation)
        .where(Attestation.community == community.slug, Attestation.claim_id == badge.token_id)
        .order_by(Attestation.count)
    )
    terms = openbadges.IndicatorTerms(
        indicator_id=badge.indicator_id,
        version=badge.indicator_version,
        name=v.name if v else "",
        description_uri=v.description_uri if v else "",
        # The badge keeps what it was minted with; the version row says the rest.
        category=badge.category,
        orientation=badge.orientation,
        weight=badge.weight,
        endorsements_required=v.endorsements_required if v else 0,
        validity=badge.validity,
    )
    evidence_uri = claim.evidence_uri if claim else ""
    return openbadges.BadgeFacts(
        community_slug=community.slug,
        community_name=community.name,
        chain_id=ctx.gateway.chain_id,
        # The version that minted it, also after the records moved on (a credential names its token).
        badge_contract=versions.minted_by(community, badge.block_number),
        token_id=badge.token_id,
        owner=badge.owner,
        contributor=badge.contributor,
        submitter=claim.submitter if claim else badge.contributor,
        minted_at=badge.minted_at,
        tx_hash=badge.tx_hash,
        terms=terms,
        evidence_uri=evidence_uri,
        evidence_uri_linkable=request_rules.uri_scheme_allowed(evidence_uri, ctx.settings.uri_schemes),
        evidence_hash=claim.evidence_hash if claim else "",
        endorsements=tuple(openbadges.Endorsement(a.attester, a.count, a.timestamp, a.tx_hash) for a in attestations),
        holding=badge.holding,
        held_since=badge.held_since,
    )


def _withdrawn(revoked_at: int | None, disowned_at: int | None) -> bool:
    # Revoked by governance, or disowned by its holder: either way no credential of it stands.
    return revoked_at is not None or disowned_at is not None


def _credential_out(
    ctx: Context, session: Session, community: Community, badge: Badge, *, prove: bool = True
) -> CredentialOut:
    """The credential and its two signed forms; `prove=False` leaves out the Data Integrity proof
    (its canonicalization is most of the cost), for a caller that wants only the JWT."""
    iss = issuer(ctx)
    facts = _facts(ctx, session, community, badge)
    credential = openbadges.open_badge_credential(facts, issuer_did=iss.did(community.slug), base_url=iss.base_url)
    out = CredentialOut(
        token_id=badge.token_id,
        media_type=MEDIA_TYPE,
        jwt=iss.sign(openbadges.jwt_claims(credential), community.slug),
        credential=credential,
        issuer=iss.did(community.slug),
        verification_method=iss.p256_key_id(community.slug),
        holding=badge.holding,
        status_list=openbadges.status_list_url(iss.base_url, community.slug, badge.holding),
        status_list_index=badge.token_id,
        # The current holder's credential: revoked only with the badge (a later recovery would make
        # another holding current, and this one revoked in its list).
        revoked=_withdrawn(badge.revoked_at, badge.disowned_at),
        valid_until=facts.valid_until,
    )
    if prove:
        # Dated from the credential's validFrom, not the clock: served again, the same bytes.
        out.data_integrity = iss.prove(credential, community.slug, credential["validFrom"])
    return out


def badge_credential(ctx: Context, community: Community, token_id: int, *, prove: bool = True) -> CredentialOut:
    with ctx.sessions() as session:
        badge = session.get(Badge, (community.slug, token_id))
        if badge is None:
            raise NotFound(
                _("No badge %(token_id)s in community '%(community)s'", token_id=token_id, community=community.slug),
                error="ERC721NonexistentToken",
            )
        return _credential_out(ctx, session, community, badge, prove=prove)


def member_credentials(ctx: Context, community: Community, address: str) -> MemberCredentialsOut:
    """Every badge a member holds (counting or not: a verifier reads validity and status itself)."""
    address = address_of(address)
    with ctx.sessions() as session:
        if session.get(Member, (community.slug, address)) is None:
            raise NotFound(
                _(
                    "%(address)s was never a member of community '%(community)s'",
                    address=address,
                    community=community.slug,
                )
            )
        badges = session.scalars(
            select(Badge).where(Badge.community == community.slug, Badge.owner == address).order_by(Badge.token_id)
        )
        items = [_credential_out(ctx, session, community, b) for b in badges]
    return MemberCredentialsOut(holder=openbadges.did_pkh(ctx.gateway.chain_id, address), items=items)


def status_list(ctx: Context, community: Community, holding: int = 0) -> StatusListOut:
    """The community's revocation status list of one holding (0: the badges' first holders'
    credentials), as of the index's last block: the credential and its application/vc+jwt. A
    holding no badge has reached has no list (404): no credential points to one."""
    iss = issuer(ctx)
    with ctx.sessions() as session:
        badges = session.execute(
            select(Badge.token_id, Badge.holding, Badge.revoked_at, Badge.disowned_at).where(
                Badge.community == community.slug
            )
        ).all()
        cursor = session.get(Cursor, community.slug)
    if holding and not any(b.holding >= holding for b in badges):
        raise NotFound(
            ngettext(
                "No status list for holding %(holding)s in community '%(community)s': no badge of it was "
                "recovered %(num)s time",
                "No status list for holding %(holding)s in community '%(community)s': no badge of it was "
                "recovered %(num)s times",
                holding,
                holding=holding,
                community=community.slug,
            )
        )
    revoked = [
        b.token_id
        for b in badges
        if statuslist.credential_revoked(holding, b.holding, _withdrawn(b.revoked_at, b.disowned_at))
    ]
    valid_from = cursor.block_timestamp if cursor and cursor.block_timestamp else 0
    # Every holding's list as long as the first's: its length tells nothing of how many were recovered.
    length = statuslist.length_for(max((b.token_id for b in badges), default=0))
    credential = openbadges.status_list_credential(
        slug=community.slug,
        issuer_did=iss.did(community.slug),
        base_url=iss.base_url,
        encoded_list=statuslist.encode(revoked, length),
        valid_from=valid_from,
        holding=holding,
    )
    claims = {**credential, "iss": credential["issuer"], "jti": credential["id"]}
    return StatusListOut(
        credential=credential,
        jwt=iss.sign(claims, community.slug),
        data_integrity=iss.prove(credential, community.slug, credential["validFrom"]),
        media_type=MEDIA_TYPE,
        holding=holding,
        length=length,
        revoked=sorted(revoked),
    )
