"""Issue 23: Data Integrity proofs (eddsa-rdfc-2022) as the service makes them, checked against
W3C's own test vector (vc-di-eddsa, TestVectors/eddsa-rdfc-2022) and, for strings that pyld alone
would write differently from RDFC-1.0 (control characters), by Digital Bazaar's verifier in node
(tests/e2e/di_verifier.mjs) against a small local server that answers the contexts and the DID
document, as the service does."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from pyld import jsonld

from backend.credentials import contexts, dataintegrity
from backend.credentials.issuer import Issuer
from backend.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
NODE_VERIFIER = ROOT / "tests" / "e2e" / "di_verifier.mjs"

# W3C vc-di-eddsa, TestVectors: keyPair.json and eddsa-rdfc-2022/signedDataInt.json (the proof's
# options and value), proofCanonDataInt.txt (the canonical proof configuration).
W3C_SECRET_MULTIBASE = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"
W3C_PUBLIC_MULTIBASE = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
W3C_UNSIGNED = {
    "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
    "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
    "type": ["VerifiableCredential", "AlumniCredential"],
    "name": "Alumni Credential",
    "description": "A minimum viable example of an Alumni Credential.",
    "issuer": "https://vc.example/issuers/5678",
    "validFrom": "2023-01-01T00:00:00Z",
    "credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"},
}
W3C_CREATED = "2023-02-24T23:36:38Z"
W3C_METHOD = f"https://vc.example/issuers/5678#{W3C_PUBLIC_MULTIBASE}"
W3C_PROOF_VALUE = "z21EVs3eXERqTn4acNHT9viboqgzUaQ3kTmhPT3eA8qrVPE7CrQq78WkzctnMX5W4CrzcKnHw8V6dvy5pgWYCU5e9"
W3C_PROOF_CANON = (
    '_:c14n0 <http://purl.org/dc/terms/created> "2023-02-24T23:36:38Z"'
    "^^<http://www.w3.org/2001/XMLSchema#dateTime> .\n"
    "_:c14n0 <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://w3id.org/security#DataIntegrityProof> .\n"
    '_:c14n0 <https://w3id.org/security#cryptosuite> "eddsa-rdfc-2022"'
    "^^<https://w3id.org/security#cryptosuiteString> .\n"
    "_:c14n0 <https://w3id.org/security#proofPurpose> <https://w3id.org/security#assertionMethod> .\n"
    f"_:c14n0 <https://w3id.org/security#verificationMethod> <{W3C_METHOD}> .\n"
)
# https://www.w3.org/ns/credentials/examples/v2, whole.
EXAMPLES_V2 = {"@context": {"@vocab": "https://www.w3.org/ns/credentials/examples#"}}

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def base58_decode(text: str) -> bytes:
    number = 0
    for char in text:
        number = number * 58 + ALPHABET.index(char)
    body = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


class W3CContexts(dataintegrity.LocalContexts):
    """The VC 2.0 context from the package, and the examples context the W3C vector uses."""

    def __call__(self, url, options=None):
        if url == "https://www.w3.org/ns/credentials/examples/v2":
            return {
                "contentType": "application/ld+json",
                "contextUrl": None,
                "documentUrl": url,
                "document": EXAMPLES_V2,
            }
        return super().__call__(url, options)


def test_w3c_test_vector():
    """The service's signer, given W3C's key and the vector's proof options, writes the vector's
    canonical proof configuration and its very proofValue (Ed25519 signs deterministically)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    secret = base58_decode(W3C_SECRET_MULTIBASE[1:])
    assert secret[:2] == b"\x80\x26"  # multicodec ed25519-priv
    key = Ed25519PrivateKey.from_private_bytes(secret[2:])
    loader = W3CContexts("http://127.0.0.1")
    options = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": W3C_CREATED,
        "verificationMethod": W3C_METHOD,
        "proofPurpose": "assertionMethod",
    }
    configuration = {"@context": W3C_UNSIGNED["@context"], **options}
    assert dataintegrity.canonicalize(configuration, loader) == W3C_PROOF_CANON
    signed = dataintegrity.add_proof(
        W3C_UNSIGNED, key=key, verification_method=W3C_METHOD, created=W3C_CREATED, loader=loader
    )
    # An array of one (as Open Badges 3.0's schema wants it; the vector has the object alone).
    assert signed["proof"] == [{**options, "proofValue": W3C_PROOF_VALUE}]
    assert {k: v for k, v in signed.items() if k != "proof"} == W3C_UNSIGNED


def test_a_term_no_context_defines_is_refused():
    issuer = Issuer.from_settings(Settings(issuer_key=secrets.token_hex(32)), 31337)
    document = {**W3C_UNSIGNED, "@context": ["https://www.w3.org/ns/credentials/v2"], "shoeSize": 44}
    document = {k: v for k, v in document.items() if k != "credentialSubject"} | {
        "credentialSubject": {"id": "did:example:abcdefgh"}
    }
    with pytest.raises(dataintegrity.UnsafeDocument, match="shoeSize"):
        issuer.prove(document, None, "2023-01-01T00:00:00Z")
    # And a context the package does not hold is never fetched: its loading fails.
    with pytest.raises(jsonld.JsonLdError, match="loading remote context failed") as failed:
        issuer.prove({**document, "@context": [*document["@context"], "https://example.org/ctx"]}, None, "x")
    assert "no local copy of the context https://example.org/ctx" in repr(failed.value.__cause__)


# ---------------------------------------------------------------------- node, against a local server


@pytest.fixture(scope="module")
def served():
    """A server on 127.0.0.1 that answers as the service does: GET /contexts and each context, and
    the community's DID document. Yields (base URL, issuer)."""
    if shutil.which("node") is None or not (ROOT / "node_modules" / "@digitalbazaar" / "vc").is_dir():
        pytest.skip("node and the npm devDependencies (make setup) are needed for the node verifier")
    state: dict = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            base, issuer = state["base"], state["issuer"]
            if self.path == "/contexts":
                names = contexts.by_url(base)
                body = json.dumps({"contexts": {url: f"{base}/contexts/{name}" for url, name in names.items()}})
            elif self.path.startswith("/contexts/") and self.path.removeprefix("/contexts/") in contexts.FILES:
                body = contexts.text(self.path.removeprefix("/contexts/"))
            elif self.path == "/communities/wiki/did.json":
                body = json.dumps(issuer.did_document("wiki"))
            else:
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["base"] = f"http://127.0.0.1:{server.server_address[1]}"
    state["issuer"] = Issuer.from_settings(Settings(issuer_key=secrets.token_hex(32), public_url=state["base"]), 31337)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state["base"], state["issuer"]
    finally:
        server.shutdown()
        server.server_close()


def node_verify(base: str, credentials: list[dict]) -> list[dict]:
    run = subprocess.run(
        ["node", str(NODE_VERIFIER)],
        input=json.dumps({"service": base, "now": "2030-01-01T00:00:00Z", "credentials": credentials}),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)["credentials"]


NAMES = [
    "plain",
    "tab\there, newline\nand return\r",
    'a "quote" and a back\\slash',
    "bell\x07 nul\x00 escape\x1b delete\x7f backspace\b form feed\f",
    "Ünïcode ✓ 🎉, a line separator\u2028 and a no-break space\u00a0",
]


def test_odd_strings_verify_in_node(served):
    """Strings where pyld's N-Quads and RDFC-1.0's differ (control characters, DEL) and where they
    agree: each credential, signed by the service's code, verifies with Digital Bazaar's
    eddsa-rdfc-2022 in node; the same credential changed by one character does not."""
    base, issuer = served
    did = issuer.did("wiki")
    documents = []
    for name in NAMES:
        credential = {
            "@context": [contexts.VC_V2, contexts.OB_V3, contexts.commons_url(base)],
            "id": f"{base}/communities/wiki/badges/1/credential",
            "type": ["VerifiableCredential", "OpenBadgeCredential"],
            "name": name,
            "issuer": {"id": did, "type": ["Profile"], "name": name},
            "validFrom": "2024-01-01T00:00:00Z",
            "credentialSubject": {
                "id": "did:pkh:eip155:1:0x0000000000000000000000000000000000000001",
                "type": ["AchievementSubject"],
                "achievement": {
                    "id": f"{base}/communities/wiki/indicators/1#version-1",
                    "type": ["Achievement"],
                    "name": name,
                    "description": name,
                    "criteria": {"narrative": name},
                    "category": name,
                    "weight": 3,
                },
            },
        }
        documents.append(issuer.prove(credential, "wiki", credential["validFrom"]))
    tampered = json.loads(json.dumps(documents[3]))
    tampered["name"] = tampered["name"].replace("\x07", "\x08")
    results = node_verify(base, [*documents, tampered])
    assert [r["verified"] for r in results] == [True] * len(NAMES) + [False], results
    assert "Invalid signature" in results[-1]["error"]
