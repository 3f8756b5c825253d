"""Consent (issue 10, section 1): a nomination counts only once its nominee accepts it; a
nominee may decline; a holder may disown a badge; a member may hide their profile from
public lists. Every refusal is a named custom error."""

import ape

from devstack.protocol import EVIDENCE_HASH, EVIDENCE_URI, indicator_input

NONE, PENDING, ACCEPTED, DECLINED = 0, 1, 2, 3


def nominate_carol(badge, mentoring, alice, carol):
    receipt = badge.nominate(carol, mentoring, EVIDENCE_HASH, EVIDENCE_URI, sender=alice)
    return badge.claimCount(), receipt


def test_claim_of_ones_own_needs_no_consent(badge, mentoring, alice, bob, carol):
    badge.claim(mentoring, EVIDENCE_HASH, EVIDENCE_URI, sender=alice)
    assert badge.getClaim(1).nomination == NONE
    badge.attest(1, sender=bob)
    badge.attest(1, sender=carol)
    assert badge.ownerOf(1) == alice.address


def test_nomination_gathers_attestations_but_mints_only_when_accepted(badge, mentoring, alice, bob, carol):
    claim_id, _ = nominate_carol(badge, mentoring, alice, carol)
    assert badge.getClaim(claim_id).nomination == PENDING
    badge.attest(claim_id, sender=alice)
    receipt = badge.attest(claim_id, sender=bob)  # reaches the requirement: no badge yet
    assert not receipt.decode_logs(badge.BadgeMinted)
    assert badge.getClaim(claim_id).attestations == 2
    assert badge.balanceOf(carol) == 0 and not badge.isActive(claim_id)

    receipt = badge.acceptNomination(claim_id, sender=carol)  # accepting mints then
    [accepted] = receipt.decode_logs(badge.NominationAccepted)
    assert (accepted.claimId, accepted.nominee) == (claim_id, carol.address)
    [minted] = receipt.decode_logs(badge.BadgeMinted)
    assert (minted.tokenId, minted.contributor) == (claim_id, carol.address)
    assert badge.ownerOf(claim_id) == carol.address and badge.isActive(claim_id)
    assert badge.getClaim(claim_id).nomination == ACCEPTED


def test_accepted_before_attestations__the_last_attestation_mints(badge, mentoring, alice, bob, carol):
    claim_id, _ = nominate_carol(badge, mentoring, alice, carol)
    receipt = badge.acceptNomination(claim_id, sender=carol)
    assert not receipt.decode_logs(badge.BadgeMinted)
    badge.attest(claim_id, sender=alice)
    assert badge.balanceOf(carol) == 0
    badge.attest(claim_id, sender=bob)
    assert badge.ownerOf(claim_id) == carol.address


def test_attestations_past_the_requirement_gather_while_pending(
    badge, mentoring, alice, bob, carol, governance, membership, newcomer
):
    governance.pass_([(membership, "admit", (newcomer.address,))], "admit newcomer")
    claim_id, _ = nominate_carol(badge, mentoring, alice, carol)
    for peer in (alice, bob, newcomer):
        badge.attest(claim_id, sender=peer)
    assert badge.getClaim(claim_id).attestations == 3
    badge.acceptNomination(claim_id, sender=carol)
    assert badge.getBadge(claim_id)[0].attestations == 3


def test_declined_nomination_stays_on_record_and_is_closed(badge, mentoring, alice, bob, carol):
    claim_id, _ = nominate_carol(badge, mentoring, alice, carol)
    badge.attest(claim_id, sender=alice)
    receipt = badge.declineNomination(claim_id, sender=carol)
    [declined] = receipt.decode_logs(badge.NominationDeclined)
    assert (declined.claimId, declined.nominee) == (claim_id, carol.address)
    record = badge.getClaim(claim_id)
    assert (record.nomination, record.attestations, record.contributor) == (DECLINED, 1, carol.address)
    with ape.reverts(badge.BadgeNominationDeclined, claimId=claim_id):
        badge.attest(claim_id, sender=bob)
    with ape.reverts(badge.BadgeNominationDeclined, claimId=claim_id):
        badge.acceptNomination(claim_id, sender=carol)
    with ape.reverts(badge.BadgeNominationDeclined, claimId=claim_id):
        badge.declineNomination(claim_id, sender=carol)
    assert badge.balanceOf(carol) == 0 and badge.getClaim(claim_id).attestations == 1


def test_only_the_nominee_answers(badge, mentoring, alice, bob, carol, outsider):
    claim_id, _ = nominate_carol(badge, mentoring, alice, carol)
    for someone in (alice, bob, outsider):  # the nominator, a peer, a non-member
        with ape.reverts(badge.BadgeNotNominee, claimId=claim_id, account=someone.address):
            badge.acceptNomination(claim_id, sender=someone)
        with ape.reverts(badge.BadgeNotNominee, claimId=claim_id, account=someone.address):
            badge.declineNomination(claim_id, sender=someone)
    assert badge.getClaim(claim_id).nomination == PENDING


def test_a_claim_of_ones_own_is_not_a_nomination(badge, mentoring, alice):
    badge.claim(mentoring, EVIDENCE_HASH, EVIDENCE_URI, sender=alice)
    with ape.reverts(badge.BadgeNotNomination, claimId=1):
        badge.acceptNomination(1, sender=alice)
    with ape.reverts(badge.BadgeNotNomination, claimId=1):
        badge.declineNomination(1, sender=alice)


def test_unknown_claim_cannot_be_answered(badge, carol):
    with ape.reverts(badge.BadgeUnknownClaim, claimId=9):
        badge.acceptNomination(9, sender=carol)
    with ape.reverts(badge.BadgeUnknownClaim, claimId=9):
        badge.declineNomination(9, sender=carol)


def test_accepted_nomination_cannot_be_answered_again(badge, mentoring, alice, carol):
    claim_id, _ = nominate_carol(badge, mentoring, alice, carol)
    badge.acceptNomination(claim_id, sender=carol)
    with ape.reverts(badge.BadgeNominationAlreadyAccepted, claimId=claim_id):
        badge.acceptNomination(claim_id, sender=carol)
    with ape.reverts(badge.BadgeNominationAlreadyAccepted, claimId=claim_id):
        badge.declineNomination(claim_id, sender=carol)


def test_accept__reverts_when_the_indicator_changed(badge, registry, governance, mentoring, alice, bob, carol):
    claim_id, _ = nominate_carol(badge, mentoring, alice, carol)
    badge.attest(claim_id, sender=alice)
    badge.attest(claim_id, sender=bob)
    governance.pass_([(registry, "amendIndicator", (mentoring, indicator_input(weight=9)))], "amend")
    with ape.reverts(badge.BadgeIndicatorChanged, claimId=claim_id, indicatorId=mentoring):
        badge.acceptNomination(claim_id, sender=carol)
    badge.declineNomination(claim_id, sender=carol)  # declining is always open while pending
    assert badge.getClaim(claim_id).nomination == DECLINED


def test_accept__reverts_for_a_removed_nominee(badge, mentoring, alice, carol, governance, membership):
    claim_id, _ = nominate_carol(badge, mentoring, alice, carol)
    governance.pass_([(membership, "remove", (carol.address,))], "remove carol")
    with ape.reverts(badge.BadgeNotMember, account=carol.address):
        badge.acceptNomination(claim_id, sender=carol)


def test_answers_are_relayed_from_the_nominees_signature(badge, mentoring, alice, bob, carol, relay):
    first, _ = nominate_carol(badge, mentoring, alice, carol)
    badge.attest(first, sender=alice)
    badge.attest(first, sender=bob)
    relay.call(carol, badge, "acceptNomination", first)
    assert badge.ownerOf(first) == carol.address
    second, _ = nominate_carol(badge, mentoring, alice, carol)
    relay.call(carol, badge, "declineNomination", second)
    assert badge.getClaim(second).nomination == DECLINED
    relay.call(carol, badge, "disown", first)
    assert not badge.isActive(first)
    relay.call(carol, badge, "setProfileHidden", True)
    assert badge.profileHidden(carol)


def _badge_of(badge, mentoring, holder, first, second):
    badge.claim(mentoring, EVIDENCE_HASH, EVIDENCE_URI, sender=holder)
    token_id = badge.claimCount()
    badge.attest(token_id, sender=first)
    badge.attest(token_id, sender=second)
    return token_id


def test_disown__stops_counting_for_good_and_keeps_the_history(badge, mentoring, alice, bob, carol, chain):
    token_id = _badge_of(badge, mentoring, alice, bob, carol)
    assert badge.isActive(token_id)
    receipt = badge.disown(token_id, sender=alice)
    [disowned] = receipt.decode_logs(badge.BadgeDisowned)
    assert (disowned.tokenId, disowned.holder) == (token_id, alice.address)
    assert not badge.isActive(token_id)
    _claim, record, evidence_hash = badge.getBadge(token_id)  # history stays
    assert badge.ownerOf(token_id) == alice.address
    assert record.disownedAt == chain.blocks.head.timestamp and record.weight == 5
    assert evidence_hash == EVIDENCE_HASH
    with ape.reverts(badge.BadgeAlreadyDisowned, tokenId=token_id):  # cannot be taken back or repeated
        badge.disown(token_id, sender=alice)
    assert not badge.isActive(token_id)


def test_disown__only_by_the_holder(badge, mentoring, alice, bob, carol, governance):
    token_id = _badge_of(badge, mentoring, alice, bob, carol)
    for someone in (bob, carol):
        with ape.reverts(badge.BadgeNotHolder, tokenId=token_id, account=someone.address):
            badge.disown(token_id, sender=someone)
    with ape.reverts(badge.BadgeNotHolder, tokenId=99, account=alice.address):  # never minted
        badge.disown(99, sender=alice)
    assert badge.isActive(token_id)


def test_disown__a_revoked_badge_is_still_shown_disowned(badge, mentoring, alice, bob, carol, governance):
    token_id = _badge_of(badge, mentoring, alice, bob, carol)
    governance.pass_([(badge, "revoke", (token_id, "duplicate"))], "revoke")
    badge.disown(token_id, sender=alice)
    record = badge.getBadge(token_id)[1]
    assert record.revokedAt != 0 and record.disownedAt != 0
    assert not badge.isActive(token_id)


def test_profile_hidden__members_only_and_reversible(badge, alice, outsider):
    assert not badge.profileHidden(alice)
    receipt = badge.setProfileHidden(True, sender=alice)
    [changed] = receipt.decode_logs(badge.ProfileVisibilityChanged)
    assert (changed.member, changed.hidden) == (alice.address, True)
    assert badge.profileHidden(alice)
    badge.setProfileHidden(False, sender=alice)
    assert not badge.profileHidden(alice)
    with ape.reverts(badge.BadgeNotMember, account=outsider.address):
        badge.setProfileHidden(True, sender=outsider)
    assert not badge.profileHidden(outsider)
