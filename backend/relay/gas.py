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


# The most the forwarder's own work in `execute` may add to a key-signed request's call (the
# EIP-712 digest, the ECDSA recovery, the target's isTrustedForwarder, the nonce's write, the
# event, copying the calldata), beside what the call uses when the forwarder makes it directly; per
# byte of the call's data on top. Measured on Anvil: 18,300 gas for a short claim, 19,300 for one
# of 2,048 characters (about half a gas a byte), 17,100 more for a member's first request (its
# nonce's first write); tests/e2e/test_hostile_relay.py holds it. Only ever a bound: see
# call_gas_bounds.
FORWARDER_OWN_GAS = 45_000
FORWARDER_OWN_GAS_PER_BYTE = 2


def call_gas_bounds(execute_used: int, execute_calldata: bytes, call_calldata: bytes) -> tuple[int, int]:
    """The least and the most gas a key-signed request's call may need (its simulation as the
    forwarder makes it, what checks.py calls `needed`), given the gas its forwarder.execute used
    on the same state. Both run the call's own work alike; execute adds its calldata beyond the
    call's and the forwarder's own work (at most FORWARDER_OWN_GAS and a little per byte). A
    refund (clearing storage) lowers a transaction's gas by at most a fifth of what it used
    before, so the most is taken from execute's gas before refunds at most."""
    extra_calldata = calldata_gas(execute_calldata) - calldata_gas(call_calldata)
    own = FORWARDER_OWN_GAS + FORWARDER_OWN_GAS_PER_BYTE * len(call_calldata)
    least = max(execute_used - extra_calldata - own, 0)
    most = execute_used * 5 // 4 - extra_calldata
    return least, most


def calldata_gas(data: bytes) -> int:
    """What a transaction's calldata costs before execution (EIP-2028): 16 a byte, 4 a zero byte."""
    return 16 * len(data) - 12 * data.count(0)


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
