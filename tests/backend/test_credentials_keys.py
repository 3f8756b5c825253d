"""Issue 23: the issuer's second key, P-256 for ES256 JWTs, set or derived like the Ed25519 key and
refused like it when it is public; the Ed25519 key as a Multikey; the ES256 JWS as written. The
derivation and the encodings are computed here again with other code (hmac, pycryptodome, the
`base58` package), not the service's."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets

import base58
import pytest
from Crypto.Hash import SHA256
from Crypto.PublicKey import ECC
from Crypto.Signature import DSS
from eth_account import Account

from backend.credentials.issuer import Issuer
from backend.settings import (
    ANVIL_DEV_KEYS,
    DEV_ISSUER_KEY,
    P256_DERIVATION_INFO,
    RFC8032_TEST_KEYS,
    IssuerKeyInvalid,
    IssuerKeyRefused,
    Settings,
)

LOCAL, PUBLIC = 31337, 10
# The order of P-256's group, as SEC 2 (2.4.2) prints it, in two halves.
N = int("FFFFFFFF00000000FFFFFFFFFFFFFFFF" + "BCE6FAADA7179E84F3B9CAC2FC632551", 16)
# RFC 6979's P-256 test key (A.2.5), in two halves: printed whole it would be a 64-digit literal.
RFC6979_P256 = "C9AFA9D845BA75166B5C215767B1D693" + "4E50C3DB36E89B127B8A622B120F6721"


def own() -> str:
    return secrets.token_hex(32)


def hkdf_sha256(ikm: bytes, info: bytes, length: int) -> bytes:
    """RFC 5869 with an empty salt, written out."""
    prk = hmac.new(b"\0" * 32, ikm, hashlib.sha256).digest()
    okm, block = b"", b""
    for counter in range(1, -(-length // 32) + 1):
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        okm += block
    return okm[:length]


def derived(seed_hex: str) -> int:
    return int.from_bytes(hkdf_sha256(bytes.fromhex(seed_hex), P256_DERIVATION_INFO, 48), "big") % (N - 1) + 1


def p256_secret(issuer: Issuer) -> int:
    return issuer.p256.private_numbers().private_value


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# ---------------------------------------------------------------------- derived or set


@pytest.mark.parametrize("chain_id", [LOCAL, PUBLIC])
def test_unset_p256_key_is_derived_from_the_ed25519_key(chain_id):
    seed = DEV_ISSUER_KEY if chain_id == LOCAL else own()
    issuer = Issuer.from_settings(Settings(issuer_key=seed), chain_id)
    assert p256_secret(issuer) == derived(seed)
    # Stable, and another seed gives another key.
    assert p256_secret(Issuer.from_settings(Settings(issuer_key=seed), chain_id)) == derived(seed)
    assert p256_secret(Issuer.from_settings(Settings(issuer_key=own()), chain_id)) != derived(seed)
    # The JWK is that key's public point.
    point = ECC.construct(curve="P-256", d=derived(seed)).pointQ
    jwk = issuer.p256_jwk
    assert (jwk["kty"], jwk["crv"]) == ("EC", "P-256")
    assert (int.from_bytes(b64url_decode(jwk["x"]), "big"), int.from_bytes(b64url_decode(jwk["y"]), "big")) == (
        point.x,
        point.y,
    )


def test_a_set_p256_key_is_the_one_that_signs():
    key = own()
    for spelling in (key, "0x" + key.upper(), f" {key}\n"):
        issuer = Issuer.from_settings(Settings(issuer_key=own(), issuer_p256_key=spelling), PUBLIC)
        assert p256_secret(issuer) == int(key, 16)


@pytest.mark.parametrize("chain_id", [LOCAL, PUBLIC])
def test_the_ed25519_key_again_is_refused_as_the_p256_key(chain_id):
    seed = own()
    with pytest.raises(IssuerKeyRefused, match="CC_ISSUER_P256_KEY is CC_ISSUER_KEY again"):
        Issuer.from_settings(Settings(issuer_key=seed, issuer_p256_key="0X" + seed.upper()), chain_id)


@pytest.mark.parametrize("value", [0, N, N + 1, 2**256 - 1])
def test_a_number_that_is_no_p256_key_is_refused(value):
    with pytest.raises(IssuerKeyInvalid, match="P-256 secret key"):
        Issuer.from_settings(Settings(issuer_key=own(), issuer_p256_key=f"{value:064x}"), LOCAL)


@pytest.mark.parametrize("value", ["not hex", "ab" * 31, "ab" * 33, ""])
def test_a_malformed_p256_key_is_refused(value):
    with pytest.raises(IssuerKeyInvalid, match="CC_ISSUER_P256_KEY"):
        Issuer.from_settings(Settings(issuer_key=own(), issuer_p256_key=value), LOCAL)


def _public_p256_keys() -> dict[str, str]:
    """Secrets anyone can read or compute, as P-256 keys."""
    keys = {
        "RFC 6979 A.2.5": RFC6979_P256.lower(),
        "derived from the development key": f"{derived(DEV_ISSUER_KEY):064x}",
        "derived from RFC 8032 TEST 2": f"{derived(RFC8032_TEST_KEYS['TEST 2']):064x}",
        "RFC 8032 TEST 3": RFC8032_TEST_KEYS["TEST 3"],
        "Anvil #0": ANVIL_DEV_KEYS[0].removeprefix("0x"),
        "patterned": "01" * 32,
    }
    Account.enable_unaudited_hdwallet_features()
    mnemonic = "test test test test test test test test test test test junk"
    keys["Anvil #500"] = Account.from_mnemonic(mnemonic, account_path="m/44'/60'/0'/0/500").key.hex()
    return keys


@pytest.mark.parametrize("name", list(_public_p256_keys()))
def test_a_public_p256_key_is_refused_off_local_chains_and_signs_on_them(name):
    key = _public_p256_keys()[name]
    with pytest.raises(IssuerKeyRefused, match="CC_ISSUER_P256_KEY is a public development key"):
        Issuer.from_settings(Settings(issuer_key=own(), issuer_p256_key=key), PUBLIC)
    assert p256_secret(Issuer.from_settings(Settings(issuer_key=own(), issuer_p256_key=key), LOCAL)) == int(key, 16)


def test_a_public_ed25519_key_is_refused_whatever_the_p256_key():
    """The Ed25519 key is read first: one of one's own P-256 key does not let a public one through."""
    with pytest.raises(IssuerKeyRefused, match="CC_ISSUER_KEY is a public development key"):
        Issuer.from_settings(Settings(issuer_key=DEV_ISSUER_KEY, issuer_p256_key=own()), PUBLIC)
    with pytest.raises(IssuerKeyRefused, match="CC_ISSUER_KEY"):
        Settings(issuer_key=DEV_ISSUER_KEY).check_issuer_key(PUBLIC)


# ---------------------------------------------------------------------- encodings


def test_ed25519_key_as_multikey():
    """RFC 8032 TEST 1's public key, as Multikey: base58btc of 0xed 0x01 and the key (`base58`'s
    encoder, not the service's), z6Mk... like every Ed25519 Multikey."""
    issuer = Issuer.from_settings(Settings(issuer_key=RFC8032_TEST_KEYS["TEST 1"]), LOCAL)
    public = b64url_decode(issuer.public_jwk["x"])
    assert issuer.public_multikey == "z" + base58.b58encode(b"\xed\x01" + public).decode()
    assert issuer.public_multikey.startswith("z6Mk")
    assert base58.b58decode(issuer.public_multikey[1:])[2:] == public
    # Leading zero bytes are '1's, as base58btc writes them.
    from backend.credentials.multibase import base58btc

    for data in (b"", b"\0", b"\0\0\x01", bytes(range(40))):
        assert base58btc(data) == base58.b58encode(data).decode()


def test_did_document_lists_both_keys_for_assertions_only():
    issuer = Issuer.from_settings(Settings(issuer_key=own(), public_url="https://commons.example.org"), PUBLIC)
    document = issuer.did_document("wiki")
    did = "did:web:commons.example.org:communities:wiki"
    assert document["id"] == did
    ed25519, p256 = document["verificationMethod"]
    assert ed25519 == {
        "id": f"{did}#key-1",
        "type": "Multikey",
        "controller": did,
        "publicKeyMultibase": issuer.public_multikey,
    }
    assert p256 == {"id": f"{did}#key-2", "type": "JsonWebKey", "controller": did, "publicKeyJwk": issuer.p256_jwk}
    assert document["assertionMethod"] == [f"{did}#key-1", f"{did}#key-2"]
    assert "authentication" not in document
    assert "https://w3id.org/security/multikey/v1" in document["@context"]


def test_es256_jws_as_open_badges_wants_it():
    """The header holds what Open Badges 3.0 allows (alg, typ JWT, kid, jwk) and no more; the
    signature is r || s over the signing input (checked with pycryptodome); the same claims give
    the same token (RFC 6979's deterministic ECDSA)."""
    issuer = Issuer.from_settings(Settings(issuer_key=own()), LOCAL)
    claims = {"iss": issuer.did("wiki"), "jti": "urn:x", "name": "Ünïcode ✓"}
    token = issuer.sign(claims, "wiki")
    assert token == issuer.sign(claims, "wiki")
    header_b64, payload_b64, signature_b64 = token.split(".")
    assert json.loads(b64url_decode(header_b64)) == {
        "alg": "ES256",
        "typ": "JWT",
        "kid": issuer.p256_key_id("wiki"),
        "jwk": issuer.p256_jwk,
    }
    assert json.loads(b64url_decode(payload_b64)) == claims
    signature = b64url_decode(signature_b64)
    assert len(signature) == 64
    public = ECC.construct(curve="P-256", d=p256_secret(issuer)).public_key()
    DSS.new(public, "fips-186-3").verify(SHA256.new(f"{header_b64}.{payload_b64}".encode()), signature)
    with pytest.raises(ValueError):
        DSS.new(public, "fips-186-3").verify(SHA256.new(f"{header_b64}.{payload_b64}x".encode()), signature)
