"""Reports and exports as bytes: JSON with sorted keys and fixed separators, CSV with fixed
columns, '\\n' line ends and rows in the order the figures give (each sorted by a unique key).
No generation time anywhere: the same period exports to the same bytes."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

# The CSV columns of each export, in order (JSON rows carry the same fields; proposals also
# carry their votes, which CSV gives as the separate `votes` export).
COLUMNS = {
    "badges": ("token_id", "contributor", "owner", "submitter", "nomination", "indicator_id", "indicator_version",
               "indicator_name", "category", "orientation", "weight", "validity_seconds", "minted_at",
               "evidence_uri", "evidence_hash", "attesters", "revoked_at", "revoke_reason", "disowned_at", "organisation_id",
               "tx_hash"),
    "attestations": ("claim_id", "attester", "count", "contributor", "indicator_id", "indicator_version",
                     "indicator_name", "timestamp", "tx_hash"),
    "indicator-versions": ("indicator_id", "version", "name", "description_uri", "category", "orientation", "weight",
                           "endorsements_required", "validity_seconds", "defined_at", "replaced_at", "tx_hash"),
    "proposals": ("proposal_id", "proposer", "description", "created_at", "vote_start", "vote_end", "for_votes",
                  "against_votes", "abstain_votes", "executed_at", "canceled_at", "tx_hash"),
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


def csv_bytes(columns: tuple[str, ...], rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return out.getvalue().encode()


def summary_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    totals = summary["totals"]
    rows = [{"dimension": "total", "key": "", "label": "all contributions", "badges": totals["badges"],
             "weight": totals["weight"], "revoked": totals["revoked"]}]
    for dimension, entries in summary["by"].items():
        rows += [{"dimension": dimension, **entry} for entry in entries]
    return rows
