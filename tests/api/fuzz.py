"""schemathesis against the service's own /openapi.json: no 5xx, and every response as the
schema documents it (status code, content type, body, headers).

`run()` fuzzes a running service (the e2e test runs it bounded, on each database);
`python -m tests.api.fuzz [--max-examples N] [--seed S]` (`make fuzz`) starts a fresh Anvil,
deploys the example community, gives it indicators, a claim and a passed proposal, serves
it, and runs the deep campaign, printing how many requests ran.

Two of schemathesis's checks are left out, on purpose:
- positive_data_acceptance expects every schema-valid request to succeed; a signed request
  with a random signature, or a delegation to the zero address, is schema-valid and must be
  refused (400/403/409/422).
- allow_header_conformance: Starlette's 405 names the methods of the first route whose path
  matches (GET /claims/{claim_id} for /claims/prepare), not of every route.
Runs are single-worker: schemathesis 4.32 with hypothesis 6.170 raised an internal error
("AST constructor recursion depth mismatch") with several workers.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "schemathesis.toml"
EXCLUDED_CHECKS = "positive_data_acceptance,allow_header_conformance"


@dataclass
class FuzzResult:
    returncode: int
    generated: int
    seconds: float
    output: str

    @property
    def summary(self) -> str:
        line = next((text for text in reversed(self.output.splitlines()) if " generated" in text), "no summary")
        return f"schemathesis: {line.strip()} in {self.seconds:.1f} s"


def run(base_url: str, *, max_examples: int, seed: int | None = None, max_time: int | None = None) -> FuzzResult:
    command = [
        str(Path(sys.executable).parent / "st"),
        "--config-file",
        str(CONFIG),
        "--no-color",
        "run",
        f"{base_url}/openapi.json",
        "--max-examples",
        str(max_examples),
        "--workers",
        "1",
        "--checks",
        "all",
        "--exclude-checks",
        EXCLUDED_CHECKS,
        "--request-timeout",
        "30",
    ]
    if seed is not None:
        command += ["--seed", str(seed)]
    if max_time is not None:
        command += ["--max-time", str(max_time)]
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as reports:  # schemathesis writes its reports under the cwd
        done = subprocess.run(command, capture_output=True, text=True, cwd=reports)
    output = done.stdout + done.stderr
    match = re.search(r"(\d+) generated", output)
    return FuzzResult(done.returncode, int(match.group(1)) if match else 0, time.monotonic() - started, output)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.api.fuzz")
    parser.add_argument("--max-examples", type=int, default=300, help="test cases per operation and phase")
    parser.add_argument("--seed", type=int)
    args = parser.parse_args(argv)

    from backend.client import CommunityClient
    from devstack.stack import local_stack
    from tests.e2e.conftest import ALICE, BOB, CAROL, DANA, Env, address, pass_proposal

    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        database_url = f"sqlite:///{workdir / 'index.sqlite3'}"
        with local_stack(workdir, database_url=database_url) as stack:
            env = Env(
                stack.anvil, stack.server, stack.deployments, database_url, CommunityClient(stack.server.url), workdir
            )
            seed_records(env, pass_proposal, ALICE, BOB, CAROL, DANA, address)
            result = run(stack.server.url, max_examples=args.max_examples, seed=args.seed)
    if result.returncode != 0:
        print(result.output)
    print(result.summary)
    print(f"api fuzz: {result.generated} requests, " + ("no failures" if result.returncode == 0 else "FAILURES above"))
    return result.returncode


def seed_records(env, pass_proposal, alice, bob, carol, dana, address) -> None:
    """Something behind each read: two indicators, Dana admitted, a minted badge and an open claim."""
    pass_proposal(
        env,
        alice,
        "Founding indicators and Dana",
        [
            {
                "type": "add_indicator",
                "name": "Mentoring a newcomer",
                "category": "mentoring",
                "orientation": "community",
                "weight": 5,
                "endorsements_required": 2,
            },
            {
                "type": "add_indicator",
                "name": "Merged patch",
                "category": "code",
                "orientation": "object",
                "weight": 3,
                "endorsements_required": 1,
            },
            {"type": "admit_member", "account": address(dana)},
        ],
    )
    minted = env.api.act("claims", carol, indicator_id=2, evidence_uri="https://x.example/patch")
    env.api.act("attestations", bob, claim_id=minted["created"]["claim_id"])
    env.api.act("claims", alice, indicator_id=1, evidence_uri="https://x.example/mentoring")


if __name__ == "__main__":
    sys.exit(main())
