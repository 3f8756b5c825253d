"""The credential issuer: one Ed25519 key kept by the service (CC_ISSUER_KEY), named by did:web
identifiers of the service, and the VC-JOSE signing (`application/vc+jwt`, EdDSA) with PyJWT.

Each community issues as `did:web:<host>:communities:<slug>`, resolved (did:web's rule) at
`<public url>/communities/<slug>/did.json`; the service itself is `did:web:<host>`, at
`/.well-known/did.json`. All of them list the same public key, as a JWK."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

# IssuerKeyInvalid is raised where the setting is read (backend.settings), and still named here.
from backend.settings import IssuerKeyInvalid, Settings  # noqa: F401

MEDIA_TYPE = "application/vc+jwt"
KEY_FRAGMENT = "key-1"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def did_web(base_url: str, *path: str) -> str:
    """did:web for a URL: the host (its port percent-encoded), then each path segment after ':'."""
    parts = urlsplit(base_url)
    segments = [quote(parts.netloc, safe="")] + [s for s in parts.path.split("/") if s] + list(path)
    return "did:web:" + ":".join(segments)


@dataclass(frozen=True)
class Issuer:
    key: Ed25519PrivateKey
    base_url: str  # the service's public URL, no trailing slash
    chain_id: int

    @classmethod
    def from_settings(cls, settings: Settings, chain_id: int) -> Issuer:
        """The issuer for this service; a publicly known key is refused off local chains. The
        secret checked is the secret that signs: one reading of the setting for both."""
        seed = settings.issuer_secret(chain_id)
        return cls(Ed25519PrivateKey.from_private_bytes(seed), settings.public_base_url, chain_id)

    # ------------------------------------------------------------------ identity

    @property
    def public_jwk(self) -> dict[str, str]:
        raw = self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw)}

    def did(self, community: str | None = None) -> str:
        return did_web(self.base_url, "communities", community) if community else did_web(self.base_url)

    def key_id(self, community: str | None = None) -> str:
        return f"{self.did(community)}#{KEY_FRAGMENT}"

    def did_document(self, community: str | None = None) -> dict[str, Any]:
        did, kid = self.did(community), self.key_id(community)
        return {
            "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/jwk/v1"],
            "id": did,
            "verificationMethod": [
                {"id": kid, "type": "JsonWebKey", "controller": did, "publicKeyJwk": self.public_jwk}
            ],
            "assertionMethod": [kid],
            "authentication": [kid],
        }

    # ------------------------------------------------------------------ signing

    def sign(self, claims: dict[str, Any], community: str | None) -> str:
        """A compact JWS (VC-JOSE-COSE's application/vc+jwt): header typ vc+jwt, cty vc, alg EdDSA,
        kid the DID URL of the key; the payload is the claims as given."""
        return jwt.encode(
            claims, self.key, algorithm="EdDSA", headers={"kid": self.key_id(community), "typ": "vc+jwt", "cty": "vc"}
        )
