"""The service's Keccak-256 (backend/chain/hashing.py) gives eth_utils' answers, on every kind of input."""

from __future__ import annotations

import pytest
from eth_utils import keccak as reference
from hypothesis import given
from hypothesis import strategies as st

from backend.chain.hashing import keccak


@given(st.binary(max_size=600))
def test_bytes(data: bytes) -> None:
    assert keccak(data) == reference(data)
    assert keccak(bytearray(data)) == reference(data)


@given(st.text(max_size=200))
def test_text(text: str) -> None:
    assert keccak(text=text) == reference(text=text)


@given(st.binary(max_size=300))
def test_hexstr(data: bytes) -> None:
    assert keccak(hexstr="0x" + data.hex()) == reference(hexstr="0x" + data.hex())
    assert keccak(hexstr=data.hex()) == reference(data)


def test_known_values() -> None:
    # Keccak's, not SHA-3's (which differ in their padding): a function selector every Ethereum tool writes so.
    assert keccak(text="transfer(address,uint256)")[:4].hex() == "a9059cbb"


def test_nothing_to_hash_is_refused() -> None:
    with pytest.raises(TypeError):
        keccak()
