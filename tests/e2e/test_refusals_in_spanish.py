"""The API's refusals in the language the client asks for (issue 23), over real HTTP against the
service on Anvil: with `Accept-Language: es` the story's refusals (a non-member proposes, a
self-endorsement, a duplicate indicator, an expired request) and a validation error come back in
Spanish, titles too, and still name no contract error; without it, or asking for a language the
service does not speak, in English. The error's name stays in `error`, for programmers."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.e2e.conftest import ALICE, CAROL, OUTSIDER, address, error_names_in


@pytest.fixture(scope="module")
def error_names(env) -> re.Pattern:
    """Every custom error of the deployed contracts' ABIs, as a regex over a detail's words."""
    return error_names_in(env.deployments)


def refused(env, method: str, path: str, body: dict, language: str | None) -> httpx.Response:
    headers = {"Accept-Language": language} if language else {}
    response = httpx.request(method, env.server.url + path, json=body, headers=headers, timeout=60)
    assert response.status_code >= 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response


def spoken(response: httpx.Response, error_names: re.Pattern, error: str | None) -> dict:
    """The problem, with no contract error named in its detail (the name in `error`)."""
    problem = response.json()
    if error is not None:
        assert problem["error"] == error, problem
    found = error_names.search(problem["detail"])
    assert not found, f"the detail names {found.group(0)}: {problem['detail']}"
    return problem


def _claim_of_alice(env, governed) -> int:
    created = env.api.act("claims", ALICE, indicator_id=governed["code"], evidence_uri="https://x.example/es")
    return created["created"]["claim_id"]


def _expired(env, governed) -> dict:
    typed = env.api.prepare(
        "claims", signer=address(CAROL), indicator_id=governed["code"], evidence_uri="https://x.example/late"
    )["typed_data"]
    typed["message"]["deadline"] = 1_000
    return {"typed_data": typed, "signature": env.api.sign(CAROL, typed)}


# (what, method, path, body or a function of env and governed, error, English words, Spanish words)
STORY = [
    (
        "a non-member proposes",
        "POST",
        "/proposals/prepare",
        {
            "signer": address(OUTSIDER),
            "description": "Let me in",
            "actions": [{"type": "admit_member", "account": address(OUTSIDER)}],
        },
        "GovernorNotMember",
        "Only members make proposals and vote",
        "Solo los miembros hacen propuestas y votan",
    ),
    (
        "a duplicate indicator",
        "POST",
        "/proposals/prepare",
        {
            "signer": address(ALICE),
            "description": "Again",
            "actions": [
                {
                    "type": "add_indicator",
                    "name": "MENTORING A NEWCOMER",
                    "orientation": "community",
                    "weight": 1,
                    "endorsements_required": 1,
                }
            ],
        },
        "IndicatorNameTaken",
        "an active indicator is already called “Mentoring a newcomer”",
        "ya hay un indicador activo que se llama «Mentoring a newcomer»",
    ),
    (
        "a self-endorsement",
        "POST",
        "/attestations/prepare",
        lambda env, governed: {"signer": address(ALICE), "claim_id": _claim_of_alice(env, governed)},
        "BadgeSelfAttestation",
        "so others endorse it: nobody endorses their own claim",
        "así que la avalan otras personas: nadie avala su propia solicitud",
    ),
    (
        "an expired request",
        "POST",
        "/claims",
        _expired,
        "ERC2771ForwarderExpiredRequest",
        "The request expired on 1970-01-01 00:16 UTC",
        "La petición caducó el 1970-01-01 00:16 UTC",
    ),
    (
        "an address that is not one",
        "POST",
        "/claims/prepare",
        {"signer": "0x12", "indicator_id": 2, "evidence_uri": "https://x.example"},
        None,
        "'0x12' is not an address (0x and 40 hex digits)",
        "'0x12' no es una dirección (0x y 40 dígitos hexadecimales)",
    ),
    (
        "a missing field",
        "POST",
        "/claims/prepare",
        {"signer": address(CAROL), "evidence_uri": "https://x.example"},
        None,
        "body.indicator_id: Field required",
        "body.indicator_id: Este campo es obligatorio",
    ),
]
IDS = [case[0] for case in STORY]


@pytest.mark.parametrize(("what", "method", "path", "body", "error", "english", "spanish"), STORY, ids=IDS)
def test_a_refusal_in_the_language_asked_for(
    env, governed, error_names, what, method, path, body, error, english, spanish
):
    sent = body(env, governed) if callable(body) else body
    in_spanish = refused(env, method, path, sent, "es-ES,es;q=0.9,en;q=0.5")
    assert in_spanish.headers["content-language"] == "es"
    problem = spoken(in_spanish, error_names, error)
    assert spanish in problem["detail"], (what, problem["detail"])
    assert english not in problem["detail"]
    assert problem["title"] in (
        "Conflicto",
        "No permitido",
        "Petición que no se puede procesar",
        "Campos de la petición no válidos",
    ), problem["title"]

    for language in (None, "fr-CH, de;q=0.8"):  # not asked for, or asked for what the service does not speak
        sent = body(env, governed) if callable(body) else body
        in_english = refused(env, method, path, sent, language)
        assert in_english.headers["content-language"] == "en"
        problem = spoken(in_english, error_names, error)
        assert english in problem["detail"], (what, language, problem["detail"])


def test_an_unknown_path_and_method_in_spanish(env):
    missing = httpx.get(env.server.url + "/no-such-thing", headers={"Accept-Language": "es"})
    assert (missing.status_code, missing.json()["detail"]) == (404, "No encontrado")
    assert httpx.get(env.server.url + "/no-such-thing").json()["detail"] == "Not Found"
    wrong = httpx.delete(env.server.url + "/claims/prepare", headers={"Accept-Language": "es"})
    assert (wrong.status_code, wrong.json()["detail"]) == (405, "Método no permitido")
