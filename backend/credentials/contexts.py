"""The JSON-LD contexts the credentials use, shipped in this package and served by the service
(`GET /contexts/{name}`), so that a verifier with no internet can expand them: each canonical
context URL maps to one file here, byte for byte the published document."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent / "contexts"

VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
# This project's own terms (weight, orientation, category, evidence hash, ...): served by the
# service at /contexts/commons-v1.jsonld, so its URL is under the service's public URL.
COMMONS_FILE = "commons-v1.jsonld"

# Canonical URL -> file, for the published contexts (sources: W3C's vc-data-model repository,
# contexts/credentials/v2; 1EdTech's openbadges-specification, ob_v3p0/context-3.0.3.json).
PUBLISHED = {
    VC_V2: "credentials-v2.jsonld",
    OB_V3: "ob-v3p0-context-3.0.3.json",
}
FILES = (*PUBLISHED.values(), COMMONS_FILE)


def commons_url(base_url: str) -> str:
    return f"{base_url}/contexts/{COMMONS_FILE}"


def credential_contexts(base_url: str) -> list[str]:
    """The @context of every credential this service issues, in order (VC 2.0 first, as the
    data model requires)."""
    return [VC_V2, OB_V3, commons_url(base_url)]


def by_url(base_url: str) -> dict[str, str]:
    """Every context URL the credentials use -> the file that answers it."""
    return {**PUBLISHED, commons_url(base_url): COMMONS_FILE}


@lru_cache
def text(name: str) -> str:
    if name not in FILES:
        raise KeyError(name)
    return (HERE / name).read_text(encoding="utf-8")


def document(name: str) -> dict[str, Any]:
    return json.loads(text(name))
