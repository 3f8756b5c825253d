"""Fair play (issue 10, sections 2 and 4): who may endorse an indicator, caps per indicator per
period, no reciprocal endorsement within the community's window, and the score rule. Each rule
is set only by a passed proposal; each refusal is a named custom error with its arguments, and
each limit is tested on both sides."""

import ape
import pytest

from backend.chain.typed_data import forward_request_struct
from devstack.protocol import EVIDENCE_HASH, EVIDENCE_URI, OBJECT, indicator_input

DAY = 86_400
LINEAR, SQUARE_ROOT = 0, 1
MARGIN = 60  # seconds short of a limit: still inside it on both chains, wall clock or not


def claim(badge, indicator, contributor):
    badge.claim(indicator, EVIDENCE_HASH, EVIDENCE_URI, sender=contributor)
    return badge.claimCount()


def earn(badge, indicator, holder, *attesters):
    """A claim of `holder`'s attested by `attesters` until minted; its token id."""
    token_id = claim(badge, indicator, holder)
    for attester in attesters:
        badge.attest(token_id, sender=attester)
    assert badge.ownerOf(token_id) == holder.address
    return token_id


def mine_at(chain, timestamp):
    """Mine a block at `timestamp` (or now, if later): the next transactions happen from then."""
    chain.mine(timestamp=max(timestamp, chain.pending_timestamp))


def fresh_period(chain, period):
    """Move to the start of the next cap period (fixed windows from the Unix epoch), so a test
    runs well inside one period; returns when that period ends."""
    start = (chain.pending_timestamp // period + 1) * period
    mine_at(chain, start)
    return start + period


def execute_refused(governance, calls, description):
    """Carry a proposal whose execution the target refuses; the Governor bubbles the error up."""
    governance.carry(calls, description)
    return governance.execute(calls, description)


# ---------------------------------------------------------------- who may endorse


VALIDITY = 10_000


@pytest.fixture
def maintainer_and_review(governance, registry):
    """ "Maintainer" (badges valid for VALIDITY s) and "Code review", endorsed only by holders of a
    counting Maintainer badge; one endorsement each. Added in one proposal."""
    maintainer = registry.indicatorCount() + 1
    governance.pass_(
        [
            (registry, "addIndicator", (indicator_input("Maintainer", endorsements=1, validity=VALIDITY),)),
            (
                registry,
                "addIndicator",
                (indicator_input("Code review", orientation=OBJECT, endorsements=1, endorser_indicator=maintainer),),
            ),
        ],
        "maintainers endorse code reviews",
    )
    return maintainer, maintainer + 1


@pytest.fixture
def bobs_maintainer_badge(badge, maintainer_and_review, alice, bob):
    maintainer, _ = maintainer_and_review
    return earn(badge, maintainer, bob, alice)


def test_endorser_indicator__set_by_governance_and_shown_in_terms(registry, maintainer_and_review):
    maintainer, review = maintainer_and_review
    assert registry.terms(review).endorserIndicatorId == maintainer
    assert registry.terms(maintainer).endorserIndicatorId == 0
    rules = list(registry.IndicatorRulesDefined.range(0, ape.chain.blocks.height + 1))
    assert [(log.indicatorId, log.version, log.endorserIndicatorId) for log in rules] == [
        (maintainer, 1, 0),
        (review, 1, maintainer),
    ]


def test_endorser__holder_of_a_counting_badge_attests_with_it(
    badge, maintainer_and_review, bobs_maintainer_badge, alice, bob
):
    _, review = maintainer_and_review
    claim_id = claim(badge, review, alice)
    receipt = badge.attestWith(claim_id, bobs_maintainer_badge, sender=bob)
    [attested] = receipt.decode_logs(badge.Attested)
    assert (attested.claimId, attested.attester, attested.attestations) == (claim_id, bob.address, 1)
    assert badge.ownerOf(claim_id) == alice.address and badge.isActive(claim_id)


def test_endorser__relayed_attest_with_acts_as_the_signer(
    badge, relay, maintainer_and_review, bobs_maintainer_badge, alice, bob, forwarder
):
    _, review = maintainer_and_review
    claim_id = claim(badge, review, alice)
    relay.call(bob, badge, "attestWith", claim_id, bobs_maintainer_badge)
    assert badge.hasAttested(claim_id, bob) and badge.ownerOf(claim_id) == alice.address
    # Refused the same way when relayed: the forwarder reports the failed call, no nonce spent.
    second = claim(badge, review, alice)
    nonce = forwarder.nonces(bob)
    with ape.reverts(forwarder.FailedCall):
        relay.call(bob, badge, "attest", second)
    assert forwarder.nonces(bob) == nonce and badge.getClaim(second).attestations == 0


def test_endorser__refused_without_a_qualifying_badge(
    badge, mentoring, maintainer_and_review, bobs_maintainer_badge, alice, bob, carol
):
    maintainer, review = maintainer_and_review
    carols_mentoring = earn(badge, mentoring, carol, alice, bob)  # a counting badge of another indicator
    pending = claim(badge, maintainer, carol)  # a claim of the right indicator, not minted
    claim_id = claim(badge, review, alice)
    refused = [
        (bob, None),  # plain attest shows no badge (0)
        (carol, None),  # not a holder at all
        (carol, bobs_maintainer_badge),  # someone else's badge
        (carol, carols_mentoring),  # her own badge, of another indicator
        (carol, pending),  # a claim of the indicator, not yet a badge
        (bob, 99),  # no such token
    ]
    for attester, shown in refused:
        with ape.reverts(
            badge.BadgeEndorserNotQualified,
            claimId=claim_id,
            attester=attester.address,
            endorserIndicatorId=maintainer,
            endorserBadgeId=shown or 0,
        ):
            if shown is None:
                badge.attest(claim_id, sender=attester)
            else:
                badge.attestWith(claim_id, shown, sender=attester)
    assert badge.getClaim(claim_id).attestations == 0
    badge.attestWith(claim_id, bobs_maintainer_badge, sender=bob)  # the qualified one still may
    assert badge.ownerOf(claim_id) == alice.address


@pytest.mark.parametrize("how", ["revoked", "disowned"])
def test_endorser__badge_that_stopped_counting_does_not_qualify(
    badge, governance, maintainer_and_review, bobs_maintainer_badge, alice, bob, how
):
    maintainer, review = maintainer_and_review
    claim_id = claim(badge, review, alice)
    if how == "revoked":
        governance.pass_([(badge, "revoke", (bobs_maintainer_badge, "not a maintainer"))], "revoke")
    else:
        badge.disown(bobs_maintainer_badge, sender=bob)
    assert badge.ownerOf(bobs_maintainer_badge) == bob.address  # still held, no longer counting
    with ape.reverts(
        badge.BadgeEndorserNotQualified,
        claimId=claim_id,
        attester=bob.address,
        endorserIndicatorId=maintainer,
        endorserBadgeId=bobs_maintainer_badge,
    ):
        badge.attestWith(claim_id, bobs_maintainer_badge, sender=bob)


def test_endorser__expired_badge_qualifies_until_its_validity_ends(
    badge, chain, maintainer_and_review, bobs_maintainer_badge, alice, bob, carol
):
    maintainer, review = maintainer_and_review
    expires = badge.getBadge(bobs_maintainer_badge)[1].mintedAt + VALIDITY
    alices, carols = claim(badge, review, alice), claim(badge, review, carol)
    mine_at(chain, expires - MARGIN)
    badge.attestWith(alices, bobs_maintainer_badge, sender=bob)
    assert badge.ownerOf(alices) == alice.address
    mine_at(chain, expires)
    assert not badge.isActive(bobs_maintainer_badge)
    with ape.reverts(
        badge.BadgeEndorserNotQualified,
        claimId=carols,
        attester=bob.address,
        endorserIndicatorId=maintainer,
        endorserBadgeId=bobs_maintainer_badge,
    ):
        badge.attestWith(carols, bobs_maintainer_badge, sender=bob)


def test_endorser__badge_shown_is_ignored_when_the_indicator_requires_none(badge, mentoring, alice, bob, carol):
    claim_id = claim(badge, mentoring, alice)
    badge.attestWith(claim_id, 12345, sender=bob)
    badge.attestWith(claim_id, 0, sender=carol)
    assert badge.ownerOf(claim_id) == alice.address


def test_endorser__amending_changes_the_rule_and_bumps_the_version(
    badge, registry, governance, mentoring, maintainer_and_review, bobs_maintainer_badge, alice, bob, carol
):
    maintainer, review = maintainer_and_review
    under_v1 = claim(badge, review, alice)
    ungated = indicator_input("Code review", orientation=OBJECT, endorsements=1)
    governance.carry([(registry, "amendIndicator", (review, ungated))], "anyone may endorse reviews")
    receipt = governance.execute([(registry, "amendIndicator", (review, ungated))], "anyone may endorse reviews")
    [rules] = receipt.decode_logs(registry.IndicatorRulesDefined)
    assert (rules.indicatorId, rules.version, rules.endorserIndicatorId) == (review, 2, 0)
    terms = registry.terms(review)
    assert (terms.version, terms.endorserIndicatorId) == (2, 0)
    under_v2 = claim(badge, review, alice)
    badge.attest(under_v2, sender=carol)  # no badge needed now
    assert badge.ownerOf(under_v2) == alice.address
    with ape.reverts(badge.BadgeIndicatorChanged, claimId=under_v1, indicatorId=review):
        badge.attestWith(under_v1, bobs_maintainer_badge, sender=bob)

    # And the other way: a gate added to an indicator that had none.
    gated = indicator_input(endorser_indicator=maintainer)
    governance.pass_([(registry, "amendIndicator", (mentoring, gated))], "maintainers endorse mentoring")
    assert (registry.terms(mentoring).version, registry.terms(mentoring).endorserIndicatorId) == (2, maintainer)
    claim_id = claim(badge, mentoring, alice)
    with ape.reverts(
        badge.BadgeEndorserNotQualified,
        claimId=claim_id,
        attester=carol.address,
        endorserIndicatorId=maintainer,
        endorserBadgeId=0,
    ):
        badge.attest(claim_id, sender=carol)
    badge.attestWith(claim_id, bobs_maintainer_badge, sender=bob)
    assert badge.getClaim(claim_id).attestations == 1


def test_endorser_indicator__must_exist_and_be_another_indicator(registry, governance, mentoring):
    bad = {
        "itself when added": (registry, "addIndicator", (indicator_input("Code review", endorser_indicator=2),)),
        "unknown": (registry, "addIndicator", (indicator_input("Code review", endorser_indicator=7),)),
        "itself when amended": (registry, "amendIndicator", (mentoring, indicator_input(endorser_indicator=mentoring))),
        "unknown when amended": (registry, "amendIndicator", (mentoring, indicator_input(endorser_indicator=2))),
    }
    for description, call in bad.items():
        with ape.reverts(registry.RegistryInvalidIndicator, field="endorserIndicatorId"):
            execute_refused(governance, [call], description)
    assert registry.indicatorCount() == 1 and registry.terms(mentoring).version == 1


# ---------------------------------------------------------------- caps per period


def test_cap_fields__a_cap_needs_a_period_and_a_period_a_cap(registry, governance):
    bad = {
        "earn cap without period": indicator_input(earn_cap=1),
        "attest cap without period": indicator_input(attest_cap=1),
        "period without cap": indicator_input(cap_period=DAY),
    }
    for description, value in bad.items():
        with ape.reverts(registry.RegistryInvalidIndicator, field="capPeriod"):
            execute_refused(governance, [(registry, "addIndicator", (value,))], description)
    assert registry.indicatorCount() == 0


def test_earn_cap__reached_then_allowed_next_period(badge, chain, add_indicator, alice, bob, carol):
    capped = add_indicator(name="Organising an event", endorsements=1, earn_cap=1, cap_period=DAY)
    period_ends = fresh_period(chain, DAY)
    earn(badge, capped, alice, bob)
    # Refused when filed, for a claim and for a nomination alike, before peers spend attestations.
    with ape.reverts(
        badge.BadgeEarnCapReached, contributor=alice.address, indicatorId=capped, cap=1, periodEnds=period_ends
    ):
        badge.claim(capped, EVIDENCE_HASH, EVIDENCE_URI, sender=alice)
    with ape.reverts(
        badge.BadgeEarnCapReached, contributor=alice.address, indicatorId=capped, cap=1, periodEnds=period_ends
    ):
        badge.nominate(alice, capped, EVIDENCE_HASH, EVIDENCE_URI, sender=carol)
    earn(badge, capped, bob, alice)  # the cap is each member's own
    mine_at(chain, period_ends - MARGIN)
    with ape.reverts(
        badge.BadgeEarnCapReached, contributor=alice.address, indicatorId=capped, cap=1, periodEnds=period_ends
    ):
        badge.claim(capped, EVIDENCE_HASH, EVIDENCE_URI, sender=alice)
    mine_at(chain, period_ends)
    earn(badge, capped, alice, carol)
    with ape.reverts(
        badge.BadgeEarnCapReached, contributor=alice.address, indicatorId=capped, cap=1, periodEnds=period_ends + DAY
    ):
        badge.claim(capped, EVIDENCE_HASH, EVIDENCE_URI, sender=alice)


def test_earn_cap__counted_at_mint(badge, chain, add_indicator, alice, bob, carol):
    capped = add_indicator(name="Organising an event", endorsements=2, earn_cap=1, cap_period=DAY)
    period_ends = fresh_period(chain, DAY)
    first, second = claim(badge, capped, alice), claim(badge, capped, alice)  # both filed under the cap
    badge.attest(first, sender=bob)
    badge.attest(first, sender=carol)
    assert badge.ownerOf(first) == alice.address
    badge.attest(second, sender=bob)  # gathering is open; only the minting attestation is capped
    with ape.reverts(
        badge.BadgeEarnCapReached, contributor=alice.address, indicatorId=capped, cap=1, periodEnds=period_ends
    ):
        badge.attest(second, sender=carol)
    assert badge.getClaim(second).attestations == 1 and badge.balanceOf(alice) == 1
    mine_at(chain, period_ends)
    badge.attest(second, sender=carol)
    assert badge.ownerOf(second) == alice.address


def test_earn_cap__accepting_a_nomination_respects_it(badge, chain, add_indicator, alice, bob, carol):
    capped = add_indicator(name="Organising an event", endorsements=1, earn_cap=1, cap_period=DAY)
    period_ends = fresh_period(chain, DAY)
    badge.nominate(alice, capped, EVIDENCE_HASH, EVIDENCE_URI, sender=bob)
    nomination = badge.claimCount()
    badge.attest(nomination, sender=carol)  # gathers; waits for alice
    earn(badge, capped, alice, bob)  # her own claim uses this period's one badge
    with ape.reverts(
        badge.BadgeEarnCapReached, contributor=alice.address, indicatorId=capped, cap=1, periodEnds=period_ends
    ):
        badge.acceptNomination(nomination, sender=alice)
    mine_at(chain, period_ends)
    badge.acceptNomination(nomination, sender=alice)
    assert badge.ownerOf(nomination) == alice.address


def test_attest_cap__reached_then_allowed_next_period(badge, chain, add_indicator, mentoring, alice, bob, carol):
    capped = add_indicator(name="Organising an event", endorsements=1, attest_cap=2, cap_period=DAY)
    period_ends = fresh_period(chain, DAY)
    claims = [claim(badge, capped, contributor) for contributor in (alice, carol, alice, carol)]
    badge.attest(claims[0], sender=bob)
    badge.attest(claims[1], sender=bob)
    with ape.reverts(
        badge.BadgeAttestCapReached, attester=bob.address, indicatorId=capped, cap=2, periodEnds=period_ends
    ):
        badge.attest(claims[2], sender=bob)
    badge.attest(claims[2], sender=carol)  # the cap is each attester's own
    uncapped = claim(badge, mentoring, alice)
    badge.attest(uncapped, sender=bob)  # and each indicator's own
    mine_at(chain, period_ends - MARGIN)
    with ape.reverts(
        badge.BadgeAttestCapReached, attester=bob.address, indicatorId=capped, cap=2, periodEnds=period_ends
    ):
        badge.attest(claims[3], sender=bob)
    mine_at(chain, period_ends)
    badge.attest(claims[3], sender=bob)
    assert badge.ownerOf(claims[3]) == carol.address


def test_caps_zero__no_limit(badge, chain, mentoring, registry, alice, bob, carol):
    terms = registry.terms(mentoring)
    assert (terms.earnCap, terms.attestCap, terms.capPeriod) == (0, 0, 0)
    fresh_period(chain, DAY)
    for _ in range(4):
        earn(badge, mentoring, alice, bob, carol)
    assert badge.balanceOf(alice) == 4


def test_caps__amending_changes_them_and_bumps_the_version(
    badge, chain, registry, governance, add_indicator, alice, bob, carol
):
    capped = add_indicator(name="Organising an event", endorsements=1, earn_cap=1, cap_period=DAY)
    period_ends = fresh_period(chain, DAY)
    earn(badge, capped, alice, bob)
    raised = indicator_input("Organising an event", endorsements=1, earn_cap=2, attest_cap=1, cap_period=DAY)
    governance.pass_([(registry, "amendIndicator", (capped, raised))], "two events a day")
    terms = registry.terms(capped)
    assert (terms.version, terms.earnCap, terms.attestCap, terms.capPeriod) == (2, 2, 1, DAY)
    [rules] = [log for log in registry.IndicatorRulesDefined.range(0, chain.blocks.height + 1) if log.version == 2]
    assert (rules.indicatorId, rules.earnCap, rules.attestCap, rules.capPeriod) == (capped, 2, 1, DAY)
    # This period's tally carries over: one more badge for alice, then the new cap.
    earn(badge, capped, alice, bob)
    with ape.reverts(
        badge.BadgeEarnCapReached, contributor=alice.address, indicatorId=capped, cap=2, periodEnds=period_ends
    ):
        badge.claim(capped, EVIDENCE_HASH, EVIDENCE_URI, sender=alice)
    carols = claim(badge, capped, carol)
    with ape.reverts(
        badge.BadgeAttestCapReached, attester=bob.address, indicatorId=capped, cap=1, periodEnds=period_ends
    ):
        badge.attest(carols, sender=bob)  # bob's one attestation (under version 2) is spent
    uncapped = indicator_input("Organising an event", endorsements=1)
    governance.pass_([(registry, "amendIndicator", (capped, uncapped))], "no caps")
    assert registry.terms(capped).version == 3
    assert chain.pending_timestamp < period_ends
    earn(badge, capped, alice, bob)
    earn(badge, capped, alice, bob)
    assert badge.balanceOf(alice) == 4


# ---------------------------------------------------------------- reciprocal endorsement


def set_rules(governance, registry, window, score_rule=LINEAR):
    calls = [(registry, "setCommunityRules", (window, score_rule))]
    governance.carry(calls, f"window {window}, score rule {score_rule}")
    return governance.execute(calls, f"window {window}, score rule {score_rule}")


def test_reciprocal_window__off_by_default(badge, registry, mentoring, alice, bob):
    assert registry.reciprocalWindow() == 0 and registry.scoreRule() == LINEAR
    bobs, alices = claim(badge, mentoring, bob), claim(badge, mentoring, alice)
    badge.attest(bobs, sender=alice)
    badge.attest(alices, sender=bob)  # straight back: allowed with the rule off
    assert badge.hasAttested(alices, bob)


def test_reciprocal_window__refused_within_it_allowed_after(
    badge, chain, registry, governance, mentoring, add_indicator, alice, bob, carol
):
    receipt = set_rules(governance, registry, DAY)
    [rules] = receipt.decode_logs(registry.CommunityRulesSet)
    assert (rules.reciprocalWindow, rules.scoreRule) == (DAY, LINEAR)
    assert registry.reciprocalWindow() == DAY
    other = add_indicator(name="Organising an event")
    bobs, alices, alices_other = (
        claim(badge, mentoring, bob),
        claim(badge, mentoring, alice),
        claim(badge, other, alice),
    )
    endorsed_at = chain.blocks[badge.attest(bobs, sender=alice).block_number].timestamp
    until = endorsed_at + DAY
    with ape.reverts(
        badge.BadgeReciprocalEndorsement, claimId=alices, attester=bob.address, contributor=alice.address, until=until
    ):
        badge.attest(alices, sender=bob)
    badge.attest(alices_other, sender=bob)  # another indicator
    badge.attest(alices, sender=carol)  # a third member
    mine_at(chain, until - MARGIN)
    with ape.reverts(
        badge.BadgeReciprocalEndorsement, claimId=alices, attester=bob.address, contributor=alice.address, until=until
    ):
        badge.attest(alices, sender=bob)
    mine_at(chain, until)
    receipt = badge.attest(alices, sender=bob)
    assert badge.hasAttested(alices, bob)
    # Now bob endorsed alice: alice may not return it within the window.
    bobs_next = claim(badge, mentoring, bob)
    with ape.reverts(
        badge.BadgeReciprocalEndorsement,
        claimId=bobs_next,
        attester=alice.address,
        contributor=bob.address,
        until=chain.blocks[receipt.block_number].timestamp + DAY,
    ):
        badge.attest(bobs_next, sender=alice)


def test_reciprocal_window__a_nominees_endorsers_count(
    badge, registry, governance, mentoring, alice, bob, carol, chain
):
    set_rules(governance, registry, DAY)
    badge.nominate(bob, mentoring, EVIDENCE_HASH, EVIDENCE_URI, sender=carol)
    nomination = badge.claimCount()
    endorsed_at = chain.blocks[badge.attest(nomination, sender=alice).block_number].timestamp
    alices = claim(badge, mentoring, alice)
    with ape.reverts(
        badge.BadgeReciprocalEndorsement,
        claimId=alices,
        attester=bob.address,
        contributor=alice.address,
        until=endorsed_at + DAY,
    ):
        badge.attest(alices, sender=bob)


def test_reciprocal_window__sees_only_attestations_made_while_on(badge, registry, governance, mentoring, alice, bob):
    bobs, alices = claim(badge, mentoring, bob), claim(badge, mentoring, alice)
    badge.attest(bobs, sender=alice)  # while off: not recorded
    set_rules(governance, registry, DAY)
    badge.attest(alices, sender=bob)
    assert badge.hasAttested(alices, bob)


def test_reciprocal_window__turned_off_with_zero(badge, registry, governance, mentoring, alice, bob):
    set_rules(governance, registry, DAY)
    bobs, alices = claim(badge, mentoring, bob), claim(badge, mentoring, alice)
    badge.attest(bobs, sender=alice)
    set_rules(governance, registry, 0)
    assert registry.reciprocalWindow() == 0
    badge.attest(alices, sender=bob)
    assert badge.hasAttested(alices, bob)


def test_reciprocal_window__at_most_365_days(registry, governance):
    longest = 365 * DAY
    with ape.reverts(registry.RegistryReciprocalWindowTooLong, seconds_=longest + 1, max=longest):
        set_rules(governance, registry, longest + 1)
    assert registry.reciprocalWindow() == 0
    set_rules(governance, registry, longest)
    assert registry.reciprocalWindow() == longest


# ---------------------------------------------------------------- score rule


def test_score_rule__set_and_read(registry, governance):
    receipt = set_rules(governance, registry, 0, SQUARE_ROOT)
    [rules] = receipt.decode_logs(registry.CommunityRulesSet)
    assert (rules.reciprocalWindow, rules.scoreRule) == (0, SQUARE_ROOT)
    assert registry.scoreRule() == SQUARE_ROOT
    set_rules(governance, registry, 7 * DAY, LINEAR)
    assert (registry.reciprocalWindow(), registry.scoreRule()) == (7 * DAY, LINEAR)


def test_score_rule__no_third_value(registry, governance):
    calls = [(registry, "setCommunityRules", (0, 2))]
    governance.carry(calls, "an unknown score rule")
    with ape.reverts():
        governance.execute(calls, "an unknown score rule")
    assert registry.scoreRule() == LINEAR


# ---------------------------------------------------------------- governed only


def test_rules__only_through_a_passed_proposal(badge, registry, mentoring, alice, outsider):
    for caller in (alice, outsider):
        with ape.reverts(registry.OwnableUnauthorizedAccount, account=caller.address):
            registry.setCommunityRules(DAY, SQUARE_ROOT, sender=caller)
        with ape.reverts(registry.OwnableUnauthorizedAccount, account=caller.address):
            registry.addIndicator(
                indicator_input("Code review", endorser_indicator=mentoring, earn_cap=1, cap_period=DAY), sender=caller
            )
        with ape.reverts(registry.OwnableUnauthorizedAccount, account=caller.address):
            registry.amendIndicator(mentoring, indicator_input(attest_cap=1, cap_period=DAY), sender=caller)
    assert (registry.reciprocalWindow(), registry.scoreRule()) == (0, LINEAR)
    terms = registry.terms(mentoring)
    assert (terms.version, terms.attestCap, terms.capPeriod, registry.indicatorCount()) == (1, 0, 0, 1)


def test_rules__not_through_the_forwarder(relay, registry, alice, forwarder):
    # The registry trusts only its Governor; a member's signed request cannot reach it.
    with ape.reverts(forwarder.ERC2771UntrustfulTarget):
        relay.call(alice, registry, "setCommunityRules", DAY, SQUARE_ROOT)


# ---------------------------------------------------------------- gas with every rule off


GAS_BUDGET = 300_000  # issue 10: a whole recorded contribution with every rule off
BATCH = 10  # the relayer worker's executeBatch size (bench/gas.py)


def assert_every_rule_off(registry, indicator):
    terms = registry.terms(indicator)
    assert (terms.endorserIndicatorId, terms.earnCap, terms.attestCap, terms.capPeriod) == (0, 0, 0, 0)
    assert registry.reciprocalWindow() == 0


def test_gas__whole_contribution_with_every_rule_off_within_budget(badge, registry, mentoring, alice, bob, carol):
    assert_every_rule_off(registry, mentoring)
    earn(badge, mentoring, alice, bob, carol)  # the first pays to create the claim counter and alice's balance
    claimed = badge.claim(mentoring, EVIDENCE_HASH, EVIDENCE_URI, sender=alice)
    claim_id = badge.claimCount()
    attested = badge.attest(claim_id, sender=bob)
    minted = badge.attest(claim_id, sender=carol)
    assert badge.ownerOf(claim_id) == alice.address
    whole = claimed.gas_used + attested.gas_used + minted.gas_used
    print(f"\nwhole contribution: {claimed.gas_used:,} + {attested.gas_used:,} + {minted.gas_used:,} = {whole:,} gas")
    assert whole <= GAS_BUDGET


def test_gas__relayed_whole_contribution_in_batches_within_budget(
    badge, registry, mentoring, relay, forwarder, alice, bob, carol
):
    """As the relayer worker sends them: BATCH claims in one executeBatch, their first attestations
    in one, the minting ones in one (one `execute` per request costs each its own 21,000 base)."""
    assert_every_rule_off(registry, mentoring)
    members = [alice, bob, carol]
    for member in members:  # the first badge of each pays for counters; so does each signer's first nonce
        others = [m for m in members if m != member]
        token_id = claim(badge, mentoring, member)
        relay.call(others[0], badge, "attest", token_id)
        relay.call(others[1], badge, "attest", token_id)
    relay.call(alice, badge, "claim", mentoring, EVIDENCE_HASH, EVIDENCE_URI)

    def execute_batch(requests):
        nonces, structs = {}, []
        for signer, method, args in requests:
            nonce = nonces.get(signer.address, forwarder.nonces(signer.address))
            nonces[signer.address] = nonce + 1
            typed = relay.typed_data(signer, badge, method, *args, nonce=nonce, gas=GAS_BUDGET)
            structs.append(forward_request_struct(typed, relay.sign(signer, typed)))
        return forwarder.executeBatch(structs, relay.relayer.address, sender=relay.relayer).gas_used

    first_id = badge.claimCount() + 1
    contributors = [members[i % 3] for i in range(BATCH)]
    attesters = [[m for m in members if m != c] for c in contributors]
    ids = range(first_id, first_id + BATCH)
    claims = execute_batch([(c, "claim", (mentoring, EVIDENCE_HASH, EVIDENCE_URI)) for c in contributors])
    attests = execute_batch([(a[0], "attest", (i,)) for a, i in zip(attesters, ids)])
    mints = execute_batch([(a[1], "attest", (i,)) for a, i in zip(attesters, ids)])
    assert [badge.ownerOf(i) for i in ids] == [c.address for c in contributors]
    per_contribution = (claims + attests + mints) // BATCH
    print(f"\nrelayed whole contribution, in batches of {BATCH}: {per_contribution:,} gas each")
    assert per_contribution <= GAS_BUDGET
