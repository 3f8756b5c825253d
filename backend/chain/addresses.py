"""Addresses in their EIP-55 checksummed form, each computed once.

eth_utils' to_checksum_address hashes the address with keccak every time; a relayed write
checksums the same few addresses (the member, the community's contracts) a dozen times, which
was 15 % of a request thread's time under load, and the index decodes the same few hundred
members from every event (a sixth of a backfill's decoding). The cache is bounded, so a client sending new
addresses without end only evicts old ones.
"""

from __future__ import annotations

from functools import lru_cache

from eth_utils import is_checksum_address, to_checksum_address


@lru_cache(maxsize=65_536)
def _checksum_text(address: str) -> str:
    return to_checksum_address(address)


def checksum(address: str | bytes) -> str:
    """The address in EIP-55 form; ValueError if it is not 20 bytes of hex (as eth_utils)."""
    if isinstance(address, str):
        return _checksum_text(address)
    return to_checksum_address(address)


@lru_cache(maxsize=65_536)
def checksummed(value: str) -> str:
    """An address as a member typed it, in its EIP-55 form (the API's and the web app's rule).
    All-lowercase (or all-uppercase) hex carries no checksum and is accepted; mixed case is a
    checksum, and a wrong one is refused (likely a typo)."""
    digits = value[2:]
    if digits != digits.lower() and digits != digits.upper() and not is_checksum_address(value):
        raise ValueError(
            f"{value} is mixed-case but not a valid EIP-55 checksum (a typo?); write it checksummed or all lowercase"
        )
    return checksum(value)
