"""The web app in Spanish on a 360 × 740 phone (issue 23): a browser that asks for Spanish
(Playwright's locale es-ES sends Accept-Language: es-ES) gets every page in Spanish, the scripts'
words too (the signer, a field's refusal), and no page scrolls sideways with the longer words; the
footer's language links flip a page to English and back, remembered for the next pages."""

from __future__ import annotations

import pytest

from backend.client import CommunityClient
from tests.browser.conftest import ALICE, BOB, CAROL, Visits, address

BASE = "/c/example"
PHONE = {"width": 360, "height": 740}


@pytest.fixture(scope="module")
def visits(stack):
    return Visits(stack.server.url)


@pytest.fixture(scope="module")
def story(stack):
    """An indicator with a period in its rules, a badge, an open claim and a vote under way."""
    api = CommunityClient(stack.server.url)
    mentoring = {
        "type": "add_indicator",
        "name": "Mentoring a newcomer",
        "category": "mentoring",
        "orientation": "community",
        "weight": 5,
        "endorsements_required": 1,
        "earn_cap": 2,
        "cap_period_seconds": 30 * 86400,
        "validity_seconds": 365 * 86400,
    }
    proposal = api.act("proposals", ALICE, description="Count mentoring", actions=[mentoring])["created"]
    stack.anvil.skip(2)
    for voter in (ALICE, BOB):
        api.act("votes", voter, proposal_id=proposal["proposal_id"], support="for", reason="sí")
    stack.anvil.skip(301)
    api.execute(proposal["proposal_id"])
    badge = api.act("claims", CAROL, indicator_id=1, evidence_uri="https://forum.example.org/t/1")["created"]
    api.act("attestations", ALICE, claim_id=badge["claim_id"])
    claim = api.act("claims", BOB, indicator_id=1, evidence_uri="https://forum.example.org/t/2")["created"]
    return {"proposal": proposal["proposal_id"], "badge": badge["claim_id"], "claim": claim["claim_id"]}


@pytest.fixture(scope="module")
def page(browser, stack, visits):
    context = browser.new_context(viewport=PHONE, base_url=stack.server.url, locale="es-ES")
    page = context.new_page()
    visits.watch(page)
    yield page
    context.close()


def wide(page) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")


def test_every_page_in_spanish_fits_a_phone(page, story, visits):
    pages = [
        (BASE, "Indicadores de valor"),
        (f"{BASE}/indicators", "Lo que esta comunidad cuenta como contribución"),
        (f"{BASE}/indicators/1", "Historial de versiones"),
        (f"{BASE}/proposals", "Hacer una propuesta"),
        (f"{BASE}/proposals/{story['proposal']}", "Qué hace"),
        (f"{BASE}/propose", "¿Qué debería cambiar?"),
        (f"{BASE}/claim", "Solicita una contribución, o nomina a un compañero"),
        (f"{BASE}/claims", "Insignias emitidas"),
        (f"{BASE}/claims/{story['claim']}", "Avalarla"),
        (f"{BASE}/awaiting?member={address(ALICE)}", "Esperando tu aval"),
        (f"{BASE}/members", "Desde"),
        (f"{BASE}/members/{address(CAROL)}", "Insignias que cuentan"),
        (f"{BASE}/admission", "Invitar y respaldar"),
        (f"{BASE}/hearing", "Cómo te enteras"),
        (f"{BASE}/organisations", "Organizaciones"),
        (f"{BASE}/report", "Contribuciones en un periodo"),
        (f"{BASE}/badges/{story['badge']}", "Llévatela contigo"),
        (f"{BASE}/badges/{story['badge']}/certificate", "Certificado de contribución"),
    ]
    for path, words in pages:
        page.goto(path)
        page.wait_for_load_state("load")
        assert page.locator("html").get_attribute("lang") == "es", path
        assert words in page.inner_text("body"), (path, words)
        width, client = wide(page)
        assert width <= client, f"{path} scrolls sideways at {client} px in Spanish: {width} px wide"
        # The menu open, with the longest words of the menu and the signer box.
        page.locator(".menu-toggle").click()
        width, client = wide(page)
        assert width <= client, f"{path} with its menu open scrolls sideways: {width} px wide"
        page.locator(".menu-toggle").click()
    visits.check(page, "phone-es-badge-certificate")
    assert not visits.problems, "\n".join(visits.problems)


def test_a_newcomers_header_is_one_row_in_both_languages(page, story):
    """Nobody signing yet: the bar shows the community, a way to join and the menu. On a phone the
    join button says the short word, so the bar stays one row in Spanish's longer words too; its
    accessible name stays whole."""
    for language in ("es", "en"):
        page.goto(f"{BASE}?lang={language}")
        join = page.locator("#passkey-join")
        assert join.is_visible(), language
        header = page.locator("header").bounding_box()
        assert header is not None and header["height"] <= 60, (language, header)  # one row of 44 px taps
        assert join.inner_text().strip() == {"es": "Unirme", "en": "Join"}[language]
        name = {"es": "Unirme con una llave de acceso", "en": "Join with a passkey"}[language]
        assert page.get_by_role("button", name=name, exact=True).is_visible()
    page.goto(f"{BASE}?lang=es")


def test_the_scripts_speak_spanish(page, story, visits):
    page.goto(f"{BASE}/propose")
    page.evaluate("who => localStorage.setItem('cc-signer', 'dev:' + who)", address(ALICE))
    page.reload()
    # The signer box is folded in the menu on a phone: its words, read as they are.
    status = page.locator("#signer-status")
    page.wait_for_function("() => document.getElementById('signer-status').textContent.startsWith('Firmas')")
    assert status.text_content() == "Firmas como Alice (firmante de desarrollo)"
    form = page.locator("form[data-action=proposals]")
    form.locator("#add-weight").fill("mucho")
    visits.allow_refusals = True
    form.locator("button[type=submit]").click()
    error = form.locator("#add-weight-error")
    error.wait_for()
    visits.allow_refusals = False
    assert error.inner_text() == "Peso: escribe un número entero"
    width, client = wide(page)
    assert width <= client, f"the refusal makes the page {width} px wide"


def test_the_language_links_flip_a_page_and_are_remembered(page, story):
    page.goto(f"{BASE}/claims")
    assert page.get_by_role("heading", level=1).inner_text() == "Solicitudes"
    languages = page.get_by_role("navigation", name="Idioma")
    languages.get_by_role("link", name="English").click()
    page.wait_for_url(f"**{BASE}/claims")  # back on the same page, without ?lang=
    assert page.get_by_role("heading", level=1).inner_text() == "Claims"
    assert page.locator("html").get_attribute("lang") == "en"
    page.goto(f"{BASE}/members")  # remembered: the browser still asks for Spanish
    assert page.get_by_role("heading", level=1).inner_text() == "Members"
    page.get_by_role("navigation", name="Language").get_by_role("link", name="Español").click()
    page.wait_for_url(f"**{BASE}/members")
    assert page.get_by_role("heading", level=1).inner_text() == "Miembros"
    width, client = wide(page)
    assert width <= client
