"""The credential issuer's refusals and the status list's encoding, without a chain."""

from __future__ import annotations

import base64
import gzip
import secrets

import pytest

from backend.credentials import statuslist
from backend.credentials.issuer import Issuer, IssuerKeyInvalid, did_web
from backend.settings import DEV_ISSUER_KEY, IssuerKeyRefused, Settings

# Any key of one's own is accepted: this one is drawn as the tests run, so it is printed nowhere
# (RFC 8032's second test key, used here before, is refused as public: test_public_issuer_keys.py).
OWN_KEY = secrets.token_hex(32)


@pytest.mark.parametrize("chain_id", [1, 10, 8453, 11155111])
def test_development_issuer_key_is_refused_off_local_chains(chain_id):
    with pytest.raises(IssuerKeyRefused, match="CC_ISSUER_KEY is a public development key"):
        Issuer.from_settings(Settings(issuer_key=DEV_ISSUER_KEY), chain_id)
    with pytest.raises(IssuerKeyRefused):  # however it is spelled
        Issuer.from_settings(Settings(issuer_key="0x" + DEV_ISSUER_KEY.upper()), chain_id)
    assert Issuer.from_settings(Settings(issuer_key=OWN_KEY), chain_id).public_jwk["crv"] == "Ed25519"


@pytest.mark.parametrize("chain_id", [31337, 1337])
def test_development_issuer_key_signs_on_local_chains(chain_id):
    issuer = Issuer.from_settings(Settings(issuer_key=DEV_ISSUER_KEY), chain_id)
    # RFC 8032's first test vector: its public key is this one.
    assert base64.urlsafe_b64decode(issuer.public_jwk["x"] + "=").hex() == (
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    )


@pytest.mark.parametrize("key", ["not hex", "ab" * 31, "ab" * 33, ""])
def test_malformed_issuer_key_is_refused(key):
    with pytest.raises(IssuerKeyInvalid):
        Issuer.from_settings(Settings(issuer_key=key), 31337)


def test_did_web_names_the_public_url():
    assert did_web("http://127.0.0.1:8000") == "did:web:127.0.0.1%3A8000"
    assert did_web("https://commons.example.org", "communities", "drupal") == (
        "did:web:commons.example.org:communities:drupal"
    )
    assert did_web("https://example.org/commons/") == "did:web:example.org:commons"
    settings = Settings(public_url="https://commons.example.org/", issuer_key=OWN_KEY)
    assert Issuer.from_settings(settings, 1).key_id("wiki") == "did:web:commons.example.org:communities:wiki#key-1"
    assert Settings(host="0.0.0.0", port=9000).public_base_url == "http://0.0.0.0:9000"


def test_status_list_bits_and_length():
    assert statuslist.length_for(0) == statuslist.length_for(131_071) == 131_072
    assert statuslist.length_for(131_072) == 131_080
    encoded = statuslist.encode([0, 9, 131_071], 131_072)
    assert encoded.startswith("u") and "=" not in encoded
    bits = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert len(bits) == 16_384
    assert (bits[0], bits[1], bits[-1]) == (0b1000_0000, 0b0100_0000, 0b0000_0001)
    assert sum(bin(b).count("1") for b in bits) == 3
    assert statuslist.encode([9, 0, 131_071], 131_072) == encoded  # stable: same bits, same text
    with pytest.raises(ValueError):
        statuslist.encode([131_072], 131_072)
