"""Real processes for end-to-end tests and benchmarks: Anvil, `ape run deploy`, and the API under uvicorn."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from sqlalchemy import create_engine, select

from backend.chain.local_clock import resume_arguments
from backend.indexer.db import _normalise
from backend.indexer.models import PROJECTIONS, EventRecord

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
# Osaka has the P-256 precompile (EIP-7951, at 0x100, as on Ethereum since Osaka and on most L2s
# through RIP-7212): a passkey member's request then costs about 178,000 gas, not 420,000 with
# P-256 checked in Solidity. The contracts are still compiled for cancun (py-evm has no Osaka).
ANVIL_HARDFORK = "osaka"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(0.1)
    raise TimeoutError(f"timed out waiting for {what}")


def rpc(url: str, method: str, *params):
    response = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
    body = response.json()
    if "error" in body:
        raise RuntimeError(body["error"])
    return body["result"]


class Anvil:
    """A fresh, short chain on a free port, its state kept in a file so it can be restarted."""

    def __init__(self, workdir: Path, *flags: str) -> None:
        self.flags = list(flags)  # more of Anvil's arguments (--block-time 0.25, say)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.state = workdir / "anvil-state.json"
        self.log = workdir / "anvil.log"
        self.process: subprocess.Popen | None = None
        # The last deploy onto this chain (harness.deploy's key) and the head it left.
        self.deployed: tuple | None = None
        self.deployed_head: str | None = None

    def start(self) -> None:
        anvil = VENV_BIN / "anvil"
        # Restarted from its state file, Anvil forgets how far `skip` moved its clock: it resumes
        # after the newest block, as `make run`'s chain does (backend/chain/local_clock.py).
        command = [
            str(anvil if anvil.exists() else "anvil"),
            "--port",
            str(self.port),
            "--hardfork",
            ANVIL_HARDFORK,
            *resume_arguments(self.state),
            "--state",
            str(self.state),
            *self.flags,
        ]
        self.process = subprocess.Popen(command, stdout=self.log.open("a"), stderr=subprocess.STDOUT)
        wait_until(lambda: rpc(self.url, "eth_chainId"), what="anvil")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            # SIGINT lets Anvil write its state file before exiting.
            self.process.send_signal(signal.SIGINT)
            self.process.wait(timeout=20)
        self.process = None

    def skip(self, seconds: int) -> None:
        rpc(self.url, "evm_increaseTime", seconds)
        rpc(self.url, "evm_mine")


# What a deploy left on a chain, by what the chain held before it: (state, deployments file).
_DEPLOYED: dict[tuple, tuple[str, str]] = {}


def deploy(anvil: Anvil, deployments_dir: Path, params: Path | None = None) -> Path:
    """`ape run deploy` of the example community (or `params`) onto the chain; the deployments file.

    A deploy this process already ran onto a chain holding the same (a fresh chain of the same
    id, or one holding only deploys made here) loads the state it left instead (anvil_loadState:
    the same blocks, hashes, logs and addresses, as the same transactions from the same accounts
    would give). `ape run deploy` costs 9-12 s a time (the e2e suite ran it 14 times); loading
    takes 0.1 s."""
    path = deployments_dir / "ethereum-local-foundry.json"
    head = rpc(anvil.url, "eth_blockNumber")
    before = anvil.deployed if head == anvil.deployed_head else "fresh" if head == "0x0" else None
    key = (
        rpc(anvil.url, "eth_chainId"),
        before,
        params.read_text() if params else None,
        path.read_text() if path.exists() else None,
    )
    if before is not None and key in _DEPLOYED:
        state, deployments = _DEPLOYED[key]
        rpc(anvil.url, "anvil_loadState", state)
        deployments_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(deployments)
    else:
        _run_deploy(anvil, deployments_dir, params)
        _DEPLOYED[key] = rpc(anvil.url, "anvil_dumpState"), path.read_text()
    anvil.deployed, anvil.deployed_head = key, rpc(anvil.url, "eth_blockNumber")
    return path


def _run_deploy(anvil: Anvil, deployments_dir: Path, params: Path | None) -> None:
    result = run_deploy(anvil, deployments_dir, params)
    if result.returncode != 0:
        raise RuntimeError(f"ape run deploy failed:\n{result.stdout}\n{result.stderr}")


def run_deploy(anvil: Anvil, deployments_dir: Path, params: Path | None = None) -> subprocess.CompletedProcess:
    """`ape run deploy` onto the chain as it is (no state loaded from an earlier run), as a steward
    runs it against a running `make run` (`make community`): its output and exit status."""
    return ape_run(
        anvil, "deploy", "--deployments-dir", str(deployments_dir), *(["--params", str(params)] if params else [])
    )


def ape_run(anvil: Anvil, script: str, *args: str) -> subprocess.CompletedProcess:
    """`ape run SCRIPT ARGS` against the chain (scripts/SCRIPT.py): its output and exit status."""
    env = {
        **os.environ,
        "APE_FOUNDRY_HOST": anvil.url,
        "SOLCX_BINARY_PATH": str(ROOT / ".solcx"),
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    return subprocess.run(
        [str(VENV_BIN / "ape"), "run", script, "--network", "ethereum:local:foundry", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


class Server:
    """`python -m backend serve` in a subprocess, on a free port."""

    def __init__(self, env: dict[str, str], log: Path, *args: str) -> None:
        self.args = args  # more of `serve`'s arguments (--workers 2, say)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # Two malloc arenas instead of one per worker thread: RSS then follows what the service
        # holds rather than each arena's high-water mark (docs/performance/reliability.md).
        self.env = {"MALLOC_ARENA_MAX": "2", **os.environ, **env}
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "backend", "serve", "--port", str(self.port), *self.args],
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
        )
        # A minute: the service imports in about 3 s, but a loaded machine (two suites on two cores)
        # has taken more than 20.
        wait_until(lambda: httpx.get(self.url + "/communities").status_code == 200, timeout=60, what="API server")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        self.process = None

    def run(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "backend", *args],
            cwd=ROOT,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=120,
        )


def dump_index(url: str) -> dict[str, list[tuple]]:
    """Every row of the index's tables (events and projections) but the surrogate ids, sorted:
    two indexes of the same chain compare equal row for row."""
    engine = create_engine(_normalise(url))
    tables = {}
    with engine.connect() as connection:
        for model in (*PROJECTIONS, EventRecord):
            columns = [c for c in model.__table__.columns if c.name != "id"]
            rows = connection.execute(select(*columns)).all()
            tables[model.__tablename__] = sorted(tuple(repr(v) for v in row) for row in rows)
    engine.dispose()
    return tables


def service_env(anvil: Anvil, deployments: Path, database_url: str) -> dict[str, str]:
    """The service's settings for a chain and its deployments file, polling the chain often."""
    return {
        "CC_RPC_URL": anvil.url,
        "CC_DEPLOYMENTS_FILE": str(deployments),
        "DATABASE_URL": database_url,
        "CC_INDEX_POLL_SECONDS": "0.2",
    }


# Relaying budgets lifted, for load, soak and fault runs that send far more than one member
# would (they measure throughput and recovery, not the budgets: tests/e2e/test_hostile_relay.py does).
UNTHROTTLED = {
    f"CC_{name}": str(10**12)
    for name in (
        "MEMBER_MAX_IN_FLIGHT",
        "MEMBER_REQUESTS_PER_MINUTE",
        "MEMBER_GAS_PER_HOUR",
        "CLIENT_MAX_IN_FLIGHT",
        "CLIENT_REQUESTS_PER_MINUTE",
        "CLIENT_GAS_PER_HOUR",
    )
}


def second_community_params(folder: Path, founders: list[str], slug: str = "wiki") -> Path:
    """A parameters file for another community (as communities/example.json, other founders)."""
    params = json.loads((ROOT / "communities" / "example.json").read_text())
    params.update(slug=slug, name=f"{slug.title()} Commons", symbol=slug.upper()[:4], founders=founders)
    path = folder / f"{slug}.json"
    path.write_text(json.dumps(params))
    return path


@dataclass
class Stack:
    anvil: Anvil
    server: Server
    deployments: Path


@contextmanager
def local_stack(
    workdir: Path,
    *,
    anvil: Anvil | None = None,
    database_url: str | None = None,
    more_communities: tuple[Path, ...] = (),
    before_serving: Callable[[Anvil], None] | None = None,
    settings: dict[str, str] | None = None,
) -> Iterator[Stack]:
    """A fresh Anvil, the example community (and any others) deployed with `ape run deploy`,
    and the API serving them (with any `settings`, as CC_ variables); everything stopped on
    the way out, whatever happened."""
    anvil = anvil or Anvil(workdir)
    anvil.start()
    server = None
    try:
        deployments = deploy(anvil, workdir / "deployments")
        for params in more_communities:
            deploy(anvil, workdir / "deployments", params=params)
        if before_serving:
            before_serving(anvil)
        server = Server(
            {
                **service_env(anvil, deployments, database_url or f"sqlite:///{workdir / 'index.sqlite3'}"),
                **(settings or {}),
            },
            workdir / "api.log",
        )
        server.start()
        yield Stack(anvil, server, deployments)
    finally:
        if server:
            server.stop()
        anvil.stop()


class KeptAlive:
    """GETs over one HTTP/1.1 connection kept alive, as a browser sends them. A server that
    answers and then drops the connection (uvicorn does after an exception escaped the app)
    fails the next request here, where httpx would quietly open a new connection."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        self.socket = None
        self.last: str | None = None

    def get(self, path: str) -> tuple[int, str, str]:
        """(status, content type, body as text) of GET path, on the same connection as before."""
        try:
            self.connection.request("GET", path)
            response = self.connection.getresponse()
            body = response.read()
        except (http.client.HTTPException, OSError) as exc:
            raise AssertionError(
                f"GET {path} failed on the kept-alive connection after GET {self.last}: {exc!r}"
            ) from exc
        self.socket = self.socket or self.connection.sock
        assert self.connection.sock is self.socket, f"the connection was closed after GET {path}"
        self.last = path
        return response.status, response.getheader("content-type", ""), body.decode("utf-8", errors="replace")

    def close(self) -> None:
        self.connection.close()
