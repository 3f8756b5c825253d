"""Organisations (issue 10, section 3): governance registers and retires the organisations a
claim or nomination may credit; crediting one emits ClaimCredited and organisationOf answers
it; a retired or unknown organisation is refused by its named error."""

import ape
import pytest

from devstack.protocol import EVIDENCE_HASH, EVIDENCE_URI

DAY = 86_400


def governed(governance, calls, description):
    """Pass a proposal and return the execution's receipt (for the target's events)."""
    governance.carry(calls, description)
    return governance.execute(calls, description)


def add_organisation(
    governance, registry, name="Acme Hosting", identifier="0x00000000000000000000000000000000000000ac"
):
    receipt = governed(governance, [(registry, "addOrganisation", (name, identifier))], f"credit {name}")
    return registry.organisationCount(), receipt


@pytest.fixture
def acme(governance, registry):
    organisation_id, _ = add_organisation(governance, registry)
    return organisation_id


def test_add__governance_registers_with_a_name_and_an_identifier(governance, registry):
    assert registry.organisationCount() == 0
    first, receipt = add_organisation(governance, registry, "Acme Hosting", "acme.example")
    [added] = receipt.decode_logs(registry.OrganisationAdded)
    assert (added.organisationId, added.name, added.identifier) == (1, "Acme Hosting", "acme.example")
    second, receipt = add_organisation(governance, registry, "Drupal Association", "")  # the identifier may be empty
    assert (first, second, registry.organisationCount()) == (1, 2, 2)
    registry.requireActiveOrganisation(first)
    registry.requireActiveOrganisation(second)


def test_add__name_and_identifier_lengths(governance, registry):
    bad = {
        "name": [("", "acme.example"), ("n" * 65, "acme.example")],
        "identifier": [("Acme Hosting", "i" * 257)],
    }
    for field, inputs in bad.items():
        for name, identifier in inputs:
            calls = [(registry, "addOrganisation", (name, identifier))]
            governance.carry(calls, f"bad {field} {len(name)} {len(identifier)}")
            with ape.reverts(registry.RegistryInvalidOrganisation, field=field):
                governance.execute(calls, f"bad {field} {len(name)} {len(identifier)}")
    assert registry.organisationCount() == 0
    longest, _ = add_organisation(governance, registry, "n" * 64, "i" * 256)  # the limits themselves
    assert longest == 1


def test_add_retire__only_through_a_passed_proposal(registry, acme, alice, outsider):
    for caller in (alice, outsider):
        with ape.reverts(registry.OwnableUnauthorizedAccount, account=caller.address):
            registry.addOrganisation("Shell Company", "shell.example", sender=caller)
        with ape.reverts(registry.OwnableUnauthorizedAccount, account=caller.address):
            registry.retireOrganisation(acme, sender=caller)
    assert registry.organisationCount() == 1
    registry.requireActiveOrganisation(acme)


def test_add__not_through_the_forwarder(relay, registry, alice, forwarder):
    with ape.reverts(forwarder.ERC2771UntrustfulTarget):
        relay.call(alice, registry, "addOrganisation", "Shell Company", "shell.example")
    assert registry.organisationCount() == 0


def test_claim_crediting_an_organisation(badge, mentoring, acme, alice, bob, carol):
    receipt = badge.claimWithOrganisation(mentoring, acme, EVIDENCE_HASH, EVIDENCE_URI, sender=alice)
    claim_id = badge.claimCount()
    [submitted] = receipt.decode_logs(badge.ClaimSubmitted)
    assert (submitted.claimId, submitted.contributor, submitted.submitter) == (claim_id, alice.address, alice.address)
    [credited] = receipt.decode_logs(badge.ClaimCredited)
    assert (credited.claimId, credited.organisationId) == (claim_id, acme)
    assert badge.organisationOf(claim_id) == acme
    assert badge.getClaim(claim_id).nomination == 0  # a claim of one's own, as without an organisation
    badge.attest(claim_id, sender=bob)
    badge.attest(claim_id, sender=carol)
    assert badge.ownerOf(claim_id) == alice.address and badge.organisationOf(claim_id) == acme


def test_claim_without_an_organisation_credits_none(badge, mentoring, alice):
    receipt = badge.claim(mentoring, EVIDENCE_HASH, EVIDENCE_URI, sender=alice)
    assert not receipt.decode_logs(badge.ClaimCredited)
    assert badge.organisationOf(badge.claimCount()) == 0
    with ape.reverts(badge.BadgeUnknownClaim, claimId=9):
        badge.organisationOf(9)


def test_nomination_crediting_an_organisation(badge, mentoring, acme, alice, bob, carol):
    receipt = badge.nominateWithOrganisation(carol, mentoring, acme, EVIDENCE_HASH, EVIDENCE_URI, sender=alice)
    claim_id = badge.claimCount()
    [submitted] = receipt.decode_logs(badge.ClaimSubmitted)
    assert (submitted.contributor, submitted.submitter) == (carol.address, alice.address)
    [credited] = receipt.decode_logs(badge.ClaimCredited)
    assert (credited.claimId, credited.organisationId) == (claim_id, acme)
    assert badge.organisationOf(claim_id) == acme
    assert badge.getClaim(claim_id).nomination == 1  # pending: still the nominee's to accept
    badge.attest(claim_id, sender=alice)
    badge.attest(claim_id, sender=bob)
    assert badge.balanceOf(carol) == 0
    badge.acceptNomination(claim_id, sender=carol)
    assert badge.ownerOf(claim_id) == carol.address and badge.organisationOf(claim_id) == acme


def test_nomination_with_an_organisation_keeps_the_nomination_rules(badge, mentoring, acme, alice, outsider):
    with ape.reverts(badge.BadgeNotMember, account=outsider.address):
        badge.nominateWithOrganisation(outsider, mentoring, acme, EVIDENCE_HASH, EVIDENCE_URI, sender=alice)
    with ape.reverts(badge.BadgeNotMember, account=outsider.address):
        badge.nominateWithOrganisation(alice, mentoring, acme, EVIDENCE_HASH, EVIDENCE_URI, sender=outsider)
    with ape.reverts(badge.BadgeNotMember, account=outsider.address):
        badge.claimWithOrganisation(mentoring, acme, EVIDENCE_HASH, EVIDENCE_URI, sender=outsider)
    with ape.reverts(badge.BadgeMissingEvidence):
        badge.claimWithOrganisation(mentoring, acme, b"\x00" * 32, EVIDENCE_URI, sender=alice)
    assert badge.claimCount() == 0


def test_unknown_organisation__refused(badge, registry, mentoring, acme, alice, carol):
    for unknown in (0, acme + 1):
        with ape.reverts(registry.RegistryUnknownOrganisation, organisationId=unknown):
            badge.claimWithOrganisation(mentoring, unknown, EVIDENCE_HASH, EVIDENCE_URI, sender=alice)
        with ape.reverts(registry.RegistryUnknownOrganisation, organisationId=unknown):
            badge.nominateWithOrganisation(carol, mentoring, unknown, EVIDENCE_HASH, EVIDENCE_URI, sender=alice)
        with ape.reverts(registry.RegistryUnknownOrganisation, organisationId=unknown):
            registry.requireActiveOrganisation(unknown)
    assert badge.claimCount() == 0


def test_retired_organisation__refused_for_new_claims_kept_by_old_ones(
    badge, registry, governance, mentoring, acme, alice, bob, carol
):
    badge.claimWithOrganisation(mentoring, acme, EVIDENCE_HASH, EVIDENCE_URI, sender=alice)
    earlier = badge.claimCount()
    receipt = governed(governance, [(registry, "retireOrganisation", (acme,))], "Acme closed")
    [retired] = receipt.decode_logs(registry.OrganisationRetired)
    assert retired.organisationId == acme
    with ape.reverts(registry.RegistryOrganisationRetired, organisationId=acme):
        registry.requireActiveOrganisation(acme)
    with ape.reverts(registry.RegistryOrganisationRetired, organisationId=acme):
        badge.claimWithOrganisation(mentoring, acme, EVIDENCE_HASH, EVIDENCE_URI, sender=alice)
    with ape.reverts(registry.RegistryOrganisationRetired, organisationId=acme):
        badge.nominateWithOrganisation(carol, mentoring, acme, EVIDENCE_HASH, EVIDENCE_URI, sender=bob)
    assert badge.claimCount() == earlier
    # The claim filed before still credits it, and still mints.
    badge.attest(earlier, sender=bob)
    badge.attest(earlier, sender=carol)
    assert badge.ownerOf(earlier) == alice.address and badge.organisationOf(earlier) == acme
    # Other organisations are unaffected.
    other, _ = add_organisation(governance, registry, "Drupal Association", "association.drupal.org")
    badge.claimWithOrganisation(mentoring, other, EVIDENCE_HASH, EVIDENCE_URI, sender=alice)
    assert badge.organisationOf(badge.claimCount()) == other


def test_retire__once_and_only_known_organisations(registry, governance, acme):
    retire = [(registry, "retireOrganisation", (acme,))]
    governance.pass_(retire, "retire Acme")
    governance.carry(retire, "retire Acme again")
    with ape.reverts(registry.RegistryOrganisationRetired, organisationId=acme):
        governance.execute(retire, "retire Acme again")
    unknown = [(registry, "retireOrganisation", (acme + 1,))]
    governance.carry(unknown, "retire nobody")
    with ape.reverts(registry.RegistryUnknownOrganisation, organisationId=acme + 1):
        governance.execute(unknown, "retire nobody")


def test_crediting_an_organisation_keeps_the_indicators_rules(
    badge, registry, governance, add_indicator, acme, alice, bob, chain
):
    capped = add_indicator(name="Organising an event", endorsements=1, earn_cap=1, cap_period=DAY)
    start = (chain.pending_timestamp // DAY + 1) * DAY
    chain.mine(timestamp=start)  # the start of a fresh cap period (fixed days from the Unix epoch)
    period_ends = start + DAY
    badge.claimWithOrganisation(capped, acme, EVIDENCE_HASH, EVIDENCE_URI, sender=alice)
    badge.attest(badge.claimCount(), sender=bob)
    with ape.reverts(
        badge.BadgeEarnCapReached, contributor=alice.address, indicatorId=capped, cap=1, periodEnds=period_ends
    ):
        badge.claimWithOrganisation(capped, acme, EVIDENCE_HASH, EVIDENCE_URI, sender=alice)
    governance.pass_([(registry, "retireIndicator", (capped,))], "retire the event indicator")
    with ape.reverts(badge.RegistryIndicatorRetired, indicatorId=capped):
        badge.claimWithOrganisation(capped, acme, EVIDENCE_HASH, EVIDENCE_URI, sender=bob)


def test_relayed_claim_and_nomination_with_an_organisation_act_as_the_signer(
    relay, badge, mentoring, acme, alice, bob, carol
):
    relay.call(alice, badge, "claimWithOrganisation", mentoring, acme, EVIDENCE_HASH, EVIDENCE_URI)
    claimed = badge.claimCount()
    relay.call(bob, badge, "nominateWithOrganisation", carol.address, mentoring, acme, EVIDENCE_HASH, EVIDENCE_URI)
    nominated = badge.claimCount()
    assert badge.getClaim(claimed).contributor == alice.address
    assert badge.getClaim(nominated).contributor == carol.address
    assert (badge.organisationOf(claimed), badge.organisationOf(nominated)) == (acme, acme)
    logs = list(badge.ClaimCredited.range(0, ape.chain.blocks.height + 1))
    assert [(log.claimId, log.organisationId) for log in logs] == [(claimed, acme), (nominated, acme)]
