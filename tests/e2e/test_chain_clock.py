"""A local chain restarted from its state file never goes back in time (issue 20, item 6): after
time was skipped (evm_increaseTime, as `make demo` and the tests' `skip` do), the restarted
chain's blocks are newer than the last one it saved, under automine and under interval mining.

`make run`'s own lines start the chain here (cut from tools/run-local.sh and run by bash), and
so does the tests' harness (devstack/stack.py Anvil, which the fault tests' chains are)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from backend.chain.local_clock import last_timestamp, resume_arguments
from devstack.stack import ROOT, VENV_BIN, Anvil, free_port, rpc, wait_until

SKIP = 600  # more than the 589 s the issue saw a restarted chain go back


def blocks(url: str) -> list[tuple[int, int]]:
    """(number, timestamp) of every block, oldest first."""
    head = int(rpc(url, "eth_blockNumber"), 16)
    return [(n, int(rpc(url, "eth_getBlockByNumber", hex(n), False)["timestamp"], 16)) for n in range(head + 1)]


def skip(url: str, seconds: int) -> int:
    """Chain time moved ahead and a block mined there; its timestamp."""
    rpc(url, "evm_increaseTime", seconds)
    rpc(url, "evm_mine")
    return blocks(url)[-1][1]


def saved(state: Path) -> tuple[int, int]:
    """The newest block's number and timestamp in a state file Anvil wrote on its way out."""
    return json.loads(state.read_text())["best_block_number"], last_timestamp(state)


def assert_never_back(chain: list[tuple[int, int]], saved_head: int, saved_last: int) -> None:
    """Timestamps never decrease, and every block mined after the restart is newer than the last saved."""
    stamps = [stamp for _, stamp in chain]
    assert stamps == sorted(stamps), chain
    after = [(n, stamp) for n, stamp in chain if n > saved_head]
    assert after and all(stamp > saved_last for _, stamp in after), (saved_head, saved_last, chain)


def run_local_anvil_lines() -> str:
    """tools/run-local.sh's lines that start Anvil: from its clock's arguments to the command."""
    script = (ROOT / "tools" / "run-local.sh").read_text()
    match = re.search(r"^ *read -r -a resume_clock.*?> var/anvil\.log 2>&1 &$", script, re.M | re.S)
    assert match, "tools/run-local.sh no longer starts Anvil with the clock's arguments"
    return match.group(0)


class RunLocalAnvil:
    """Anvil started by `make run`'s own lines, in a folder standing for the checkout (its var/)."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        (folder / "var").mkdir(exist_ok=True)
        self.state = folder / "var" / "anvil-state.json"
        self.shell: subprocess.Popen | None = None
        self.pid = 0

    def start(self) -> None:
        # As run-local.sh runs them: its PATH (the virtualenv's python and anvil), RPC_PORT set.
        script = f"set -euo pipefail\n{run_local_anvil_lines()}\necho $!\nwait\n"
        env = {**os.environ, "RPC_PORT": str(self.port), "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
        self.shell = subprocess.Popen(
            ["bash", "-c", script], cwd=self.folder, env=env, stdout=subprocess.PIPE, text=True
        )
        self.pid = int(self.shell.stdout.readline())
        wait_until(lambda: rpc(self.url, "eth_chainId"), what="anvil")

    def stop(self) -> None:
        # run-local.sh's stop(): SIGTERM, and Anvil writes its state on the way out.
        os.kill(self.pid, signal.SIGTERM)
        self.shell.wait(timeout=20)


def test_make_runs_chain_resumes_its_clock_after_a_skip(tmp_path):
    """`make run`, `make demo` (time skipped), Ctrl-C, `make run` again: the next blocks, mined on
    demand and then one a second as run-local.sh sets it, are newer than the last one saved."""
    anvil = RunLocalAnvil(tmp_path)
    anvil.start()
    try:
        rpc(anvil.url, "evm_mine")
        last = skip(anvil.url, SKIP)
        assert last > time.time() + SKIP - 30
    finally:
        anvil.stop()
    head, saved_last = saved(anvil.state)
    assert saved_last == last
    anvil.start()
    try:
        rpc(anvil.url, "evm_mine")
        assert blocks(anvil.url)[-1][1] >= last + 1
        rpc(anvil.url, "evm_setIntervalMining", 1)
        head = int(rpc(anvil.url, "eth_blockNumber"), 16)
        wait_until(lambda: int(rpc(anvil.url, "eth_blockNumber"), 16) >= head + 2, what="interval blocks")
        assert_never_back(blocks(anvil.url), head, last)
    finally:
        anvil.stop()


def test_the_tests_chains_resume_their_clock_under_interval_mining(tmp_path):
    """The harness's Anvil, as the fault tests start theirs (--block-time 0.25, mining from the
    first instant): no block after the restart is older than the last one saved."""
    anvil = Anvil(tmp_path, "--block-time", "0.25")
    anvil.start()
    try:
        skip(anvil.url, SKIP)
    finally:
        anvil.stop()
    head, last = saved(anvil.state)  # interval blocks may follow the skip's before the stop
    assert last > time.time() + SKIP - 30
    anvil.start()
    try:
        wait_until(lambda: int(rpc(anvil.url, "eth_blockNumber"), 16) >= head + 4, what="interval blocks")
        assert_never_back(blocks(anvil.url), head, last)
    finally:
        anvil.stop()


def test_resume_arguments_only_when_the_saved_chain_is_ahead(tmp_path):
    state = tmp_path / "anvil-state.json"
    assert resume_arguments(state) == []  # a fresh chain: no state yet
    state.write_text('{"block": {"timestamp": "0x6')  # a dump cut short: Anvil says so itself
    assert resume_arguments(state) == []
    state.write_text(
        json.dumps(
            {
                "block": {"timestamp": hex(1_000)},
                "blocks": [{"header": {"timestamp": hex(1_200)}}, {"header": {"timestamp": "0x1"}}],
            }
        )
    )
    assert last_timestamp(state) == 1_200
    assert resume_arguments(state, now=900.5) == ["--timestamp", "1201"]
    assert resume_arguments(state, now=1_200.5) == ["--timestamp", "1201"]  # not within the same second
    assert resume_arguments(state, now=1_201) == []  # the wall clock is past it
    # The command run-local.sh reads its arguments from.
    printed = subprocess.run(
        [sys.executable, "-m", "backend.chain.local_clock", str(state)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert printed == []
    ahead = int(time.time()) + SKIP
    state.write_text(json.dumps({"block": {"timestamp": hex(ahead)}}))
    printed = subprocess.run(
        [sys.executable, "-m", "backend.chain.local_clock", str(state)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert printed == ["--timestamp", str(ahead + 1)]
