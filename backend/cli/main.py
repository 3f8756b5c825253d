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

Its language: `--lang`, else the environment (LANGUAGE, LC_ALL, LC_MESSAGES, LANG), else English
(backend/cli/language.py); the service's refusals come back in the same language.
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

from backend.archive import cli as archive_commands
from backend.capture import cli as capture_commands
from backend.cli import language
from backend.cli.keystore import KeystoreError, read_keystore, unlock
from backend.cli.language import Group, Option, option
from backend.client import ApiError, CommunityClient
from backend.i18n import N_, SUPPORTED, lazy_gettext, ngettext, use_locale
from backend.i18n import gettext as _
from backend.units import number, span
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
            # Refusals come back in the command line's language.
            http = httpx.Client(
                base_url=self.api, timeout=30.0, headers={"Accept-Language": language.accept_language()}
            )
            self._client = CommunityClient(self.api, self.community, http=http)
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
            raise Exit(UNAVAILABLE, _unavailable(self.api, exc)) from exc

    def raw(self, path: str, **params: Any) -> httpx.Response:
        try:
            response = self.client.http.get(self.client.prefix + path, params=params)
        except httpx.HTTPError as exc:
            raise Exit(UNAVAILABLE, _unavailable(self.api, exc)) from exc
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
            raise Exit(USAGE, _("give --keystore or --account, not both"))
        if self.account:
            folder = Path(os.environ.get("APE_DATA_FOLDER", Path.home() / ".ape")) / "accounts"
            path = folder / f"{self.account}.json"
            if not path.exists():
                raise Exit(LOCKED, _("no ape account '%(alias)s' (looked for %(path)s)", alias=self.account, path=path))
        elif self.keystore:
            path = Path(self.keystore)
        else:
            raise Exit(
                USAGE,
                _(
                    "this action is signed: give --keystore FILE or --account ALIAS (or COMMONS_KEYSTORE / "
                    "COMMONS_ACCOUNT)"
                ),
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
                raise Exit(LOCKED, _("cannot read the password file: %(why)s", why=exc)) from exc
        if "COMMONS_PASSWORD" in os.environ:
            return os.environ["COMMONS_PASSWORD"]
        if not sys.stdin.isatty():
            raise Exit(LOCKED, _("no password: give --password-file or COMMONS_PASSWORD when not at a terminal"))
        return getpass.getpass(_("Password for %(path)s: ", path=path))

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
        self.progress(_("checking with the service as %(signer)s", signer=signer))
        return self.call("POST", f"/{action}/prepare", {"signer": signer, **fields})

    def relay(self, typed: dict[str, Any], submit: str) -> dict[str, Any]:
        self.progress(_("signing with the local key"))
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
                    _("sent %(tx)s, waiting for a block", tx=answer["tx_hash"])
                    if answer.get("tx_hash")
                    else _("queued by the relayer, waiting to be sent")
                )
                shown = state
            if time.monotonic() > deadline:
                raise Exit(
                    TIMED_OUT,
                    _(
                        "not mined and indexed within %(timeout)s: follow %(where)s",
                        timeout=span(int(self.timeout)),
                        where=answer.get("status_url") or answer.get("tx_hash"),
                    ),
                    answer,
                )
            time.sleep(0.3)
            url = answer.get("status_url") or f"/transactions/{answer['tx_hash']}"
            answer = self._status(url)
        if answer.get("status") == "failed":
            raise Exit(
                REFUSED,
                _("transaction %(tx)s failed: %(why)s", tx=answer.get("tx_hash"), why=answer.get("error")),
                answer,
            )
        self.progress(_("mined in block %(block)s and indexed", block=answer.get("block_number")))
        return answer

    def _status(self, url: str) -> dict[str, Any]:
        # status_url is absolute under the community, or the top-level alias.
        path = (
            url if not self.client.prefix or not url.startswith(self.client.prefix) else url[len(self.client.prefix) :]
        )
        return self.call("GET", path)


pass_cli = click.make_pass_decorator(Cli)


def _unavailable(api: str, exc: Exception) -> str:
    return _("the service at %(api)s is unavailable (%(kind)s: %(why)s)", api=api, kind=type(exc).__name__, why=exc)


def _set_language(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """--lang: the rest of the command speaks it (main() reads it before click, for click's own words)."""
    if value:
        ctx.with_resource(use_locale(value))
    return value


# The group's help, and its epilog: the exit codes, kept as written.
_HELP = N_("`commons`: every member action and the reads, over the HTTP API, signing locally.")
_EXIT_CODES = N_(
    "Exit codes (for scripts):\n"
    "  0  done\n"
    "  1  refused by the service (its problem detail is printed), or a transaction that reverted\n"
    "  2  usage: a missing or malformed option or argument\n"
    "  3  the service, or the chain behind it, is unavailable (connection refused, 503, 504)\n"
    "  4  the key could not be unlocked (no keystore, not a keystore, wrong password)\n"
    "  5  a write was sent but not mined and indexed within --timeout (its hash is printed)"
)


@click.group(cls=Group, help=_HELP, epilog=_EXIT_CODES)
@option(
    "--api",
    envvar="COMMONS_API",
    default="http://127.0.0.1:8000",
    show_default=True,
    help=N_("The service's URL (COMMONS_API)"),
)
@option("--community", envvar="COMMONS_COMMUNITY", help=N_("Community slug, when the service serves several"))
@option("--json", "as_json", is_flag=True, help=N_("Answer in JSON on stdout (errors as JSON on stderr)"))
@option(
    "--keystore",
    envvar="COMMONS_KEYSTORE",
    type=click.Path(),  # a directory: exit 4, as any non-keystore
    help=N_("Encrypted keystore file to sign with (COMMONS_KEYSTORE)"),
)
@option("--account", envvar="COMMONS_ACCOUNT", help=N_("An ape account alias to sign with (COMMONS_ACCOUNT)"))
@option(
    "--password-file",
    envvar="COMMONS_PASSWORD_FILE",
    type=click.Path(dir_okay=False),
    help=N_("File holding the keystore's password (else COMMONS_PASSWORD, else a prompt)"),
)
@option("--timeout", default=120.0, show_default=True, help=N_("Seconds to wait for a write to be mined and indexed"))
@option(
    "--lang",
    type=click.Choice(SUPPORTED),
    callback=_set_language,
    expose_value=False,
    is_eager=True,
    help=N_("The language to answer in (else LANGUAGE, LC_ALL, LC_MESSAGES or LANG; else en)"),
)
@click.version_option(
    "0.1.0",
    prog_name="commons",
    # Said when asked, in the language of the moment: a lazy string, which click formats with %.
    message=lazy_gettext("%(prog)s, version %(version)s"),  # type: ignore[arg-type]
    cls=Option,
    help=N_("Show the version and exit."),
)
@click.pass_context
def cli(ctx, api, community, as_json, keystore, account, password_file, timeout):
    ctx.obj = Cli(api.rstrip("/"), community, as_json, keystore, account, password_file, timeout)
    _JSON_ERRORS[0] = as_json


def _created(out: Cli, answer: dict[str, Any], what: str) -> None:
    """`what` is a catalog message ("Proposed"); what was created is named as the API names it."""
    created = answer.get("created") or {}
    words = ", ".join(f"{k} {v}" for k, v in created.items())
    out.output(
        answer,
        _(
            "%(what)s: %(created)s (transaction %(tx)s)",
            what=_(what),
            created=words or _("done"),
            tx=answer.get("tx_hash"),
        ),
    )


# ---------------------------------------------------------------------- accounts


@cli.group(help=N_("Keystore files: make one, or see its address."))
def account():
    pass


@account.command("new", help=N_("Make a new key in an encrypted keystore file (the password is asked twice)."))
@click.argument("path", type=click.Path(dir_okay=False))
@pass_cli
def account_new(out: Cli, path: str):
    if Path(path).exists():
        raise Exit(USAGE, _("%(path)s exists; choose another file", path=path))
    password = (
        out._password(Path(path))
        if (out.password_file or "COMMONS_PASSWORD" in os.environ)
        else (click.prompt(_("New password"), hide_input=True, confirmation_prompt=True, err=True))
    )
    new = Account.create()
    Path(path).write_text(json.dumps(Account.encrypt(new.key, password)))
    os.chmod(path, 0o600)
    out.output({"address": new.address, "keystore": path}, new.address)


@account.command("address", help=N_("The signing key's address (unlocks it, so checks the password too)."))
@pass_cli
def account_address(out: Cli):
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
        raise Exit(USAGE, _("actions must be JSON objects: %(why)s", why=exc)) from exc
    if not parsed:
        raise Exit(USAGE, _("give at least one --action '{\"type\": ...}' or --actions-file"))
    return parsed


@cli.command(help=N_("Propose changes: indicators, members, badges, settings (see the API's proposal actions)."))
@option("--description", required=True, help=N_("What the proposal does and why"))
@option(
    "--action",
    "actions",
    multiple=True,
    help=N_('One action as JSON, e.g. \'{"type": "add_indicator", "name": "Mentoring", ...}\' (repeatable)'),
)
@option("--actions-file", type=click.Path(exists=True, dir_okay=False), help=N_("A JSON list of actions"))
@pass_cli
def propose(out: Cli, description: str, actions: tuple[str, ...], actions_file: str | None):
    _created(
        out,
        out.act("proposals", description=description, actions=_parse_actions(actions, actions_file)),
        N_("Proposed"),
    )


@cli.command(help=N_("Vote on a proposal."))
@click.argument("proposal_id")
@click.argument("support", type=click.Choice(get_args(Support)))
@option("--reason", default="", help=N_("Why, in words (recorded on chain)"))
@pass_cli
def vote(out: Cli, proposal_id: str, support: str, reason: str):
    _created(out, out.act("votes", proposal_id=proposal_id, support=support, reason=reason), N_("Voted"))


@cli.command(help=N_("Delegate your vote to another member (or to yourself to take it back)."))
@click.argument("delegatee")
@pass_cli
def delegate(out: Cli, delegatee: str):
    _created(out, out.act("delegations", delegatee=delegatee), N_("Delegated"))


@cli.command(
    help=N_(
        "Carry out a proposal that passed (anyone may; the relayer pays, nothing is signed): it is queued in "
        "the community's timelock, then executed once the timelock's delay is over."
    )
)
@click.argument("proposal_id")
@pass_cli
def execute(out: Cli, proposal_id: str):
    out.progress(_("asking the relayer to carry out proposal %(proposal)s", proposal=proposal_id))
    answer = out.follow(out.call("POST", f"/proposals/{proposal_id}/execute", wait="false"))
    created = answer.get("created") or {}
    if "queued_proposal_id" in created and "executed_proposal_id" not in created:
        # Queued: with no delay it runs at once (a second step), else the refusal says until when.
        try:
            answer = out.follow(out.call("POST", f"/proposals/{proposal_id}/execute", wait="false"))
        except Exit as exc:
            if (exc.problem or {}).get("error") != "ProposalWaitsForTimelock":
                raise
            out.output(answer, _("Queued: %(why)s", why=exc.message))
            return
    _created(out, answer, N_("Executed"))


@cli.command(
    help=N_(
        "Cancel a proposal before it runs: the community's guardian may, while it waits in the timelock "
        "(and its proposer, before voting opens)."
    )
)
@click.argument("proposal_id")
@pass_cli
def cancel(out: Cli, proposal_id: str):
    _created(out, out.act_on(f"proposals/{proposal_id}/cancel", f"proposals/{proposal_id}/cancel"), N_("Cancelled"))


@cli.command(help=N_("Claim a contribution of your own against an indicator."))
@option("--indicator", "indicator_id", type=int, required=True, help=N_("The indicator's id"))
@option("--evidence", "evidence_uri", required=True, help=N_("A link to the evidence"))
@option("--evidence-hash", help=N_("0x + 64 hex digits (default: keccak256 of the link)"))
@option("--organisation", "organisation_id", type=int, help=N_("A registered organisation to credit (its id)"))
@pass_cli
def claim(out: Cli, indicator_id: int, evidence_uri: str, evidence_hash: str | None, organisation_id: int | None):
    fields = {"indicator_id": indicator_id, "evidence_uri": evidence_uri}
    if evidence_hash:
        fields["evidence_hash"] = evidence_hash
    if organisation_id is not None:  # 0 too: the API refuses it, rather than a claim crediting none
        fields["organisation_id"] = organisation_id
    _created(out, out.act("claims", **fields), N_("Claimed"))


@cli.command(help=N_("Nominate a peer whose contribution went unseen (it counts once they accept it)."))
@click.argument("contributor")
@option("--indicator", "indicator_id", type=int, required=True, help=N_("The indicator's id"))
@option("--evidence", "evidence_uri", required=True, help=N_("A link to the evidence"))
@option("--organisation", "organisation_id", type=int, help=N_("A registered organisation to credit (its id)"))
@pass_cli
def nominate(out: Cli, contributor: str, indicator_id: int, evidence_uri: str, organisation_id: int | None):
    credit = {"organisation_id": organisation_id} if organisation_id is not None else {}
    _created(
        out,
        out.act("claims", indicator_id=indicator_id, evidence_uri=evidence_uri, contributor=contributor, **credit),
        N_("Nominated"),
    )


@cli.command(help=N_("Attest (endorse) a claim: the one that reaches the indicator's requirement mints the badge."))
@click.argument("claim_id", type=int)
@pass_cli
def attest(out: Cli, claim_id: int):
    _created(out, out.act("attestations", claim_id=claim_id), N_("Attested"))


@cli.command(help=N_("Accept a nomination of yours: it counts, and its badge is minted once it has its endorsements."))
@click.argument("claim_id", type=int)
@pass_cli
def accept(out: Cli, claim_id: int):
    _created(out, out.act("nomination-answers", claim_id=claim_id, answer="accept"), N_("Accepted"))


@cli.command(help=N_("Decline a nomination of yours: it stays on record as declined, and closes."))
@click.argument("claim_id", type=int)
@pass_cli
def decline(out: Cli, claim_id: int):
    _created(out, out.act("nomination-answers", claim_id=claim_id, answer="decline"), N_("Declined"))


@cli.command(help=N_("Disown a badge you hold: it stops counting for good (this cannot be undone)."))
@click.argument("token_id", type=int)
@pass_cli
def disown(out: Cli, token_id: int):
    _created(out, out.act("disownings", token_id=token_id), N_("Disowned"))


@cli.command(help=N_("Keep your profile out of public lists (hidden), or show it again (shown)."))
@click.argument("visibility", type=click.Choice(["hidden", "shown"]))
@pass_cli
def profile_visibility(out: Cli, visibility: str):
    said = N_("Profile hidden") if visibility == "hidden" else N_("Profile shown")
    _created(out, out.act("profile-visibility", hidden=visibility == "hidden"), said)


@cli.command(help=N_('Set the name others see instead of your address (1-32 characters; "" clears it).'))
@click.argument("name")
@pass_cli
def name(out: Cli, name: str):
    _created(out, out.act("names", name=name), N_("Named"))


@cli.command(help=N_('Link your account on GitHub, GitLab, drupal.org or the community\'s Discourse ("" unlinks it).'))
@click.argument("site", type=click.Choice(get_args(Site)))
@click.argument("handle")
@pass_cli
def link(out: Cli, site: str, handle: str):
    _created(out, out.act_on("linked-accounts", "names", site=site, handle=handle), N_("Linked"))


@cli.command(help=N_("Vouch for a person's admission (their address); at the community's number of vouches they join."))
@click.argument("candidate")
@pass_cli
def vouch(out: Cli, candidate: str):
    _created(out, out.act("vouches", candidate=candidate), N_("Vouched"))


@cli.command(
    help=N_(
        "Invite a person who has not joined yet, by their name. Prints the invitation's address (nominate it to "
        "credit them now) and its secret, which you pass on: whoever holds it can accept."
    )
)
@click.argument("name")
@pass_cli
def invite(out: Cli, name: str):
    prepared = out.prepare("invitations", name=name)
    answer = out.relay(prepared["typed_data"], "invitations")
    invitation, secret = prepared["invitation"], prepared["secret"]
    out.output(
        {**answer, "invitation": invitation, "secret": secret},
        _(
            "Invited %(name)s: invitation %(invitation)s\n"
            "Pass this secret on to them (whoever holds it can accept): %(secret)s\n"
            "Credit them now: commons nominate %(invitation)s --indicator ID --evidence LINK\n"
            "They join with: commons join %(secret)s",
            name=name,
            invitation=invitation,
            secret=secret,
        ),
    )


@cli.command(
    help=N_("Accept an invitation with its secret, as your account; the invitation counts as the inviter's vouch.")
)
@click.argument("secret")
@pass_cli
def join(out: Cli, secret: str):
    _created(out, out.act_on("invitations/acceptance", "invitations", secret=secret), N_("Joined"))


@cli.command(help=N_("Withdraw an invitation you made that was not accepted (its address): its secret stops working."))
@click.argument("invitation")
@pass_cli
def withdraw_invitation(out: Cli, invitation: str):
    _created(out, out.act_on(f"invitations/{invitation}/withdrawal", "invitations"), N_("Withdrawn"))


# ---------------------------------------------------------------------- reads


# A score by orientation, as a member reads it (a proposal's state stays the API's word, which
# --state takes).
_ORIENTED = {"object": N_("object-oriented: %(score)s"), "community": N_("community-oriented: %(score)s")}


def _me(out: Cli, address: str | None) -> str:
    if address:
        return address
    return out.signer()[1]


@cli.command(help=N_("A member's profile: score in total, by category and orientation (yours without ADDRESS)."))
@click.argument("address", required=False)
@pass_cli
def profile(out: Cli, address: str | None):
    address = _me(out, address)
    p = out.call("GET", f"/members/{address}/profile")
    rule = " " + _("(square-root rule)") if p.get("score_rule") == "square_root" else ""
    lines = [
        ngettext(
            "%(address)s: score %(score)s%(rule)s from %(num)s badge that counts",
            "%(address)s: score %(score)s%(rule)s from %(num)s badges that count",
            p["badges_counting"],
            address=address,
            score=p["total_score"],
            rule=rule,
        )
    ]
    lines += [
        "  "
        + ngettext(
            "%(category)s: %(score)s (%(num)s badge)",
            "%(category)s: %(score)s (%(num)s badges)",
            c["badges"],
            category=c["category"] or _("(none)"),
            score=c["score"],
        )
        for c in p["by_category"]
    ]
    lines += [
        "  " + (_(_ORIENTED[o], score=v["score"]) if o in _ORIENTED else f"{o}: {v['score']}")
        for o, v in sorted(p["by_orientation"].items())
    ]
    out.output(p, "\n".join(lines))


@cli.command(help=N_("Proposals, newest first."))
@option("--state", help=N_("Only proposals in this state (pending, active, succeeded, executed, defeated, ...)"))
@pass_cli
def proposals(out: Cli, state: str | None):
    items = out.call("GET", "/proposals", limit=200)["items"]
    if state:
        items = [p for p in items if p["state"] == state]
    out.output(
        items,
        "\n".join(
            f"{p['id']}  {p['state']:<9} "
            + _("for %(yes)s against %(no)s", yes=p["tallies"]["for"], no=p["tallies"]["against"])
            + f"  {p['description'][:60]}"
            for p in items
        )
        or _("No proposals."),
    )


@cli.command(help=N_("One proposal: state, tallies, actions and votes."))
@click.argument("proposal_id")
@pass_cli
def proposal(out: Cli, proposal_id: str):
    p = out.call("GET", f"/proposals/{proposal_id}")
    out.output(
        p,
        _(
            "%(id)s: %(state)s, for %(yes)s against %(no)s abstain %(abstain)s (quorum %(quorum)s)",
            id=p["id"],
            state=p["state"],
            yes=p["tallies"]["for"],
            no=p["tallies"]["against"],
            abstain=p["tallies"]["abstain"],
            quorum=p["quorum"],
        )
        + f"\n{p['description']}",
    )


@cli.command(help=N_("Nominations waiting for your answer, and claims waiting for your endorsement (or ADDRESS's)."))
@click.argument("address", required=False)
@pass_cli
def awaiting(out: Cli, address: str | None):
    address = _me(out, address)
    answers = out.call("GET", "/claims", contributor=address, nomination_state="pending", limit=500)["items"]
    items = out.call("GET", "/claims/awaiting", attester=address, limit=500)["items"]
    lines = [
        _(
            "nomination %(id)s: %(indicator)s by %(by)s, waiting for your answer (commons accept %(id)s / commons "
            "decline %(id)s) %(evidence)s",
            id=c["id"],
            indicator=c["indicator_name"],
            by=c["submitter"],
            evidence=c["evidence_uri"],
        )
        for c in answers
    ]
    lines += [
        _(
            "claim %(id)s: %(indicator)s for %(contributor)s (%(count)s/%(needed)s) %(evidence)s",
            id=c["id"],
            indicator=c["indicator_name"],
            contributor=c["contributor"],
            count=c["attestations"],
            needed=c["endorsements_required"],
            evidence=c["evidence_uri"],
        )
        for c in items
    ]
    out.output({"nominations": answers, "claims": items}, "\n".join(lines) or _("Nothing waits for you."))


@cli.command(
    help=N_(
        "A period's report or one of its exports, byte for byte as the service gives it; or, with --all, the "
        "community's whole history as one archive anyone can check against the chain (commons archive)."
    )
)
@option("--from", "start", help=N_("First day, YYYY-MM-DD (UTC)"))
@option("--to", "end", help=N_("Last day, YYYY-MM-DD (UTC), included"))
@option("--format", "fmt", type=click.Choice(["json", "csv"]), default="csv", show_default=True)
@option("--output", "-o", type=click.Path(dir_okay=False), help=N_("Write to this file (default: stdout)"))
@option("--all", "everything", is_flag=True, help=N_("The whole history as one archive (JSON Lines), not a period"))
@click.argument(
    "table",
    required=False,
    type=click.Choice(["report", "badges", "attestations", "indicator-versions", "proposals", "votes"]),
)
@pass_cli
def export(out: Cli, table: str | None, start: str | None, end: str | None, fmt: str, output: str | None, everything):
    if everything:
        return archive_commands.export_all(out, output)
    if table is None or start is None or end is None:
        raise Exit(USAGE, _("give a TABLE with --from and --to, or --all for the whole history"))
    path = "/reports" if table == "report" else f"/exports/{table}"
    body = out.raw(path, **{"from": start, "to": end, "format": fmt}).content
    if output:
        Path(output).write_bytes(body)
        out.progress(_("wrote %(size)s bytes to %(path)s", size=number(len(body)), path=output))
    else:
        click.echo(body, nl=False)


@cli.command(help=N_("Download a member's badges as Open Badges 3.0 credentials (application/vc+jwt files)."))
@click.argument("address", required=False)
@option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False),
    default=".",
    show_default=True,
    help=N_("Where to write one <community>-badge-<id>.jwt per badge"),
)
@pass_cli
def credentials(out: Cli, address: str | None, directory: str):
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
        {"holder": answer["holder"], "files": written}, "\n".join(w["file"] for w in written) or _("No badges yet.")
    )


# `commons capture import` (backfill, for stewards) lives with capture (backend/capture/cli.py).
cli.add_command(capture_commands.capture)
# `commons archive export|verify` lives with the archive (backend/archive/cli.py).
cli.add_command(archive_commands.archive)


def main() -> None:
    # The language first (--lang, else the environment), so that click's own words, a usage error
    # and a command's help are said in it too.
    language.install_click_words()
    with use_locale(language.from_arguments(sys.argv[1:]) or language.from_environment()):
        try:
            cli.main(prog_name="commons", standalone_mode=False)
        except Exit as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            click.echo(_("Aborted."), err=True)
            sys.exit(USAGE)
        except click.ClickException as exc:  # usage errors
            exc.show()
            sys.exit(exc.exit_code)
    sys.exit(OK)


if __name__ == "__main__":
    main()
