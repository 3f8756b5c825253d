"""The period report page: the same figures as GET .../reports, a chart, and the exports to
download. A plain GET form (no script needed)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from backend.dependencies import CommunityDep, ContextDep
from backend.errors import Unprocessable
from backend.i18n import _
from backend.indexer import reads as index_reads
from backend.reports import figures
from backend.reports.period import Period
from backend.web import present
from backend.web.dev_signer import local_chain
from backend.web.pages import HtmlErrors, _render
from backend.web.people import People

router = APIRouter(route_class=HtmlErrors, include_in_schema=False, default_response_class=HTMLResponse)
EXPORTS = ("badges", "attestations", "indicator-versions", "proposals", "votes")


@router.get("/c/{community}/report")
def report(
    ctx: ContextDep,
    community: CommunityDep,
    request: Request,
    start: date | None = Query(None, alias="from"),
    end: date | None = Query(None, alias="to"),
):
    if start is None or end is None:
        with ctx.sessions() as session:
            today = datetime.fromtimestamp(index_reads.index_time(session, community), tz=UTC).date()
        start, end = start or today.replace(day=1), end or today
    try:
        period = Period.of(start, end)
    except Unprocessable as exc:
        return _render(
            request,
            ctx,
            community,
            "report.html",
            error=exc.detail,
            start=start,
            end=end,
            summary=None,
            charts=[],
            exports=EXPORTS,
        )
    summary = figures.summary(ctx, community, period)
    by = summary.by
    people = People(ctx, community, local=local_chain(ctx.gateway.chain_id))
    charts = [
        present.bar_chart([(g.label, g.weight) for g in by.category], title=_("Weight by category")),
        present.bar_chart(
            [(present.orientation(g.key), g.weight) for g in by.orientation], title=_("Weight by orientation")
        ),
        present.bar_chart([(people.label(g.key), g.weight) for g in by.member], title=_("Weight by member")),
    ]
    return _render(
        request,
        ctx,
        community,
        "report.html",
        error=None,
        start=start,
        end=end,
        summary=summary,
        charts=charts,
        exports=EXPORTS,
        people=people,
    )
