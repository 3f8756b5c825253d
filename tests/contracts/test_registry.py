"""Rule 3: amend (version + 1, old version in events) and retire, only through governance."""

import ape
from eth_utils import keccak

from devstack.protocol import OBJECT, indicator_input


def test_amend__bumps_version_and_keeps_history_in_events(governance, registry, mentoring):
    amended = indicator_input("Mentoring a newcomer to a merged patch", weight=8, endorsements=3)
    governance.pass_([(registry, "amendIndicator", (mentoring, amended))], "amend mentoring")

    terms = registry.terms(mentoring)
    assert (terms.weight, terms.endorsementsRequired, terms.version, terms.active) == (8, 3, 2, True)
    assert registry.indicatorName(mentoring) == "Mentoring a newcomer to a merged patch"

    history = list(registry.IndicatorDefined.range(0, ape.chain.blocks.height + 1))
    assert [(log.version, log.weight) for log in history] == [(1, 5), (2, 8)]


def test_retire__deactivates_and_emits(governance, registry, mentoring):
    governance.pass_([(registry, "retireIndicator", (mentoring,))], "retire mentoring")
    assert registry.terms(mentoring).active is False
    logs = list(registry.IndicatorRetired.range(0, ape.chain.blocks.height + 1))
    assert [(log.indicatorId, log.version) for log in logs] == [(mentoring, 1)]


def test_add_amend_retire__revert_for_anyone_but_governance(registry, mentoring, alice, outsider):
    for caller in (alice, outsider):
        with ape.reverts(registry.OwnableUnauthorizedAccount, account=caller.address):
            registry.addIndicator(indicator_input("Code review", orientation=OBJECT), sender=caller)
        with ape.reverts(registry.OwnableUnauthorizedAccount, account=caller.address):
            registry.amendIndicator(mentoring, indicator_input(weight=50), sender=caller)
        with ape.reverts(registry.OwnableUnauthorizedAccount, account=caller.address):
            registry.retireIndicator(mentoring, sender=caller)
    assert registry.indicatorCount() == 1
    assert registry.terms(mentoring).version == 1


def test_invalid_inputs_revert_with_the_field_named(governance, registry):
    bad = {
        "name": indicator_input(""),
        "weight": indicator_input(weight=0),
        "endorsementsRequired": indicator_input(endorsements=0),
    }
    for field, value in bad.items():
        calls = [(registry, "addIndicator", (value,))]
        governance.carry(calls, f"bad {field}")
        # The Governor bubbles the registry's error up from execute.
        with ape.reverts(registry.RegistryInvalidIndicator, field=field):
            governance.execute(calls, f"bad {field}")
    assert registry.indicatorCount() == 0


def test_unknown_and_retired_indicators(governance, registry, mentoring):
    with ape.reverts(registry.RegistryUnknownIndicator, indicatorId=99):
        registry.terms(99)
    with ape.reverts(registry.RegistryUnknownIndicator, indicatorId=0):
        registry.terms(0)
    governance.pass_([(registry, "retireIndicator", (mentoring,))], "retire")
    amend = [(registry, "amendIndicator", (mentoring, indicator_input(weight=9)))]
    governance.carry(amend, "amend a retired indicator")
    with ape.reverts(registry.RegistryIndicatorRetired, indicatorId=mentoring):
        governance.execute(amend, "amend a retired indicator")
    assert registry.terms(mentoring).version == 1


def test_capture_rules_are_set_by_governance_kept_in_the_event_and_checked_by_digest(governance, registry, alice):
    """How work done elsewhere becomes drafts is a governed rule like any other (issue 24): a JSON
    document in an event, its keccak256 in storage, so anyone can check what a service applies."""
    rules = '{"version": 1, "rules": [{"source": "github", "event": "pull_request.merged", "indicator_id": 1}]}'
    with ape.reverts(registry.OwnableUnauthorizedAccount, account=alice.address):
        registry.setCaptureRules(rules, sender=alice)
    governance.pass_([(registry, "setCaptureRules", (rules,))], "capture merged pull requests")
    assert registry.captureRulesDigest() == keccak(text=rules)
    calls = [(registry, "setCaptureRules", ("x" * 16_385,))]
    governance.carry(calls, "too long")
    with ape.reverts(registry.RegistryCaptureRulesTooLong, length=16_385, max=16_384):
        governance.execute(calls, "too long")
