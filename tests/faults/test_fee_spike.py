"""The base fee raised tenfold in the middle of a burst of relayed claims, on a chain mining a
block every 0.5 s (the test's Miner), while the service keeps running.

The relayer signs each transaction with a max fee of twice the latest base fee plus the tip, so
the transactions waiting in the pool when the base fee jumps can no longer be included (Anvil
drops them from its pool when it builds the next block; a node that keeps them leaves them
pending). After `relay_replace_after_blocks` blocks the relayer signs the same transaction again,
same nonce, fees at least 12.5% higher and at today's market, and that version is mined.

With `CC_RELAY_MAX_FEE_PER_GAS` below the spiked base fee, the relayer cannot pay what inclusion
needs: it pauses sending, says why at GET .../relayer, signs nothing meanwhile and never a fee
over its cap; once the base fee falls again it resumes by itself and everything lands.

Both check against the chain's own ClaimSubmitted logs: every write exactly once."""

from __future__ import annotations

import itertools
import time

from eth_account import Account

from backend.chain.deployments import Deployments
from backend.client import CommunityClient
from backend.settings import ANVIL_DEV_KEYS
from devstack.stack import rpc, wait_until
from tests.e2e.conftest import ALICE, BOB, CAROL, DANA
from tests.faults.conftest import (
    Beside,
    Counter,
    Miner,
    Writer,
    chain_claims,
    chain_from,
    relay_batches,
    retry_reasons,
    server_for,
    signed_versions,
    tally,
    write_all,
)

MEMBERS = (ALICE, BOB, CAROL, DANA)
GWEI = 10**9
BASE = 1 * GWEI  # held through the burst; Anvil's tip is 1 gwei: the relayer's max fee is 3 gwei
SPIKE = 10 * BASE
RELAYER = Account.from_key(ANVIL_DEV_KEYS[0]).address


def _cap(paused: str | None) -> bool:
    return paused is not None and "cap" in paused


def _uris(writers: list[Writer], kind: str, per_member: int) -> dict[str, list[str]]:
    return {w.key: [f"https://fault.example/{kind}/{i}/{j}" for j in range(per_member)] for i, w in enumerate(writers)}


def _check_on_chain(anvil_url: str, community, uris: dict[str, list[str]], writers: list[Writer], prefix: str):
    """Every write on chain exactly once; every request the writers had accepted succeeded."""
    expected = {uri for group in uris.values() for uri in group}
    lost, duplicated, _ = tally(chain_claims(anvil_url, Deployments.load(community.deployments)), expected, prefix)
    assert not lost and not duplicated, (lost, duplicated)
    states = {writers[0].api.get(f"/requests/{i}")["state"] for w in writers for _, i in w.accepted}
    assert states == {"succeeded"}, states  # nothing failed (it would have been signed again)
    return lost, duplicated


def test_base_fee_spike_stuck_transactions_are_replaced(community, tmp_path):
    per_member = 20
    anvil = chain_from(community, tmp_path, "--no-mining")
    server = server_for(anvil, community, tmp_path)
    try:
        with Miner(anvil.url, BASE) as miner:
            server.start()
            confirmed = Counter()
            writers = [Writer(server.url, key, confirmed) for key in MEMBERS]
            uris = _uris(writers, "spike", per_member)
            spike: dict = {}

            def raise_fee(fault: Beside) -> None:
                fault.until(lambda: confirmed.value >= 25)
                # The relayer's waiting transactions (max fee 3 gwei) can no longer be included.
                spike["waiting"] = miner.when_waiting(RELAYER, lambda: miner.set(SPIKE))
                spike["at"] = confirmed.value
                try:
                    time.sleep(3)  # six blocks: replaced after three
                finally:
                    miner.set(BASE)

            with Beside(raise_fee):
                burst = write_all(writers, uris)

        lost, duplicated = _check_on_chain(anvil.url, community, uris, writers, "https://fault.example/spike/")
        batches = relay_batches(f"sqlite:///{tmp_path / 'index.sqlite3'}")
        replaced = [b for b in batches if len(b["attempts"]) > 1]
        assert replaced, "no transaction was replaced"
        for batch in replaced:
            versions = [a["max_fee"] for a in batch["attempts"]]
            assert all(later >= earlier * 9 // 8 + 1 for earlier, later in itertools.pairwise(versions)), versions
        # A replacement is what got through: the version mined is a later one than the first.
        mined_late = [b for b in replaced if b["state"] == "mined" and b["tx_hash"] != b["attempts"][0]["hash"].lower()]
        assert mined_late, replaced
        for batch in batches:
            if batch["state"] == "mined":
                assert rpc(anvil.url, "eth_getTransactionReceipt", batch["tx_hash"])["status"] == "0x1"
        assert rpc(anvil.url, "eth_getTransactionCount", RELAYER, "pending") == rpc(
            anvil.url, "eth_getTransactionCount", RELAYER, "latest"
        )
        fees = sorted({a["max_fee"] for b in replaced for a in b["attempts"]})
        reasons = retry_reasons(writers)
        print(
            f"\nfee spike: {per_member * len(MEMBERS)} writes, {confirmed.value} confirmed, base fee "
            f"{BASE // GWEI} -> {SPIKE // GWEI} gwei for 3 s after {spike['at']} with {spike['waiting']} relayer "
            f"transaction(s) waiting; {len(batches)} transactions, {len(replaced)} replaced "
            f"({len(mined_late)} mined as a replacement, {signed_versions(replaced)} signed versions, max fees "
            f"{[round(f / GWEI, 2) for f in fees]} gwei), "
            f"{sum(b['state'] == 'dropped' for b in batches)} dropped and resent; retries {sum(reasons.values())} "
            f"{reasons}; {len(lost)} lost, {len(duplicated)} duplicated; burst {burst:.1f} s"
        )
    finally:
        server.stop()
        anvil.stop()


def test_fee_over_the_cap_pauses_sending_until_it_falls(community, tmp_path):
    per_member = 12
    cap = 5 * GWEI  # above the 3 gwei the relayer pays at BASE, below the spiked base fee
    anvil = chain_from(community, tmp_path, "--no-mining")
    server = server_for(anvil, community, tmp_path, CC_RELAY_MAX_FEE_PER_GAS=str(cap))
    outbox = f"sqlite:///{tmp_path / 'index.sqlite3'}"
    try:
        with Miner(anvil.url, BASE) as miner:
            server.start()
            api = CommunityClient(server.url)
            confirmed = Counter()
            writers = [Writer(server.url, key, confirmed) for key in MEMBERS]
            uris = _uris(writers, "cap", per_member)
            seen: dict = {}

            def over_the_cap(fault: Beside) -> None:
                fault.until(lambda: confirmed.value >= 12)
                seen["waiting"] = miner.when_waiting(RELAYER, lambda: miner.set(SPIKE))
                seen["at"] = confirmed.value
                try:
                    wait_until(lambda: _cap(api.get("/relayer")["paused"]), timeout=15, what="paused for the cap")
                    seen["paused"] = api.get("/relayer")["paused"]
                    signed = signed_versions(relay_batches(outbox))
                    nonce = int(rpc(anvil.url, "eth_getTransactionCount", RELAYER, "latest"), 16)
                    samples = []
                    for _ in range(15):  # 3 s, six blocks: it stays paused, and signs and sends nothing
                        time.sleep(0.2)
                        samples.append(api.get("/relayer")["paused"])
                    seen["samples"] = samples
                    seen["signed while paused"] = signed_versions(relay_batches(outbox)) - signed
                    seen["mined while paused"] = (
                        int(rpc(anvil.url, "eth_getTransactionCount", RELAYER, "latest"), 16) - nonce
                    )
                    seen["in flight"] = api.get("/relayer")["in_flight"]
                finally:
                    miner.set(BASE)

            with Beside(over_the_cap):
                burst = write_all(writers, uris)

        assert all(_cap(s) for s in seen["samples"]), seen["samples"]
        assert seen["in flight"] > 0  # requests waited, accepted, while it was paused
        assert seen["signed while paused"] == 0 and seen["mined while paused"] == 0, seen
        lost, duplicated = _check_on_chain(anvil.url, community, uris, writers, "https://fault.example/cap/")
        # Never a fee over the cap: not signed, not mined.
        batches = relay_batches(outbox)
        over = [a for b in batches for a in b["attempts"] if a["max_fee"] > cap]
        assert not over, over
        for batch in batches:
            if batch["state"] == "mined":
                tx = rpc(anvil.url, "eth_getTransactionByHash", batch["tx_hash"])
                assert int(tx["maxFeePerGas"], 16) <= cap, tx
        wait_until(lambda: api.get("/relayer")["paused"] is None, timeout=10, what="resumed")
        reasons = retry_reasons(writers)
        print(
            f"\nfee over the cap: {per_member * len(MEMBERS)} writes, {confirmed.value} confirmed; base fee "
            f"{BASE // GWEI} -> {SPIKE // GWEI} gwei over the {cap // GWEI} gwei cap after {seen['at']} with "
            f"{seen['waiting']} relayer transaction(s) waiting; paused ({seen['paused']!r}) with "
            f"{seen['in flight']} in flight, {seen['signed while paused']} signed and {seen['mined while paused']} "
            f"mined while paused; resumed; {len(batches)} transactions "
            f"({sum(b['state'] == 'dropped' for b in batches)} dropped and resent, "
            f"{sum(len(b['attempts']) > 1 for b in batches)} replaced, highest max fee "
            f"{max(a['max_fee'] for b in batches for a in b['attempts']) / GWEI:.2f} gwei); retries "
            f"{sum(reasons.values())} {reasons}; {len(lost)} lost, {len(duplicated)} duplicated; burst {burst:.1f} s"
        )
    finally:
        server.stop()
        anvil.stop()
