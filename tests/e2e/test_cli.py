"""The `commons` command line driven end to end against the real service on Anvil, signing with
encrypted keystore files (and an ape account): every action, the reads, exports, credentials,
progress on stderr and the exit codes scripts rely on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from eth_account import Account

from backend.cli.main import main as cli_main
from devstack.stack import rpc
from tests.e2e.conftest import ALICE, BOB, CAROL, DANA, address
from tests.e2e.ob3_verifier import verify_vc_jwt

COMMONS = Path(sys.executable).parent / "commons"
PASSWORD = "correct horse battery staple"
pytestmark = pytest.mark.filterwarnings("ignore:EdDSA is deprecated")


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    """A keystore file per member, and a file with their password (light scrypt: tests only)."""
    folder = tmp_path_factory.mktemp("keystores")
    password_file = folder / "password"
    password_file.write_text(PASSWORD + "\n")
    files = {}
    for name, key in (("alice", ALICE), ("bob", BOB), ("carol", CAROL), ("dana", DANA)):
        path = folder / f"{name}.json"
        path.write_text(json.dumps(Account.encrypt(key, PASSWORD, kdf="scrypt", iterations=2**10)))
        files[name] = path
    return {"files": files, "password": password_file, "folder": folder}


def commons(
    env,
    keys,
    *args: str,
    who: str | None = None,
    extra_env: dict | None = None,
    api: str | None = None,
    process: bool = False,
) -> subprocess.CompletedProcess:
    """`commons` with these arguments, as a member's shell runs it: the installed console script
    in a process of its own (`process`), or its main() in this one. A process of its own spends
    about 1.5 s importing eth-account before it reads its arguments, and this module runs 45."""
    environment = {
        "COMMONS_API": api or env.server.url,
        "COMMONS_PASSWORD_FILE": str(keys["password"]),
        "COMMONS_PASSWORD": None,
        "COMMONS_KEYSTORE": str(keys["files"][who]) if who else None,
        **(extra_env or {}),
    }
    if process:
        environment = {k: v for k, v in {**os.environ, **environment}.items() if v is not None}
        return subprocess.run(
            [str(COMMONS), *args],
            env=environment,
            capture_output=True,
            text=True,
            timeout=180,
            stdin=subprocess.DEVNULL,
        )
    return _in_process(list(args), environment)


def _in_process(args: list[str], environment: dict[str, str | None]) -> subprocess.CompletedProcess:
    """main() with the arguments on sys.argv, the environment set (None: unset), no input, and
    stdout and stderr captured apart (click's test runner), its exit code from SystemExit."""
    argv, sys.argv = sys.argv, ["commons", *args]
    try:
        with CliRunner(mix_stderr=False).isolation(env=environment) as (stdout, stderr):
            try:
                cli_main()
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
            out, err = stdout.getvalue().decode(), stderr.getvalue().decode()
    finally:
        sys.argv = argv
    return subprocess.CompletedProcess(["commons", *args], code, out, err)


def ok(result: subprocess.CompletedProcess):
    assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)
    return json.loads(result.stdout) if result.stdout.lstrip().startswith(("{", "[")) else result.stdout


def cli_claim(env, keys, governed, evidence: str, who: str) -> int:
    """A claim of the code indicator through `commons claim`; its id."""
    created = ok(
        commons(env, keys, "--json", "claim", "--indicator", str(governed["code"]), "--evidence", evidence, who=who)
    )
    return created["created"]["claim_id"]


def test_keystore_unlocks_and_refuses_a_wrong_password(env, keys):
    assert ok(commons(env, keys, "--json", "account", "address", who="carol")) == {"address": address(CAROL)}
    wrong = keys["folder"] / "wrong"
    wrong.write_text("not the password")
    refused = commons(
        env, keys, "--json", "account", "address", who="carol", extra_env={"COMMONS_PASSWORD_FILE": str(wrong)}
    )
    assert refused.returncode == 4 and refused.stdout == ""
    assert "cannot unlock" in json.loads(refused.stderr)["error"]


def test_claim_and_attest_mint_a_badge_with_progress(env, keys, governed):
    claimed = commons(
        env,
        keys,
        "--json",
        "claim",
        "--indicator",
        str(governed["code"]),
        "--evidence",
        "https://git.example.org/mr/cli",
        who="carol",
    )
    answer = ok(claimed)
    claim_id = answer["created"]["claim_id"]
    assert answer["status"] == "succeeded" and answer["indexed"] is True
    progress = claimed.stderr.splitlines()
    assert progress[0] == f"… checking with the service as {address(CAROL)}"
    assert "… signing with the local key" in progress
    assert progress[-1].startswith("… mined in block ") and progress[-1].endswith(" and indexed")
    attested = ok(commons(env, keys, "--json", "attest", str(claim_id), who="dana"))
    assert attested["created"] == {"attestations": 1, "token_id": claim_id}
    assert env.api.get(f"/badges/{claim_id}")["owner"] == address(CAROL)
    # Text output for people.
    text = commons(env, keys, "profile", who="carol")
    assert text.returncode == 0 and text.stdout.startswith(f"{address(CAROL)}: score ")


def test_a_refusal_exits_1_with_the_problem(env, keys, governed):
    claim_id = cli_claim(env, keys, governed, "https://git.example.org/mr/self", who="bob")
    before = rpc(env.anvil.url, "eth_blockNumber")
    refused = commons(env, keys, "--json", "attest", str(claim_id), who="bob")
    assert refused.returncode == 1 and refused.stdout == ""
    error = json.loads(refused.stderr.splitlines()[-1])
    assert error["exit_code"] == 1 and error["problem"]["error"] == "BadgeSelfAttestation"
    assert error["problem"]["status"] == 409
    assert rpc(env.anvil.url, "eth_blockNumber") == before  # nothing was sent
    text = commons(env, keys, "attest", str(claim_id), who="bob")
    assert text.returncode == 1 and text.stderr.splitlines()[-1].startswith("commons: 409 ")


# The command line's language from the environment, as gettext reads it: only LANG set, to Spanish.
SPANISH = {"LANG": "es_ES.UTF-8", "LANGUAGE": None, "LC_ALL": None, "LC_MESSAGES": None}


def test_the_command_line_speaks_spanish_with_lang_es(env, keys, governed):
    """LANG=es_ES.UTF-8: progress, answers and usage errors in Spanish, and the service asked in
    Spanish, so its refusal comes back in Spanish too (Accept-Language); --lang en overrides it."""
    claimed = commons(
        env,
        keys,
        "claim",
        "--indicator",
        str(governed["code"]),
        "--evidence",
        "https://git.example.org/mr/es",
        who="bob",
        extra_env=SPANISH,
    )
    assert claimed.returncode == 0, claimed.stderr
    progress = claimed.stderr.splitlines()
    assert progress[0] == f"… comprobando con el servicio como {address(BOB)}"
    assert "… firmando con la clave local" in progress
    assert progress[-1].startswith("… registrada en el bloque ") and progress[-1].endswith(" e indexada")
    assert claimed.stdout.startswith("Solicitado: claim_id ") and "(transacción 0x" in claimed.stdout
    claim_id = int(claimed.stdout.split("claim_id ")[1].split(" ")[0])

    refused = commons(env, keys, "attest", str(claim_id), who="bob", extra_env=SPANISH)
    assert refused.returncode == 1 and refused.stdout == ""
    said = refused.stderr.splitlines()[-1]
    assert said.startswith(f"commons: 409 Conflicto: La solicitud {claim_id} es una contribución de "), said
    assert said.endswith("nadie avala su propia solicitud") and "BadgeSelfAttestation" not in said, said

    english = commons(env, keys, "--lang", "en", "attest", str(claim_id), who="bob", extra_env=SPANISH)
    assert english.stderr.splitlines()[-1].endswith("nobody endorses their own claim"), english.stderr

    usage = commons(env, keys, "vote", extra_env=SPANISH)
    assert usage.returncode == 2 and "Error: Falta el argumento 'PROPOSAL_ID'." in usage.stderr, usage.stderr
    helped = commons(env, keys, "attest", "--help", extra_env=SPANISH)
    assert "Avala una solicitud" in helped.stdout and "Muestra este mensaje y sale." in helped.stdout


def test_governance_round_through_the_command_line(env, keys, governed):
    action = json.dumps(
        {
            "type": "add_indicator",
            "name": "Translated a guide",
            "category": "translation",
            "orientation": "community",
            "weight": 2,
            "endorsements_required": 1,
        }
    )
    proposed = ok(
        commons(env, keys, "--json", "propose", "--description", "Translations count", "--action", action, who="alice")
    )
    proposal_id = proposed["created"]["proposal_id"]
    env.anvil.skip(2)
    for who in ("alice", "bob"):
        voted = ok(commons(env, keys, "--json", "vote", proposal_id, "for", "--reason", "from the terminal", who=who))
        assert voted["status"] == "succeeded"
    env.anvil.skip(301)
    listed = ok(commons(env, keys, "--json", "proposals", "--state", "succeeded"))
    assert proposal_id in [p["id"] for p in listed]
    executed = ok(commons(env, keys, "--json", "execute", proposal_id))  # no key needed
    indicator_id = executed["created"]["indicator_id"]
    shown = ok(commons(env, keys, "--json", "proposal", proposal_id))
    assert shown["state"] == "executed"
    assert [(v["voter"], v["reason"]) for v in shown["votes"]] == [
        (address(ALICE), "from the terminal"),
        (address(BOB), "from the terminal"),
    ]
    assert env.api.get(f"/indicators/{indicator_id}")["name"] == "Translated a guide"


def test_delegate_nominate_and_awaiting(env, keys, governed):
    ok(commons(env, keys, "--json", "delegate", address(BOB), who="carol"))
    assert env.api.get(f"/members/{address(CAROL)}")["delegate"] == address(BOB)
    ok(commons(env, keys, "--json", "delegate", address(CAROL), who="carol"))
    assert env.api.get(f"/members/{address(CAROL)}")["delegate"] == address(CAROL)
    nominated = ok(
        commons(
            env,
            keys,
            "--json",
            "nominate",
            address(CAROL),
            "--indicator",
            str(governed["mentoring"]),
            "--evidence",
            "https://forum.example.org/t/cli",
            who="dana",
        )
    )
    claim_id = nominated["created"]["claim_id"]
    waiting = ok(commons(env, keys, "--json", "awaiting", who="alice"))
    assert claim_id in [c["id"] for c in waiting["claims"]] and waiting["nominations"] == []
    carol = ok(commons(env, keys, "--json", "awaiting", who="carol"))
    assert claim_id not in [c["id"] for c in carol["claims"]]
    assert [c["id"] for c in carol["nominations"]] == [claim_id]  # hers to answer
    text = commons(env, keys, "awaiting", who="carol").stdout
    assert f"commons accept {claim_id}" in text


def refusal(result: subprocess.CompletedProcess) -> str:
    """The contract error a refused write names (its problem is the last line, after the progress)."""
    return json.loads(result.stderr.strip().splitlines()[-1])["problem"]["error"]


def test_accept_decline_disown_and_hide(env, keys, governed):
    def nominate_carol(uri):
        return ok(
            commons(
                env,
                keys,
                "--json",
                "nominate",
                address(CAROL),
                "--indicator",
                str(governed["code"]),
                "--evidence",
                uri,
                who="alice",
            )
        )["created"]["claim_id"]

    accepted = nominate_carol("https://git.example.org/mr/cli-accept")
    ok(commons(env, keys, "--json", "attest", str(accepted), who="bob"))  # enough, waiting for Carol
    assert env.api.get(f"/claims/{accepted}")["state"] == "open"
    answer = ok(commons(env, keys, "--json", "accept", str(accepted), who="carol"))
    assert answer["created"] == {"accepted_claim_id": accepted, "token_id": accepted}
    again = commons(env, keys, "--json", "accept", str(accepted), who="carol")
    assert again.returncode == 1
    assert refusal(again) == "BadgeNominationAlreadyAccepted"

    declined = nominate_carol("https://git.example.org/mr/cli-decline")
    assert ok(commons(env, keys, "--json", "decline", str(declined), who="carol"))["created"] == {
        "declined_claim_id": declined
    }
    assert env.api.get(f"/claims/{declined}")["state"] == "declined"

    refused = commons(env, keys, "--json", "disown", str(accepted), who="bob")  # not his
    assert refused.returncode == 1 and refusal(refused) == "BadgeNotHolder"
    ok(commons(env, keys, "--json", "disown", str(accepted), who="carol"))
    badge = env.api.get(f"/badges/{accepted}")
    assert badge["disowned_at"] is not None and badge["counts"] is False

    ok(commons(env, keys, "--json", "profile-visibility", "hidden", who="carol"))
    try:
        assert address(CAROL) not in [m["address"] for m in env.api.get("/members")["items"]]
        assert env.api.get(f"/members/{address(CAROL)}")["profile_hidden"] is True
    finally:
        ok(commons(env, keys, "--json", "profile-visibility", "shown", who="carol"))
    assert address(CAROL) in [m["address"] for m in env.api.get("/members")["items"]]


def test_export_and_credentials(env, keys, governed, tmp_path):
    claim_id = cli_claim(env, keys, governed, "https://git.example.org/mr/export", who="dana")
    ok(commons(env, keys, "--json", "attest", str(claim_id), who="alice"))
    target = tmp_path / "badges.csv"
    params = {"from": "2000-01-01", "to": "2099-12-31", "format": "csv"}
    ok(commons(env, keys, "export", "badges", "--from", "2000-01-01", "--to", "2099-12-31", "-o", str(target)))
    assert target.read_bytes() == env.api.http.get("/communities/example/exports/badges", params=params).content
    stdout = commons(env, keys, "export", "report", "--from", "2000-01-01", "--to", "2099-12-31", "--format", "json")
    assert json.loads(stdout.stdout)["community"] == "example"
    folder = tmp_path / "credentials"
    written = ok(
        commons(env, keys, "--json", "--community", "example", "credentials", "--dir", str(folder), who="dana")
    )
    assert written["holder"] == f"did:pkh:eip155:31337:{address(DANA)}"
    files = {w["token_id"]: Path(w["file"]) for w in written["files"]}
    assert claim_id in files and files[claim_id].name == f"example-badge-{claim_id}.jwt"
    now = int(rpc(env.anvil.url, "eth_getBlockByNumber", "latest", False)["timestamp"], 16)
    verified = verify_vc_jwt(files[claim_id].read_text(), env.api.http, now=now)
    assert verified.credential["credentialSubject"]["tokenId"] == claim_id


def test_ape_account(env, keys, tmp_path):
    """An ape account (~/.ape/accounts/<alias>.json is the same keystore format)."""
    accounts = tmp_path / "ape" / "accounts"
    accounts.mkdir(parents=True)
    (accounts / "carol.json").write_text(keys["files"]["carol"].read_text())
    answer = commons(
        env,
        keys,
        "--json",
        "--account",
        "carol",
        "account",
        "address",
        extra_env={"APE_DATA_FOLDER": str(tmp_path / "ape")},
    )
    assert ok(answer) == {"address": address(CAROL)}
    missing = commons(
        env,
        keys,
        "--json",
        "--account",
        "nobody",
        "account",
        "address",
        extra_env={"APE_DATA_FOLDER": str(tmp_path / "ape")},
    )
    assert missing.returncode == 4


@pytest.mark.parametrize("process", [True, False], ids=["console script", "in process"])
def test_exit_codes_for_usage_and_unavailable_service(env, keys, governed, process):
    """The exit codes scripts rely on, from the installed console script in a process of its own
    too: what the other tests read in process is what a shell sees."""
    no_indicator = commons(env, keys, "claim", "--evidence", "https://x.example", process=process)
    assert no_indicator.returncode == 2
    assert commons(env, keys, "vote", "1", "maybe", process=process).returncode == 2
    unsigned = commons(env, keys, "--json", "attest", "1", process=process)  # no keystore, no account
    assert unsigned.returncode == 2 and "--keystore" in json.loads(unsigned.stderr)["error"]
    down = commons(env, keys, "--json", "proposals", api="http://127.0.0.1:9", process=process)
    assert down.returncode == 3 and "unavailable" in json.loads(down.stderr)["error"]
    unknown = commons(env, keys, "--json", "proposal", "12345", process=process)
    assert unknown.returncode == 1 and json.loads(unknown.stderr)["problem"]["status"] == 404
    ok(commons(env, keys, "--json", "account", "address", who="carol", process=process))


def test_claim_and_nominate_credit_an_organisation(env, keys, governed):
    from tests.e2e.conftest import pass_proposal

    executed = pass_proposal(
        env,
        ALICE,
        "Register the CLI's sponsor",
        [{"type": "add_organisation", "name": "CLI Sponsor", "identifier": "cli.example.org"}],
    )
    organisation = executed["executed"]["created"]["organisation_id"]
    claimed = ok(
        commons(
            env,
            keys,
            "--json",
            "claim",
            "--indicator",
            str(governed["code"]),
            "--evidence",
            "https://git.example.org/mr/cli-sponsored",
            "--organisation",
            str(organisation),
            who="bob",
        )
    )
    nominated = ok(
        commons(
            env,
            keys,
            "--json",
            "nominate",
            address(CAROL),
            "--indicator",
            str(governed["code"]),
            "--evidence",
            "https://git.example.org/mr/cli-sponsored-2",
            "--organisation",
            str(organisation),
            who="bob",
        )
    )
    for answer in (claimed, nominated):
        assert env.api.get(f"/claims/{answer['created']['claim_id']}")["organisation_id"] == organisation
    plain = ok(
        commons(
            env,
            keys,
            "--json",
            "claim",
            "--indicator",
            str(governed["code"]),
            "--evidence",
            "https://git.example.org/mr/cli-unsponsored",
            who="bob",
        )
    )
    assert env.api.get(f"/claims/{plain['created']['claim_id']}")["organisation_id"] is None
    # Organisation 0 is no organisation: refused, not filed as a claim that credits none.
    before = rpc(env.anvil.url, "eth_blockNumber")
    for command in (["claim"], ["nominate", address(CAROL)]):
        refused = commons(
            env,
            keys,
            "--json",
            *command,
            "--indicator",
            str(governed["code"]),
            "--evidence",
            "https://git.example.org/mr/cli-organisation-0",
            "--organisation",
            "0",
            who="bob",
        )
        assert refused.returncode == 1 and refused.stdout == "", (refused.stdout, refused.stderr)
        assert json.loads(refused.stderr.splitlines()[-1])["problem"]["status"] == 422
    assert rpc(env.anvil.url, "eth_blockNumber") == before  # nothing was sent


def test_name_link_invite_join_and_withdraw(env, keys, governed, tmp_path):
    ok(commons(env, keys, "--json", "name", "Dana", who="dana"))
    ok(commons(env, keys, "--json", "link", "gitlab", "@dana", who="dana"))
    dana = env.api.get(f"/members/{address(DANA)}")
    assert dana["name"] == "Dana" and dana["linked_accounts"] == [{"site": "gitlab", "handle": "dana"}]

    invited = ok(commons(env, keys, "--json", "invite", "Robin", who="dana"))
    text = commons(env, keys, "invite", "Ari", who="dana").stdout
    assert "commons join 0x" in text and "commons nominate 0x" in text
    # Robin joins with a key of their own: the invitation is Dana's vouch, one of the two needed.
    robin = tmp_path / "robin.json"
    robin_key = Account.create()
    robin.write_text(json.dumps(Account.encrypt(robin_key.key, PASSWORD, kdf="scrypt", iterations=2**10)))
    joined = commons(env, keys, "--json", "join", invited["secret"], extra_env={"COMMONS_KEYSTORE": str(robin)})
    ok(joined)
    invitation = env.api.get(f"/invitations/{invited['invitation']}")
    assert (invitation["state"], invitation["account"]) == ("accepted", robin_key.address)
    [candidate] = [c for c in env.api.get("/admission")["candidates"] if c["address"] == robin_key.address]
    assert candidate["vouchers"] == [address(DANA)]
    members = [m["address"] for m in env.api.get("/members", limit=200)["items"]]
    assert candidate["vouches"] == 1 and robin_key.address not in members
    again = commons(env, keys, "--json", "join", invited["secret"], extra_env={"COMMONS_KEYSTORE": str(robin)})
    assert again.returncode == 1 and refusal(again) == "AdmissionInvitationClosed"

    ari = next(i for i in env.api.get("/invitations", inviter=address(DANA)) if i["name"] == "Ari")
    ok(commons(env, keys, "--json", "withdraw-invitation", ari["address"], who="dana"))
    assert env.api.get(f"/invitations/{ari['address']}")["state"] == "withdrawn"
