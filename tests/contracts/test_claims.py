"""Rules 4 and 8: claims, nominations and attestations; the badge is minted exactly when
attestations reach the requirement; validity periods."""

import ape
import pytest

from devstack.protocol import EVIDENCE_HASH, EVIDENCE_URI, indicator_input


def test_claim_attest_mint__nominal(badge, mentoring, alice, bob, carol, chain):
    receipt = badge.claim(mentoring, EVIDENCE_HASH, EVIDENCE_URI, sender=alice)
    claim_id = badge.claimCount()
    assert claim_id == 1
    [submitted] = receipt.decode_logs(badge.ClaimSubmitted)
    assert (submitted.contributor, submitted.submitter, submitted.evidenceURI) == (
        alice.address,
        alice.address,
        EVIDENCE_URI,
    )
    assert badge.getClaim(claim_id).contributor == alice.address

    badge.attest(claim_id, sender=bob)
    assert badge.balanceOf(alice) == 0  # one of two: not yet
    assert badge.getClaim(claim_id).attestations == 1

    receipt = badge.attest(claim_id, sender=carol)
    assert badge.ownerOf(claim_id) == alice.address
    claim, record, evidence_hash = badge.getBadge(claim_id)
    assert (claim.indicatorId, claim.indicatorVersion, claim.attestations) == (mentoring, 1, 2)
    assert record.weight == 5
    assert record.mintedAt == chain.blocks.head.timestamp
    assert evidence_hash == EVIDENCE_HASH
    [minted] = receipt.decode_logs(badge.BadgeMinted)
    assert (minted.tokenId, minted.contributor, minted.weight) == (claim_id, alice.address, 5)
    assert badge.isActive(claim_id)


def test_nominate__badge_goes_to_the_nominee(badge, mentoring, alice, bob, carol):
    badge.nominate(carol, mentoring, EVIDENCE_HASH, EVIDENCE_URI, sender=alice)
    # The nominator is not the contributor, so may attest too.
    badge.attest(1, sender=alice)
    badge.attest(1, sender=bob)
    assert badge.balanceOf(carol) == 0  # waits for carol's consent (tests/contracts/test_consent.py)
    badge.acceptNomination(1, sender=carol)
    assert badge.ownerOf(1) == carol.address
    assert badge.balanceOf(alice) == 0


def test_attest__reverts_for_the_contributor(badge, mentoring, alice):
    badge.claim(mentoring, EVIDENCE_HASH, EVIDENCE_URI, sender=alice)
    with ape.reverts(badge.BadgeSelfAttestation, claimId=1, contributor=alice.address):
        badge.attest(1, sender=alice)
    assert badge.getClaim(1).attestations == 0


def test_attest__reverts_on_second_attestation(badge, mentoring, alice, bob):
    badge.claim(mentoring, EVIDENCE_HASH, EVIDENCE_URI, sender=alice)
    badge.attest(1, sender=bob)
    with ape.reverts(badge.BadgeAlreadyAttested, claimId=1, attester=bob.address):
        badge.attest(1, sender=bob)
    assert badge.getClaim(1).attestations == 1


def test_attest__reverts_once_minted(badge, mentoring, alice, bob, carol, governance, membership, newcomer):
    governance.pass_([(membership, "admit", (newcomer.address,))], "admit newcomer")
    badge.claim(mentoring, EVIDENCE_HASH, EVIDENCE_URI, sender=alice)
    badge.attest(1, sender=bob)
    badge.attest(1, sender=carol)
    with ape.reverts(badge.BadgeAlreadyMinted, claimId=1):
        badge.attest(1, sender=newcomer)


def test_attest__reverts_once_the_contributor_is_removed(badge, mentoring, alice, bob, carol, governance, membership):
    badge.claim(mentoring, EVIDENCE_HASH, EVIDENCE_URI, sender=alice)
    badge.attest(1, sender=bob)  # one of two, while alice is a member
    governance.pass_([(membership, "remove", (alice.address,))], "remove alice")
    with ape.reverts(badge.BadgeContributorNotMember, claimId=1, contributor=alice.address):
        badge.attest(1, sender=carol)  # would have minted
    assert badge.balanceOf(alice) == 0 and not badge.isActive(1)
    assert badge.getClaim(1).attestations == 1


def test_attest__reverts_for_a_nominee_whose_key_was_recovered(
    badge, mentoring, alice, bob, carol, governance, membership, newcomer
):
    badge.nominate(carol, mentoring, EVIDENCE_HASH, EVIDENCE_URI, sender=alice)
    governance.pass_([(membership, "recover", (carol.address, newcomer.address))], "carol lost her key")
    with ape.reverts(badge.BadgeContributorNotMember, claimId=1, contributor=carol.address):
        badge.attest(1, sender=bob)
    assert badge.getClaim(1).attestations == 0


def test_non_member_cannot_claim_nominate_attest_or_be_nominated(badge, mentoring, alice, outsider):
    with ape.reverts(badge.BadgeNotMember, account=outsider.address):
        badge.claim(mentoring, EVIDENCE_HASH, EVIDENCE_URI, sender=outsider)
    with ape.reverts(badge.BadgeNotMember, account=outsider.address):
        badge.nominate(alice, mentoring, EVIDENCE_HASH, EVIDENCE_URI, sender=outsider)
    with ape.reverts(badge.BadgeNotMember, account=outsider.address):
        badge.nominate(outsider, mentoring, EVIDENCE_HASH, EVIDENCE_URI, sender=alice)
    badge.claim(mentoring, EVIDENCE_HASH, EVIDENCE_URI, sender=alice)
    with ape.reverts(badge.BadgeNotMember, account=outsider.address):
        badge.attest(1, sender=outsider)
    assert badge.claimCount() == 1


def test_claim__reverts_for_unknown_or_retired_indicator(badge, registry, governance, mentoring, alice):
    with ape.reverts(registry.RegistryUnknownIndicator, indicatorId=42):  # bubbled from the registry
        badge.claim(42, EVIDENCE_HASH, EVIDENCE_URI, sender=alice)
    governance.pass_([(registry, "retireIndicator", (mentoring,))], "retire")
    with ape.reverts(badge.RegistryIndicatorRetired, indicatorId=mentoring):
        badge.claim(mentoring, EVIDENCE_HASH, EVIDENCE_URI, sender=alice)
    assert badge.claimCount() == 0


def test_claim__reverts_without_evidence(badge, mentoring, alice):
    with ape.reverts(badge.BadgeMissingEvidence):
        badge.claim(mentoring, b"\x00" * 32, EVIDENCE_URI, sender=alice)


def test_attest__reverts_for_unknown_claim(badge, bob):
    with ape.reverts(badge.BadgeUnknownClaim, claimId=7):
        badge.attest(7, sender=bob)


@pytest.mark.parametrize("change", ["amend", "retire"])
def test_attest__reverts_when_the_indicator_changed_since_the_claim(
    badge, registry, governance, mentoring, alice, bob, change
):
    badge.claim(mentoring, EVIDENCE_HASH, EVIDENCE_URI, sender=alice)
    if change == "amend":
        governance.pass_([(registry, "amendIndicator", (mentoring, indicator_input(weight=9)))], "amend")
    else:
        governance.pass_([(registry, "retireIndicator", (mentoring,))], "retire")
    with ape.reverts(badge.BadgeIndicatorChanged, claimId=1, indicatorId=mentoring):
        badge.attest(1, sender=bob)


def test_amended_weight_applies_to_new_claims_only(badge, registry, governance, mentoring, alice, bob, carol):
    badge.claim(mentoring, EVIDENCE_HASH, EVIDENCE_URI, sender=alice)
    badge.attest(1, sender=bob)
    badge.attest(1, sender=carol)
    governance.pass_([(registry, "amendIndicator", (mentoring, indicator_input(weight=9, endorsements=1)))], "amend")
    badge.claim(mentoring, EVIDENCE_HASH, EVIDENCE_URI, sender=alice)
    badge.attest(2, sender=bob)  # one endorsement is enough under version 2
    assert badge.getBadge(1)[1].weight == 5
    assert badge.getBadge(2)[1].weight == 9
    assert badge.getBadge(2)[0].indicatorVersion == 2


def test_validity_period__badge_stops_counting_after_it(badge, add_indicator, alice, bob, chain):
    event_org = add_indicator(name="Organising an event", validity=1_000, endorsements=1)
    badge.claim(event_org, EVIDENCE_HASH, EVIDENCE_URI, sender=alice)
    badge.attest(1, sender=bob)
    minted_at = badge.getBadge(1)[1].mintedAt
    chain.mine(timestamp=minted_at + 999)
    assert badge.isActive(1)
    chain.mine(timestamp=minted_at + 1_000)
    assert not badge.isActive(1)
    assert badge.ownerOf(1) == alice.address  # history stays


def test_validity_zero__counts_forever(badge, mentoring, alice, bob, carol, chain):
    badge.claim(mentoring, EVIDENCE_HASH, EVIDENCE_URI, sender=alice)
    badge.attest(1, sender=bob)
    badge.attest(1, sender=carol)
    chain.mine(deltatime=100 * 365 * 86_400)
    assert badge.isActive(1)


def test_is_active__false_for_unminted(badge, mentoring, alice):
    badge.claim(mentoring, EVIDENCE_HASH, EVIDENCE_URI, sender=alice)
    assert not badge.isActive(1)
    assert not badge.isActive(99)
