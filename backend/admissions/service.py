"""Reads of admission: the rules, the people gathering vouches, and invitations. Answered from the
index alone; returned as the API's models."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select

from backend.admissions.schemas import (
    AdmissionOut,
    AdmissionRulesOut,
    CandidateOut,
    InvitationOut,
    InvitationState,
)
from backend.chain.deployments import Community
from backend.context import Context
from backend.errors import NotFound
from backend.i18n import gettext as _
from backend.indexer.models import Claim, Invitation, Member, Setting, Vouch
from backend.indexer.reads import address_of, index_time

DAY = 86_400
# Membership's rules at deployment (Admissions' constructor), for an index that has not read them.
DEFAULT_RULES = {"vouches_required": 0, "vouch_cap": 3, "vouch_period": 30 * DAY, "invitation_lifetime": 30 * DAY}


def _settings(session, community: Community) -> dict[str, int]:
    rows = session.execute(select(Setting.name, Setting.value).where(Setting.community == community.slug))
    return {name: int(value) for name, value in rows}


def rules(ctx: Context, community: Community) -> AdmissionRulesOut:
    with ctx.sessions() as session:
        return _rules(_settings(session, community))


def _rules(settings: dict[str, int]) -> AdmissionRulesOut:
    values = {name: settings.get(name, default) for name, default in DEFAULT_RULES.items()}
    return AdmissionRulesOut(
        vouches_required=values["vouches_required"],
        vouch_cap=values["vouch_cap"],
        vouch_period_days=values["vouch_period"] / DAY,
        invitation_lifetime_days=values["invitation_lifetime"] / DAY,
    )


def admission(ctx: Context, community: Community) -> AdmissionOut:
    """The rules, and everyone holding vouches of the current epoch who is not a member yet."""
    with ctx.sessions() as session:
        settings = _settings(session, community)
        vouches = session.execute(
            select(Vouch.candidate, Vouch.voucher, Vouch.vouches)
            .outerjoin(Member, (Member.community == Vouch.community) & (Member.address == Vouch.candidate))
            .where(
                Vouch.community == community.slug,
                Vouch.epoch == settings.get("removals", 0),
                (Member.active.is_(None)) | (Member.active.is_(False)),
            )
            .order_by(Vouch.timestamp, Vouch.candidate)
        ).all()
        by_candidate: dict[str, list[str]] = defaultdict(list)
        for candidate, voucher, _ in vouches:
            by_candidate[candidate].append(voucher)
        names = dict(
            session.execute(
                select(Invitation.account, Invitation.name).where(
                    Invitation.community == community.slug, Invitation.account.in_(list(by_candidate))
                )
            ).all()
        )
        candidates = [
            CandidateOut(address=address, name=names.get(address), vouches=len(vouchers), vouchers=vouchers)
            for address, vouchers in by_candidate.items()
        ]
        return AdmissionOut(rules=_rules(settings), candidates=candidates)


def _state(invitation: Invitation, now: int) -> InvitationState:
    if invitation.account is not None:
        return "accepted"
    if invitation.withdrawn_at is not None:
        return "withdrawn"
    return "expired" if now >= invitation.expires_at else "open"


def _invitations_out(session, community: Community, invitations: list[Invitation], now: int) -> list[InvitationOut]:
    """The invitations as answered, their inviters' names and credits read in one query each."""
    inviters = {invitation.inviter for invitation in invitations}
    names = dict(
        session.execute(
            select(Member.address, Member.name).where(Member.community == community.slug, Member.address.in_(inviters))
        ).all()
    )
    credits: dict[str, list[int]] = defaultdict(list)
    for contributor, claim_id in session.execute(
        select(Claim.contributor, Claim.claim_id)
        .where(Claim.community == community.slug, Claim.contributor.in_([i.address for i in invitations]))
        .order_by(Claim.claim_id)
    ):
        credits[contributor].append(claim_id)
    return [
        InvitationOut(
            address=invitation.address,
            name=invitation.name,
            inviter=invitation.inviter,
            inviter_name=names.get(invitation.inviter),
            state=_state(invitation, now),
            created_at=invitation.created_at,
            expires_at=invitation.expires_at,
            account=invitation.account,
            credits=credits[invitation.address],
        )
        for invitation in invitations
    ]


def get_invitation(ctx: Context, community: Community, address: str) -> InvitationOut:
    with ctx.sessions() as session:
        invitation = session.get(Invitation, (community.slug, address_of(address)))
        if invitation is None:
            raise NotFound(
                _(
                    "No invitation has the address %(address)s in community '%(community)s': the link may be "
                    "mistyped, or the invitation not indexed yet",
                    address=address,
                    community=community.slug,
                )
            )
        [answer] = _invitations_out(session, community, [invitation], index_time(session, community))
        return answer


def list_invitations(ctx: Context, community: Community, *, inviter: str | None, limit: int) -> list[InvitationOut]:
    """The newest invitations first, of one inviter when given."""
    with ctx.sessions() as session:
        query = select(Invitation).where(Invitation.community == community.slug)
        if inviter is not None:
            query = query.where(Invitation.inviter == address_of(inviter))
        rows = session.scalars(query.order_by(Invitation.created_at.desc(), Invitation.address).limit(limit)).all()
        now = index_time(session, community)
        return _invitations_out(session, community, list(rows), now)
