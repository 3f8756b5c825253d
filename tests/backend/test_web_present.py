"""What the web app's pages say and how they keep member text inert (backend/web/present.py)."""

from __future__ import annotations

import pytest

from backend.web import present


@pytest.mark.parametrize("uri", [
    "javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)", "https://ok.example/\"onmouseover=x",
    "https://ok.example/ x", "//evil.example/", "ipfs://bafy", "https://a.example/\x00",
])
def test_evidence_is_a_link_only_for_http_and_https(uri):
    html = str(present.evidence(uri))
    assert "href" not in html
    assert "<script>" not in html and "\"onmouseover" not in html


def test_evidence_link_is_escaped_and_opens_without_referrer():
    assert "href" not in str(present.evidence("https://forum.example.org/t/42?b=<2>"))  # text, escaped
    html = str(present.evidence("https://forum.example.org/t/42?a=1&b=2"))
    assert 'href="https://forum.example.org/t/42?a=1&amp;b=2"' in html and "noreferrer" in html


def test_add_indicator_in_plain_words():
    action = {"contract": "registry", "function": "addIndicator",
              "args": {"input": ["Mentoring a newcomer", "", "mentoring", 1, 5, 2, 0]}}
    words = present.action_words(action)
    assert f"{words['verb']} {words['object']}: {words['details']}" == (
        "add indicator Mentoring a newcomer: weight 5, 2 endorsements, community-oriented, category “mentoring”, "
        "counts for ever")


def test_settings_and_membership_in_plain_words():
    assert present.action_words({"function": "updateQuorumNumerator", "args": {"n": 60}})["object"] == "60% of members"
    admit = present.action_words({"function": "admit", "args": {"account": "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"}})
    assert admit["verb"] == "admit member" and admit["object"].startswith("Dana (")


def test_charts_escape_labels():
    svg = str(present.bar_chart([("<script>x</script>", 3)], title="Score by category"))
    assert "<script>x" not in svg and "&lt;script&gt;x" in svg
    assert 'role="img"' in svg and "Score by category: " in svg


def test_step_chart_follows_the_score():
    points = [{"at": 100, "total": 5, "object": 0, "community": 5}, {"at": 200, "total": 8, "object": 3, "community": 5}]
    svg = str(present.step_chart(points, now=300, title="Score over time"))
    assert "<polyline" in svg and ": 8" in svg
