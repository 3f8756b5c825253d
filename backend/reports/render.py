"""Reports and exports as bytes: JSON with sorted keys and fixed separators, CSV with fixed
columns, '\\n' line ends and rows in the order the figures give (each sorted by a unique key).
No generation time anywhere: the same period exports to the same bytes.

Every CSV the service writes goes through csv_bytes, which neutralises text a spreadsheet would
run as a formula (OWASP's rule for CSV injection); JSON keeps the exact text."""

from __future__ import annotations

import json
from typing import Any

from backend.reports.schemas import ReportOut

# The CSV columns of each export, in order (JSON rows carry the same fields; proposals also
# carry their votes, which CSV gives as the separate `votes` export).
COLUMNS = {
    "badges": (
        "token_id",
        "contributor",
        "owner",
        "submitter",
        "nomination",
        "indicator_id",
        "indicator_version",
        "indicator_name",
        "category",
        "orientation",
        "weight",
        "validity_seconds",
        "minted_at",
        "evidence_uri",
        "evidence_hash",
        "attesters",
        "revoked_at",
        "revoke_reason",
        "disowned_at",
        "organisation_id",
        "tx_hash",
    ),
    "attestations": (
        "claim_id",
        "attester",
        "count",
        "contributor",
        "indicator_id",
        "indicator_version",
        "indicator_name",
        "timestamp",
        "tx_hash",
    ),
    "indicator-versions": (
        "indicator_id",
        "version",
        "name",
        "description_uri",
        "category",
        "orientation",
        "weight",
        "endorsements_required",
        "validity_seconds",
        "defined_at",
        "replaced_at",
        "tx_hash",
    ),
    "proposals": (
        "proposal_id",
        "proposer",
        "description",
        "created_at",
        "vote_start",
        "vote_end",
        "for_votes",
        "against_votes",
        "abstain_votes",
        "executed_at",
        "canceled_at",
        "tx_hash",
    ),
    "votes": ("proposal_id", "voter", "support", "weight", "reason", "timestamp", "tx_hash"),
}
SUMMARY_COLUMNS = ("dimension", "key", "label", "badges", "weight", "revoked")


def json_bytes(document: Any) -> bytes:
    return (json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return str(value)


# A spreadsheet runs a cell that begins with one of these as a formula (OWASP, "CSV Injection"):
# tab and carriage return too, which some strip before they look.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# What makes a field need quotes: the delimiter, the quote, and either line end (a bare '\r' left
# unquoted would end the row for most readers).
_NEEDS_QUOTES = frozenset(',"\r\n')


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _field(value: Any) -> str:
    """One CSV field. Numbers are written as numbers: an int's digits (even a negative one's) are
    no formula, and a column that is numeric by type must stay numeric for whoever sums it. Any
    other value is text (a list is written as text), and text that begins like a formula gets
    OWASP's treatment: a single quote before it, and the whole field quoted. Otherwise quotes only
    where needed, as Python's csv.QUOTE_MINIMAL writes them (and around a '\\r', which it leaves
    bare)."""
    text = _cell(value)
    if not isinstance(value, int) and text.startswith(FORMULA_STARTS):
        return _quoted("'" + text)
    return _quoted(text) if _NEEDS_QUOTES.intersection(text) else text


def csv_bytes(columns: tuple[str, ...], rows: list[dict[str, Any]]) -> bytes:
    lines = [",".join(_field(c) for c in columns)]
    lines += [",".join(_field(row.get(c)) for c in columns) for row in rows]
    return "".join(line + "\n" for line in lines).encode()


def summary_rows(summary: ReportOut) -> list[dict[str, Any]]:
    """The report as the CSV's rows: the totals, then each dimension's groups."""
    totals = summary.totals
    rows: list[dict[str, Any]] = [
        {
            "dimension": "total",
            "key": "",
            "label": "all contributions",
            "badges": totals.badges,
            "weight": totals.weight,
            "revoked": totals.revoked,
        }
    ]
    for dimension, entries in summary.by:
        rows += [{"dimension": dimension, **entry.model_dump()} for entry in entries]
    return rows
