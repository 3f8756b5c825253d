"""Every refusal in words (issue 23): each custom error of the contracts' ABIs (OpenZeppelin's
included) has a sentence, and no refusal's detail carries an error's name, which stays in the
problem's `error` field for programmers (the web app shows it in a "details" disclosure only).

The names are read from the compiled contracts (ape's .build, or forge's out/), which the contract
tests build before the backend tests run."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from backend.errors import _STATUS_BY_ERROR, _WORDS, ChainRefused, refusal_in_words
from backend.i18n import SUPPORTED, use_locale

ROOT = Path(__file__).resolve().parents[2]


def abi_errors() -> dict[str, list[dict]]:
    """Every custom error of the compiled contracts, by name, with its inputs."""
    found: dict[str, list[dict]] = {}

    def take(abi: list) -> None:
        for item in abi:
            if isinstance(item, dict) and item.get("type") == "error":
                found.setdefault(item["name"], item.get("inputs", []))

    ape = ROOT / ".build" / "__local__.json"
    if ape.exists():
        for contract in json.loads(ape.read_text()).get("contractTypes", {}).values():
            take(contract.get("abi", []))
    forge = ROOT / "out"
    if not found and forge.is_dir():
        for path in forge.glob("*.sol/*.json"):
            take(json.loads(path.read_text()).get("abi", []))
    if not found:
        if os.environ.get("CI") == "true":
            pytest.fail("no compiled contracts (.build or out/): the contract tests build them first")
        pytest.skip("no compiled contracts: run `ape compile` or `forge build` first")
    return found


def example(kind: str, name: str):
    """A plausible value of an ABI type, as ErrorDecoder decodes it."""
    if kind == "address":
        return "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"
    if kind.startswith("uint") or kind.startswith("int"):
        return 1_790_000_000 if name in ("periodEnds", "until", "expiresAt", "deadline", "expiry") else 7
    if kind.startswith("bytes"):
        return "0x" + "ab" * 32
    if kind == "string":
        return "name"
    if kind == "bool":
        return True
    return 1


def names_pattern(names) -> re.Pattern:
    return re.compile(r"\b(" + "|".join(sorted(map(re.escape, names), key=len, reverse=True)) + r")\b")


def test_every_custom_error_of_the_abis_has_a_sentence():
    missing = sorted(set(abi_errors()) - set(_WORDS))
    assert not missing, f"no sentence in backend/errors.py _WORDS for {missing}"


@pytest.mark.parametrize("language", SUPPORTED)
def test_no_refusal_names_an_error(language):
    errors = abi_errors()
    pattern = names_pattern(set(errors) | set(_STATUS_BY_ERROR))
    for name, inputs in errors.items():
        args = {i["name"]: example(i["type"], i["name"]) for i in inputs}
        with use_locale(language):
            refused = ChainRefused(name, args)
        assert not pattern.search(refused.detail), (name, refused.detail)
        assert "no words for" not in refused.detail, (name, refused.detail)
        assert "%(" not in refused.detail, (name, refused.detail)  # every placeholder filled
        # Programmers still find the name and arguments, in their own fields.
        assert refused.extra == {"error": name, "arguments": args}


def test_every_refusal_is_said_in_spanish():
    """Each sentence has its Spanish in words.po: none comes back in English."""
    for name, inputs in abi_errors().items():
        args = {i["name"]: example(i["type"], i["name"]) for i in inputs}
        english = ChainRefused(name, args).detail
        with use_locale("es"):
            spanish = ChainRefused(name, args).detail
        assert spanish != english, (name, english)
    with use_locale("es"):
        period = refusal_in_words("GovernorVotingPeriodOutOfRange", {"value": 59, "min": 60, "max": 30 * 86_400})
        assert "59 segundos" in period and "de 1 minuto a 30 días" in period
        executed = refusal_in_words("GovernorUnexpectedProposalState", {"proposalId": 5, "current": 7})
        assert executed == "La propuesta 5 ya se ejecutó, así que esto no se puede hacer ahora"
        votes = refusal_in_words("GovernorInsufficientProposerVotes", {"proposer": "Ana", "votes": 0, "threshold": 1})
        assert votes.startswith("Ana tiene 0 votos, y hacer una propuesta requiere 1 voto")


def test_times_states_and_spans_in_words():
    assert "2026-09-21" in refusal_in_words("ERC2771ForwarderExpiredRequest", {"deadline": 1_790_000_000})
    executed = refusal_in_words("GovernorUnexpectedProposalState", {"proposalId": 5, "current": 7})
    assert executed == "Proposal 5 was already carried out, so this cannot be done now"
    period = refusal_in_words("GovernorVotingPeriodOutOfRange", {"value": 59, "min": 60, "max": 30 * 86_400})
    assert "59 seconds" in period and "1 minute to 30 days" in period
    name = refusal_in_words("RegistryInvalidIndicator", {"field": "name"})
    assert name.startswith("The indicator's name is not acceptable: 1 to 64 bytes")


def test_an_unknown_error_says_so_without_its_name():
    detail = refusal_in_words("UnknownError(0x12345678)", {})
    assert "UnknownError" not in detail and "no words for" in detail


def test_indicator_names_are_unique_among_the_active_ones():
    """Checked at prepare (backend/proposals/plan.py), trimmed and case folded, against the
    active indicators and the proposal's earlier actions."""
    from types import SimpleNamespace

    from backend.errors import Conflict
    from backend.proposals.actions import AddIndicator, AmendIndicator, RetireIndicator
    from backend.proposals.plan import ProposalPlan, name_key

    def add(name: str) -> AddIndicator:
        return AddIndicator(type="add_indicator", name=name, orientation="community", weight=1, endorsements_required=1)

    def plan() -> ProposalPlan:
        fresh = ProposalPlan(None, SimpleNamespace(slug="example"))  # type: ignore[arg-type]
        fresh._names = {name_key("Mentoring a newcomer"): (1, "Mentoring a newcomer"), name_key("Code"): (2, "Code")}
        return fresh

    with pytest.raises(Conflict) as refused:
        plan()._unique_name("actions[0] (add_indicator)", add("  mentoring  A newcomer "))
    assert refused.value.status == 409 and refused.value.extra["error"] == "IndicatorNameTaken"
    assert "already called “Mentoring a newcomer” (indicator 1)" in refused.value.detail
    assert refused.value.extra["errors"][0]["loc"] == ["body", "actions", "name"]

    twice = plan()
    twice._unique_name("actions[0] (add_indicator)", add("Translation"))
    twice._position = 1
    with pytest.raises(Conflict, match=r"an indicator actions\[0\] adds"):
        twice._unique_name("actions[1] (add_indicator)", add("translation"))

    amended = plan()  # an indicator keeps its own name when amended; retired, its name is free
    amended._unique_name(
        "amend",
        AmendIndicator(**add("Mentoring a newcomer").model_dump() | {"type": "amend_indicator", "indicator_id": 1}),
    )
    with pytest.raises(Conflict):
        amended._unique_name(
            "amend", AmendIndicator(**add("Code").model_dump() | {"type": "amend_indicator", "indicator_id": 1})
        )
    retired = plan()
    retired._unique_name("retire", RetireIndicator(type="retire_indicator", indicator_id=2))
    retired._unique_name("add", add("code"))
