"""The web app's passkey signer computes in the page what the service and the account check:
backend/web/static/keccak.js against eth_utils' keccak, passkey.js's EIP-712 digest against
backend.chain.typed_data.typed_data_digest (and eth-account's general encoder for nested types),
and its encoding of a WebAuthn assertion against devstack/passkeys.py's (eth_abi, low s).

Run with node (the toolchain's, which `make setup` needs anyway); the same digest is checked in
chromium for a request the service prepared, in tests/browser/test_passkeys.py."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from eth_abi import decode, encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak

from backend.chain.typed_data import forward_request_typed_data, typed_data_digest
from devstack.passkeys import P256_N, Passkey

STATIC = Path(__file__).resolve().parents[2] / "backend" / "web" / "static"

# Loads the two static files as the page does (globals on `window`, here node's globalThis) and
# answers each case of the JSON on stdin.
RUNNER = """
const fs = require("fs");
for (const file of ["keccak.js", "passkey.js"]) require(process.argv[1] + "/" + file);
const { keccak256 } = globalThis.CommonsKeccak;
const P = globalThis.CommonsPasskey;
const cases = JSON.parse(fs.readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify({
  keccak: cases.keccak.map((hex) => P.bytesToHex(keccak256(P.hexToBytes(hex)))),
  digest: cases.digest.map((typed) => P.bytesToHex(P.typedDataDigest(typed))),
  assertion: cases.assertion.map((a) => P.encodeAssertion({ x: a.x, y: a.y, signature: P.hexToBytes(a.der),
    authenticatorData: P.hexToBytes(a.authenticatorData), clientDataJSON: P.hexToBytes(a.clientDataJSON) })),
}));
"""


def run_js(cases: dict) -> dict:
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node is not installed: under CI the web app's passkey code must be checked")
        pytest.skip("node is not installed (make setup needs Node 20+)")
    done = subprocess.run(
        [node, "-e", RUNNER, str(STATIC)], input=json.dumps(cases), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def empty(**cases) -> dict:
    return {"keccak": [], "digest": [], "assertion": [], **cases}


def test_keccak_matches_over_every_padding_boundary():
    rng = random.Random(22)
    # The rate is 136 bytes: every length up to three blocks, so each padding case is met.
    inputs = [rng.randbytes(n) for n in range(0, 3 * 136 + 2)]
    got = run_js(empty(keccak=["0x" + b.hex() for b in inputs]))["keccak"]
    assert got == ["0x" + keccak(b).hex() for b in inputs]


def forward_requests():
    rng = random.Random(20261124)
    # A claim's calldata as .../prepare answers it, at sizes around a word's and the hash's block.
    for size in (0, 1, 31, 32, 33, 135, 136, 137, 196, 500):
        yield forward_request_typed_data(
            chain_id=rng.choice([1, 31337, 11155111]),
            forwarder="0x" + rng.randbytes(20).hex(),
            sender=Account.create().address,
            target="0x" + rng.randbytes(20).hex(),
            data=rng.randbytes(size),
            nonce=rng.randrange(2**32),
            deadline=rng.randrange(2**40),
            gas=rng.randrange(2**24),
        )


def test_the_page_digest_is_the_services_digest():
    typed = list(forward_requests())
    # Numbers past 2**53 reach a page as strings (JSON numbers that large lose digits in a browser).
    big = forward_request_typed_data(
        chain_id=2**64 + 5, forwarder="0x" + "ab" * 20, sender="0x" + "cd" * 20, target="0x" + "ef" * 20,
        data=b"\x01", nonce=2**256 - 1, deadline=2**48 - 1, gas=2**60,
    )  # fmt: skip
    for key in ("value", "gas", "nonce", "deadline"):
        big["message"][key] = str(big["message"][key])
    big["domain"] = {**big["domain"], "chainId": str(big["domain"]["chainId"])}
    got = run_js(empty(digest=[*typed, big]))["digest"]
    assert got == ["0x" + typed_data_digest(t).hex() for t in [*typed, big]]


def test_the_page_digest_handles_nested_types_as_eip712_does():
    """EIP-712's own example (nested structs) with arrays, strings, bytes32 and a bool added."""
    typed = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Person": [{"name": "name", "type": "string"}, {"name": "wallets", "type": "address[]"}],
            "Mail": [
                {"name": "from", "type": "Person"},
                {"name": "to", "type": "Person[]"},
                {"name": "contents", "type": "string"},
                {"name": "tag", "type": "bytes32"},
                {"name": "urgent", "type": "bool"},
                {"name": "delta", "type": "int64"},
            ],
        },
        "primaryType": "Mail",
        "domain": {"name": "Ether Mail", "version": "1", "chainId": 1, "verifyingContract": "0x" + "cc" * 20},
        "message": {
            "from": {"name": "Cow", "wallets": ["0x" + "11" * 20, "0x" + "22" * 20]},
            "to": [{"name": "Bob ☕", "wallets": []}, {"name": "Dana", "wallets": ["0x" + "33" * 20]}],
            "contents": "Hello, Bob!",
            "tag": "0x" + "ab" * 4 + "00" * 28,
            "urgent": True,
            "delta": -42,
        },
    }
    signable = encode_typed_data(full_message=typed)
    expected = "0x" + keccak(b"\x19" + signable.version + signable.header + signable.body).hex()
    assert run_js(empty(digest=[typed]))["digest"] == [expected]


def assertion_case(key: ec.EllipticCurvePrivateKey, der: bytes, data: bytes, client: str) -> dict:
    numbers = key.public_key().public_numbers()
    return {
        "x": "0x" + numbers.x.to_bytes(32, "big").hex(),
        "y": "0x" + numbers.y.to_bytes(32, "big").hex(),
        "der": "0x" + der.hex(),
        "authenticatorData": "0x" + data.hex(),
        "clientDataJSON": "0x" + client.encode().hex(),
    }


def expected_encoding(case: dict, r: int, s: int, client: str) -> str:
    s = P256_N - s if s > P256_N // 2 else s
    encoded = encode(
        ["uint256", "uint256", "uint256", "uint256", "bytes", "string"],
        [
            r,
            s,
            client.index('"challenge":"'),
            client.index('"type":"webauthn.get"'),
            bytes.fromhex(case["authenticatorData"][2:]),
            client,
        ],
    )
    return case["x"] + case["y"][2:] + encoded.hex()


def test_the_page_encodes_an_assertion_as_the_account_takes_it():
    """DER signatures as browsers give them (either half of s, short r or s) become the encoding
    the account takes, with s in the lower half."""
    key = ec.generate_private_key(ec.SECP256R1())
    data = hashlib.sha256(b"localhost").digest() + bytes([0x05]) + (7).to_bytes(4, "big")
    challenge = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
    # As chromium writes it: a field beyond the four, and the challenge after the type.
    client = json.dumps(
        {"type": "webauthn.get", "challenge": challenge, "origin": "http://localhost:8000", "crossOrigin": False,
         "other_keys_can_be_added_here": "do not compare clientDataJSON against a template"},
        separators=(",", ":"),
    )  # fmt: skip
    signed = [
        decode_dss_signature(key.sign(data + hashlib.sha256(client.encode()).digest(), ec.ECDSA(hashes.SHA256())))
    ]
    r, s = signed[0]
    pairs = [*signed, (r, P256_N - s), (1, 2), (2**200 + 3, P256_N - 1), (P256_N - 1, 5)]
    cases = [assertion_case(key, encode_dss_signature(pr, ps), data, client) for pr, ps in pairs]
    got = run_js(empty(assertion=cases))["assertion"]
    assert got == [expected_encoding(c, pr, ps, client) for c, (pr, ps) in zip(cases, pairs, strict=True)]
    assert got[0] == got[1]  # the high-s twin is encoded as the low-s signature


def test_the_page_encodes_what_devstacks_passkey_encodes():
    """devstack's Passkey (whose signatures the end-to-end tests have the chain accept): its (r, s),
    authenticatorData and clientDataJSON read back from its encoding, given to the page as DER,
    encode to the same bytes."""
    passkey = Passkey.generate()
    theirs = [passkey.sign(os.urandom(32)) for _ in range(4)]
    cases = []
    for signature in theirs:
        r, s, _, _, data, client = decode(
            ["uint256", "uint256", "uint256", "uint256", "bytes", "string"], signature[64:]
        )
        cases.append(assertion_case(passkey.key, encode_dss_signature(r, s), data, client))
    assert run_js(empty(assertion=cases))["assertion"] == ["0x" + t.hex() for t in theirs]
