"""CC_FOLLOW_CREATORS and CC_FOLLOW_MAX_COMMUNITIES: which communities created through the factory
the service serves (docs/stewards/second-community.md). The service following them over real HTTP
is tests/e2e/test_created_communities.py; here, the settings as read from the environment."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from backend.settings import Settings

ALICE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
BOB = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"


def test_nobody_beside_the_deployments_file_by_default(monkeypatch):
    monkeypatch.delenv("CC_FOLLOW_CREATORS", raising=False)
    monkeypatch.delenv("CC_FOLLOW_MAX_COMMUNITIES", raising=False)
    settings = Settings(_env_file=None)
    assert settings.follow_creators == ()
    assert settings.follow_max_communities == 20


def test_addresses_comma_separated_in_any_case(monkeypatch):
    monkeypatch.setenv("CC_FOLLOW_CREATORS", f" {ALICE.lower()}, ,{BOB} ")
    assert Settings(_env_file=None).follow_creators == (ALICE, BOB)  # checksummed, as topics are compared


@pytest.mark.parametrize("value", ["alice", "0x1234", ALICE[:-1] + "g", "*"])
def test_anything_but_an_address_is_refused_with_its_name(monkeypatch, value):
    """A typo would otherwise leave a steward's own communities unserved, silently."""
    monkeypatch.setenv("CC_FOLLOW_CREATORS", f"{ALICE},{value}")
    with pytest.raises(ValidationError, match=r"CC_FOLLOW_CREATORS: .* is not an address"):
        Settings(_env_file=None)


def test_the_cap_cannot_be_negative(monkeypatch):
    monkeypatch.setenv("CC_FOLLOW_MAX_COMMUNITIES", "-1")
    with pytest.raises(ValidationError):
        Settings(_env_file=None)
