"""Fixtures named by role. Runs under `ape test` on the in-process EVM (ethereum:local:test)
and on Anvil (ethereum:local:foundry). The community is created once per session by the
same code as `ape run deploy` (through the community factory, deployed first); ape's isolation
reverts each test's changes."""

from __future__ import annotations

from collections.abc import Iterator
from unittest import mock

import pytest
from ape_ethereum.trace import TransactionTrace

from devstack.protocol import VOTING_DELAY, VOTING_PERIOD, Governance, Relay, indicator_input
from scripts._community import CommunityParams, create_community, deploy_factory


@pytest.fixture(scope="session")
def deployer(accounts):
    return accounts[0]


@pytest.fixture(scope="session")
def founders(accounts):
    return [accounts[1], accounts[2], accounts[3]]


@pytest.fixture(scope="session")
def alice(founders):
    return founders[0]


@pytest.fixture(scope="session")
def bob(founders):
    return founders[1]


@pytest.fixture(scope="session")
def carol(founders):
    return founders[2]


@pytest.fixture(scope="session")
def newcomer(accounts):
    """Not a member until a test admits them."""
    return accounts[4]


@pytest.fixture(scope="session")
def outsider(accounts):
    """Never a member."""
    return accounts[5]


@pytest.fixture(scope="session")
def relayer(accounts):
    """Pays gas for members' signed requests; holds no rights of its own."""
    return accounts[6]


@pytest.fixture(scope="session")
def community(deployer, founders):
    """Created through the chain's CommunityFactory, deployed first with its deployers, as `ape run
    deploy` does on a fresh chain."""
    params = CommunityParams(
        slug="test",
        name="Test Commons",
        symbol="TST",
        founders=[founder.address for founder in founders],
        voting_delay_seconds=VOTING_DELAY,
        voting_period_seconds=VOTING_PERIOD,
        proposal_threshold=0,
        quorum_percent=50,
    )
    return create_community(params, deployer, deploy_factory(deployer))


@pytest.fixture(scope="session")
def community_factory(community):
    """The chain's CommunityFactory, which created the session's community. (Not `factory`: a
    module's session fixture of that name, test_passkeys.py's, would shadow it, and two session
    fixtures of one name confuse ape's isolation: a test's changes were not undone.)"""
    return community.factory


@pytest.fixture(scope="session")
def membership(community):
    return community.membership


@pytest.fixture(scope="session")
def governor(community):
    return community.governor


@pytest.fixture(scope="session")
def timelock(community):
    return community.timelock


@pytest.fixture(scope="session")
def registry(community):
    return community.registry


@pytest.fixture(scope="session")
def badge(community):
    return community.badge


@pytest.fixture(scope="session")
def forwarder(community):
    return community.forwarder


@pytest.fixture(scope="session")
def governance(governor, chain, founders):
    return Governance(governor, chain, founders)


@pytest.fixture
def add_indicator(governance, registry):
    """Add an indicator through governance; returns its id."""

    def add(**fields):
        governance.pass_([(registry, "addIndicator", (indicator_input(**fields),))], f"add {fields}")
        return registry.indicatorCount()

    return add


@pytest.fixture
def mentoring(add_indicator):
    return add_indicator()


@pytest.fixture(scope="session")
def relay(forwarder, relayer, chain):
    return Relay(forwarder, relayer, chain.chain_id)


def _addresses_called(trace: TransactionTrace, reverse: bool = False) -> Iterator[str]:
    """The contracts a transaction called, in order, from the node's call tree (callTracer)."""
    called: list[str] = []

    def walk(node) -> None:
        called.append(node.address)
        for call in node.calls:
            walk(call)

    walk(trace._debug_trace_transaction_call_tracer())
    for address in reversed(called) if reverse else called:
        if address:
            yield trace._ecosystem.decode_address(address)


@pytest.fixture(scope="session", autouse=True)
def reverts_decoded_without_struct_logs(networks) -> Iterator[None]:
    """On Anvil, ape-foundry prints the call trace of every reverted transaction, and finds the
    contract whose custom error bubbled up (a registry error from the Governor's execute) by
    parsing every opcode's struct log into pydantic frames: 90 % of such a test's time, 7 s for
    the three refused proposals of one test. The tests assert the error, not the trace: the
    trace is not printed, and the contract is found in the node's call tree (callTracer)."""
    if networks.provider.name != "foundry":
        yield
        return
    with (
        mock.patch.object(TransactionTrace, "show", lambda self, *args, **kwargs: None),
        mock.patch.object(TransactionTrace, "get_addresses_used", _addresses_called),
    ):
        yield
