"""A passkey as a browser's authenticator answers `navigator.credentials.get`, for tests and
benchmarks: a P-256 key (cryptography's SECP256R1) signing a WebAuthn assertion whose challenge is
a request's EIP-712 digest, its DER signature read as (r, s) with s in the lower half, encoded as
PasskeyAccount takes it."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from eth_abi import encode

from backend.chain.typed_data import typed_data_digest

# P-256's group order n (written in two halves: the project's tests print no 64-hex-digit strings).
P256_N = int("ffffffff00000000ffffffffffffffff" + "bce6faada7179e84f3b9cac2fc632551", 16)
FLAG_UP, FLAG_UV = 0x01, 0x04  # authenticatorData flags: user present, user verified
SALT = b"\0" * 32


@dataclass
class Passkey:
    """A P-256 key that answers `navigator.credentials.get` as a browser does, for rp id localhost."""

    key: ec.EllipticCurvePrivateKey

    @classmethod
    def generate(cls) -> Passkey:
        return cls(ec.generate_private_key(ec.SECP256R1()))

    @property
    def public(self) -> tuple[bytes, bytes]:
        numbers = self.key.public_key().public_numbers()
        return numbers.x.to_bytes(32, "big"), numbers.y.to_bytes(32, "big")

    def sign(self, challenge: bytes, *, flags=FLAG_UP | FLAG_UV, kind="webauthn.get", high_s=False) -> bytes:
        """The assertion over `challenge`, encoded as PasskeyAccount takes it: qx || qy, then
        abi.encode(r, s, challengeIndex, typeIndex, authenticatorData, clientDataJSON)."""
        authenticator_data = hashlib.sha256(b"localhost").digest() + bytes([flags]) + (1).to_bytes(4, "big")
        client_data = json.dumps(
            {
                "type": kind,
                "challenge": base64.urlsafe_b64encode(challenge).rstrip(b"=").decode(),
                "origin": "http://localhost",
                "crossOrigin": False,
            },
            separators=(",", ":"),
        )
        # ES256: ECDSA with SHA-256 over authenticatorData || sha256(clientDataJSON); DER out.
        der = self.key.sign(
            authenticator_data + hashlib.sha256(client_data.encode()).digest(), ec.ECDSA(hashes.SHA256())
        )
        r, s = decode_dss_signature(der)
        if s > P256_N // 2:
            s = P256_N - s  # the account takes only the lower half (no malleated twin)
        if high_s:
            s = P256_N - s
        qx, qy = self.public
        assertion = encode(
            ["uint256", "uint256", "uint256", "uint256", "bytes", "string"],
            [r, s, client_data.index('"challenge"'), client_data.index('"type"'), authenticator_data, client_data],
        )
        return qx + qy + assertion

    def sign_request(self, typed_data: dict, **spoil) -> bytes:
        return self.sign(typed_data_digest(typed_data), **spoil)
