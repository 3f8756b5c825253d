"""`commons capture import`: backfill, for a community's steward. Past items in a file of the source's
own format (GitHub's list of pull requests, GitLab's list of merge requests, a Discourse topic list, a
JSON array of Standard Webhooks payloads) go through the community's capture rules, as if each had
been delivered; importing the same file again changes nothing.

The file is sent signed with the source's secret, the one the service was given for the community
(CC_CAPTURE_SECRETS), read from `--secret-file` or COMMONS_CAPTURE_SECRET, never from the command line:
HMAC-SHA256 over "<timestamp>.<file>" in X-Capture-Signature, the timestamp in X-Capture-Timestamp."""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from pathlib import Path
from typing import Any

import click
import httpx

# The exit codes of `commons` (backend/cli/main.py): refused, usage, unavailable.
REFUSED, USAGE, UNAVAILABLE = 1, 2, 3


class Exit(click.ClickException):
    """An error with the exit code scripts expect (`commons` exits with it, the message on stderr)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.exit_code = code


def signed_headers(secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
    stamp = str(int(time.time() if now is None else now))
    signature = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {
        "content-type": "application/json",
        "x-capture-timestamp": stamp,
        "x-capture-signature": f"sha256={signature}",
    }


@click.group()
def capture() -> None:
    """Work captured where it happens: backfill from a source's export."""


@capture.command("import")
@click.option(
    "--source", type=click.Choice(["github", "gitlab", "discourse", "standard"]), required=True, help="Where it is from"
)
@click.option("--forum", help="Discourse only: the forum's address (https://...)")
@click.option(
    "--secret-file",
    type=click.Path(exists=True, dir_okay=False),
    help="A file holding the source's secret (or COMMONS_CAPTURE_SECRET)",
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.pass_obj
def import_file(out: Any, source: str, forum: str | None, secret_file: str | None, file: str):
    """Import FILE's past items through the community's capture rules (idempotent)."""
    secret = Path(secret_file).read_text().strip() if secret_file else os.environ.get("COMMONS_CAPTURE_SECRET", "")
    if not secret:
        raise Exit(USAGE, "the source's secret is needed: --secret-file, or COMMONS_CAPTURE_SECRET")
    if source == "discourse" and not forum:
        raise Exit(USAGE, "a Discourse import names the forum it came from: --forum https://...")
    body = Path(file).read_bytes()
    client = out.client
    path = f"{client.prefix}/capture/{source}/import"
    try:
        response = client.http.post(
            path, content=body, headers=signed_headers(secret, body), params={"forum": forum} if forum else None
        )
    except httpx.HTTPError as exc:
        raise Exit(UNAVAILABLE, f"the service at {out.api} is unavailable ({type(exc).__name__}: {exc})") from exc
    if response.status_code >= 400:
        problem = response.json() if response.headers.get("content-type", "").endswith("json") else {}
        code = UNAVAILABLE if response.status_code in (502, 503, 504) else REFUSED
        detail = problem.get("detail") or response.text[:500]
        raise Exit(code, f"{response.status_code} {problem.get('title', '')}: {detail}".strip())
    answer = response.json()
    out.output(
        answer,
        f"{answer['items']} item(s): {answer['imported']} imported, {answer['already']} imported before, "
        f"{answer['drafts']} draft(s) made" + "".join(f"\n  {note}" for note in answer["notes"]),
    )
