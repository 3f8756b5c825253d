"""A local chain restarted without its state (and the community deployed again at the same
addresses) must not leave the index describing blocks that no longer exist. The relayer's
outbox notices that the transaction carrying a request is gone with its block, and sends the
same signed request again once the community is deployed there again (same chain id, same
forwarder, the member's nonce unused there), so the write is not lost."""

from __future__ import annotations

from backend.client import ApiError, CommunityClient
from devstack.stack import deploy, local_stack, rpc, wait_until
from tests.e2e.conftest import ALICE, BOB, address


def test_index_rebuilds_when_the_chain_under_it_was_reset(tmp_path):
    with local_stack(tmp_path) as stack:
        anvil, api = stack.anvil, CommunityClient(stack.server.url)
        delegated = api.act("delegations", ALICE, delegatee=address(BOB))
        assert api.get(f"/members/{address(ALICE)}")["delegate"] == address(BOB)
        for _ in range(5):  # push the cursor past what the fresh chain will have after its deploy
            anvil.skip(1)

        # The chain is thrown away and the community deployed again: same addresses, new history.
        anvil.stop()
        anvil.state.unlink()
        anvil.start()
        deploy(anvil, tmp_path / "deployments")

        def sent_again_and_indexed() -> bool:
            try:
                status = api.get(f"/requests/{delegated['request_id']}")
                member = api.get(f"/members/{address(ALICE)}")
            except ApiError:  # the index is being rebuilt
                return False
            return (
                status["state"] == "succeeded"
                and status["tx_hash"] != delegated["tx_hash"]
                and member["delegate"] == address(BOB)
            )

        # The relayer waits for the contracts to be there again (it never calls an empty address,
        # which would also spend the deployer's nonces on a development chain), then sends.
        wait_until(sent_again_and_indexed, timeout=30, what="the request sent again on the new chain, and indexed")
        status = api.get(f"/requests/{delegated['request_id']}")
        assert rpc(anvil.url, "eth_getTransactionReceipt", status["tx_hash"])["status"] == "0x1"
        health = api.get("/health")
        assert health["indexed_block"] <= health["head_block"]
        assert api.get(f"/members/{address(BOB)}")["votes"] == 2
