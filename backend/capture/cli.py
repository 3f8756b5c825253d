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

from backend.cli.language import Group, option
from backend.i18n import N_, ngettext
from backend.i18n import gettext as _

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


@click.group(cls=Group, help=N_("Work captured where it happens: backfill from a source's export."))
def capture() -> None:
    pass


@capture.command("import", help=N_("Import FILE's past items through the community's capture rules (idempotent)."))
@option(
    "--source",
    type=click.Choice(["github", "gitlab", "discourse", "standard"]),
    required=True,
    help=N_("Where it is from"),
)
@option("--forum", help=N_("Discourse only: the forum's address (https://...)"))
@option(
    "--secret-file",
    type=click.Path(exists=True, dir_okay=False),
    help=N_("A file holding the source's secret (or COMMONS_CAPTURE_SECRET)"),
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.pass_obj
def import_file(out: Any, source: str, forum: str | None, secret_file: str | None, file: str):
    secret = Path(secret_file).read_text().strip() if secret_file else os.environ.get("COMMONS_CAPTURE_SECRET", "")
    if not secret:
        raise Exit(USAGE, _("the source's secret is needed: --secret-file, or COMMONS_CAPTURE_SECRET"))
    if source == "discourse" and not forum:
        raise Exit(USAGE, _("a Discourse import names the forum it came from: --forum https://..."))
    body = Path(file).read_bytes()
    client = out.client
    path = f"{client.prefix}/capture/{source}/import"
    try:
        response = client.http.post(
            path, content=body, headers=signed_headers(secret, body), params={"forum": forum} if forum else None
        )
    except httpx.HTTPError as exc:
        raise Exit(
            UNAVAILABLE,
            _(
                "the service at %(api)s is unavailable (%(kind)s: %(why)s)",
                api=out.api,
                kind=type(exc).__name__,
                why=exc,
            ),
        ) from exc
    if response.status_code >= 400:
        problem = response.json() if response.headers.get("content-type", "").endswith("json") else {}
        code = UNAVAILABLE if response.status_code in (502, 503, 504) else REFUSED
        detail = problem.get("detail") or response.text[:500]
        raise Exit(code, f"{response.status_code} {problem.get('title', '')}: {detail}".strip())
    answer = response.json()
    out.output(
        answer,
        ngettext(
            "%(num)s item: %(imported)s imported, %(already)s imported before; drafts made: %(drafts)s",
            "%(num)s items: %(imported)s imported, %(already)s imported before; drafts made: %(drafts)s",
            answer["items"],
            imported=answer["imported"],
            already=answer["already"],
            drafts=answer["drafts"],
        )
        + "".join(f"\n  {note}" for note in answer["notes"]),
    )
