"""Rule 7: governance revokes badges (history stays) and recovers a member's lost key."""

import ape
import pytest

from devstack.protocol import EVIDENCE_HASH, EVIDENCE_URI


@pytest.fixture
def alices_badges(badge, mentoring, alice, bob, carol):
    for _ in range(2):
        badge.claim(mentoring, EVIDENCE_HASH, EVIDENCE_URI, sender=alice)
        claim_id = badge.claimCount()
        badge.attest(claim_id, sender=bob)
        badge.attest(claim_id, sender=carol)
    return [1, 2]


def test_revoke__stops_counting_and_keeps_history(governance, badge, alices_badges, alice, chain):
    governance.pass_([(badge, "revoke", (1, "evidence was plagiarised"))], "revoke badge 1")
    assert not badge.isActive(1)
    assert badge.isActive(2)
    assert badge.ownerOf(1) == alice.address
    assert badge.getBadge(1)[1].revokedAt == chain.blocks.head.timestamp
    [log] = list(badge.BadgeRevoked.range(0, chain.blocks.height + 1))
    assert (log.tokenId, log.reason) == (1, "evidence was plagiarised")


def test_revoke__only_by_governance_and_once(governance, badge, alices_badges, alice):
    with ape.reverts(badge.OwnableUnauthorizedAccount, account=alice.address):
        badge.revoke(1, "no", sender=alice)
    governance.pass_([(badge, "revoke", (1, "first"))], "revoke once")
    again = [(badge, "revoke", (1, "second"))]
    governance.carry(again, "revoke twice")
    with ape.reverts(badge.BadgeAlreadyRevoked, tokenId=1):
        governance.execute(again, "revoke twice")


def test_revoke__reverts_for_unminted_badge(governance, badge, alice, mentoring):
    calls = [(badge, "revoke", (9, "nothing"))]
    governance.carry(calls, "revoke nothing")
    with ape.reverts(badge.ERC721NonexistentToken, tokenId=9):
        governance.execute(calls, "revoke nothing")


def test_recover__moves_membership_and_badges_to_new_address(
    governance, membership, badge, alices_badges, alice, newcomer
):
    governance.pass_(
        [
            (membership, "recover", (alice.address, newcomer.address)),
            (badge, "recoverBadges", (alice.address, newcomer.address, alices_badges)),
        ],
        "alice lost her key; newcomer is her new address",
    )
    assert not membership.isMember(alice)
    assert membership.isMember(newcomer)
    assert membership.getVotes(newcomer) == 1
    assert membership.getVotes(alice) == 0
    for token_id in alices_badges:
        assert badge.ownerOf(token_id) == newcomer.address
        assert badge.isActive(token_id)
    assert badge.balanceOf(alice) == 0


def test_recover_badges__reverts_for_tokens_not_held_or_non_member(
    governance, membership, badge, alices_badges, alice, bob, outsider
):
    with ape.reverts(badge.OwnableUnauthorizedAccount, account=alice.address):
        badge.recoverBadges(alice, bob, alices_badges, sender=alice)
    not_members = [(badge, "recoverBadges", (alice.address, outsider.address, alices_badges))]
    not_held = [(badge, "recoverBadges", (bob.address, alice.address, alices_badges))]
    for calls, error in ((not_members, badge.BadgeNotMember), (not_held, badge.BadgeNotHeldBy)):
        governance.carry(calls, f"bad recovery {error}")
        with ape.reverts(error):
            governance.execute(calls, f"bad recovery {error}")
    assert badge.balanceOf(alice) == 2
