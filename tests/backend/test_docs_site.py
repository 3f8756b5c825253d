"""Issue 21: the docs site. The settings reference is generated from backend/settings.py and kept
up to date; every setting appears in it, described by the comment above its field; the README
stays a short introduction whose links lead into docs/. Fast, no chain: `mkdocs build --strict`
itself runs in tests/run.sh and `make docs`."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from backend.settings import Settings
from tools import docs_settings

ROOT = Path(__file__).resolve().parents[2]
README_LIMIT = 10 * 1024


def test_the_settings_page_is_what_the_source_gives():
    page = (ROOT / "docs" / "stewards" / "settings.md").read_text()
    assert page == docs_settings.render(), "docs/stewards/settings.md is out of date: run `make docs`"


def test_every_setting_is_on_the_page_with_its_variable():
    page = docs_settings.render()
    for name in Settings.model_fields:
        for variable in docs_settings.env_names(name):
            assert f"`{variable}`" in page, variable
    assert "`DATABASE_URL` (or `CC_DATABASE_URL`)" in page


def test_every_setting_is_described_by_a_comment_in_the_source():
    """A new field without a comment above it would reach the page undescribed."""
    sections, statements = docs_settings.parse(docs_settings.SOURCE.read_text())
    assert set(statements) == set(Settings.model_fields)
    grouped = [name for section in sections for group in section.groups for name in group.fields]
    assert grouped == list(Settings.model_fields)  # each once, in the source's order
    for section in sections:
        for group in section.groups:
            assert group.description, f"{group.fields[0]} has no comment above it in backend/settings.py"


def test_the_generator_reads_comments_sections_and_groups():
    source = """
class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CC_")

    # ---- the first part
    # What `rpc_url` is,
    # on two lines.
    rpc_url: str = "x"
    # Where it listens.
    host: str = "127.0.0.1"
    port: int = 8000
"""
    sections, _ = docs_settings.parse(source)
    assert [s.title for s in sections] == ["The first part"]
    assert [(g.description, g.fields) for g in sections[0].groups] == [
        ("What `rpc_url` is, on two lines.", ["rpc_url"]),
        ("Where it listens.", ["host", "port"]),
    ]


def test_public_defaults_are_named_not_printed():
    """The default keys are public; the page says whose they are rather than printing them."""
    page = docs_settings.render()
    assert "Anvil's development account #0: public, local chains only" in page
    assert "RFC 8032's test vector TEST 1: public, local chains only" in page
    assert not re.search(r"[0-9a-fA-F]{64}", page)
    assert str(ROOT) not in page  # the same page from any checkout


def test_the_site_needs_nothing_from_the_network():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    assert config["theme"]["name"] == "material" and config["theme"]["font"] is False
    assert config["plugins"] == ["search"] and config["strict"] is True
    nav_pages = set(re.findall(r"[\w/-]+\.md", (ROOT / "mkdocs.yml").read_text()))
    pages = {p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md")}
    assert pages == nav_pages


def test_the_readme_is_short_and_its_links_lead_somewhere():
    readme = ROOT / "README.md"
    assert readme.stat().st_size <= README_LIMIT
    text = readme.read_text()
    assert "make run" in text and "make test" in text and "make docs" in text
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text) + re.findall(r'src="([^"]+)"', text)
    local = [t for t in targets if not re.match(r"[a-z]+:", t)]
    assert local, "the README links into docs/"
    for target in local:
        assert (ROOT / target).exists(), target
