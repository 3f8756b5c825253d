"""An Open Badges 3.0 verifier written for the tests from the specs, with none of the service's
issuing code: JOSE with joserfc (the service writes its JWS by hand), the ES256 signature again
with pycryptodome (the service signs with `cryptography`), JSON-LD with pyld through a document
loader that answers only from the service's own /contexts (no network beyond the service),
did:web resolved by its rule, and the Bitstring Status List decoded by hand (multibase base64url,
GZIP, bits). Data Integrity proofs are verified by node (di_verifier.mjs), not here."""

from __future__ import annotations

import base64
import gzip
import json
import warnings
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import httpx
from Crypto.Hash import SHA256
from Crypto.PublicKey import ECC
from Crypto.Signature import DSS
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey
from joserfc.jwt import JWTClaimsRegistry
from pyld import jsonld

# RFC 9864 marks "EdDSA" deprecated in favour of "Ed25519"; joserfc warns (old tokens, by hand).
warnings.filterwarnings("ignore", message="EdDSA is deprecated")

VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
JWT_REGISTERED = ("iss", "sub", "jti", "nbf", "exp")
# Open Badges 3.0, section 8.2.3: the JOSE header holds these and no others; typ, if present, is "JWT".
OB3_HEADERS = frozenset({"alg", "kid", "jwk", "typ"})


class VerificationFailed(Exception):
    pass


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def did_web_url(did: str) -> str:
    """did:web's resolution rule (over http for a local host, as this test's service is)."""
    assert did.startswith("did:web:"), did
    host, *path = did.removeprefix("did:web:").split(":")
    host = unquote(host)
    return f"http://{host}/" + ("/".join(path) + "/did.json" if path else ".well-known/did.json")


class ContextLoader:
    """pyld's document loader: a context URL is answered only from the service's own copies
    (GET /contexts says where each is); anything else fails, as it would offline."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http
        self.where = http.get("/contexts").json()["contexts"]
        self.loaded: list[str] = []

    def __call__(self, url: str, options: dict | None = None) -> dict[str, Any]:
        if url not in self.where:
            raise jsonld.JsonLdError(f"no local copy of context {url}", "loading document failed")
        response = self.http.get(self.where[url])
        response.raise_for_status()
        self.loaded.append(url)
        return {
            "contentType": "application/ld+json",
            "contextUrl": None,
            "documentUrl": url,
            "document": response.json(),
        }


def _paths(value: Any, prefix: str = "") -> set[str]:
    out: set[str] = set()
    if isinstance(value, list):
        for item in value:
            out |= _paths(item, prefix)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key != "@context":
                out.add(f"{prefix}/{key}")
                out |= _paths(item, f"{prefix}/{key}")
    return out


def check_json_ld(document: dict[str, Any], loader: ContextLoader) -> list[dict[str, Any]]:
    """Expand with the local contexts; every property must survive (an undefined term is dropped
    by expansion, so it would be missing after compacting back). Returns the expanded form."""
    options = {"documentLoader": loader}
    expanded = jsonld.expand(document, options)
    compacted = jsonld.compact(expanded, {"@context": document["@context"]}, options)
    lost = _paths(document) - _paths(compacted)
    if lost:
        raise VerificationFailed(f"terms the contexts do not define: {sorted(lost)}")
    return expanded


@dataclass
class Verified:
    header: dict[str, Any]
    claims: dict[str, Any]
    credential: dict[str, Any]  # the JSON-LD document: the payload without the JWT registered claims
    expanded: list[dict[str, Any]]


def did_document(did: str) -> dict[str, Any]:
    document = httpx.get(did_web_url(did)).json()
    if document["id"] != did:
        raise VerificationFailed("the DID document is for another DID")
    return document


def verify_vc_jwt(token: str, http: httpx.Client, *, now: int | None = None) -> Verified:
    """A VC-JOSE-COSE credential (application/vc+jwt) as Open Badges 3.0 secures it: ES256, the key
    from the issuer's did:web document (a `jwk` in the header must be that key), the signature
    checked twice (joserfc, then raw ECDSA P-256 with pycryptodome), the registered claims against
    `now` (expiry), the payload's issuer against the key's DID, and JSON-LD."""
    header = json.loads(b64url_decode(token.split(".")[0]))
    if header.get("alg") != "ES256" or header.get("typ", "JWT") != "JWT" or not set(header) <= OB3_HEADERS:
        raise VerificationFailed(f"unexpected header {header}")
    did, _, _fragment = header["kid"].partition("#")
    document = did_document(did)
    method = next(m for m in document["verificationMethod"] if m["id"] == header["kid"])
    if header["kid"] not in document["assertionMethod"]:
        raise VerificationFailed("the key may not assert credentials")
    if "jwk" in header and header["jwk"] != method["publicKeyJwk"]:
        raise VerificationFailed("the header's jwk is not the key its kid names")
    key = ECKey.import_key(method["publicKeyJwk"])
    try:
        decoded = jwt.decode(token, key, algorithms=["ES256"])
    except JoseError as exc:
        raise VerificationFailed(f"signature: {exc.error}") from exc
    # The same signature with another ECDSA implementation, over the JWS signing input (r || s).
    signing_input, _, signature = token.rpartition(".")
    jwk = method["publicKeyJwk"]
    public = ECC.construct(
        curve="P-256",
        point_x=int.from_bytes(b64url_decode(jwk["x"]), "big"),
        point_y=int.from_bytes(b64url_decode(jwk["y"]), "big"),
    )
    try:
        DSS.new(public, "fips-186-3").verify(SHA256.new(signing_input.encode()), b64url_decode(signature))
    except ValueError as exc:
        raise VerificationFailed("signature (pycryptodome)") from exc
    claims = decoded.claims
    try:
        JWTClaimsRegistry(now=now, leeway=0).validate(claims)
    except JoseError as exc:
        raise VerificationFailed(f"claims: {exc.error}") from exc
    issuer = claims["issuer"]["id"] if isinstance(claims["issuer"], dict) else claims["issuer"]
    if issuer != did or claims.get("iss") != did:
        raise VerificationFailed(f"issuer {issuer} is not the signer {did}")
    credential = {k: v for k, v in claims.items() if k not in JWT_REGISTERED}
    if credential["@context"][0] != VC_V2 or "VerifiableCredential" not in credential["type"]:
        raise VerificationFailed("not a VC 2.0 credential")
    return Verified(header, claims, credential, check_json_ld(credential, ContextLoader(http)))


def status_bit(credential: dict[str, Any], http: httpx.Client) -> int:
    """The credential's bit in its Bitstring Status List: the list fetched from
    statusListCredential, verified, and decoded by the spec (multibase 'u' base64url, GZIP,
    index 0 = the first byte's most significant bit)."""
    entry = credential["credentialStatus"]
    assert entry["type"] == "BitstringStatusListEntry" and entry["statusPurpose"] == "revocation"
    url = entry["statusListCredential"]
    response = httpx.get(url)
    assert response.headers["content-type"].startswith("application/vc+jwt"), response.headers
    status = verify_vc_jwt(response.text, http).credential
    assert "BitstringStatusListCredential" in status["type"] and status["id"] == url
    subject = status["credentialSubject"]
    assert subject["type"] == "BitstringStatusList" and subject["statusPurpose"] == "revocation"
    encoded = subject["encodedList"]
    assert encoded.startswith("u")
    bits = gzip.decompress(b64url_decode(encoded[1:]))
    assert len(bits) * 8 >= 131_072
    index = int(entry["statusListIndex"])
    return (bits[index // 8] >> (7 - index % 8)) & 1
