"""A move of the records to version 2 through the community's own governance (a proposal, the
timelock, execution), on Anvil and the in-process EVM: a whole contribution in version 2 stays
within the gas budget, as in version 1; carrying costs what the carrier pays, not the members.
The forge suites (forge-tests/Versions.t.sol, the invariant suite) try random histories and every
hostile move."""

from __future__ import annotations

import ape

from tests.contracts.test_fair_play import EVIDENCE_HASH, EVIDENCE_URI, GAS_BUDGET, assert_every_rule_off, earn

CARRIED_PER_BATCH = 10


def version_2(project, badge, deployer):
    return deployer.deploy(
        project.ContributionBadgeV2,
        badge.name(),
        badge.symbol(),
        badge.membership(),
        badge.registry(),
        badge.trustedForwarder(),
        badge.owner(),
        badge.metadata(),
        badge.address,
    )


def test_the_move_by_vote_then_a_whole_contribution_in_version_2_within_budget(
    project, deployer, governance, registry, badge, mentoring, alice, bob, carol
):
    assert_every_rule_off(registry, mentoring)
    history = [earn(badge, mentoring, alice, bob, carol) for _ in range(3)]
    open_claim = badge.claim(mentoring, EVIDENCE_HASH, EVIDENCE_URI, sender=bob) and badge.claimCount()
    badge.attest(open_claim, sender=alice)
    successor = version_2(project, badge, deployer)

    with ape.reverts(successor.BadgeNothingToCarry):  # not before the vote
        successor.carryOver(10, [], sender=carol)
    governance.pass_([(registry, "moveRecords", (badge.address, successor.address))], "move to version 2")
    assert registry.records() == successor.address
    with ape.reverts(badge.BadgeRecordsMoved):
        badge.claim(mentoring, EVIDENCE_HASH, EVIDENCE_URI, sender=alice)
    with ape.reverts(successor.BadgeRecordsCarrying):
        successor.claim(mentoring, EVIDENCE_HASH, EVIDENCE_URI, sender=alice)

    carried = successor.carryOver(CARRIED_PER_BATCH, [[alice.address]], sender=carol)
    assert successor.claimCount() == badge.claimCount() == open_claim
    print(f"\ncarrying {open_claim} claims (3 with badges, 1 open) in one transaction: {carried.gas_used:,} gas")
    for claim_id in range(1, open_claim + 1):
        assert successor.recordOf(claim_id) == badge.recordOf(claim_id)
    assert [successor.ownerOf(t) for t in history] == [alice.address] * 3
    with ape.reverts(successor.BadgeAlreadyAttested):  # alice's attestation came over with the claim
        successor.attest(open_claim, sender=alice)

    # A whole contribution in version 2, as test_fair_play measures it in version 1.
    earn(successor, mentoring, alice, bob, carol)  # the first pays to create alice's balance here
    claimed = successor.claim(mentoring, EVIDENCE_HASH, EVIDENCE_URI, sender=alice)
    claim_id = successor.claimCount()
    assert claim_id == open_claim + 2  # ids go on from version 1's
    attested = successor.attest(claim_id, sender=bob)
    minted = successor.attest(claim_id, sender=carol)
    whole = claimed.gas_used + attested.gas_used + minted.gas_used
    parts = f"{claimed.gas_used:,} + {attested.gas_used:,} + {minted.gas_used:,}"
    print(f"whole contribution in version 2: {parts} = {whole:,} gas")
    assert successor.ownerOf(claim_id) == alice.address
    assert whole <= GAS_BUDGET
    assert successor.version() == 2
