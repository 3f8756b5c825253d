"""Walk the full scenario through the HTTP API, printing each step.

    python scripts/demo.py [--api http://127.0.0.1:8000] [--rpc http://127.0.0.1:8545] [--community SLUG]

Needs a running service (`make run` in another terminal) over a deployed community whose
founders are Alice, Bob and Carol, Anvil dev accounts 1-3 (communities/example.json); Dana is
account 4. On a local chain the voting period is skipped with evm_increaseTime/evm_mine, and
the demo says so; elsewhere it waits.
Plain Python (httpx + eth-account), no ape: it is a client like any other.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import httpx
from eth_account import Account

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.client import ApiError, CommunityClient
from backend.settings import ANVIL_DEV_KEYS, LOCAL_CHAIN_IDS

ALICE, BOB, CAROL, DANA = (ANVIL_DEV_KEYS[i] for i in (1, 2, 3, 4))
NAMES = {Account.from_key(k).address: n for k, n in zip((ALICE, BOB, CAROL, DANA), ("Alice", "Bob", "Carol", "Dana"))}


def step(text: str) -> None:
    print(f"\n==> {text}", flush=True)


def skip_time(rpc: str, chain_id: int, seconds: int) -> None:
    """Let `seconds` of chain time pass: instantly on a local chain, by waiting elsewhere."""
    if chain_id in LOCAL_CHAIN_IDS:
        print(f"    (local chain: skipping {seconds} s of chain time with evm_increaseTime + evm_mine)")
        for method, params in (("evm_increaseTime", [seconds]), ("evm_mine", [])):
            httpx.post(rpc, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).raise_for_status()
    else:
        print(f"    waiting {seconds} s of voting period")
        time.sleep(seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    # The same ports as `make run`'s: API_PORT and RPC_PORT, when set.
    parser.add_argument("--api", default=f"http://127.0.0.1:{os.environ.get('API_PORT') or 8000}")
    parser.add_argument("--rpc", default=f"http://127.0.0.1:{os.environ.get('RPC_PORT') or 8545}")
    parser.add_argument("--community", default=None, help="slug; omit when the service serves one community")
    args = parser.parse_args()
    api = CommunityClient(args.api, args.community)

    step("The community")
    health = api.http.get("/health").json()
    communities = api.http.get("/communities").json()
    community = next(c for c in communities if args.community in (None, c["slug"]))
    if args.community is None and len(communities) > 1:
        api = CommunityClient(args.api, community["slug"])
    print(f"    {community['name']} on chain {health['chain_id']}, head block {health['head_block']}")
    members = api.get("/members")["items"]
    print(f"    founders: {', '.join(NAMES.get(m['address'], m['address']) for m in members)}")
    params = community["parameters"]
    voting_period = params.get("voting_period_seconds", 300)
    delay = params.get("voting_delay_seconds", 1)

    step("Alice proposes 'Mentoring a newcomer' as a community-oriented indicator, and admitting Dana")
    indicator = {
        "type": "add_indicator",
        "name": "Mentoring a newcomer",
        "description_uri": "https://example.org/indicators/mentoring",
        "category": "mentoring",
        "orientation": "community",
        "weight": 5,
        "endorsements_required": 2,
        "validity_seconds": 0,
    }
    dana = Account.from_key(DANA).address
    stamp = int(time.time())
    p1 = api.act("proposals", ALICE, description=f"Value mentoring newcomers ({stamp})", actions=[indicator])
    proposals = [p1]
    known = api.http.get(f"/members/{dana}")
    if known.status_code == 200 and known.json()["active"]:
        print("    (Dana is already a member from an earlier run: no admission proposal this time)")
    else:
        proposals.append(
            api.act(
                "proposals",
                ALICE,
                description=f"Admit Dana ({stamp})",
                actions=[{"type": "admit_member", "account": dana}],
            )
        )
    for p in proposals:
        print(
            f"    proposal {p['created']['proposal_id'][:12]}… in tx {p['tx_hash'][:12]}… (block {p['block_number']})"
        )

    skip_time(args.rpc, health["chain_id"], delay + 1)

    step("Alice and Bob vote for, Carol abstains")
    for key, support in ((ALICE, "for"), (BOB, "for"), (CAROL, "abstain")):
        for p in proposals:
            api.act(
                "votes",
                key,
                proposal_id=p["created"]["proposal_id"],
                support=support,
                reason="mentoring is how this community grows",
            )
        print(f"    {NAMES[Account.from_key(key).address]} voted {support}")
    state = api.get(f"/proposals/{p1['created']['proposal_id']}")
    print(f"    tallies {state['tallies']}, quorum {state['quorum']}, state {state['state']}")

    skip_time(args.rpc, health["chain_id"], voting_period + 1)

    step("The proposals passed: anyone executes them (no signature needed)")
    for p in proposals:
        print(f"    state before: {api.get('/proposals/' + p['created']['proposal_id'])['state']}")
        done = api.execute(p["created"]["proposal_id"])
        print(f"    executed in tx {done['tx_hash'][:12]}…, created {done['created']}")
    indicator_id = max(i["id"] for i in api.get("/indicators")["items"])
    shown = api.get(f"/indicators/{indicator_id}")
    print(
        f"    indicator {indicator_id}: {shown['name']} ({shown['orientation']}, weight {shown['weight']}, "
        f"{shown['endorsements_required']} endorsements)"
    )
    print(f"    Dana is a member: {api.get(f'/members/{dana}')['active']}")

    step("Alice nominates Dana for mentoring a newcomer")
    claim = api.act(
        "claims",
        ALICE,
        indicator_id=indicator_id,
        contributor=dana,
        evidence_uri="https://example.org/forum/t/first-patch-merged/42",
    )
    claim_id = claim["created"]["claim_id"]
    print(f"    claim {claim_id} in tx {claim['tx_hash'][:12]}…")

    step("Bob and Carol attest (while the nomination waits for Dana's consent)")
    for key in (BOB, CAROL):
        result = api.act("attestations", key, claim_id=claim_id)
        print(f"    {NAMES[Account.from_key(key).address]} attested: {result['created']}")
    print(f"    nomination: {api.get(f'/claims/{claim_id}')['nomination_state']}, no badge until Dana accepts")

    step("Dana accepts the nomination: the badge is minted then")
    accepted = api.act("nomination-answers", DANA, claim_id=claim_id, answer="accept")
    print(f"    accepted in tx {accepted['tx_hash'][:12]}…, created {accepted['created']}")

    step("The badge")
    badge = api.get(f"/badges/{claim_id}")
    print(
        f"    token {badge['token_id']} to {NAMES[badge['owner']]}: {badge['indicator_name']}, "
        f"weight {badge['weight']}, counts now: {badge['counts']}"
    )

    step("Dana's contribution profile")
    profile = api.get(f"/members/{dana}/profile")
    print(
        json.dumps({k: profile[k] for k in ("total_score", "by_category", "by_orientation", "by_indicator")}, indent=2)
    )
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ApiError as exc:
        print(f"\nThe API refused a step: {exc}\n{json.dumps(exc.problem, indent=2)}", file=sys.stderr)
        sys.exit(1)
    except httpx.ConnectError as exc:
        ports = " ".join(f"{name}={os.environ[name]}" for name in ("RPC_PORT", "API_PORT") if os.environ.get(name))
        url = str(exc.request.url.copy_with(path="/")) if getattr(exc, "_request", None) else "the API address"
        print(
            f"\nCannot reach the service at {url} ({exc}). Start it in another terminal with:  "
            f"{ports + ' ' if ports else ''}make run\n(then run `{ports + ' ' if ports else ''}make demo` again)",
            file=sys.stderr,
        )
        sys.exit(1)
