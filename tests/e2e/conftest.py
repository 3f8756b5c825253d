"""One real chain, deployment and API server per database backend (SQLite always, PostgreSQL
when a server answers at TEST_POSTGRES_URL)."""

from __future__ import annotations

import json
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from eth_account import Account

from backend.client import ApiError, CommunityClient
from backend.settings import ANVIL_DEV_KEYS
from devstack.stack import UNTHROTTLED, Anvil, Server, local_stack

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _postgres_database():
    """A fresh database on the test server, or a skip saying why there is none."""
    try:
        import psycopg

        admin = psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=3)
    except Exception as exc:
        pytest.skip(
            f"PostgreSQL not reachable at {POSTGRES_URL} ({type(exc).__name__}): set TEST_POSTGRES_URL "
            "or start a server to run the suite on PostgreSQL"
        )
    name = f"cc_e2e_{uuid.uuid4().hex[:8]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_URL.rsplit("/", 1)[0]
    return f"{base}/{name}", lambda: (admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'), admin.close())


@dataclass
class Env:
    anvil: Anvil
    server: Server
    deployments: Path
    database_url: str
    api: CommunityClient  # top level: one community served
    workdir: Path


@pytest.fixture(scope="package", params=["sqlite", "postgresql"])
def env(request, tmp_path_factory):
    workdir = tmp_path_factory.mktemp(f"e2e-{request.param}")
    cleanup = None
    if request.param == "sqlite":
        database_url = f"sqlite:///{workdir / 'index.sqlite3'}"
    else:
        database_url, cleanup = _postgres_database()
    try:
        # Budgets off: the whole suite acts as a handful of members from one client within minutes,
        # which the default rates (60 a minute per member) would refuse. test_hostile_relay tests
        # the budgets on servers of its own (own_server), default and tight.
        # The service does not carry out passed proposals by itself here: the modules execute their
        # own, and leave on purpose some that the chain refuses (test_hostile_governance's removal
        # of every member), which it would carry out once it can, whenever a later module's state
        # allows it (it did: a newcomer admitted by test_hostile_relay left the only member). Its
        # own tests: tests/backend/test_web_autoexec.py, and on a real chain tests/browser.
        with local_stack(workdir, database_url=database_url, settings={**UNTHROTTLED, "CC_AUTOEXEC": "false"}) as stack:
            yield Env(
                stack.anvil, stack.server, stack.deployments, database_url, CommunityClient(stack.server.url), workdir
            )
    finally:
        if cleanup:
            cleanup()


# Founders are Anvil accounts 1-3 (communities/example.json); 4 is admitted by proposal; 7 never joins.
ALICE, BOB, CAROL, DANA, OUTSIDER = (ANVIL_DEV_KEYS[i] for i in (1, 2, 3, 4, 7))


def address(key: str) -> str:
    return Account.from_key(key).address


def pass_proposal(env: Env, key: str, description: str, actions: list[dict]) -> dict:
    """The whole lifecycle: propose, wait for the snapshot, vote, wait for the deadline, execute."""
    api = env.api
    proposal = api.act("proposals", key, description=description, actions=actions)
    proposal_id = proposal["created"]["proposal_id"]
    env.anvil.skip(2)
    for voter in (ALICE, BOB):
        api.act("votes", voter, proposal_id=proposal_id, support="for", reason="yes")
    env.anvil.skip(301)
    executed = api.execute(proposal_id)
    return {"id": proposal_id, "executed": executed}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Under pytest-xdist (`--dist loadgroup`, as tests/run.sh runs the suite), every test on one
    database's stack goes to one worker, in the order collected: the tests of a stack share its
    chain and build on one another's state, and each worker then deploys one stack, not both.
    A module's own stack (a module-scoped `stack` fixture per database) is kept on one worker the
    same way: split, each worker would deploy it again, and tests that build on the ones before
    (the notifications' inbox) would find nothing. Tests with servers of their own go to whichever
    worker is free. First among the hooks: the worker's own (registered before this file) reads the
    marks into each test's id."""
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if params.get("env"):
            item.add_marker(pytest.mark.xdist_group(f"e2e-{params['env']}"))
        elif params.get("stack"):
            item.add_marker(pytest.mark.xdist_group(f"{item.module.__name__}-{params['stack']}"))


def pytest_terminal_summary(terminalreporter):
    """The summaries tests recorded (`record_property("summary", ...)`: schemathesis's count of
    requests), after the results: a worker's own output never reaches the terminal."""
    for report in terminalreporter.getreports("passed"):
        for name, value in report.user_properties:
            if name == "summary":
                terminalreporter.write_line(value)


# The example community's founding indicators, as proposed (`governed`, and stacks of their own).
MENTORING = {
    "type": "add_indicator",
    "name": "Mentoring a newcomer",
    "description_uri": "ipfs://mentoring",
    "category": "mentoring",
    "orientation": "community",
    "weight": 5,
    "endorsements_required": 2,
}
CODE = {
    "type": "add_indicator",
    "name": "Merged patch",
    "category": "code",
    "orientation": "object",
    "weight": 3,
    "endorsements_required": 1,
}


@pytest.fixture(scope="package")
def governed(env):
    """A community with two indicators (mentoring: community, 2 endorsements; code: object, 1) and Dana admitted."""
    mentoring, code = MENTORING, CODE
    admit = {"type": "admit_member", "account": address(DANA)}
    # Their ids are read, not assumed 1 and 2: a module that adds indicators of its own without
    # this fixture (test_stable_exports, test_hostile_exports) may have run first on the stack.
    known = env.api.get("/indicators", limit=1)["total"]
    result = pass_proposal(env, ALICE, "Founding indicators and Dana", [mentoring, code, admit])
    made = env.api.get("/indicators", offset=known, limit=500)["items"]
    assert [i["name"] for i in made] == [mentoring["name"], code["name"]], made
    return {"proposal": result, "mentoring": made[0]["id"], "code": made[1]["id"]}


def problem_of(call) -> tuple[int, dict]:
    """The status and problem+json body of a call that must be refused."""
    with pytest.raises(ApiError) as caught:
        call()
    assert caught.value.response.headers["content-type"].startswith("application/problem+json")
    return caught.value.status, caught.value.problem


def error_names_in(deployments: Path) -> re.Pattern:
    """Every custom error of a deployment's ABIs, as a regex over a page's or a detail's words:
    what no refusal a member reads may name."""
    names: set[str] = set()

    def take(node) -> None:
        if isinstance(node, dict):
            if node.get("type") == "error" and "name" in node:
                names.add(node["name"])
            for value in node.values():
                take(value)
        elif isinstance(node, list):
            for value in node:
                take(value)

    take(json.loads(deployments.read_text())["abis"])
    assert {"GovernorNotMember", "BadgeSelfAttestation", "ERC2771ForwarderExpiredRequest"} <= names
    return re.compile(r"\b(" + "|".join(sorted(names, key=len, reverse=True)) + r")\b")
