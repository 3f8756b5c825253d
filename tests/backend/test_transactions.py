"""The relayer's transactions signed directly (backend/chain/transactions.py) are byte for byte
eth-account's, for any fields: the raw transaction, its hash, and the sender a node recovers."""

from __future__ import annotations

import pytest
from coincurve import PrivateKey
from eth_account import Account
from eth_utils import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.chain.transactions import sign_dynamic_fee

UINT256 = st.integers(min_value=0, max_value=2**256 - 1)
# secp256k1's group order: the largest key is one below it.
SECP256K1_ORDER = 2**256 - 0x14551231950B75FC4402DA1732FC9BEBF


def reference(key: bytes, chain_id: int, nonce: int, to: bytes, data: bytes, gas: int, max_fee: int, priority: int):
    return Account.from_key(key).sign_transaction(
        {
            "type": 2,
            "chainId": chain_id,
            "nonce": nonce,
            "to": to_checksum_address(to),
            "data": data,
            "value": 0,
            "gas": gas,
            "maxFeePerGas": max_fee,
            "maxPriorityFeePerGas": priority,
        }
    )


@settings(max_examples=300, deadline=None)
@given(
    key=st.integers(min_value=1, max_value=SECP256K1_ORDER - 1).map(lambda k: k.to_bytes(32, "big")),
    chain_id=st.one_of(st.sampled_from([1, 10, 137, 8453, 31337, 11155111]), st.integers(1, 2**64 - 1)),
    nonce=st.one_of(st.integers(0, 200), st.integers(0, 2**64 - 2)),
    to=st.binary(min_size=20, max_size=20),
    # Empty, a byte below 0x80 and one above it (RLP's single-byte rule), short, and past 55 and
    # 65,535 bytes (its long forms).
    data=st.one_of(st.binary(max_size=2), st.binary(max_size=60), st.binary(min_size=56, max_size=70_000)),
    gas=st.integers(0, 2**64 - 1),
    fees=st.tuples(UINT256, UINT256),
)
def test_the_same_bytes_as_eth_account(key, chain_id, nonce, to, data, gas, fees):
    max_fee, priority = max(fees), min(fees)  # eth-account refuses a tip above the fee cap
    ours = sign_dynamic_fee(
        PrivateKey(key), chain_id=chain_id, nonce=nonce, to=to, data=data, gas=gas, max_fee=max_fee, priority=priority
    )
    theirs = reference(key, chain_id, nonce, to, data, gas, max_fee, priority)
    assert ours.raw == bytes(theirs.raw_transaction)
    assert ours.hash == bytes(theirs.hash)
    assert Account.recover_transaction(ours.raw) == Account.from_key(key).address


def test_a_recipient_that_is_not_an_address_is_refused():
    with pytest.raises(ValueError, match="20 bytes"):
        sign_dynamic_fee(
            PrivateKey(), chain_id=1, nonce=0, to=b"\x01" * 19, data=b"", gas=21_000, max_fee=1, priority=1
        )


def test_a_negative_number_is_refused():
    with pytest.raises(ValueError, match="not negative"):
        sign_dynamic_fee(
            PrivateKey(), chain_id=1, nonce=-1, to=b"\x01" * 20, data=b"", gas=21_000, max_fee=1, priority=1
        )


@pytest.mark.parametrize("size", [0, 1, 55, 56, 255, 256, 65_535, 65_536, 100_000])
@pytest.mark.parametrize("first", [0x00, 0x7F, 0x80, 0xFF])
def test_calldata_of_every_length_form(size: int, first: int):
    """RLP writes a string's length in the prefix byte up to 55 bytes, then in 1, 2 or 3 bytes
    after it; a single byte below 0x80 is its own encoding."""
    key, to = b"\x07" * 32, bytes(range(20))
    data = bytes([first]) + bytes(range(256)) * (size // 256) + bytes(size % 256) if size else b""
    data = data[:size]
    ours = sign_dynamic_fee(
        PrivateKey(key), chain_id=31337, nonce=5, to=to, data=data, gas=30_000_000, max_fee=10**10, priority=10**9
    )
    theirs = reference(key, 31337, 5, to, data, 30_000_000, 10**10, 10**9)
    assert (ours.raw, ours.hash) == (bytes(theirs.raw_transaction), bytes(theirs.hash))
