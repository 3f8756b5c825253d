"""Data Integrity proofs with the cryptosuite `eddsa-rdfc-2022` (W3C Data Integrity EdDSA
Cryptosuites v1.0, section 3.2), what the Digital Credentials Consortium's verifier and the Learner
Credential Wallet check: the credential as RDF (JSON-LD to RDF with pyld, every context answered
from this package: nothing is fetched), canonicalized with RDF Dataset Canonicalization (RDFC-1.0),
hashed with SHA-256 together with the proof's own options, and signed with the issuer's Ed25519 key.

RDFC-1.0 is pyld's URDNA2015 (the same algorithm under its old name) with one correction: RDFC-1.0
writes N-Quads in RDF 1.2's canonical form, where every control character of a literal is escaped
(\\b, \\f, \\u0001, ...) and an IRI's spaces and reserved characters too, while pyld escapes only
tab, newline, carriage return, quote and backslash. The two differ only for such characters, but
those reach a credential from the chain (an indicator's name is whatever governance voted), and a
signature over pyld's bytes would fail in every RDFC-1.0 verifier. So pyld's two methods that
write N-Quads run here with RDF 1.2's writer in place of pyld's (`_Rdfc10`), and nothing of pyld
is changed for anyone else.

A document is refused (`UnsafeDocument`) when JSON-LD processing would drop any of its terms, as
jsonld.js's "safe mode" does in the verifiers: a term no context defines is not in the RDF, so it
would not be signed, and a verifier in safe mode would refuse the proof anyway."""

from __future__ import annotations

import hashlib
import types
from collections.abc import Callable
from typing import Any

import pyld.canon
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pyld import jsonld
from pyld.canon import URDNA2015
from pyld.nquads import RDF_LANGSTRING, XSD_STRING

from backend.credentials import contexts
from backend.credentials.multibase import multibase

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-rdfc-2022"


class UnsafeDocument(ValueError):
    """JSON-LD processing would drop part of the document: it would not all be signed."""


# ---------------------------------------------------------------------- the contexts, offline


class LocalContexts:
    """pyld's document loader: each context URL a credential uses is answered from this package
    (contexts.by_url); any other URL fails, as it would with no network."""

    def __init__(self, base_url: str) -> None:
        self.files = contexts.by_url(base_url)

    def __call__(self, url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
        name = self.files.get(url)
        if name is None:
            raise jsonld.JsonLdError(f"no local copy of the context {url}", "jsonld.LoadDocumentError")
        return {
            "contentType": "application/ld+json",
            "contextUrl": None,
            "documentUrl": url,
            "document": contexts.document(name),
        }


# ---------------------------------------------------------------------- RDFC-1.0


def _escape_literal(value: str) -> str:
    """A literal's characters as RDF 1.2's canonical N-Quads writes them (STRING_LITERAL_QUOTE)."""
    out = []
    for char in value:
        code = ord(char)
        if char in _ECHAR:
            out.append(_ECHAR[char])
        elif code <= 0x1F or code == 0x7F:
            out.append(f"\\u{code:04X}")
        else:
            out.append(char)
    return "".join(out)


_ECHAR = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", '"': '\\"', "\\": "\\\\"}
_IRI_ESCAPED = frozenset(chr(c) for c in range(0x21)) | frozenset('<>"{}|^`\\')


def _escape_iri(value: str) -> str:
    return "".join(f"\\u{ord(c):04X}" if c in _IRI_ESCAPED else c for c in value)


def _term(component: dict[str, Any]) -> str:
    if component["type"] == "IRI":
        return f"<{_escape_iri(component['value'])}>"
    if component["type"] == "blank node":
        return component["value"]
    text = f'"{_escape_literal(component["value"])}"'
    if component["datatype"] == RDF_LANGSTRING:
        return f"{text}@{component['language']}" if component.get("language") else text
    return text if component["datatype"] == XSD_STRING else f"{text}^^<{_escape_iri(component['datatype'])}>"


def serialize_nquad(quad: dict[str, Any], graph_name: str | None = None) -> str:
    """One quad in canonical N-Quads (RDF 1.2), as RDFC-1.0 hashes and outputs it; the same
    signature as pyld's `serialize_nquad`."""
    name = quad.get("name", {"value": graph_name})["value"]
    parts = [_term(quad["subject"]), _term(quad["predicate"]), _term(quad["object"])]
    if name is not None:
        parts.append(name if name.startswith("_:") else f"<{_escape_iri(name)}>")
    return " ".join(parts) + " .\n"


def _with_canonical_nquads(method: Callable[..., Any]) -> Callable[..., Any]:
    """pyld's method as it is, but reading `serialize_nquad` from a copy of its module's globals
    that holds this module's writer: pyld itself is left as it is."""
    scope = dict(vars(pyld.canon), serialize_nquad=serialize_nquad)
    function = types.FunctionType(method.__code__, scope, method.__name__, method.__defaults__, method.__closure__)
    function.__doc__ = method.__doc__
    return function


class _Rdfc10(URDNA2015):
    """RDFC-1.0: pyld's URDNA2015 with RDF 1.2's canonical N-Quads, in the two steps that write
    quads (the first-degree hash of a blank node, and the canonical output)."""

    main = _with_canonical_nquads(URDNA2015.main)
    hash_first_degree_quads = _with_canonical_nquads(URDNA2015.hash_first_degree_quads)


def _property_paths(value: Any, prefix: str = "") -> set[str]:
    out: set[str] = set()
    if isinstance(value, list):
        for item in value:
            out |= _property_paths(item, prefix)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key != "@context":
                out.add(f"{prefix}/{key}")
                out |= _property_paths(item, f"{prefix}/{key}")
    return out


def canonicalize(document: dict[str, Any], loader: LocalContexts) -> str:
    """The document's RDF dataset in RDFC-1.0's canonical N-Quads. Refused (`UnsafeDocument`)
    when expansion drops any of its properties."""
    options: dict[str, Any] = {"documentLoader": loader}
    expanded = jsonld.expand(document, options)
    compacted = jsonld.compact(expanded, {"@context": document["@context"]}, options)
    dropped = _property_paths(document) - _property_paths(compacted)
    if dropped:
        raise UnsafeDocument(f"terms no context defines, which would not be signed: {sorted(dropped)}")
    dataset = jsonld.to_rdf(expanded, {**options, "produceGeneralizedRdf": False})
    return _Rdfc10().main(dataset, {"format": "application/n-quads"})


# ---------------------------------------------------------------------- the proof


def proof_hash(document: dict[str, Any], proof_options: dict[str, Any], loader: LocalContexts) -> bytes:
    """eddsa-rdfc-2022's hashData: SHA-256 of the canonical proof configuration (the proof's options
    with the document's @context), then SHA-256 of the canonical document without its proof."""
    unsecured = {key: value for key, value in document.items() if key != "proof"}
    configuration = {"@context": document["@context"], **proof_options}
    return (
        hashlib.sha256(canonicalize(configuration, loader).encode()).digest()
        + hashlib.sha256(canonicalize(unsecured, loader).encode()).digest()
    )


def add_proof(
    document: dict[str, Any],
    *,
    key: Ed25519PrivateKey,
    verification_method: str,
    created: str,
    loader: LocalContexts,
) -> dict[str, Any]:
    """The document with an embedded `DataIntegrityProof` (eddsa-rdfc-2022, proof purpose
    assertionMethod): proofValue is the Ed25519 signature of `proof_hash`, multibase base58btc.
    `created` is given, not the clock's: the same document gets the same proof (Ed25519 is
    deterministic), so a credential served again is the same bytes. `proof` is an array of one
    (a proof set of one, the same RDF as the object alone), as 1EdTech's Open Badges 3.0 schema
    requires it."""
    proof_options = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": created,
        "verificationMethod": verification_method,
        "proofPurpose": "assertionMethod",
    }
    signature = key.sign(proof_hash(document, proof_options, loader))
    return {**document, "proof": [{**proof_options, "proofValue": multibase(signature)}]}
