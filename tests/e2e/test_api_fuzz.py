"""schemathesis, bounded, against the running service's own /openapi.json (on each database):
no 5xx, and every response as documented. `make fuzz` runs the deep campaign (tests/api/fuzz.py)."""

from __future__ import annotations

import os

from tests.api.fuzz import run
from tests.e2e.conftest import CAROL

# Test cases per operation and phase; a fixed seed keeps `make test` reproducible. Five, with some
# 70 operations by now (8 took 80 s per database); `make fuzz` runs 300.
EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "5"))


def test_schemathesis_finds_no_server_error_and_no_schema_violation(env, governed, record_property):
    claim = env.api.act("claims", CAROL, indicator_id=governed["code"], evidence_uri="https://x.example/fuzz")
    assert claim["status"] == "succeeded"
    result = run(env.server.url, max_examples=EXAMPLES, seed=int(os.environ.get("API_FUZZ_SEED", "20261122")))
    # Printed at the end of the run (tests/e2e/conftest.py), from whichever worker ran it.
    record_property("summary", f"{env.database_url.split(':', 1)[0]}: {result.summary}")
    assert result.returncode == 0, result.output[-20_000:]
    assert result.generated > 500, result.output[-5_000:]
