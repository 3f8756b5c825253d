"""A relayer transaction's gas, shared among its requests (backend/relay/settling.py): by each
request's share of the gas limit, adding up to exactly the gas the transaction used, so that what
the relayer reports per member (GET .../relayer) is what its transactions used."""

from __future__ import annotations

import random

from backend.relay.settling import gas_shares


def test_shares_add_up_to_the_gas_used_and_follow_the_limits():
    rng = random.Random(20261206)
    for _ in range(500):
        limits = [rng.randrange(1, 3_000_000) for _ in range(rng.randrange(1, 40))]
        used = rng.randrange(0, sum(limits) + 1)
        shares = gas_shares(used, limits)
        assert sum(shares) == used
        for share, limit in zip(shares, limits):
            assert abs(share - used * limit / sum(limits)) < 1 + 1e-9  # rounding: at most one unit
    assert gas_shares(545_636, [100_000, 100_000, 100_000]) == [181_879, 181_879, 181_878]
    assert gas_shares(21_000, [0]) == [21_000] and gas_shares(5, []) == []
