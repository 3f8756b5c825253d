"""The relayer drained in the middle of a burst of relayed claims from three members (its balance set
to a millionth of an ether, less than any of its transactions may cost), then funded again, while
the service keeps running.

The transactions it had waiting in the pool can no longer be paid for (Anvil drops them when it
builds the next block; the test mines its own blocks, so that the drain meets some for certain).
Sending pauses, GET .../relayer says it is for funds, and the relayer signs and sends nothing it
cannot pay for: no new transaction, no replacement at ever higher fees. The service keeps accepting:
a fourth member's claim made during the pause is accepted into the outbox, and so is her second,
prepared with the nonce after the first and simulated behind it (the node holds neither). Funded
again, it resumes by itself (no restart) and every accepted request ends succeeded, on chain exactly
once, checked against the chain's own ClaimSubmitted logs."""

from __future__ import annotations

import time

from eth_account import Account

from backend.chain.deployments import Deployments
from backend.client import CommunityClient
from backend.settings import ANVIL_DEV_KEYS
from devstack.stack import rpc, wait_until
from tests.e2e.conftest import ALICE, BOB, CAROL, DANA
from tests.faults.conftest import (
    INDICATOR,
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

PER_MEMBER = 20
MEMBERS = (ALICE, BOB, CAROL)  # the writers; Dana comes during the pause
RELAYER = Account.from_key(ANVIL_DEV_KEYS[0]).address
TINY = 10**12  # wei: a relayed claim's transaction costs about 10^14 at the least
PREFIX = "https://fault.example/drained/"


def _funds(paused: str | None) -> bool:
    return paused is not None and "fund" in paused


def test_relayer_drained_mid_burst_pauses_then_resumes_once_funded(community, tmp_path):
    anvil = chain_from(community, tmp_path, "--no-mining")
    server = server_for(anvil, community, tmp_path)
    outbox = f"sqlite:///{tmp_path / 'index.sqlite3'}"
    miner = Miner(anvil.url)  # a block every 0.5 s; the drain meets the relayer's waiting transactions
    try:
        miner.start()
        server.start()
        pid = server.process.pid
        api = CommunityClient(server.url)
        confirmed = Counter()
        writers = [Writer(server.url, key, confirmed) for key in MEMBERS]
        uris = {w.key: [f"{PREFIX}{i}/{j}" for j in range(PER_MEMBER)] for i, w in enumerate(writers)}
        seen: dict = {}
        dana = Writer(server.url, DANA, Counter())
        behind: dict = {}  # Dana's two claims made during the pause: (status, nonce) of each

        def drain(fault: Beside) -> None:
            fault.until(lambda: confirmed.value >= 20)
            funded = rpc(anvil.url, "eth_getBalance", RELAYER, "latest")
            seen["waiting"] = miner.when_waiting(
                RELAYER, lambda: rpc(anvil.url, "anvil_setBalance", RELAYER, hex(TINY))
            )
            seen["at"], drained = confirmed.value, time.monotonic()
            try:
                wait_until(lambda: _funds(api.get("/relayer")["paused"]), timeout=15, what="paused for funds")
                seen["noticed after"] = time.monotonic() - drained
                seen["paused"] = api.get("/relayer")["paused"]
                signed = signed_versions(relay_batches(outbox))
                nonce = int(rpc(anvil.url, "eth_getTransactionCount", RELAYER, "latest"), 16)
                # The service keeps accepting: Dana's first claim goes into the outbox, and her
                # second, judged behind the first (which the node does not hold), with the nonce after it.
                for n in range(2):
                    typed = dana.api.prepare(
                        "claims", signer=dana.signer, indicator_id=INDICATOR, evidence_uri=f"{PREFIX}dana/{n}"
                    )["typed_data"]
                    answer = dana.api.http.post(
                        "/claims",
                        params={"wait": "false"},
                        json={"typed_data": typed, "signature": dana.api.sign(DANA, typed)},
                    )
                    behind.setdefault("answers", []).append((answer.status_code, typed["message"]["nonce"]))
                    if answer.status_code == 202:
                        dana.accepted.append((time.monotonic(), answer.json()["request_id"]))
                samples = []
                for _ in range(15):  # 3 s more, six blocks: paused all along, nothing signed or sent
                    time.sleep(0.2)
                    samples.append(api.get("/relayer")["paused"])
                seen["samples"] = samples
                seen["signed while paused"] = signed_versions(relay_batches(outbox)) - signed
                seen["mined while paused"] = (
                    int(rpc(anvil.url, "eth_getTransactionCount", RELAYER, "latest"), 16) - nonce
                )
                relayer = api.get("/relayer")
                seen["in flight"], seen["balance"] = relayer["in_flight"], relayer["balance_wei"]
            finally:
                rpc(anvil.url, "anvil_setBalance", RELAYER, funded)
                seen["drained for"] = time.monotonic() - drained

        with Beside(drain):
            burst = write_all(writers, uris)

        assert seen["waiting"] >= 1  # the drain met transactions waiting in the pool
        assert all(_funds(s) for s in seen["samples"]), seen["samples"]
        assert seen["signed while paused"] == 0 and seen["mined while paused"] == 0, seen
        assert seen["balance"] == TINY
        assert seen["in flight"] >= 2 + len(MEMBERS)  # Dana's two, and each writer's, waited in the outbox
        (first, first_nonce), (second, second_nonce) = behind["answers"]
        assert first == second == 202 and second_nonce == first_nonce + 1, behind["answers"]
        for _, request_id in dana.accepted:
            assert dana.poll(request_id)["status"] == "succeeded"
        # Resumed by itself, in the same process: every request accepted succeeded.
        assert server.process.poll() is None and server.process.pid == pid
        accepted = [i for w in [*writers, dana] for _, i in w.accepted]
        states = {api.get(f"/requests/{i}")["state"] for i in accepted}
        assert states == {"succeeded"}, states
        expected = {uri for group in uris.values() for uri in group} | {f"{PREFIX}dana/0", f"{PREFIX}dana/1"}
        lost, duplicated, _ = tally(chain_claims(anvil.url, Deployments.load(community.deployments)), expected, PREFIX)
        assert not lost and not duplicated, (lost, duplicated)
        wait_until(lambda: api.get("/relayer")["paused"] is None, timeout=10, what="resumed")
        assert rpc(anvil.url, "eth_getTransactionCount", RELAYER, "pending") == rpc(
            anvil.url, "eth_getTransactionCount", RELAYER, "latest"
        )
        batches = relay_batches(outbox)
        reasons = retry_reasons(writers)
        print(
            f"\nrelayer drained: {len(expected)} writes, {len(accepted)} accepted, all succeeded (two of one "
            f"member accepted while paused, the second judged behind the first); drained to {TINY} wei after "
            f"{seen['at']} with {seen['waiting']} relayer transaction(s) waiting, paused "
            f"{seen['noticed after']:.1f} s later ({seen['paused']!r}), "
            f"{seen['in flight']} in flight, {seen['signed while paused']} signed and {seen['mined while paused']} "
            f"mined while paused, funded again after {seen['drained for']:.1f} s; {len(batches)} transactions "
            f"({sum(b['state'] == 'dropped' for b in batches)} dropped and resent, "
            f"{sum(len(b['attempts']) > 1 for b in batches)} replaced); retries {sum(reasons.values())} {reasons}; "
            f"{len(lost)} lost, {len(duplicated)} duplicated; burst {burst:.1f} s"
        )
    finally:
        server.stop()
        miner.stop()
        anvil.stop()
