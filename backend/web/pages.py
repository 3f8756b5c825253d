"""The web app's pages: plain `def` routes over the same read functions the JSON API serves
(each domain's service.py), rendered with Jinja2 (autoescape on). Writes never happen here:
the page's script asks the member's wallet to sign what the API's `.../prepare` returns and
submits it to the API, so the pages need no session, cookie or CSRF token."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from backend.admissions import service as admission_reads
from backend.badges import service as badge_reads
from backend.chain.addresses import checksummed
from backend.chain.deployments import Community
from backend.claims import service as claim_reads
from backend.claims.schemas import ClaimOut
from backend.context import Context
from backend.dependencies import (
    AddressPath,
    CommunityDep,
    ContextDep,
    IdPath,
    IndicatorIdPath,
    ProposalIdPath,
)
from backend.errors import DomainError
from backend.i18n import gettext  # not _: the pages unpack reads into _
from backend.i18n import jinja as i18n_jinja
from backend.i18n.validation import validation_message
from backend.indexer.projections import latest_checkpoint
from backend.indicators import service as indicator_reads
from backend.indicators.schemas import IndicatorOut, IndicatorVersionOut
from backend.members import service as member_reads
from backend.organisations import service as organisation_reads
from backend.organisations.schemas import OrganisationOut
from backend.proposals import service as proposal_reads
from backend.proposals.schemas import ProposalOut
from backend.versions import known as known_versions
from backend.vocabulary import ADDRESS_PATTERN
from backend.web import languages, present
from backend.web.dev_signer import local_chain
from backend.web.people import People

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=HERE / "templates")  # autoescape on for .html
env = templates.env
i18n_jinja.install(env)  # _(), ngettext() and {% trans %} in the request's language (backend/i18n)
env.filters.update(
    short=present.short,
    shorten=present.shorten,
    when=present.when,
    day=present.day,
    span=present.span,
    duration=present.duration,
    validity=present.validity,
    evidence=present.evidence,
    dev_name=present.dev_name,
    in_days=present.in_days,
    orientation=present.orientation,
)
env.globals.update(
    action_words=present.action_words,
    admission_rules=present.admission_rules,
    linked_account=present.linked_account,
    relative=present.relative,
    fair_play=present.indicator_rules,
    score_rule=present.score_rule,
    community_rules=present.community_rules,
    quorum_rule=present.quorum_rule,
    html_lang=languages.html_lang,
    language_links=languages.language_links,
    script_catalog=languages.script_catalog,
)
OPEN_STATES = ("pending", "active", "succeeded", "queued")


class HtmlErrors(APIRoute):
    """A refusal on a page (unknown community, badge, member; a malformed id) is a page saying
    so, with the same words and status the API would answer with."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except DomainError as exc:
                return _error(request, exc.status, gettext(exc.title), exc.detail)  # titles are catalog messages
            except RequestValidationError as exc:
                detail = "; ".join(validation_message(e) for e in exc.errors())
                return _error(request, 404, gettext("Not found"), gettext("No such page: %(detail)s", detail=detail))

        return route


router = APIRouter(route_class=HtmlErrors, include_in_schema=False, default_response_class=HTMLResponse)


def _error(request: Request, status: int, title: str, detail: str) -> HTMLResponse:
    context = request.app.state.context
    return templates.TemplateResponse(
        request,
        "error.html",
        {**_frame(context, None), "title": title, "detail": detail, "status": status},
        status_code=status,
    )


def _frame(ctx: Context, community: Community | None) -> dict[str, Any]:
    """What every page's frame shows: the community, the switcher, the chain and the signers."""
    chain_id = ctx.gateway.chain_id
    local = local_chain(chain_id)
    return {
        "community": community,
        "communities": sorted(ctx.deployments.communities.values(), key=lambda c: c.name),
        "chain_id": chain_id,
        "local_chain": local,
        "rpc_url": ctx.settings.rpc_url if local else "",
        "dev_signers": [(name, address) for name, address, _ in present.dev_accounts()] if local else [],
        "api": f"/communities/{community.slug}" if community else "",
        # Everyone the page names, by name (one query, the first time the page names someone).
        "people": People(ctx, community, local=local) if community else None,
    }


def _render(request: Request, ctx: Context, community: Community | None, template: str, **values: Any):
    return templates.TemplateResponse(request, template, {**_frame(ctx, community), **values})


def _now(ctx: Context, community: Community) -> int:
    with ctx.sessions() as session:
        return proposal_reads._clock(ctx, session, community)


def _indicator_names(ctx: Context, community: Community) -> dict[int, str]:
    items, _ = indicator_reads.list_indicators(ctx, community, active=None, limit=500, offset=0)
    return {i.id: i.name for i in items}


def _ruled(indicators: list[IndicatorOut], names: dict[int, str]) -> list[tuple[IndicatorOut, list[str]]]:
    """The indicators with fair-play rules of their own, each with its rules in words."""
    return [(i, words) for i in indicators if (words := present.indicator_rules(i, names))]


def _quorums(ctx: Context, community: Community, proposals: list[ProposalOut]) -> dict[str, str]:
    """Each proposal's quorum as the members' votes it takes ("2 of 3 members"), from the members and
    the quorum in force at its snapshot, as the governor counts it."""
    with ctx.sessions() as session:
        out = {}
        for p in proposals:
            members = latest_checkpoint(session, community.slug, "members", p.vote_start)
            numerator = latest_checkpoint(session, community.slug, "quorum_numerator", p.vote_start)
            out[p.id] = present.quorum_rule(members, numerator)
        return out


def _organisations(ctx: Context, community: Community, active: bool | None = None) -> list[OrganisationOut]:
    items, _ = organisation_reads.list_organisations(ctx, community, active=active, limit=500, offset=0)
    return items


def _organisation_names(ctx: Context, community: Community) -> dict[int, str]:
    return {o.id: o.name for o in _organisations(ctx, community)}


# ---------------------------------------------------------------------- pages


@router.get("/favicon.ico")
def favicon():
    """Browsers that ask before reading the page's icon link get the same icon."""
    return RedirectResponse("/static/favicon.svg", status_code=301)


@router.get("/")
def index(ctx: ContextDep, request: Request):
    communities = ctx.deployments.communities
    if len(communities) == 1:
        return RedirectResponse(f"/c/{next(iter(communities))}", status_code=307)
    return _render(request, ctx, None, "communities.html")


@router.get("/c/{community}")
def home(ctx: ContextDep, community: CommunityDep, request: Request):
    _, members = member_reads.list_members(ctx, community, active=True, limit=1, offset=0, include_hidden=True)
    indicators, _ = indicator_reads.list_indicators(ctx, community, active=True, limit=500, offset=0)
    proposals, _ = proposal_reads.list_proposals(ctx, community, limit=50, offset=0)
    badges, _, _ = badge_reads.list_badges(ctx, community, owner=None, limit=8, offset=0)
    settings = proposal_reads.governance_settings(ctx, community)
    return _render(
        request,
        ctx,
        community,
        "home.html",
        members=members,
        indicators=indicators,
        proposals=[p for p in proposals if p.state in OPEN_STATES],
        badges=badges,
        settings=settings,
        guardian=proposal_reads.guardian(ctx, community),
        quorum=present.quorum_rule(members, settings.get("quorum_numerator", 0)),
        now=_now(ctx, community),
        rules=indicator_reads.community_rules(ctx, community),
        ruled=_ruled(indicators, _indicator_names(ctx, community)),
    )


@router.get("/c/{community}/indicators")
def indicators(ctx: ContextDep, community: CommunityDep, request: Request):
    items, _ = indicator_reads.list_indicators(ctx, community, active=None, limit=500, offset=0)
    return _render(request, ctx, community, "indicators.html", indicators=items, names={i.id: i.name for i in items})


@router.get("/c/{community}/indicators/{indicator_id}")
def indicator(ctx: ContextDep, community: CommunityDep, indicator_id: IndicatorIdPath, request: Request):
    return _render(
        request,
        ctx,
        community,
        "indicator.html",
        indicator=indicator_reads.get_indicator(ctx, community, indicator_id),
        names=_indicator_names(ctx, community),
    )


@router.get("/c/{community}/proposals")
def proposals(ctx: ContextDep, community: CommunityDep, request: Request):
    items, _ = proposal_reads.list_proposals(ctx, community, limit=200, offset=0)
    return _render(
        request,
        ctx,
        community,
        "proposals.html",
        proposals=items,
        quorums=_quorums(ctx, community, items),
        now=_now(ctx, community),
        names=_indicator_names(ctx, community),
        org_names=_organisation_names(ctx, community),
    )


@router.get("/c/{community}/proposals/{proposal_id}")
def proposal(ctx: ContextDep, community: CommunityDep, proposal_id: ProposalIdPath, request: Request):
    found = proposal_reads.get_proposal(ctx, community, int(proposal_id))
    executor = getattr(request.app.state, "executor", None)  # what the service tried, when this process leads
    return _render(
        request,
        ctx,
        community,
        "proposal.html",
        proposal=found,
        quorum=_quorums(ctx, community, [found])[found.id],
        autoexec=ctx.settings.autoexec,
        attempt=executor.attempt(community.slug, found.id) if executor else None,
        guardian=proposal_reads.guardian(ctx, community),
        now=_now(ctx, community),
        names=_indicator_names(ctx, community),
        org_names=_organisation_names(ctx, community),
        # Whether a version the records would move to runs code this service knows (the node is
        # asked only for such proposals).
        code_checks=[
            known_versions.check(ctx.gateway, community, a["args"]["from"], a["args"]["to"])
            for a in found.actions
            if a.get("function") == "moveRecords"
            and isinstance(a.get("args"), dict)
            and {"from", "to"} <= a["args"].keys()
        ],
    )


@router.get("/c/{community}/propose")
def propose(ctx: ContextDep, community: CommunityDep, request: Request):
    items, _ = indicator_reads.list_indicators(ctx, community, active=True, limit=500, offset=0)
    _, members = member_reads.list_members(ctx, community, active=True, limit=1, offset=0, include_hidden=True)
    # The guardian, a member to remove and a member whose key is lost are picked by name among the
    # public list, as the claim form's nominee: a hidden member is not offered, and is given by
    # address (each picker's "another address").
    listed, _ = member_reads.list_members(ctx, community, active=True, limit=500, offset=0)
    settings = proposal_reads.governance_settings(ctx, community)
    return _render(
        request,
        ctx,
        community,
        "propose.html",
        indicators=items,
        names_in_use=[[i.id, i.name] for i in items],
        members=members,
        listed_members=listed,
        guardian=proposal_reads.guardian(ctx, community),
        quorum=present.quorum_rule(members, settings.get("quorum_numerator", 0)),
        settings=settings,
        rules=indicator_reads.community_rules(ctx, community),
        organisations=_organisations(ctx, community, active=True),
        records_in_use=community.contracts["badge"],
    )


@router.get("/c/{community}/claim")
def claim_form(
    ctx: ContextDep, community: CommunityDep, request: Request, indicator: int | None = Query(None, ge=1, le=2**32 - 1)
):
    items, _ = indicator_reads.list_indicators(ctx, community, active=True, limit=500, offset=0)
    # The members offered are the public list: a hidden member is not offered, and is nominated by
    # their address, typed in the form's second field (hiding is about being listed: anyone may be
    # nominated, and they answer the nomination themselves).
    members, _ = member_reads.list_members(ctx, community, active=True, limit=500, offset=0)
    return _render(
        request,
        ctx,
        community,
        "claim.html",
        indicators=items,
        members=members,
        selected=indicator,
        organisations=_organisations(ctx, community, active=True),
    )


# Minted claims shown on the claims page, the latest first.
MINTED_SHOWN = 100


@router.get("/c/{community}/claims")
def claims(ctx: ContextDep, community: CommunityDep, request: Request):
    open_, _, _ = claim_reads.list_claims(
        ctx, community, state="open", indicator_id=None, contributor=None, limit=500, offset=0
    )
    # The latest minted, newest first: the listing is oldest first, so its last page (its first
    # page showed a community past 100 badges its oldest 100), asked for when there is more than one.
    minted, minted_total, _ = claim_reads.list_claims(
        ctx, community, state="minted", indicator_id=None, contributor=None, limit=MINTED_SHOWN, offset=0
    )
    if minted_total > MINTED_SHOWN:
        minted, _, _ = claim_reads.list_claims(
            ctx,
            community,
            state="minted",
            indicator_id=None,
            contributor=None,
            limit=MINTED_SHOWN,
            offset=minted_total - MINTED_SHOWN,
        )
    return _render(
        request,
        ctx,
        community,
        "claims.html",
        open_claims=open_,
        minted=minted[::-1],
        minted_total=minted_total,
        org_names=_organisation_names(ctx, community),
    )


@router.get("/c/{community}/claims/{claim_id}")
def claim(ctx: ContextDep, community: CommunityDep, claim_id: IdPath, request: Request):
    found = claim_reads.get_claim(ctx, community, claim_id)
    # Who may endorse it and how often: the indicator's current terms, as the contract checks them.
    current = indicator_reads.get_indicator(ctx, community, found.indicator_id)
    rules = present.indicator_rules(current, _indicator_names(ctx, community))
    return _render(
        request,
        ctx,
        community,
        "claim_detail.html",
        claim=found,
        rules=rules,
        endorser_rule=bool(current.endorser_indicator_id),
        org_names=_organisation_names(ctx, community),
    )


@router.get("/c/{community}/awaiting")
def awaiting(
    ctx: ContextDep,
    community: CommunityDep,
    request: Request,
    member: str | None = Query(None, pattern=ADDRESS_PATTERN),
):
    """Waiting for you: nominations of this member to accept or decline, and open claims they may attest."""
    items: list[ClaimOut] = []
    answers: list[ClaimOut] = []
    if member:
        member = checksummed(member)
        answers, _ = claim_reads.awaiting_answer(ctx, community, nominee=member, limit=500, offset=0)
        items, _ = claim_reads.awaiting_attestation(ctx, community, attester=member, limit=500, offset=0)
    return _render(
        request,
        ctx,
        community,
        "awaiting.html",
        member=member,
        claims=items,
        answers=answers,
        org_names=_organisation_names(ctx, community),
    )


@router.get("/c/{community}/hearing")
def hearing(ctx: ContextDep, community: CommunityDep, request: Request):
    """How you hear: email, a chat webhook, digests, feeds (backend/notifications), chosen by signing."""
    return _render(request, ctx, community, "hearing.html", email_offered=bool(ctx.settings.notify_smtp_host))


@router.get("/c/{community}/members")
def members(ctx: ContextDep, community: CommunityDep, request: Request):
    items, _ = member_reads.list_members(ctx, community, active=None, limit=500, offset=0)
    admission = admission_reads.admission(ctx, community)
    return _render(request, ctx, community, "members.html", members=items, admission=admission)


@router.get("/c/{community}/members/{address}")
def profile(ctx: ContextDep, community: CommunityDep, address: AddressPath, request: Request):
    member = member_reads.get_member(ctx, community, address)
    scores = member_reads.profile(ctx, community, address)
    history = member_reads.score_history(ctx, community, address)
    badges, _, _ = badge_reads.list_badges(ctx, community, owner=address, limit=500, offset=0)
    counting = [b for b in badges if b.counts]
    revoked = [b for b in badges if b.revoked_at is not None]
    disowned = [b for b in badges if b.disowned_at is not None and b.revoked_at is None]
    expired = [b for b in badges if not b.counts and b.revoked_at is None and b.disowned_at is None]
    by_category = present.bar_chart(
        [(c.category or gettext("(no category)"), c.score) for c in scores.by_category],
        title=gettext("Score by category"),
    )
    by_orientation = present.bar_chart(
        [
            (present.orientation("object"), scores.by_orientation["object"].score),
            (present.orientation("community"), scores.by_orientation["community"].score),
        ],
        title=gettext("Score by orientation"),
    )
    over_time = present.step_chart(history.points, now=history.as_of, title=gettext("Score over time"))
    invitations = admission_reads.list_invitations(ctx, community, inviter=address, limit=50)
    return _render(
        request,
        ctx,
        community,
        "profile.html",
        member=member,
        scores=scores,
        counting=counting,
        revoked=revoked,
        disowned=disowned,
        expired=expired,
        by_category=by_category,
        by_orientation=by_orientation,
        over_time=over_time,
        history=history,
        invitations=invitations,
    )


@router.get("/c/{community}/organisations")
def organisations(ctx: ContextDep, community: CommunityDep, request: Request):
    return _render(request, ctx, community, "organisations.html", organisations=_organisations(ctx, community))


@router.get("/c/{community}/organisations/{organisation_id}")
def organisation(ctx: ContextDep, community: CommunityDep, organisation_id: IndicatorIdPath, request: Request):
    found = organisation_reads.organisation_profile(ctx, community, organisation_id)
    by_category = present.bar_chart(
        [(c.category or gettext("(no category)"), c.score) for c in found.by_category],
        title=gettext("Score credited to %(name)s, by category", name=found.name),
    )
    return _render(request, ctx, community, "organisation.html", organisation=found, by_category=by_category)


@router.get("/c/{community}/badges/{token_id}")
def badge(ctx: ContextDep, community: CommunityDep, token_id: IdPath, request: Request):
    found = badge_reads.get_badge(ctx, community, token_id)
    claim = claim_reads.get_claim(ctx, community, token_id)  # a badge's token id is its claim's id
    try:
        metadata, metadata_error = badge_reads.badge_metadata(ctx, community, token_id), None
    except DomainError as exc:
        metadata, metadata_error = None, exc.detail
    return _render(
        request,
        ctx,
        community,
        "badge.html",
        badge=found,
        claim=claim,
        metadata=metadata,
        metadata_error=metadata_error,
        org_names=_organisation_names(ctx, community),
    )


@router.get("/c/{community}/badges/{token_id}/certificate")
def certificate(ctx: ContextDep, community: CommunityDep, token_id: IdPath, request: Request):
    """The badge as a certificate a person can print (or save as PDF from the print dialog) and
    share: the community, the contribution in words, the holder's name, the date, the endorsers,
    and a link and a QR code to the badge's page, where anyone checks it; "Add to LinkedIn"."""
    found = badge_reads.get_badge(ctx, community, token_id)
    claim = claim_reads.get_claim(ctx, community, token_id)
    indicator = indicator_reads.get_indicator(ctx, community, found.indicator_id)
    terms: IndicatorVersionOut = next(
        (v for v in indicator.versions or [] if v.version == found.indicator_version), indicator
    )
    url = f"{ctx.settings.public_base_url}/c/{community.slug}/badges/{token_id}"
    shared = found.revoked_at is None and found.disowned_at is None
    linkedin = (
        present.linkedin_url(
            name=found.indicator_name or "",
            organisation=community.name,
            issued_at=found.minted_at,
            valid_seconds=found.validity_seconds,
            url=url,
            credential_id=f"{community.slug}-{token_id}",
        )
        if shared
        else None
    )
    return _render(
        request,
        ctx,
        community,
        "certificate.html",
        badge=found,
        claim=claim,
        terms=terms,
        url=url,
        qr=present.qr_svg(url, title=gettext("A QR code of this badge's page, %(url)s", url=url)),
        linkedin=linkedin,
        org_names=_organisation_names(ctx, community),
    )
