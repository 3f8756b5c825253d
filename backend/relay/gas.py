"""Every gas formula of the relayer, in one place: what a member may sign for, what the relayer
reserves for a request, a batch and its own calls, and what the service's own reads may use.

The checks (checks.py) and the simulations (simulation.py) judge a request with the very
numbers the worker sends it with (packing.py), so these are computed here and nowhere else.
"""

from __future__ import annotations

from backend.chain.typed_data import WALLET_SIGNATURE_GAS
from backend.settings import Settings

# executeBatch's own costs beyond its requests' shares (intrinsic gas, the array's calldata).
BATCH_BASE_GAS = 40_000
# A forwarder.nonces view as the first call of each simulated block: well under this gas.
NONCE_READ_GAS = 50_000
# The gas the service lets a wallet's check use: on chain the forwarder calls itself with
# WALLET_SIGNATURE_GAS and hands the wallet 63/64 of what is left after its own few thousand; here
# the wallet gets no more than that (plus the call's intrinsic 21,000 and its calldata's gas). The
# simulation of the forwarder's execute, after this, runs the wallet exactly as the chain will.
_WALLET_CALL_GAS = 21_000 + WALLET_SIGNATURE_GAS * 63 // 64 - 10_000


def gas_ceiling(settings: Settings, estimate: int) -> int:
    """The most gas a member may sign for a call estimated at `estimate`."""
    return min(int(estimate * settings.relay_gas_factor) + settings.relay_gas_slack, settings.relay_max_gas_per_request)


def gas_to_sign(settings: Settings, estimate: int) -> int:
    """The gas prepare asks a member to sign for a call estimated at `estimate`."""
    # Headroom: an attestation estimated before another one lands may be the one that mints.
    return min(estimate + estimate // 2 + 100_000, gas_ceiling(settings, estimate))


def relay_gas(struct: tuple, data: bytes, wallet: bool = False) -> int:
    """The relayer's transaction gas for forwarder.execute: the forwarder's own costs
    (signature, nonce, event) on top of the gas the member signed for, and for a contract
    wallet the most its signature check may use on chain (WALLET_SIGNATURE_GAS), so that a
    wallet answering differently at execution cannot take the gas of the batch's others."""
    return struct[3] * 64 // 63 + 80_000 + 16 * len(data) + (WALLET_SIGNATURE_GAS if wallet else 0)


def batch_gas(shares: list[int], data: bytes) -> int:
    """The gas limit of an executeBatch transaction carrying requests with these shares."""
    return BATCH_BASE_GAS + sum(shares) + 16 * len(data)


def direct_gas(estimate: int) -> int:
    """The gas the relayer reserves for a call in its own name (executing a proposal) that the
    node estimated at `estimate`."""
    return estimate + estimate // 4 + 20_000


def wallet_check_gas(call: bytes) -> int:
    """The gas of the service's own isValidSignature call to a contract wallet (`call`, its
    calldata): the wallet's share of the forwarder's bound, and the calldata's gas."""
    return _WALLET_CALL_GAS + sum(16 if b else 4 for b in call)
