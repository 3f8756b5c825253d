"""`commons`: every member action and the reads, over the HTTP API, signing locally.

Keys: an encrypted keystore file (`--keystore`, the Web3 Secret Storage format that geth, ape
and eth-account write) or an ape account by alias (`--account`, read from ~/.ape/accounts). The
password comes from a prompt, from `--password-file`, or from COMMONS_PASSWORD for scripts;
never a key on the command line.

Exit codes (for scripts):
  0  done
  1  refused by the service (its problem detail is printed), or a transaction that reverted
  2  usage: a missing or malformed option or argument
  3  the service, or the chain behind it, is unavailable (connection refused, 503, 504)
  4  the key could not be unlocked (no keystore, not a keystore, wrong password)
  5  a write was sent but not mined and indexed within --timeout (its hash is printed)
"""

from __future__ import annotations

import getpass
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

import click
import httpx
from eth_account import Account

from backend.capture import cli as capture_commands
from backend.cli.keystore import KeystoreError, read_keystore, unlock
from backend.client import ApiError, CommunityClient
from backend.vocabulary import Site, Support

OK, REFUSED, USAGE, UNAVAILABLE, LOCKED, TIMED_OUT = 0, 1, 2, 3, 4, 5
_JSON_ERRORS = [False]  # --json: errors as JSON on stderr too


class Exit(click.ClickException):
    """An error with its own exit code, printed on stderr (as JSON with --json)."""

    def __init__(self, code: int, message: str, problem: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.exit_code = code
        self.problem = problem

    def show(self, file=None) -> None:
        if _JSON_ERRORS[0]:
            click.echo(
                json.dumps(
                    {
                        "error": self.message,
                        "exit_code": self.exit_code,
                        **({"problem": self.problem} if self.problem else {}),
                    }
                ),
                err=True,
            )
        else:
            click.echo(f"commons: {self.message}", err=True)


@dataclass
class Cli:
    api: str
    community: str | None
    json: bool
    keystore: str | None
    account: str | None
    password_file: str | None
    timeout: float
    _client: CommunityClient | None = None

    @property
    def client(self) -> CommunityClient:
        if self._client is None:
            self._client = CommunityClient(self.api, self.community, timeout=30.0)
        return self._client

    def progress(self, message: str) -> None:
        """Progress goes to stderr, so stdout stays the answer alone."""
        click.echo(f"… {message}", err=True)

    def call(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        try:
            if method == "GET":
                return self.client.get(path, **params)
            return self.client.post(path, body, **params)
        except ApiError as exc:
            detail = exc.problem.get("detail") or exc.problem.get("title") or str(exc)
            code = UNAVAILABLE if exc.status in (502, 503, 504) else REFUSED
            raise Exit(code, f"{exc.status} {exc.problem.get('title', '')}: {detail}".strip(), exc.problem) from exc
        except httpx.HTTPError as exc:
            raise Exit(UNAVAILABLE, f"the service at {self.api} is unavailable ({type(exc).__name__}: {exc})") from exc

    def raw(self, path: str, **params: Any) -> httpx.Response:
        try:
            response = self.client.http.get(self.client.prefix + path, params=params)
        except httpx.HTTPError as exc:
            raise Exit(UNAVAILABLE, f"the service at {self.api} is unavailable ({type(exc).__name__}: {exc})") from exc
        if response.status_code >= 400:
            self.call("GET", path, **params)  # raises with the problem
        return response

    def output(self, value: Any, text: str | None = None) -> None:
        if self.json or text is None:
            click.echo(json.dumps(value, indent=2, sort_keys=True))
        else:
            click.echo(text)

    # ------------------------------------------------------------------ signing

    def key(self) -> str:
        """Unlock the signing key: the keystore file, or the ape account's."""
        if self.keystore and self.account:
            raise Exit(USAGE, "give --keystore or --account, not both")
        if self.account:
            folder = Path(os.environ.get("APE_DATA_FOLDER", Path.home() / ".ape")) / "accounts"
            path = folder / f"{self.account}.json"
            if not path.exists():
                raise Exit(LOCKED, f"no ape account '{self.account}' (looked for {path})")
        elif self.keystore:
            path = Path(self.keystore)
        else:
            raise Exit(
                USAGE,
                "this action is signed: give --keystore FILE or --account ALIAS "
                "(or COMMONS_KEYSTORE / COMMONS_ACCOUNT)",
            )
        # Whatever the file holds, a sentence and exit 4, never a traceback (backend/cli/keystore.py);
        # its shape is checked before the password is asked.
        try:
            keyfile = read_keystore(path)
            return unlock(path, keyfile, self._password(path))
        except KeystoreError as exc:
            raise Exit(LOCKED, str(exc)) from exc

    def _password(self, path: Path) -> str:
        if self.password_file:
            try:
                return Path(self.password_file).read_text().rstrip("\n")
            except (OSError, ValueError) as exc:  # ValueError: not text in this locale's encoding
                raise Exit(LOCKED, f"cannot read the password file: {exc}") from exc
        if "COMMONS_PASSWORD" in os.environ:
            return os.environ["COMMONS_PASSWORD"]
        if not sys.stdin.isatty():
            raise Exit(LOCKED, "no password: give --password-file or COMMONS_PASSWORD when not at a terminal")
        return getpass.getpass(f"Password for {path}: ")

    def signer(self) -> tuple[str, str]:
        key = self.key()
        return key, Account.from_key(key).address

    def act(self, action: str, **fields: Any) -> dict[str, Any]:
        """prepare, sign locally, submit, and follow the transaction until mined and indexed."""
        return self.relay(self.prepare(action, **fields)["typed_data"], action)

    def act_on(self, prepare: str, submit: str, **fields: Any) -> dict[str, Any]:
        """act, for an action prepared at one path and submitted at another."""
        return self.relay(self.prepare(prepare, **fields)["typed_data"], submit)

    def prepare(self, action: str, **fields: Any) -> dict[str, Any]:
        signer = self.signer()[1]
        self.progress(f"checking with the service as {signer}")
        return self.call("POST", f"/{action}/prepare", {"signer": signer, **fields})

    def relay(self, typed: dict[str, Any], submit: str) -> dict[str, Any]:
        self.progress("signing with the local key")
        signature = CommunityClient.sign(self.signer()[0], typed)
        answer = self.call("POST", f"/{submit}", {"typed_data": typed, "signature": signature}, wait="false")
        return self.follow(answer)

    def follow(self, answer: dict[str, Any]) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        shown = None
        while answer.get("status") == "pending" or (answer.get("status") == "succeeded" and not answer.get("indexed")):
            state = (answer.get("tx_hash"), answer.get("status"))
            if state != shown:
                self.progress(
                    f"sent {answer['tx_hash']}, waiting for a block"
                    if answer.get("tx_hash")
                    else "queued by the relayer, waiting to be sent"
                )
                shown = state
            if time.monotonic() > deadline:
                raise Exit(
                    TIMED_OUT,
                    f"not mined and indexed within {self.timeout:g} s: follow "
                    f"{answer.get('status_url') or answer.get('tx_hash')}",
                    answer,
                )
            time.sleep(0.3)
            url = answer.get("status_url") or f"/transactions/{answer['tx_hash']}"
            answer = self._status(url)
        if answer.get("status") == "failed":
            raise Exit(REFUSED, f"transaction {answer.get('tx_hash')} failed: {answer.get('error')}", answer)
        self.progress(f"mined in block {answer.get('block_number')} and indexed")
        return answer

    def _status(self, url: str) -> dict[str, Any]:
        # status_url is absolute under the community, or the top-level alias.
        path = (
            url if not self.client.prefix or not url.startswith(self.client.prefix) else url[len(self.client.prefix) :]
        )
        return self.call("GET", path)


pass_cli = click.make_pass_decorator(Cli)


@click.group(help=__doc__.split("\n\n")[0], epilog="\b\n" + __doc__[__doc__.index("Exit codes") :])
@click.option(
    "--api",
    envvar="COMMONS_API",
    default="http://127.0.0.1:8000",
    show_default=True,
    help="The service's URL (COMMONS_API)",
)
@click.option("--community", envvar="COMMONS_COMMUNITY", help="Community slug, when the service serves several")
@click.option("--json", "as_json", is_flag=True, help="Answer in JSON on stdout (errors as JSON on stderr)")
@click.option(
    "--keystore",
    envvar="COMMONS_KEYSTORE",
    type=click.Path(),  # a directory: exit 4, as any non-keystore
    help="Encrypted keystore file to sign with (COMMONS_KEYSTORE)",
)
@click.option("--account", envvar="COMMONS_ACCOUNT", help="An ape account alias to sign with (COMMONS_ACCOUNT)")
@click.option(
    "--password-file",
    envvar="COMMONS_PASSWORD_FILE",
    type=click.Path(dir_okay=False),
    help="File holding the keystore's password (else COMMONS_PASSWORD, else a prompt)",
)
@click.option("--timeout", default=120.0, show_default=True, help="Seconds to wait for a write to be mined and indexed")
@click.version_option("0.1.0", prog_name="commons")
@click.pass_context
def cli(ctx, api, community, as_json, keystore, account, password_file, timeout):
    ctx.obj = Cli(api.rstrip("/"), community, as_json, keystore, account, password_file, timeout)
    _JSON_ERRORS[0] = as_json


def _created(out: Cli, answer: dict[str, Any], what: str) -> None:
    created = answer.get("created") or {}
    words = ", ".join(f"{k} {v}" for k, v in created.items())
    out.output(answer, f"{what}: {words or 'done'} (transaction {answer.get('tx_hash')})")


# ---------------------------------------------------------------------- accounts


@cli.group()
def account():
    """Keystore files: make one, or see its address."""


@account.command("new")
@click.argument("path", type=click.Path(dir_okay=False))
@pass_cli
def account_new(out: Cli, path: str):
    """Make a new key in an encrypted keystore file (the password is asked twice)."""
    if Path(path).exists():
        raise Exit(USAGE, f"{path} exists; choose another file")
    password = (
        out._password(Path(path))
        if (out.password_file or "COMMONS_PASSWORD" in os.environ)
        else (click.prompt("New password", hide_input=True, confirmation_prompt=True, err=True))
    )
    new = Account.create()
    Path(path).write_text(json.dumps(Account.encrypt(new.key, password)))
    os.chmod(path, 0o600)
    out.output({"address": new.address, "keystore": path}, new.address)


@account.command("address")
@pass_cli
def account_address(out: Cli):
    """The signing key's address (unlocks it, so checks the password too)."""
    _, signer = out.signer()
    out.output({"address": signer}, signer)


# ---------------------------------------------------------------------- writes


def _parse_actions(actions: tuple[str, ...], actions_file: str | None) -> list[dict[str, Any]]:
    parsed: list[dict[str, Any]] = []
    try:
        if actions_file:
            loaded = json.loads(Path(actions_file).read_text())
            parsed += loaded if isinstance(loaded, list) else [loaded]
        parsed += [json.loads(a) for a in actions]
    except (OSError, ValueError) as exc:
        raise Exit(USAGE, f"actions must be JSON objects: {exc}") from exc
    if not parsed:
        raise Exit(USAGE, "give at least one --action '{\"type\": ...}' or --actions-file")
    return parsed


@cli.command()
@click.option("--description", required=True, help="What the proposal does and why")
@click.option(
    "--action",
    "actions",
    multiple=True,
    help='One action as JSON, e.g. \'{"type": "add_indicator", "name": "Mentoring", ...}\' (repeatable)',
)
@click.option("--actions-file", type=click.Path(exists=True, dir_okay=False), help="A JSON list of actions")
@pass_cli
def propose(out: Cli, description: str, actions: tuple[str, ...], actions_file: str | None):
    """Propose changes: indicators, members, badges, settings (see the API's proposal actions)."""
    _created(
        out, out.act("proposals", description=description, actions=_parse_actions(actions, actions_file)), "Proposed"
    )


@cli.command()
@click.argument("proposal_id")
@click.argument("support", type=click.Choice(get_args(Support)))
@click.option("--reason", default="", help="Why, in words (recorded on chain)")
@pass_cli
def vote(out: Cli, proposal_id: str, support: str, reason: str):
    """Vote on a proposal."""
    _created(out, out.act("votes", proposal_id=proposal_id, support=support, reason=reason), "Voted")


@cli.command()
@click.argument("delegatee")
@pass_cli
def delegate(out: Cli, delegatee: str):
    """Delegate your vote to another member (or to yourself to take it back)."""
    _created(out, out.act("delegations", delegatee=delegatee), "Delegated")


@cli.command()
@click.argument("proposal_id")
@pass_cli
def execute(out: Cli, proposal_id: str):
    """Carry out a proposal that passed (anyone may; the relayer pays, nothing is signed): it is
    queued in the community's timelock, then executed once the timelock's delay is over."""
    out.progress(f"asking the relayer to carry out proposal {proposal_id}")
    answer = out.follow(out.call("POST", f"/proposals/{proposal_id}/execute", wait="false"))
    created = answer.get("created") or {}
    if "queued_proposal_id" in created and "executed_proposal_id" not in created:
        # Queued: with no delay it runs at once (a second step), else the refusal says until when.
        try:
            answer = out.follow(out.call("POST", f"/proposals/{proposal_id}/execute", wait="false"))
        except Exit as exc:
            if (exc.problem or {}).get("error") != "ProposalWaitsForTimelock":
                raise
            out.output(answer, f"Queued: {exc.message}")
            return
    _created(out, answer, "Executed")


@cli.command()
@click.argument("proposal_id")
@pass_cli
def cancel(out: Cli, proposal_id: str):
    """Cancel a proposal before it runs: the community's guardian may, while it waits in the
    timelock (and its proposer, before voting opens)."""
    _created(out, out.act_on(f"proposals/{proposal_id}/cancel", f"proposals/{proposal_id}/cancel"), "Cancelled")


@cli.command()
@click.option("--indicator", "indicator_id", type=int, required=True, help="The indicator's id")
@click.option("--evidence", "evidence_uri", required=True, help="A link to the evidence")
@click.option("--evidence-hash", help="0x + 64 hex digits (default: keccak256 of the link)")
@click.option("--organisation", "organisation_id", type=int, help="A registered organisation to credit (its id)")
@pass_cli
def claim(out: Cli, indicator_id: int, evidence_uri: str, evidence_hash: str | None, organisation_id: int | None):
    """Claim a contribution of your own against an indicator."""
    fields = {"indicator_id": indicator_id, "evidence_uri": evidence_uri}
    if evidence_hash:
        fields["evidence_hash"] = evidence_hash
    if organisation_id is not None:  # 0 too: the API refuses it, rather than a claim crediting none
        fields["organisation_id"] = organisation_id
    _created(out, out.act("claims", **fields), "Claimed")


@cli.command()
@click.argument("contributor")
@click.option("--indicator", "indicator_id", type=int, required=True, help="The indicator's id")
@click.option("--evidence", "evidence_uri", required=True, help="A link to the evidence")
@click.option("--organisation", "organisation_id", type=int, help="A registered organisation to credit (its id)")
@pass_cli
def nominate(out: Cli, contributor: str, indicator_id: int, evidence_uri: str, organisation_id: int | None):
    """Nominate a peer whose contribution went unseen (it counts once they accept it)."""
    credit = {"organisation_id": organisation_id} if organisation_id is not None else {}
    _created(
        out,
        out.act("claims", indicator_id=indicator_id, evidence_uri=evidence_uri, contributor=contributor, **credit),
        "Nominated",
    )


@cli.command()
@click.argument("claim_id", type=int)
@pass_cli
def attest(out: Cli, claim_id: int):
    """Attest (endorse) a claim: the one that reaches the indicator's requirement mints the badge."""
    _created(out, out.act("attestations", claim_id=claim_id), "Attested")


@cli.command()
@click.argument("claim_id", type=int)
@pass_cli
def accept(out: Cli, claim_id: int):
    """Accept a nomination of yours: it counts, and its badge is minted once it has its endorsements."""
    _created(out, out.act("nomination-answers", claim_id=claim_id, answer="accept"), "Accepted")


@cli.command()
@click.argument("claim_id", type=int)
@pass_cli
def decline(out: Cli, claim_id: int):
    """Decline a nomination of yours: it stays on record as declined, and closes."""
    _created(out, out.act("nomination-answers", claim_id=claim_id, answer="decline"), "Declined")


@cli.command()
@click.argument("token_id", type=int)
@pass_cli
def disown(out: Cli, token_id: int):
    """Disown a badge you hold: it stops counting for good (this cannot be undone)."""
    _created(out, out.act("disownings", token_id=token_id), "Disowned")


@cli.command()
@click.argument("visibility", type=click.Choice(["hidden", "shown"]))
@pass_cli
def profile_visibility(out: Cli, visibility: str):
    """Keep your profile out of public lists (hidden), or show it again (shown)."""
    _created(out, out.act("profile-visibility", hidden=visibility == "hidden"), f"Profile {visibility}")


@cli.command()
@click.argument("name")
@pass_cli
def name(out: Cli, name: str):
    """Set the name others see instead of your address (1-32 characters; "" clears it)."""
    _created(out, out.act("names", name=name), "Named")


@cli.command()
@click.argument("site", type=click.Choice(get_args(Site)))
@click.argument("handle")
@pass_cli
def link(out: Cli, site: str, handle: str):
    """Link your account on GitHub, GitLab, drupal.org or the community's Discourse ("" unlinks it)."""
    _created(out, out.act_on("linked-accounts", "names", site=site, handle=handle), "Linked")


@cli.command()
@click.argument("candidate")
@pass_cli
def vouch(out: Cli, candidate: str):
    """Vouch for a person's admission (their address); at the community's number of vouches they join."""
    _created(out, out.act("vouches", candidate=candidate), "Vouched")


@cli.command()
@click.argument("name")
@pass_cli
def invite(out: Cli, name: str):
    """Invite a person who has not joined yet, by their name. Prints the invitation's address (nominate
    it to credit them now) and its secret, which you pass on: whoever holds it can accept."""
    prepared = out.prepare("invitations", name=name)
    answer = out.relay(prepared["typed_data"], "invitations")
    invitation, secret = prepared["invitation"], prepared["secret"]
    out.output(
        {**answer, "invitation": invitation, "secret": secret},
        f"Invited {name}: invitation {invitation}\n"
        f"Pass this secret on to them (whoever holds it can accept): {secret}\n"
        f"Credit them now: commons nominate {invitation} --indicator ID --evidence LINK\n"
        f"They join with: commons join {secret}",
    )


@cli.command()
@click.argument("secret")
@pass_cli
def join(out: Cli, secret: str):
    """Accept an invitation with its secret, as your account; the invitation counts as the inviter's vouch."""
    _created(out, out.act_on("invitations/acceptance", "invitations", secret=secret), "Joined")


@cli.command()
@click.argument("invitation")
@pass_cli
def withdraw_invitation(out: Cli, invitation: str):
    """Withdraw an invitation you made that was not accepted (its address): its secret stops working."""
    _created(out, out.act_on(f"invitations/{invitation}/withdrawal", "invitations"), "Withdrawn")


# ---------------------------------------------------------------------- reads


def _me(out: Cli, address: str | None) -> str:
    if address:
        return address
    return out.signer()[1]


@cli.command()
@click.argument("address", required=False)
@pass_cli
def profile(out: Cli, address: str | None):
    """A member's profile: score in total, by category and orientation (yours without ADDRESS)."""
    address = _me(out, address)
    p = out.call("GET", f"/members/{address}/profile")
    rule = " (square-root rule)" if p.get("score_rule") == "square_root" else ""
    lines = [f"{address}: score {p['total_score']}{rule} from {p['badges_counting']} badge(s) that count"]
    lines += [f"  {c['category'] or '(none)'}: {c['score']} ({c['badges']} badge(s))" for c in p["by_category"]]
    lines += [f"  {o}-oriented: {v['score']}" for o, v in sorted(p["by_orientation"].items())]
    out.output(p, "\n".join(lines))


@cli.command()
@click.option("--state", help="Only proposals in this state (pending, active, succeeded, executed, defeated, ...)")
@pass_cli
def proposals(out: Cli, state: str | None):
    """Proposals, newest first."""
    items = out.call("GET", "/proposals", limit=200)["items"]
    if state:
        items = [p for p in items if p["state"] == state]
    out.output(
        items,
        "\n".join(
            f"{p['id']}  {p['state']:<9} for {p['tallies']['for']} against "
            f"{p['tallies']['against']}  {p['description'][:60]}"
            for p in items
        )
        or "No proposals.",
    )


@cli.command()
@click.argument("proposal_id")
@pass_cli
def proposal(out: Cli, proposal_id: str):
    """One proposal: state, tallies, actions and votes."""
    p = out.call("GET", f"/proposals/{proposal_id}")
    out.output(
        p,
        f"{p['id']}: {p['state']}, for {p['tallies']['for']} against {p['tallies']['against']} abstain "
        f"{p['tallies']['abstain']} (quorum {p['quorum']})\n{p['description']}",
    )


@cli.command()
@click.argument("address", required=False)
@pass_cli
def awaiting(out: Cli, address: str | None):
    """Nominations waiting for your answer, and claims waiting for your endorsement (or ADDRESS's)."""
    address = _me(out, address)
    answers = out.call("GET", "/claims", contributor=address, nomination_state="pending", limit=500)["items"]
    items = out.call("GET", "/claims/awaiting", attester=address, limit=500)["items"]
    lines = [
        f"nomination {c['id']}: {c['indicator_name']} by {c['submitter']}, waiting for your answer "
        f"(commons accept {c['id']} / commons decline {c['id']}) {c['evidence_uri']}"
        for c in answers
    ]
    lines += [
        f"claim {c['id']}: {c['indicator_name']} for {c['contributor']} "
        f"({c['attestations']}/{c['endorsements_required']}) {c['evidence_uri']}"
        for c in items
    ]
    out.output({"nominations": answers, "claims": items}, "\n".join(lines) or "Nothing waits for you.")


@cli.command()
@click.option("--from", "start", required=True, help="First day, YYYY-MM-DD (UTC)")
@click.option("--to", "end", required=True, help="Last day, YYYY-MM-DD (UTC), included")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="csv", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write to this file (default: stdout)")
@click.argument(
    "table", type=click.Choice(["report", "badges", "attestations", "indicator-versions", "proposals", "votes"])
)
@pass_cli
def export(out: Cli, table: str, start: str, end: str, fmt: str, output: str | None):
    """A period's report or one of its exports, byte for byte as the service gives it."""
    path = "/reports" if table == "report" else f"/exports/{table}"
    body = out.raw(path, **{"from": start, "to": end, "format": fmt}).content
    if output:
        Path(output).write_bytes(body)
        out.progress(f"wrote {len(body)} bytes to {output}")
    else:
        click.echo(body, nl=False)


@cli.command()
@click.argument("address", required=False)
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False),
    default=".",
    show_default=True,
    help="Where to write one <community>-badge-<id>.jwt per badge",
)
@pass_cli
def credentials(out: Cli, address: str | None, directory: str):
    """Download a member's badges as Open Badges 3.0 credentials (application/vc+jwt files)."""
    address = _me(out, address)
    answer = out.call("GET", f"/members/{address}/credentials")
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    community = out.community or "community"
    written = []
    for item in answer["items"]:
        path = folder / f"{community}-badge-{item['token_id']}.jwt"
        path.write_text(item["jwt"])
        written.append({"token_id": item["token_id"], "file": str(path), "revoked": item["revoked"]})
    out.output(
        {"holder": answer["holder"], "files": written}, "\n".join(w["file"] for w in written) or "No badges yet."
    )


# `commons capture import` (backfill, for stewards) lives with capture (backend/capture/cli.py).
cli.add_command(capture_commands.capture)


def main() -> None:
    try:
        cli.main(prog_name="commons", standalone_mode=False)
    except Exit as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(USAGE)
    except click.ClickException as exc:  # usage errors
        exc.show()
        sys.exit(exc.exit_code)
    sys.exit(OK)


if __name__ == "__main__":
    main()
