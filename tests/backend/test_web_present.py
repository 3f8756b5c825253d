"""What the web app's pages say and how they keep member text inert (backend/web/present.py)."""

from __future__ import annotations

import re

import pytest

from backend.indicators.schemas import CommunityRulesOut, IndicatorVersionOut
from backend.members.schemas import ScorePointOut
from backend.web import present


@pytest.mark.parametrize(
    "uri",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        'https://ok.example/"onmouseover=x',
        "https://ok.example/ x",
        "//evil.example/",
        "ipfs://bafy",
        "https://a.example/\x00",
    ],
)
def test_evidence_is_a_link_only_for_http_and_https(uri):
    html = str(present.evidence(uri))
    assert "href" not in html
    assert "<script>" not in html and '"onmouseover' not in html


def test_evidence_link_is_escaped_and_opens_without_referrer():
    assert "href" not in str(present.evidence("https://forum.example.org/t/42?b=<2>"))  # text, escaped
    html = str(present.evidence("https://forum.example.org/t/42?a=1&b=2"))
    assert 'href="https://forum.example.org/t/42?a=1&amp;b=2"' in html and "noreferrer" in html


def test_add_indicator_in_plain_words():
    action = {
        "contract": "registry",
        "function": "addIndicator",
        "args": {"input": ["Mentoring a newcomer", "", "mentoring", 1, 5, 2, 0]},
    }
    words = present.action_words(action)
    assert f"{words['verb']} {words['object']}: {words['details']}" == (
        "add indicator Mentoring a newcomer: weight 5, 2 endorsements, community-oriented, category “mentoring”, "
        "counts for ever"
    )


def test_settings_and_membership_in_plain_words():
    assert present.action_words({"function": "updateQuorumNumerator", "args": {"n": 60}})["object"] == "60% of members"
    admit = present.action_words(
        {"function": "admit", "args": {"account": "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"}}
    )
    assert admit["verb"] == "admit member" and admit["object"].startswith("Dana (")


def test_charts_escape_labels():
    svg = str(present.bar_chart([("<script>x</script>", 3)], title="Score by category"))
    assert "<script>x" not in svg and "&lt;script&gt;x" in svg
    assert 'role="img"' in svg and "Score by category: " in svg


def test_step_chart_follows_the_score():
    points = [
        ScorePointOut(at=100, total=5, object=0, community=5),
        ScorePointOut(at=200, total=8, object=3, community=5),
    ]
    svg = str(present.step_chart(points, now=300, title="Score over time"))
    assert "<polyline" in svg and ": 8" in svg


def test_fair_play_rules_in_plain_words():
    assert present.fair_play(None, None, None, None) == []
    assert present.fair_play(1, 3, 1, 7 * 86400) == [
        "endorsed only by holders of indicator #1",
        "at most 3 badges per member per 7 days",
        "at most 1 attestation per member per 7 days",
    ]
    indicator = IndicatorVersionOut.model_construct(
        endorser_indicator_id=1, earn_cap=None, attest_cap=2, cap_period_seconds=86400
    )
    assert present.indicator_rules(indicator, {1: "Maintainer"}) == [
        "endorsed only by holders of a “Maintainer” badge",
        "at most 2 attestations per member per 1 day",
    ]
    action = {
        "contract": "registry",
        "function": "addIndicator",
        "args": {"input": ["Code review", "", "code", 0, 3, 1, 0, 1, 0, 5, 86400]},
    }
    assert present.action_words(action, {1: "Maintainer"})["details"].endswith(
        "counts for ever, endorsed only by holders of a “Maintainer” badge, at most 5 attestations per member per 1 day"
    )


def test_organisations_and_community_rules_in_plain_words():
    add = present.action_words(
        {"function": "addOrganisation", "args": {"name": "Example Foundation", "id": "example.org"}}
    )
    assert (add["verb"], add["object"], add["details"]) == (
        "register organisation",
        "Example Foundation",
        "identifier example.org",
    )
    retire = {"function": "retireOrganisation", "args": {"organisationId": 2}}
    assert present.action_words(retire)["object"] == "#2"
    assert present.action_words(retire, organisations={2: "Example Foundation"})["object"] == "Example Foundation (#2)"
    rules = present.action_words({"function": "setCommunityRules", "args": {"window": 30 * 86400, "rule": 1}})
    assert rules["object"] == "square root scores" and rules["details"] == "no reciprocal endorsement within 30 days"
    assert present.community_rules(CommunityRulesOut(reciprocal_window_seconds=0, score_rule="linear")) == ""
    assert present.community_rules(None) == ""
    both = present.community_rules(CommunityRulesOut(reciprocal_window_seconds=30 * 86400, score_rule="square_root"))
    assert both.startswith("Fair play: no returning the favour") and "within 30 days" in both and "square root" in both


def test_score_rule_in_one_sentence():
    assert present.score_rule("linear").startswith("Scores add up linearly")
    assert present.score_rule("square_root").startswith("Scores add up by the square root rule")


def test_rule_spans_are_exact():
    """A rule is read before a vote and obeyed after it: its span is never rounded down (a 36-hour
    window is not "1 day", a 25-hour cap period not "1 day")."""
    assert present.fair_play(None, 1, None, 25 * 3600) == ["at most 1 badge per member per 25 hours"]
    assert present.fair_play(None, None, 2, 90 * 60) == ["at most 2 attestations per member per 90 minutes"]
    assert present.fair_play(None, 1, None, 86400 + 1) == ["at most 1 badge per member per 86,401 seconds"]
    rules = present.action_words({"function": "setCommunityRules", "args": {"window": 36 * 3600, "rule": 0}})
    assert rules["details"] == "no reciprocal endorsement within 36 hours"
    assert "within 36 hours" in present.community_rules(
        CommunityRulesOut(reciprocal_window_seconds=36 * 3600, score_rule="linear")
    )
    assert (
        present.community_rules(CommunityRulesOut(reciprocal_window_seconds=30 * 86400, score_rule="linear")).count(
            "within 30 days"
        )
        == 1
    )


@pytest.mark.parametrize("seconds", [0, 1, 59, 3600, 5400, 86399, 86400, 129600, 30 * 86400, 365 * 86400])
def test_a_span_in_days_comes_back_as_the_same_seconds(seconds):
    """The propose form shows the window in force in days and app.js sends round(days * 86400):
    left as it is, it must propose the same window (3,600 s shown as 0.042 came back as 3,629)."""
    shown = present.in_days(seconds)
    assert round(float(shown) * 86400) == seconds
    assert shown == str(seconds // 86400) if seconds % 86400 == 0 else "." in shown


def test_bar_values_are_written_out_whole():
    """A bar's value as the profile gives it: a whole score in full (weights are uint32, so scores
    in the millions are possible; not 1.23457e+06), a square-root score with its 3 decimals."""
    svg = str(
        present.bar_chart(
            [("code", 1_234_567), ("docs", 7.071), ("mentoring", 4_294_967_295 * 3)], title="Score by category"
        )
    )
    assert ">1234567</text>" in svg and ">7.071</text>" in svg and ">12884901885</text>" in svg
    assert "e+" not in svg


def test_a_qr_code_is_drawn_module_for_module():
    """The certificate's QR code: the vendored encoder's modules (Nayuki's library, behaviour
    unchanged), one unit square each, inside a quiet zone of four."""
    from backend.web.qrcodegen import QrCode

    url = "https://commons.example.org/c/example/badges/7"
    svg = str(present.qr_svg(url, title=f"A QR code of {url}"))
    code = QrCode.encode_text(url, QrCode.Ecc.MEDIUM)
    side = code.get_size() + 8
    assert code.get_size() == 33  # version 4: 47 bytes at medium error correction
    assert (
        f'viewBox="0 0 {side} {side}"' in svg
        and 'role="img"' in svg
        and f'<title id="qr-title">A QR code of {url}' in svg
    )
    drawn = {tuple(map(int, m)) for m in re.findall(r"M(\d+),(\d+)h1v1h-1z", svg)}
    modules = {(x + 4, y + 4) for y in range(code.get_size()) for x in range(code.get_size()) if code.get_module(x, y)}
    assert drawn == modules
    # The three finder patterns: their 7 x 7 dark rings at three corners.
    for left, top in ((0, 0), (code.get_size() - 7, 0), (0, code.get_size() - 7)):
        assert all((left + i + 4, top + 4) in drawn and (left + 4, top + i + 4) in drawn for i in range(7))
    assert "<script" not in str(present.qr_svg("x", title="<script>"))


def test_linkedin_add_to_profile_link():
    from urllib.parse import parse_qsl, urlsplit

    url = present.linkedin_url(
        name="Mentoring a newcomer",
        organisation="Example Commons",
        issued_at=1_790_000_000,  # September 2026
        valid_seconds=365 * 86400,
        url="https://commons.example.org/c/example/badges/7",
        credential_id="example-7",
    )
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://www.linkedin.com/profile/add"
    assert dict(parse_qsl(parts.query)) == {
        "startTask": "CERTIFICATION_NAME",
        "name": "Mentoring a newcomer",
        "organizationName": "Example Commons",
        "issueYear": "2026",
        "issueMonth": "9",
        "expirationYear": "2027",
        "expirationMonth": "9",
        "certUrl": "https://commons.example.org/c/example/badges/7",
        "certId": "example-7",
    }
