"""The credential issuer: two keys kept by the service, named by did:web identifiers of the
service, and the two ways it signs a credential.

- ES256 (P-256, `CC_ISSUER_P256_KEY`, by default derived from `CC_ISSUER_KEY`): a JWT
  (`application/vc+jwt`, VC-JOSE-COSE and Open Badges 3.0 section 8.2), what 1EdTech's validator and
  any JOSE library check. Signed here with `cryptography` and RFC 6979's deterministic ECDSA, so
  the same credential is the same bytes each time it is served.
- Ed25519 (`CC_ISSUER_KEY`): a Data Integrity proof, cryptosuite eddsa-rdfc-2022
  (dataintegrity.py), what the Digital Credentials Consortium's verifier and the Learner
  Credential Wallet check.

Each community issues as `did:web:<host>:communities:<slug>`, resolved (did:web's rule) at
`<public url>/communities/<slug>/did.json`; the service itself is `did:web:<host>`, at
`/.well-known/did.json`. All of them list the same two keys: `#key-1` the Ed25519 key as a
Multikey, `#key-2` the P-256 key as a JsonWebKey, both for assertionMethod.

EdDSA JWTs (this module's first format) are no longer issued: nothing here or in the verifiers
named above needs them, and 1EdTech's validator refuses them."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from backend.credentials import dataintegrity
from backend.credentials.multibase import ed25519_multikey

# IssuerKeyInvalid is raised where the setting is read (backend.settings), and still named here.
from backend.settings import IssuerKeyInvalid, Settings  # noqa: F401

MEDIA_TYPE = "application/vc+jwt"
# A credential with an embedded proof (VC Data Model 2.0, section 6.3: application/vc).
DI_MEDIA_TYPE = "application/vc"
KEY_FRAGMENT = "key-1"  # the Ed25519 key (Multikey): Data Integrity proofs
P256_FRAGMENT = "key-2"  # the P-256 key (JsonWebKey): ES256 JWTs
DID_CONTEXTS = [
    "https://www.w3.org/ns/did/v1",
    "https://w3id.org/security/multikey/v1",
    "https://w3id.org/security/jwk/v1",
]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def did_web(base_url: str, *path: str) -> str:
    """did:web for a URL: the host (its port percent-encoded), then each path segment after ':'."""
    parts = urlsplit(base_url)
    segments = [quote(parts.netloc, safe="")] + [s for s in parts.path.split("/") if s] + list(path)
    return "did:web:" + ":".join(segments)


def _json(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Issuer:
    key: Ed25519PrivateKey  # Data Integrity proofs
    base_url: str  # the service's public URL, no trailing slash
    chain_id: int
    p256: ec.EllipticCurvePrivateKey  # ES256 JWTs

    @classmethod
    def from_settings(cls, settings: Settings, chain_id: int) -> Issuer:
        """The issuer for this service; a publicly known key is refused off local chains. The
        secrets checked are the secrets that sign: one reading of each setting for both."""
        seed = settings.issuer_secret(chain_id)
        p256 = ec.derive_private_key(int.from_bytes(settings.issuer_p256_secret(chain_id), "big"), ec.SECP256R1())
        return cls(Ed25519PrivateKey.from_private_bytes(seed), settings.public_base_url, chain_id, p256)

    # ------------------------------------------------------------------ identity

    @property
    def public_key(self) -> bytes:
        """The Ed25519 public key, 32 bytes."""
        return self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def public_jwk(self) -> dict[str, str]:
        """The Ed25519 public key as a JWK (for whoever reads keys as JWKs; the DID documents list
        it as a Multikey)."""
        return {"kty": "OKP", "crv": "Ed25519", "x": b64url(self.public_key)}

    @property
    def public_multikey(self) -> str:
        """The Ed25519 public key as Multikey's publicKeyMultibase (z6Mk...)."""
        return ed25519_multikey(self.public_key)

    @property
    def p256_jwk(self) -> dict[str, str]:
        numbers = self.p256.public_key().public_numbers()
        return {
            "kty": "EC",
            "crv": "P-256",
            "x": b64url(numbers.x.to_bytes(32, "big")),
            "y": b64url(numbers.y.to_bytes(32, "big")),
        }

    def did(self, community: str | None = None) -> str:
        return did_web(self.base_url, "communities", community) if community else did_web(self.base_url)

    def key_id(self, community: str | None = None) -> str:
        """The Ed25519 key's DID URL: the verificationMethod of Data Integrity proofs."""
        return f"{self.did(community)}#{KEY_FRAGMENT}"

    def p256_key_id(self, community: str | None = None) -> str:
        """The P-256 key's DID URL: the `kid` of ES256 JWTs."""
        return f"{self.did(community)}#{P256_FRAGMENT}"

    def did_document(self, community: str | None = None) -> dict[str, Any]:
        did, ed25519, p256 = self.did(community), self.key_id(community), self.p256_key_id(community)
        return {
            "@context": DID_CONTEXTS,
            "id": did,
            "verificationMethod": [
                {"id": ed25519, "type": "Multikey", "controller": did, "publicKeyMultibase": self.public_multikey},
                {"id": p256, "type": "JsonWebKey", "controller": did, "publicKeyJwk": self.p256_jwk},
            ],
            # Both sign credentials (assertionMethod) and nothing else: no authentication as the DID.
            "assertionMethod": [ed25519, p256],
        }

    # ------------------------------------------------------------------ signing

    def sign(self, claims: dict[str, Any], community: str | None) -> str:
        """A compact JWS signed ES256 (application/vc+jwt) whose payload is the claims as given.
        The header is what Open Badges 3.0 (section 8.2.3) allows and nothing more: alg, typ "JWT",
        kid (the P-256 key's DID URL) and jwk (the same public key, for a validator that cannot
        resolve did:web; a verifier checks it against the issuer's DID document, never trusts it
        alone). The signature is RFC 6979's deterministic ECDSA as r || s (RFC 7518, 3.4)."""
        header = {"alg": "ES256", "typ": "JWT", "kid": self.p256_key_id(community), "jwk": self.p256_jwk}
        signing_input = f"{b64url(_json(header))}.{b64url(_json(claims))}"
        der = self.p256.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
        r, s = decode_dss_signature(der)
        return f"{signing_input}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"

    def prove(self, document: dict[str, Any], community: str | None, created: str) -> dict[str, Any]:
        """The document with an embedded Data Integrity proof (eddsa-rdfc-2022) by the Ed25519 key,
        canonicalized with the contexts this package serves."""
        return dataintegrity.add_proof(
            document,
            key=self.key,
            verification_method=self.key_id(community),
            created=created,
            loader=dataintegrity.LocalContexts(self.base_url),
        )
