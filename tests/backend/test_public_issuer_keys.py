"""Issue 20, item 4: an issuer key published anywhere this project knows of is refused on a chain
that is not local, however it is spelled (the check reads the key as the signer will), and still
signs on a local chain. The lists here are written out again from their sources, not imported,
so that a key missing from the service's list fails."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from eth_account import Account
from eth_utils import keccak

from backend.credentials import statuslist
from backend.credentials.issuer import Issuer, IssuerKeyInvalid
from backend.settings import ANVIL_DEV_KEYS, IssuerKeyRefused, Settings, parse_issuer_key

PUBLIC_CHAIN = 10  # OP Mainnet, as in the issue
LOCAL_CHAIN = 31337
ROOT = Path(__file__).resolve().parents[2]

# RFC 8032 section 7.1: each test's SECRET KEY and PUBLIC KEY, as printed there.
RFC8032 = {
    "TEST 1": (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
    ),
    "TEST 2": (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
    ),
    "TEST 3": (
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
    ),
    "TEST 1024": (
        "f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5",
        "278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e",
    ),
    "TEST SHA(abc)": (
        "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
        "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
    ),
}
MNEMONIC = "test test test test test test test test test test test junk"


def _mnemonic_key(index: int) -> str:
    Account.enable_unaudited_hdwallet_features()
    return Account.from_mnemonic(MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}").key.hex()


# Keys the project's tests compute rather than print: small integers (tests/backend/test_typed_data.py,
# the Foundry tests' vm.addr keys), repeated bytes (the browser and e2e tests' outsiders) and a hash.
COMPUTED_TEST_KEYS = {
    **{f"test_typed_data KEYS[{i}]": f"{i + 1:064x}" for i in range(4)},
    **{f"CommunityHandler actor {i}": f"{0xA11CE + i:064x}" for i in range(6)},
    **{f"Foundry {hex(k)}": f"{k:064x}" for k in (0xA11CE, 0xB0B, 0xCA201, 0xB5, 0xDA7E, 0x0B0B)},
    "test_story outsider": "11" * 32,
    "test_credentials missing member": "1" * 64,
    "test_index_schema block hash": "ab" * 32,
    "test_units relayer": keccak(text="not a dev key").hex(),
}

# 64 hex digits on their own (not inside a longer run: a signature, bytecode), 0x or not.
HEX_64 = re.compile(r"(?<![0-9A-Za-z])(?:0[xX])?([0-9a-fA-F]{64})(?![0-9A-Za-z])")
PUBLISHED_IN = ("tests", "forge-tests", "devstack", "docs", "tools", "README.md", "CONTRIBUTING.md", "CHANGELOG.md")


def _published_in_project() -> dict[str, str]:
    """Every 64-hex-digit string in the project's tests and docs -> a file it is in."""
    found: dict[str, str] = {}
    for top in PUBLISHED_IN:
        path = ROOT / top
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for file in files:
            try:
                text = file.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue  # images, compiled files
            for match in HEX_64.finditer(text):
                found.setdefault(match.group(1).lower(), str(file.relative_to(ROOT)))
    return found


def _spellings(key: str) -> list[str]:
    """The ways one key may be written in an environment file, all read as the same 32 bytes."""
    spaced = " ".join(key[i : i + 2] for i in range(0, 64, 2))
    return [
        key,
        key.upper(),
        "0x" + key,
        "0X" + key.upper(),
        " " + key,
        key + " ",
        "\t" + key + "\n",
        " 0x" + key + " ",
        "0x " + key,
        spaced,
        "\n" + spaced.upper() + "\r\n",
    ]


def _refused(key: str, chain_id: int = PUBLIC_CHAIN) -> str:
    with pytest.raises(IssuerKeyRefused) as refused:
        Issuer.from_settings(Settings(issuer_key=key), chain_id)
    return str(refused.value)


def _public_key(issuer: Issuer) -> bytes:
    return issuer.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


# ---------------------------------------------------------------------- the published lists


@pytest.mark.parametrize("name", RFC8032)
def test_every_rfc8032_test_key_is_refused_in_every_spelling(name):
    secret, public = RFC8032[name]
    # The secret is the RFC's: it gives the RFC's public key.
    assert (
        Ed25519PrivateKey.from_private_bytes(bytes.fromhex(secret))
        .public_key()
        .public_bytes(Encoding.Raw, PublicFormat.Raw)
        .hex()
        == public
    )
    for spelling in _spellings(secret):
        message = _refused(spelling)
        assert f"RFC 8032's test vector {name}" in message and f"chain {PUBLIC_CHAIN} is not local" in message
        # On a local chain it signs, and with the key it names.
        assert _public_key(Issuer.from_settings(Settings(issuer_key=spelling), LOCAL_CHAIN)).hex() == public


@pytest.mark.parametrize("index", range(len(ANVIL_DEV_KEYS)))
def test_every_anvil_development_key_is_refused_in_every_spelling(index):
    key = _mnemonic_key(index)
    assert "0x" + key == ANVIL_DEV_KEYS[index]
    for spelling in _spellings(key):
        assert f"Anvil's development account #{index}" in _refused(spelling)
        assert Issuer.from_settings(Settings(issuer_key=spelling), LOCAL_CHAIN).public_jwk["crv"] == "Ed25519"


@pytest.mark.parametrize("index", [10, 19, 20, 99, 999])
def test_anvil_accounts_past_the_first_ten_are_refused(index):
    """Hardhat has 20 accounts of the same mnemonic, and `anvil --accounts N` as many as asked."""
    assert f"Anvil's development account #{index}" in _refused(_mnemonic_key(index))


def test_every_64_hex_digit_string_in_the_projects_tests_and_docs_is_refused():
    """Whatever each was written as, set as the key it is a secret anyone can read. A new one in
    the tests or docs fails here until it is refused: add it to PROJECT_PUBLISHED_KEYS in
    backend/settings.py, or spell it another way (computed, as a random key is)."""
    published = _published_in_project()
    assert len(published) >= 10, published  # the scan reads the files: Anvil keys, RFC keys, digests
    for key, where in published.items():
        for spelling in (key, " " + key, "0x" + key + "\n"):
            assert "CC_ISSUER_KEY is a public development key" in _refused(spelling), where


@pytest.mark.parametrize("name", COMPUTED_TEST_KEYS)
def test_keys_the_tests_compute_are_refused(name):
    key = COMPUTED_TEST_KEYS[name]
    for spelling in (key, " 0x" + key, key.upper() + "\n"):
        _refused(spelling)
    assert Issuer.from_settings(Settings(issuer_key=key), LOCAL_CHAIN).public_jwk["crv"] == "Ed25519"


# ---------------------------------------------------------------------- keys of one's own


@pytest.mark.parametrize("chain_id", [1, PUBLIC_CHAIN, 8453, 11155111])
def test_a_key_of_ones_own_signs_on_any_chain_however_spelled(chain_id):
    key = secrets.token_hex(32)
    expected = (
        Ed25519PrivateKey.from_private_bytes(bytes.fromhex(key))
        .public_key()
        .public_bytes(Encoding.Raw, PublicFormat.Raw)
    )
    for spelling in _spellings(key):
        assert _public_key(Issuer.from_settings(Settings(issuer_key=spelling), chain_id)) == expected


def test_the_check_reads_the_key_as_the_signer_does():
    """The issue's case: RFC 8032's first key with a leading space was read as the key by the
    signer (which stripped it) and not by the check (which did not)."""
    secret = RFC8032["TEST 1"][0]
    assert parse_issuer_key(" " + secret) == parse_issuer_key("0X" + secret.upper() + "\n") == bytes.fromhex(secret)
    assert "RFC 8032's test vector TEST 1" in _refused(" " + secret)
    assert Settings(issuer_key=" " + secret).issuer_secret(LOCAL_CHAIN) == bytes.fromhex(secret)


@pytest.mark.parametrize("chain_id", [LOCAL_CHAIN, PUBLIC_CHAIN])
@pytest.mark.parametrize("key", ["not hex", "ab" * 31, "ab" * 33, "", "  ", "0x", "9d61b19" + "g" * 57])
def test_a_malformed_key_is_malformed_on_any_chain(key, chain_id):
    with pytest.raises(IssuerKeyInvalid):
        Issuer.from_settings(Settings(issuer_key=key), chain_id)


# ---------------------------------------------------------------------- status of each holding


@pytest.mark.parametrize(
    "holding, badge_holding, withdrawn, revoked",
    [
        (0, 0, False, False),  # the first holder's, standing
        (0, 0, True, True),  # revoked or disowned
        (0, 1, False, True),  # recovered away: the lost key's credential is revoked
        (1, 1, False, False),  # the new holder's stands
        (1, 1, True, True),
        (0, 2, False, True),
        (1, 2, False, True),
        (2, 2, False, False),
        (1, 0, False, False),
        (1, 0, True, False),  # not issued yet: no bit
    ],
)
def test_a_credential_is_revoked_when_its_badge_is_withdrawn_or_moved_on(holding, badge_holding, withdrawn, revoked):
    assert statuslist.credential_revoked(holding, badge_holding, withdrawn) is revoked
