"""Period reports and exports, as JSON or CSV: the same period gives the same bytes each time,
and a complete period's for ever (each record as it stood at the period's end). CSV text that a
spreadsheet would run as a formula is neutralised (see backend.reports.render); JSON keeps it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel

from backend.dependencies import CommunityDep, ContextDep
from backend.reports import figures, render
from backend.reports.period import Period
from backend.reports.schemas import (
    AttestationRow,
    BadgeRow,
    ExportOut,
    IndicatorVersionRow,
    ProposalRow,
    ProposalVoteRow,
    ReportOut,
)

router = APIRouter(tags=["reports"])

FromQuery = Annotated[date, Query(alias="from", description="First day of the period (YYYY-MM-DD, UTC, included)")]
ToQuery = Annotated[date, Query(alias="to", description="Last day of the period (YYYY-MM-DD, UTC, included)")]
FormatQuery = Annotated[Literal["json", "csv"], Query(description="json (the default) or csv")]


# OWASP's rule for CSV injection, as render applies it to every CSV cell of text.
CSV_RULE = (
    "Text cells that begin with =, +, -, @, a tab or a carriage return are written with a single quote "
    "before them, and quoted, so that no spreadsheet runs them as formulas; numbers are left as numbers"
)


def _csv_doc(description: str) -> dict:
    return {
        200: {"description": f"{description}\n\n{CSV_RULE}", "content": {"text/csv": {"schema": {"type": "string"}}}}
    }


def _answer(body: bytes, fmt: str, filename: str) -> Response:
    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/json"
    return Response(body, media_type=media, headers={"Content-Disposition": f'inline; filename="{filename}.{fmt}"'})


@router.get("/reports", response_model=ReportOut, responses=_csv_doc("dimension,key,label,badges,weight,revoked"))
def report(ctx: ContextDep, community: CommunityDep, start: FromQuery, end: ToQuery, format: FormatQuery = "json"):
    """Contributions recognised between two dates (badges minted), by member, indicator, category
    and orientation: badges, weight and revocations. Byte for byte the same for the same period."""
    period = Period.of(start, end)
    summary = figures.summary(ctx, community, period)
    name = f"{community.slug}-report-{start.isoformat()}-{end.isoformat()}"
    if format == "csv":
        return _answer(render.csv_bytes(render.SUMMARY_COLUMNS, render.summary_rows(summary)), format, name)
    return _answer(render.json_bytes(summary.model_dump(mode="json", by_alias=True)), format, name)


def _export(table: str, read: Callable[..., Sequence[BaseModel]], row_model: type[BaseModel], summary: str) -> None:
    def export(ctx: ContextDep, community: CommunityDep, start: FromQuery, end: ToQuery, format: FormatQuery = "json"):
        period = Period.of(start, end)
        rows = read(ctx, community, period)
        name = f"{community.slug}-{table}-{start.isoformat()}-{end.isoformat()}"
        if format == "csv":
            return _answer(render.csv_bytes(render.COLUMNS[table], [row.model_dump() for row in rows]), format, name)
        document = {
            "community": community.slug,
            **period.as_dict(),
            "table": table,
            "rows": [row.model_dump(mode="json") for row in rows],
        }
        return _answer(render.json_bytes(document), format, name)

    export.__doc__ = summary
    export.__name__ = f"export_{table.replace('-', '_')}"
    router.add_api_route(
        f"/exports/{table}",
        export,
        methods=["GET"],
        response_model=ExportOut[row_model],  # type: ignore[valid-type]  # each export's own row model
        responses=_csv_doc(",".join(render.COLUMNS[table])),
        summary=summary.split(":")[0],
    )


_export(
    "badges",
    figures.badges,
    BadgeRow,
    "Badges minted in the period: with their evidence (URI and hash), terms and attesters",
)
_export(
    "attestations",
    figures.attestations,
    AttestationRow,
    "Attestations made in the period: who attested which claim, for whom",
)
_export(
    "indicator-versions",
    figures.indicator_versions,
    IndicatorVersionRow,
    "Indicator versions in force in the period: defined before its end, not replaced before its start",
)
_export(
    "proposals",
    figures.proposals,
    ProposalRow,
    "Proposals made in the period: as they stood at its end, with the votes cast by then (CSV: see the votes export)",
)
_export("votes", figures.votes, ProposalVoteRow, "Votes on the period's proposals: those cast by its end, one row each")
