"""A local chain restarted without its state (and the community deployed again at the same
addresses) must not leave the index describing blocks that no longer exist."""

from __future__ import annotations

from backend.client import CommunityClient
from tests.e2e.conftest import ALICE, BOB, address
from tests.e2e.harness import deploy, local_stack, wait_until


def test_index_rebuilds_when_the_chain_under_it_was_reset(tmp_path):
    with local_stack(tmp_path) as stack:
        anvil, api = stack.anvil, CommunityClient(stack.server.url)
        api.act("delegations", ALICE, delegatee=address(BOB))
        assert api.get(f"/members/{address(ALICE)}")["delegate"] == address(BOB)
        for _ in range(5):  # push the cursor past what the fresh chain will have after its deploy
            anvil.skip(1)

        # The chain is thrown away and the community deployed again: same addresses, new history.
        anvil.stop()
        anvil.state.unlink()
        anvil.start()
        deploy(anvil, tmp_path / "deployments")

        wait_until(lambda: api.get(f"/members/{address(ALICE)}")["delegate"] == address(ALICE),
                   what="the index to forget the old chain's delegation")
        health = api.get("/health")
        assert health["indexed_block"] <= health["head_block"]
        assert api.get(f"/members/{address(BOB)}")["votes"] == 1
