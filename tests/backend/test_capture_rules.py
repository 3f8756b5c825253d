"""The capture rules document (backend/capture/rules.py) and the proposal action that sets it
(set_capture_rules in backend/proposals/actions.py): typed and versioned, canonical JSON on chain
that decodes back to the same action, bounded as the contract bounds it, and in a voter's words."""

from __future__ import annotations

import json

import pytest
from pydantic import TypeAdapter, ValidationError

from backend.capture import rules
from backend.chain.abi import ContractAbi
from backend.proposals.actions import ProposalAction, actions_from_calls, encode, words_for

REGISTRY = ContractAbi(
    [{"type": "function", "name": "setCaptureRules", "inputs": [{"name": "rules", "type": "string"}], "outputs": []}]
)
ACTION: TypeAdapter = TypeAdapter(ProposalAction)

DOCUMENT = {
    "version": 1,
    "rules": [
        {
            "when": "github.pull_request.merged",
            "repository": "example/site",
            "labels": ["mentoring"],
            "indicator_id": 1,
        },
        {"when": "gitlab.merge_request.merged", "project": "group/app", "indicator_id": 1},
        {"when": "discourse.topic.created", "forum": "https://forum.example.org", "category_id": 5, "indicator_id": 2},
        {"when": "standard", "type": "event.organised", "indicator_id": 2},
    ],
    "endorse": {"command": "/endorse"},
}


class Say:
    def indicator(self, indicator_id):
        return {1: "Mentoring a newcomer", 2: "Organising an event"}.get(int(indicator_id), f"#{indicator_id}")

    def member(self, address):
        return address

    def organisation(self, organisation_id):
        return str(organisation_id)

    def terms(self, fields):
        return "", ""

    def span(self, seconds):
        return f"{seconds} s"


def test_the_canonical_document_is_sorted_spaceless_and_complete():
    parsed = rules.CaptureRules.model_validate(DOCUMENT)
    text = rules.canonical(parsed)
    assert " " not in text.replace("Mentoring a newcomer", "")
    assert json.loads(text) == parsed.model_dump(mode="json")
    assert text == json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))
    assert '"labels":[]' in text and '"tags":[]' in text  # defaults written: the same bytes whatever was omitted
    assert rules.parse(text) == parsed
    assert rules.canonical(rules.parse(text)) == text


def test_the_empty_document_is_capture_off_and_anything_else_is_checked():
    assert rules.parse("") is None
    for bad, words in [
        ("{", "not JSON"),
        ('{"version": 2, "rules": []}', "version"),
        ('{"version": 1, "rules": [{"when": "github.pull_request.merged", "indicator_id": 1}]}', "repository"),
        ('{"version": 1, "rules": [], "surprise": true}', "surprise"),
        ('{"version": 1, "rules": [{"when": "svn.commit", "indicator_id": 1}]}', "when"),
        ('{"version": 1, "rules": [{"when": "standard", "type": "x", "indicator_id": 0}]}', "indicator_id"),
    ]:
        with pytest.raises(ValueError) as refused:
            rules.parse(bad)
        assert words in rules.problem_of(refused.value), bad


def test_a_document_over_the_contracts_bound_is_refused():
    many = {
        "version": 1,
        "rules": [
            {
                "when": "github.pull_request.merged",
                "repository": f"example/repository-{i}",
                "labels": [f"label-{j:02d}-" + "x" * 90 for j in range(20)],
                "indicator_id": 1,
            }
            for i in range(10)
        ],
    }
    size = len(json.dumps(many, separators=(",", ":")))
    assert size > rules.MAX_RULES_BYTES
    with pytest.raises(ValidationError) as refused:
        rules.CaptureRules.model_validate(many)
    assert "16,384" in str(refused.value)


def test_a_rule_twice_is_refused():
    with pytest.raises(ValidationError):
        rules.CaptureRules.model_validate({"rules": [DOCUMENT["rules"][0], DOCUMENT["rules"][0]]})


def test_set_capture_rules_encodes_as_canonical_json_and_decodes_to_the_same_action():
    action = ACTION.validate_python({"type": "set_capture_rules", "rules": DOCUMENT})
    [(contract, calldata)] = encode(lambda key: REGISTRY, action)
    assert contract == "registry"
    decoded = REGISTRY.function("setCaptureRules").decode_input(calldata)
    assert decoded["rules"] == rules.canonical(action.rules)
    [fields] = actions_from_calls([("registry", "setCaptureRules", list(decoded.values()))])
    again = ACTION.validate_python(fields)
    assert again == action
    assert encode(lambda key: REGISTRY, again) == [(contract, calldata)]


def test_null_rules_turn_capture_off_as_the_empty_document():
    action = ACTION.validate_python({"type": "set_capture_rules", "rules": None})
    [(_, calldata)] = encode(lambda key: REGISTRY, action)
    assert REGISTRY.function("setCaptureRules").decode_input(calldata)["rules"] == ""
    [fields] = actions_from_calls([("registry", "setCaptureRules", [""])])
    assert ACTION.validate_python(fields) == action


def test_a_document_signed_by_hand_that_is_not_rules_is_refused_when_read_back():
    for text in ("not json", '{"version": 1, "rules": [{"when": "svn.commit", "indicator_id": 1}]}'):
        [fields] = actions_from_calls([("registry", "setCaptureRules", [text])])
        with pytest.raises(ValidationError):
            ACTION.validate_python(fields)
    # JSON with spaces is rules, but not the canonical bytes: encoding it again gives other calldata,
    # which the relay refuses as calls the actions do not make.
    spaced = json.dumps(DOCUMENT)
    again = ACTION.validate_python(actions_from_calls([("registry", "setCaptureRules", [spaced])])[0])
    assert rules.canonical(again.rules) != spaced


def test_voters_read_the_rules_in_words():
    text = rules.canonical(rules.CaptureRules.model_validate(DOCUMENT))
    words = words_for("registry", "setCaptureRules", [text], Say())
    assert words is not None
    assert words.verb == "set the capture rules to" and words.object == "4 rules"
    assert "a pull request merged in example/site on GitHub labelled mentoring" in words.details
    assert "a draft claim of Mentoring a newcomer for its author" in words.details
    assert "category 5 of https://forum.example.org" in words.details
    assert "a comment /endorse by a member on a captured item -> a draft endorsement" in words.details
    off = words_for("registry", "setCaptureRules", [""], Say())
    assert off is not None and off.object == "capture turned off"
    broken = words_for("registry", "setCaptureRules", ["{"], Say())
    assert broken is not None and broken.object == "a document the service cannot read"
