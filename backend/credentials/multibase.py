"""Multibase base58btc and Multikey, as Data Integrity proofs and DID documents write them: a
proofValue is 'z' + base58btc(signature); an Ed25519 public key is 'z' + base58btc(0xed 0x01 +
the 32 bytes), which always starts 'z6Mk' (W3C Controlled Identifiers, section Multikey)."""

from __future__ import annotations

# Bitcoin's alphabet: no 0, O, I or l.
ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
# The multicodec header of an Ed25519 public key (0xed, as an unsigned varint: 0xed 0x01).
ED25519_PUB = b"\xed\x01"


def base58btc(data: bytes) -> str:
    """Base58 (Bitcoin's alphabet): each leading zero byte is a '1', the rest a big number in base 58."""
    number = int.from_bytes(data, "big")
    digits = []
    while number:
        number, digit = divmod(number, 58)
        digits.append(ALPHABET[digit])
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + "".join(reversed(digits))


def multibase(data: bytes) -> str:
    """Multibase with base58btc: the prefix 'z'."""
    return "z" + base58btc(data)


def ed25519_multikey(public_key: bytes) -> str:
    """An Ed25519 public key (32 bytes) as Multikey's publicKeyMultibase."""
    if len(public_key) != 32:
        raise ValueError(f"an Ed25519 public key is 32 bytes, not {len(public_key)}")
    return multibase(ED25519_PUB + public_key)
