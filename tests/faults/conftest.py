"""Shared by the fault tests: one community deployed and governed once (an indicator that
needs one attestation, Dana admitted), kept as an Anvil state file; each test starts its own
Anvil from a copy of it, so a test may kill its chain or its service without touching another."""

from __future__ import annotations

import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from backend.client import CommunityClient
from tests.e2e.conftest import ALICE, DANA, Env, address, pass_proposal
from tests.e2e.harness import UNTHROTTLED, VENV_BIN, Anvil, Server, local_stack, rpc, service_env, wait_until

INDICATOR = 1


class FaultAnvil(Anvil):
    """Anvil with extra flags (mining interval, how often the state file is written), and kills."""

    def __init__(self, workdir: Path, *flags: str) -> None:
        super().__init__(workdir)
        self.flags = list(flags)

    def start(self) -> None:
        anvil = VENV_BIN / "anvil"
        command = [str(anvil if anvil.exists() else "anvil"), "--port", str(self.port), "--hardfork", "cancun",
                   "--state", str(self.state), *self.flags]
        self.process = subprocess.Popen(command, stdout=self.log.open("a"), stderr=subprocess.STDOUT)
        wait_until(lambda: rpc(self.url, "eth_chainId"), what="anvil")

    def kill(self, sig: int) -> None:
        """SIGKILL loses what was mined since the last state dump; SIGTERM/SIGINT dump first."""
        self.process.send_signal(sig)
        self.process.wait(timeout=20)
        self.process = None


@dataclass
class Community:
    state: Path
    deployments: Path


@pytest.fixture(scope="package")
def community(tmp_path_factory) -> Community:
    work = tmp_path_factory.mktemp("faults-community")
    # Leaving the stack stops Anvil with SIGINT: its state file then holds the governed community.
    with local_stack(work, anvil=FaultAnvil(work), settings=UNTHROTTLED) as stack:
        env = Env(stack.anvil, stack.server, stack.deployments, "", CommunityClient(stack.server.url), work)
        code = {"type": "add_indicator", "name": "Merged patch", "category": "code", "orientation": "object",
                "weight": 3, "endorsements_required": 1}
        pass_proposal(env, ALICE, "Faults: one indicator, Dana admitted",
                      [code, {"type": "admit_member", "account": address(DANA)}])
    return Community(stack.anvil.state, stack.deployments)


def chain_from(community: Community, workdir: Path, *flags: str) -> FaultAnvil:
    """A chain of its own, started from a copy of the governed community's state."""
    anvil = FaultAnvil(workdir, *flags)
    shutil.copy(community.state, anvil.state)
    anvil.start()
    return anvil


def server_for(anvil: Anvil, community: Community, workdir: Path) -> Server:
    return Server({**service_env(anvil, community.deployments, f"sqlite:///{workdir / 'index.sqlite3'}"),
                   **UNTHROTTLED}, workdir / "api.log")


class Counter:
    def __init__(self) -> None:
        self.value = 0
        self._lock = threading.Lock()

    def add(self, n: int = 1) -> int:
        with self._lock:
            self.value += n
            return self.value

