"""The language of a page and of the API (issue 23): Spanish for a browser that asks for it
(Accept-Language), English for one that asks for nothing we speak or sends garbage, and a member's
own choice (the `lang` cookie the pages' language links set) over what the browser asks; the
answer says which language it is in, and that it depends on both. On the real service, over HTTP,
on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import httpx
import pytest

SPANISH = "es-ES,es;q=0.9,en;q=0.5"
BASE = "/c/example"


def lang_of(response: httpx.Response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.text).group(1)


def test_a_browser_asking_for_spanish_gets_spanish(env, governed):
    answer = httpx.get(env.server.url + BASE, headers={"accept-language": SPANISH})
    assert answer.status_code == 200
    assert answer.headers["content-language"] == "es"
    assert {v.strip() for v in answer.headers["vary"].split(",")} >= {"Accept-Language", "Cookie"}
    assert lang_of(answer) == "es"
    assert "Indicadores de valor" in answer.text and "Propuestas abiertas" in answer.text
    assert "Indicators of value" not in answer.text
    # Durations in Spanish too: the voting period in minutes, hours or days.
    assert re.search(r"Los miembros votan una propuesta durante \d+ (minutos?|horas?|días?)", answer.text), answer.text
    # The scripts' words for the page's language, as data the page's script reads.
    catalog = re.search(r'<script type="application/json" id="i18n">(.*?)</script>', answer.text, re.S).group(1)
    assert "Esperando tu firma" in catalog


@pytest.mark.parametrize(
    "header",
    ["", "fr-CH, fr;q=0.9, de;q=0.8", "es;q=0, en", ";;;,,q=x", "x" * 5000, "es;q=abc", "\u00e9s".encode("latin-1")],
    ids=["none", "others", "spanish-refused", "punctuation", "long", "bad-q", "non-ascii"],
)
def test_garbage_or_another_language_gets_english(env, governed, header):
    headers = {"accept-language": header} if header else {}
    answer = httpx.get(env.server.url + BASE, headers=headers)
    assert answer.status_code == 200
    assert answer.headers["content-language"] == "en" and lang_of(answer) == "en"
    assert "Indicators of value" in answer.text


def test_the_members_choice_wins_over_the_browser(env, governed):
    with httpx.Client(base_url=env.server.url) as browser:
        # The footer's link: the same page with ?lang=en, remembered for a year, then the page without it.
        link = browser.get(f"{BASE}/claims?lang=en&x=1", headers={"accept-language": SPANISH})
        assert link.status_code == 303 and link.headers["location"] == f"{BASE}/claims?x=1"
        cookie = link.headers["set-cookie"]
        assert cookie.startswith("lang=en;") and "Max-Age=31536000" in cookie and "SameSite=Lax" in cookie
        answer = browser.get(f"{BASE}/claims", headers={"accept-language": SPANISH})
        assert answer.headers["content-language"] == "en" and "Badges minted" in answer.text
        # And back: Spanish for a browser asking for English.
        browser.get(f"{BASE}/claims?lang=es", headers={"accept-language": "en"})
        answer = browser.get(f"{BASE}/claims", headers={"accept-language": "en"})
        assert answer.headers["content-language"] == "es" and "Insignias emitidas" in answer.text
    # A language the service does not speak changes nothing, and the link never leaves the site.
    odd = httpx.get(env.server.url + f"{BASE}?lang=tlh", headers={"accept-language": SPANISH})
    assert odd.status_code == 303 and odd.headers["location"] == BASE and "set-cookie" not in odd.headers
    cookie = httpx.get(env.server.url + BASE, cookies={"lang": "tlh"}, headers={"accept-language": SPANISH})
    assert cookie.headers["content-language"] == "es"


def test_every_page_offers_the_other_language(env, governed):
    answer = httpx.get(env.server.url + f"{BASE}/members", params={"page": "2"}, headers={"accept-language": "en"})
    links = re.findall(r'<a (?:aria-current="true" )?lang="(\w+)"[^>]*href="([^"]+)"', answer.text)
    assert ("es", f"{BASE}/members?page=2&amp;lang=es") in links, links  # the page's own query kept


def test_the_api_follows_accept_language(env, governed):
    english = httpx.get(env.server.url + "/badges/999999")
    spanish = httpx.get(env.server.url + "/badges/999999", headers={"accept-language": SPANISH})
    assert english.status_code == spanish.status_code == 404
    assert spanish.headers["content-language"] == "es" and english.headers["content-language"] == "en"
    assert spanish.json()["detail"] != english.json()["detail"]  # words.po's Spanish
    assert spanish.json()["error"] == english.json()["error"]  # the name for programmers, the same
    # Static files read the same in every language: no Vary for caches to split on.
    script = httpx.get(env.server.url + "/static/i18n.js", headers={"accept-language": SPANISH})
    assert script.status_code == 200 and "accept-language" not in script.headers.get("vary", "").lower()


def test_a_malformed_address_on_a_page_is_said_in_the_pages_language(env, governed):
    """The web app's own refusal of a malformed path says what is wrong in words, in Spanish too
    (pydantic speaks English only: its pattern is named in the catalog's words)."""
    answer = httpx.get(env.server.url + BASE + "/members/0x123", headers={"accept-language": SPANISH})
    assert answer.status_code == 404 and lang_of(answer) == "es"
    assert "una dirección (0x y 40 dígitos hexadecimales)" in answer.text, answer.text
    assert "String should match pattern" not in answer.text
