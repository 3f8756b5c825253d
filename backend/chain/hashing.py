"""Keccak-256, the chain's hash, in one place for the service.

eth_utils' keccak goes through eth-hash, which picks pycryptodome when both are installed: 15 µs a
hash, against 3 µs for safe-pysha3's C (a pinned dependency), and a relayed write hashes a dozen
times (its EIP-712 digest, the signer's address, each log's topics). The same answers: tested
against eth_utils in tests/backend/test_hashing.py.
"""

from __future__ import annotations

from typing import Any

try:
    from _pysha3 import keccak_256
except ImportError:  # a platform without safe-pysha3's C: eth-hash's choice, slower, the same hash
    from Crypto.Hash import keccak as _cryptodome

    def keccak_256(data: bytes | bytearray) -> Any:
        return _cryptodome.new(digest_bits=256, data=data)


def keccak(primitive: bytes | bytearray | None = None, *, text: str | None = None, hexstr: str | None = None) -> bytes:
    """The Keccak-256 of bytes, of a text's UTF-8, or of a hex string's bytes (with or without 0x)."""
    if text is not None:
        return keccak_256(text.encode()).digest()
    if hexstr is not None:
        return keccak_256(bytes.fromhex(hexstr.removeprefix("0x").removeprefix("0X"))).digest()
    if primitive is None:
        raise TypeError("keccak needs bytes, text= or hexstr=")
    return keccak_256(primitive).digest()
