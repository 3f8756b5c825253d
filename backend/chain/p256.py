"""A passkey's P-256 public key, as the passkey accounts take it (two 32-byte coordinates)."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import ec

from backend.errors import Unprocessable


def public_key(x: str, y: str) -> tuple[bytes, bytes]:
    """The passkey's P-256 public key as the factory takes it (32-byte coordinates), refused in words
    if it is not a point of the curve: an account of such a key could never sign anything."""
    qx, qy = bytes.fromhex(x[2:]), bytes.fromhex(y[2:])
    try:
        ec.EllipticCurvePublicNumbers(int.from_bytes(qx, "big"), int.from_bytes(qy, "big"), ec.SECP256R1()).public_key()
    except ValueError as exc:
        raise Unprocessable(
            "This is not a passkey's public key (not a point of the P-256 curve): send the x and y the "
            "browser's navigator.credentials.create returned"
        ) from exc
    return qx, qy
