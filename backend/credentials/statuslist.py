"""Bitstring Status List (W3C Recommendation): purpose `revocation`, one list per community and
holding (0 for the credentials of badges' first holders, n for those of holders after n
recoveries), bit i for the credential of the badge whose token id is i. A bit is set when the
badge is revoked by governance or disowned by its holder, or when governance moved the badge on
to another holder (backend.credentials.service reads all three from the index)."""

from __future__ import annotations

import base64
import gzip
from collections.abc import Iterable

# The spec's minimum length (16 KiB of bits), so that a list never tells which badges exist.
MIN_BITS = 131_072


def length_for(max_index: int) -> int:
    """Bits in a list that holds index max_index: at least MIN_BITS, a whole number of bytes."""
    needed = max_index + 1
    return max(MIN_BITS, -(-needed // 8) * 8)


def encode(set_bits: Iterable[int], length: int) -> str:
    """The list's `encodedList`: multibase base64url (prefix 'u', no padding) of the GZIP of the
    bitstring, where index 0 is the most significant bit of the first byte. GZIP with a fixed
    mtime, so the same bits always encode to the same string."""
    bits = bytearray(length // 8)
    for index in set_bits:
        if not 0 <= index < length:
            raise ValueError(f"status index {index} outside a list of {length} bits")
        bits[index // 8] |= 0x80 >> (index % 8)
    compressed = gzip.compress(bytes(bits), compresslevel=9, mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode()


def credential_revoked(holding: int, badge_holding: int, withdrawn: bool) -> bool:
    """Whether the credential of a badge's `holding` is revoked, the badge being at `badge_holding`
    now: when the badge was withdrawn (revoked, or disowned), or recovered to another holder since
    (whoever has the lost key must not keep a credential that stands). A holding the badge has not
    reached has no credential yet, so no bit."""
    return holding <= badge_holding and (withdrawn or holding < badge_holding)
