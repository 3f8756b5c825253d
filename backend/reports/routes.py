"""Period reports and exports, as JSON or CSV: the same period gives the same bytes each time,
and a complete period's for ever (each record as it stood at the period's end). CSV text that a
spreadsheet would run as a formula is neutralised (see backend.reports.render); JSON keeps it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from backend.dependencies import CommunityDep, ContextDep
from backend.reports import figures, render
from backend.reports.period import Period

router = APIRouter(tags=["reports"])

FromQuery = Annotated[date, Query(alias="from", description="First day of the period (YYYY-MM-DD, UTC, included)")]
ToQuery = Annotated[date, Query(alias="to", description="Last day of the period (YYYY-MM-DD, UTC, included)")]
FormatQuery = Annotated[Literal["json", "csv"], Query(description="json (the default) or csv")]
Row = TypeVar("Row")


class GroupOut(BaseModel):
    key: str = Field(description="Member address, indicator id, category or orientation")
    label: str = Field(description="In words: the indicator's name, `community-oriented`, ...")
    badges: int
    weight: int
    revoked: int = Field(description="Of those badges, how many were revoked within the period")


class ByOut(BaseModel):
    member: list[GroupOut]
    indicator: list[GroupOut]
    category: list[GroupOut]
    orientation: list[GroupOut]


class TotalsOut(BaseModel):
    badges: int
    weight: int
    revoked: int
    members: int = Field(description="Members who earned a badge in the period")
    attestations: int
    proposals: int


class ReportOut(BaseModel):
    community: str
    from_: date = Field(alias="from")
    to: date
    complete: bool = Field(
        description="The index had reached the period's end: the figures will not change "
        "(but for members who hide their profile later: see `by.member`)"
    )
    totals: TotalsOut
    by: ByOut


class BadgeRow(BaseModel):
    token_id: int
    contributor: str
    owner: str = Field(description="Its holder at the period's end (a recovery may have moved it since)")
    submitter: str | None
    nomination: bool
    indicator_id: int
    indicator_version: int
    indicator_name: str | None
    category: str
    orientation: str
    weight: int
    validity_seconds: int
    minted_at: int
    evidence_uri: str | None
    evidence_hash: str | None
    attesters: list[str]
    revoked_at: int | None
    revoke_reason: str | None
    disowned_at: int | None = Field(description="When its holder disowned it, if before the period's end")
    organisation_id: int | None = Field(description="The organisation its claim credits, if any")
    tx_hash: str


class AttestationRow(BaseModel):
    claim_id: int
    attester: str
    count: int
    contributor: str
    indicator_id: int
    indicator_version: int
    indicator_name: str | None
    timestamp: int
    tx_hash: str


class IndicatorVersionRow(BaseModel):
    indicator_id: int
    version: int
    name: str
    description_uri: str
    category: str
    orientation: str
    weight: int
    endorsements_required: int
    validity_seconds: int
    defined_at: int
    replaced_at: int | None = Field(description="When the next version replaced it, if by the period's end")
    tx_hash: str


class VoteRow(BaseModel):
    voter: str
    support: str
    weight: int
    reason: str
    timestamp: int
    tx_hash: str


class ProposalVoteRow(VoteRow):
    proposal_id: str


class ProposalRow(BaseModel):
    proposal_id: str
    proposer: str
    description: str
    created_at: int
    vote_start: int
    vote_end: int
    for_votes: int
    against_votes: int
    abstain_votes: int
    executed_at: int | None = Field(description="If by the period's end")
    canceled_at: int | None = Field(description="If by the period's end")
    tx_hash: str
    votes: list[VoteRow] = Field(description="Those cast by the period's end (the tallies count these)")


class ExportOut(BaseModel, Generic[Row]):
    community: str
    from_: date = Field(alias="from")
    to: date
    table: str
    rows: list[Row]


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
    return _answer(render.json_bytes(summary), format, name)


def _export(table: str, read: Callable[..., list[dict[str, Any]]], row_model: type, summary: str) -> None:
    def export(ctx: ContextDep, community: CommunityDep, start: FromQuery, end: ToQuery, format: FormatQuery = "json"):
        period = Period.of(start, end)
        rows = read(ctx, community, period)
        name = f"{community.slug}-{table}-{start.isoformat()}-{end.isoformat()}"
        if format == "csv":
            return _answer(render.csv_bytes(render.COLUMNS[table], rows), format, name)
        return _answer(
            render.json_bytes({"community": community.slug, **period.as_dict(), "table": table, "rows": rows}),
            format,
            name,
        )

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
