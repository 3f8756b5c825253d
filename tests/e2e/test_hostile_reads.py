"""Whatever a member puts on chain, every read that shows it answers (issue 20, item 6).

An indicator whose name, description URI and category hold bytes that are not UTF-8 and
characters that break JSON, HTML or a script (quotes, backslashes, control characters, U+2028,
`</script>`) is added by a proposal sent straight to the Governor from a member's own key; a
badge is earned under it. Then every read of the API and every page of the web app that shows the
indicator, the claim or the badge is asked for, over one kept-alive connection as a browser asks:
none answers 500, the connection is never dropped, and the contract's tokenURI (whose JSON carries
the name as the member put it) reads as the index shows it.
"""

from __future__ import annotations

import json

import pytest
from eth_abi import encode
from markupsafe import escape

from backend.chain.deployments import Deployments
from devstack.stack import KeptAlive, rpc
from tests.e2e.conftest import ALICE, BOB, CAROL, address
from tests.e2e.test_hostile_index import Chain

R = "\ufffd"
# IndicatorInput: name, description URI, category, orientation, weight, endorsements, validity,
# and the fair-play rules (endorser indicator, earn cap, attest cap, cap period), all off.
INDICATOR_FIELDS = "(bytes,bytes,bytes,uint8,uint32,uint16,uint32,uint32,uint16,uint16,uint32)"
NAME = b'Q"t\\b\x00\x01\x1f\x7f \xff\xfe\xc3( \xed\xa0\x80 \xe2\x80\xa8 </script><b>&'  # at most 64 bytes
DESCRIPTION_URI = b'ipfs://"\\\x00\xff</script>\x08\x0c'
CATEGORY = b'cat"\\\x08\x0c\n\r\t\xff\xfe{"}'
ALL_TIME = "from=2000-01-01&to=2099-12-31"
EXPORTS = ("badges", "attestations", "indicator-versions", "proposals", "votes")


@pytest.fixture
def chain(env) -> Chain:
    return Chain(env.anvil.url, Deployments.load(env.deployments))


@pytest.fixture
def hostile(env, governed, chain) -> dict:
    """The hostile indicator, added by a proposal straight to the Governor, and a badge of Carol's under it."""
    api = env.api
    add = chain.deployments.abis["registry"].function("addIndicator")
    calldata = add.selector + encode([INDICATOR_FIELDS], [(NAME, DESCRIPTION_URI, CATEGORY, 1, 2, 1, 0, 0, 0, 0, 0)])
    receipt = chain.send(
        ALICE,
        "governor",
        "propose",
        [chain.address("registry")],
        [0],
        [calldata],
        b'An indicator "\xff\\\x00 named badly',
    )
    proposal_id = chain.event(receipt, "governor", "ProposalCreated")[1]["proposalId"]
    env.anvil.skip(2)
    for voter in (ALICE, BOB):
        api.act("votes", voter, proposal_id=str(proposal_id), support="for", reason="yes")
    env.anvil.skip(301)
    executed = api.execute(str(proposal_id))
    defined = chain.event(
        rpc(env.anvil.url, "eth_getTransactionReceipt", executed["tx_hash"]), "registry", "IndicatorDefined"
    )[1]
    claim = api.act(
        "claims", CAROL, indicator_id=defined["indicatorId"], evidence_uri='https://x.example/"q\\b</a><script>'
    )["created"]["claim_id"]
    token_id = api.act("attestations", BOB, claim_id=claim)["created"]["token_id"]
    return {"proposal": proposal_id, "indicator": defined["indicatorId"], "claim": claim, "token": token_id}


def _reads(hostile: dict) -> list[str]:
    """Every API read and web page that shows the indicator, its claim or its badge."""
    i, c, t, p, carol = hostile["indicator"], hostile["claim"], hostile["token"], hostile["proposal"], address(CAROL)
    api = "/communities/example"
    reads = [
        f"{api}/indicators?limit=500",
        f"{api}/indicators/{i}",
        f"{api}/claims?indicator_id={i}",
        f"{api}/claims?contributor={carol}&limit=500",
        f"{api}/claims/{c}",
        f"{api}/badges?owner={carol}",
        f"{api}/badges?limit=500",
        f"{api}/badges/{t}",
        f"{api}/badges/{t}/metadata",
        f"{api}/badges/{t}/credential",
        f"{api}/badges/{t}/credential.jwt",
        f"{api}/members/{carol}/profile",
        f"{api}/members/{carol}/profile/history",
        f"{api}/members/{carol}/credentials",
        f"{api}/proposals?limit=200",
        f"{api}/proposals/{p}",
        f"{api}/claims/awaiting?attester={address(ALICE)}",
        f"{api}/reports?{ALL_TIME}",
        f"{api}/reports?{ALL_TIME}&format=csv",
    ]
    reads += [f"{api}/exports/{table}?{ALL_TIME}&format={fmt}" for table in EXPORTS for fmt in ("json", "csv")]
    web = "/c/example"
    pages = [
        web,
        f"{web}/indicators",
        f"{web}/indicators/{i}",
        f"{web}/claim",
        f"{web}/claim?indicator={i}",
        f"{web}/claims",
        f"{web}/claims/{c}",
        f"{web}/badges/{t}",
        f"{web}/members/{carol}",
        f"{web}/propose",
        f"{web}/proposals",
        f"{web}/proposals/{p}",
        f"{web}/awaiting?member={address(ALICE)}",
        f"{web}/report?{ALL_TIME}",
        f"{web}/report",
    ]
    return reads + pages


def test_every_read_of_a_hostile_indicator_answers_on_one_connection(env, hostile):
    connection = KeptAlive(env.server.url)
    try:
        answers = {path: connection.get(path) for path in _reads(hostile)}
    finally:
        connection.close()
    failed = {path: (status, body[:300]) for path, (status, _, body) in answers.items() if status != 200}
    assert failed == {}

    indicator = json.loads(answers[f"/communities/example/indicators/{hostile['indicator']}"][2])
    assert (indicator["name_raw"], indicator["description_uri_raw"], indicator["category_raw"]) == (
        "0x" + NAME.hex(),
        "0x" + DESCRIPTION_URI.hex(),
        "0x" + CATEGORY.hex(),
    )
    name = indicator["name"]
    assert name.startswith(f'Q"t\\b{R}{R}{R}{R} {R}{R}{R}(') and "\x00" not in name

    # The tokenURI's JSON carries the name as the member put it (escaped for JSON, its bytes as
    # they are): read leniently, it says what the index says.
    metadata = json.loads(answers[f"/communities/example/badges/{hostile['token']}/metadata"][2])
    assert metadata["token_uri"].startswith("data:application/json;base64,")
    assert (metadata["name"], metadata["indicator"]["name"]) == (f"{name} #{hostile['token']}", name)
    assert (metadata["indicator"]["id"], metadata["contributor"].lower()) == (
        hostile["indicator"],
        address(CAROL).lower(),
    )
    assert metadata["weight"] == 2 and metadata["active"] is True

    # The pages show it as text, escaped: never a tag or a script of the member's.
    badge_page = answers[f"/c/example/badges/{hostile['token']}"][2]
    assert str(escape(name)) in badge_page and "could not be read from the chain" not in badge_page
    assert f"{escape(name)} #{hostile['token']}" in badge_page  # the metadata's own name, beside the index's
    for path, (_, kind, body) in answers.items():
        if kind.startswith("text/html"):
            assert "<b>&" not in body and 'href="https://x.example/"q' not in body, path
