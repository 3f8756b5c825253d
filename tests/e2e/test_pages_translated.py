"""Every word of every page goes through gettext (issue 23).

The pages are rendered under a pseudo-locale built from the catalogs' own extraction (Babel over
backend/i18n/web.cfg and words.cfg): each message becomes "⟦" + message + "⟧", so a word that went
through gettext arrives bracketed, and one that did not arrives bare. Every visible word of each
page (text outside script and style, and the attributes people read: title, aria-label,
placeholder, alt, label, data-label) must then lie inside a bracketed message, and what fills a
message's %(placeholders)s must be either bracketed itself or data: the story's own names and
texts, addresses, numbers, dates and links. A message the catalogs do not know (an f-string, a
word built in a template without _()) stays bare and fails.

The pseudo-locale exists only here (backend.i18n.register, as an explicit choice the `lang` cookie
makes); members are never offered it. The story runs on its own chain and service (SQLite); the
pages are rendered by the service built in this process, over the same index, where the
pseudo-locale is registered."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
from babel.messages.catalog import Catalog
from eth_account import Account
from fastapi.testclient import TestClient

from backend.app import create_app
from backend.client import CommunityClient
from backend.i18n import register
from backend.i18n.extraction import CATALOGS, extract
from backend.i18n.locale import NAMES
from backend.settings import ANVIL_DEV_KEYS, Settings
from backend.web.present import DEV_NAMES, PROFILE_PAGES
from devstack.stack import local_stack

ALICE, BOB, CAROL, DANA = (ANVIL_DEV_KEYS[i] for i in (1, 2, 3, 4))
PSEUDO = "yi"  # a code Babel knows (numbers need one), offered to no member; dates as in Britain
OPEN, CLOSE = "⟦", "⟧"
BASE = "/c/example"
MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
# Data a page shows as it is: links, addresses, hashes and long ids (whole or shortened), then
# (after the story's own texts) numbers, dates and times. Nothing else.
LINKS_AND_IDS = re.compile(
    r"https?://[^\s⟦⟧]+|0x[0-9a-fA-F]{64}|0x[0-9a-fA-F]{40}|0x[0-9a-fA-F]{4}…[0-9a-fA-F]{4}|\d{6}…\d{4}"
)
NUMBERS_AND_DATES = re.compile(rf"\b\d{{1,2}} ({MONTHS}) \d{{4}}\b|\b\d\d:\d\d\b|#?\d[\d,.]*%?")
PUNCTUATION = re.compile(r"^[\s·:;,.()#—…/|%-]*$")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def address(key: str) -> str:
    return Account.from_key(key).address


def pseudo_catalog() -> Catalog:
    """Every message of the catalogs, each said "⟦" + itself + "⟧"."""
    out = Catalog(locale="en")
    for name in CATALOGS:
        for message in extract(name):
            if message.id:
                ids = message.id if isinstance(message.id, tuple) else (message.id,)
                said = tuple(f"{OPEN}{i}{CLOSE}" for i in ids)
                out.add(message.id, said if isinstance(message.id, tuple) else said[0], context=message.context)
    return out


def visible(message: str) -> str:
    """A message as a page's text shows it: tags gone, entities read, %% a %, spaces folded."""
    text = html.unescape(re.sub(r"<[^>]*>", " ", message)).replace("%%", "%")
    return " ".join(text.split())


def pattern(message: str) -> re.Pattern:
    """A message's text with its placeholders as lazy groups (split() alternates text and names)."""
    pieces = PLACEHOLDER.split(visible(message))
    return re.compile("".join("(.*?)" if i % 2 else re.escape(p).replace(r"\ ", r"\s*") for i, p in enumerate(pieces)))


class Messages:
    """The catalogs' messages as patterns over a page's text, found by their first characters."""

    def __init__(self, catalog: Catalog) -> None:
        self.by_start: dict[str, list[re.Pattern]] = {}
        for message in catalog:
            for text in message.id if isinstance(message.id, tuple) else (message.id,):
                if not text:
                    continue
                shown = visible(text)
                key = "" if shown.startswith("%(") else shown[:2]
                self.by_start.setdefault(key, []).append(pattern(text))

    def matching(self, text: str):
        for found in (*self.by_start.get(text[:2], ()), *self.by_start.get("", ())):
            match = found.fullmatch(text)
            if match:
                yield match


def split(text: str) -> tuple[str, list[str]]:
    """The text outside any ⟦…⟧, and each outermost ⟦…⟧'s content."""
    outside, inner, depth, start = [], [], 0, 0
    for i, char in enumerate(text):
        if char == OPEN:
            if depth == 0:
                start = i + 1
            depth += 1
        elif char == CLOSE:
            depth -= 1
            if depth == 0:
                inner.append(text[start:i])
                outside.append(" ")
            elif depth < 0:
                raise AssertionError(f"a ⟧ with no ⟦ in {text!r}")
        elif depth == 0:
            outside.append(char)
    assert depth == 0, f"a ⟦ never closed in {text!r}"
    return "".join(outside), inner


class Check:
    def __init__(self, messages: Messages, data: set[str]) -> None:
        self.messages = messages
        self.data = sorted((d for d in data if d), key=len, reverse=True)

    def bare(self, text: str) -> str:
        """What is left of text outside brackets once the data is taken out."""
        text = LINKS_AND_IDS.sub(" ", text)
        for value in self.data:
            text = text.replace(value, " ")
        return NUMBERS_AND_DATES.sub(" ", text)

    def problems(self, text: str) -> list[str]:
        text = " ".join(text.split())
        outside, inner = split(text)
        left = self.bare(outside)
        found = [] if PUNCTUATION.match(left) else [f"not through gettext: {' '.join(left.split())!r} in {text!r}"]
        for content in inner:
            # Messages inside this one stand as tokens while it is matched, so that a placeholder
            # takes a whole inner message or none of it.
            nested: list[str] = []
            _, inside = split(content)
            masked = content
            for i, message in enumerate(inside):
                nested.append(f"{OPEN}{message}{CLOSE}")
                masked = masked.replace(nested[-1], f"\x00{i}\x00", 1)
            masked = masked.strip()
            best = None
            for match in self.messages.matching(masked):
                values = [re.sub(r"\x00(\d+)\x00", lambda m: nested[int(m.group(1))], v) for v in match.groups()]
                inside_problems = [p for value in values for p in self.problems(value)]
                if not inside_problems:
                    best = []
                    break
                best = inside_problems if best is None else best
            if best is None:
                found.append(f"bracketed but no message of the catalogs: {content!r}")
            else:
                found.extend(best)
        return found


READ_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt", "label", "data-label")


class PageText(HTMLParser):
    """A page's visible text (one string) and the attributes people read."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.attributes: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template"):
            self.hidden += 1
        self.attributes += [value for name, value in attrs if name in READ_ATTRIBUTES and value]

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template"):
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden:
            self.text.append(data)


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    """A community with every kind of page filled in: indicators with fair-play rules, an
    organisation, Dana admitted, a vote open, a badge credited to the organisation, an open claim,
    a nomination waiting, an invitation with a credit, a member's name and linked account."""
    with local_stack(tmp_path_factory.mktemp("translated")) as stack:
        api = CommunityClient(stack.server.url)
        mentoring = {
            "type": "add_indicator",
            "name": "Mentoring a newcomer",
            "description_uri": "https://wiki.example.org/mentoring",
            "category": "mentoring",
            "orientation": "community",
            "weight": 5,
            "endorsements_required": 2,
            "earn_cap": 3,
            "cap_period_seconds": 30 * 86400,
        }
        review = {
            "type": "add_indicator",
            "name": "Code review",
            "category": "code",
            "orientation": "object",
            "weight": 3,
            "endorsements_required": 1,
            "validity_seconds": 365 * 86400,
            "endorser_indicator_id": 1,
        }
        organisation = {"type": "add_organisation", "name": "Example Foundation", "identifier": "example.org"}
        rules = {"type": "set_community_rules", "reciprocal_window_seconds": 7 * 86400, "score_rule": "square_root"}
        admit = {"type": "admit_member", "account": address(DANA)}
        founding = api.act(
            "proposals", ALICE, description="Founding rules", actions=[mentoring, review, organisation, rules, admit]
        )["created"]["proposal_id"]
        stack.anvil.skip(2)
        for voter in (ALICE, BOB):
            api.act("votes", voter, proposal_id=founding, support="for", reason="we agreed at the meetup")
        stack.anvil.skip(301)
        api.execute(founding)
        open_vote = api.act(
            "proposals",
            BOB,
            description="Retire code review",
            actions=[{"type": "retire_indicator", "indicator_id": 2}],
        )["created"]["proposal_id"]
        stack.anvil.skip(2)
        api.act("votes", CAROL, proposal_id=open_vote, support="against", reason="too soon")
        badge = api.act(
            "claims",
            CAROL,
            indicator_id=1,
            evidence_uri="https://forum.example.org/t/welcome-sam",
            contributor=address(BOB),
            organisation_id=1,
        )["created"]["claim_id"]
        for key in (ALICE, DANA):
            api.act("attestations", key, claim_id=badge)
        api.act("nomination-answers", BOB, claim_id=badge, answer="accept")
        claim = api.act("claims", ALICE, indicator_id=1, evidence_uri="https://git.example.org/mr/7")["created"]
        api.act("claims", DANA, indicator_id=1, evidence_uri="https://forum.example.org/t/42", contributor=address(BOB))
        prepared = api.prepare("invitations", signer=address(ALICE), name="Sam")
        api.post(
            "/invitations", {"typed_data": prepared["typed_data"], "signature": api.sign(ALICE, prepared["typed_data"])}
        )
        api.act(
            "claims",
            ALICE,
            indicator_id=1,
            evidence_uri="https://forum.example.org/t/sam",
            contributor=prepared["invitation"],
        )
        for prepare, fields in (
            ("names", {"name": "Roberto"}),
            ("linked-accounts", {"site": "github", "handle": "bob-b"}),
        ):
            typed = api.prepare(prepare, signer=address(BOB), **fields)["typed_data"]
            api.post("/names", {"typed_data": typed, "signature": api.sign(BOB, typed)})
        yield SimpleNamespace(
            stack=stack,
            badge=badge,
            claim=claim["claim_id"],
            founding=founding,
            open_vote=open_vote,
            invitation=prepared["invitation"],
            data={
                "Example Commons",
                "example",
                "Mentoring a newcomer",
                "mentoring",
                "Code review",
                "code",
                "Example Foundation",
                "example.org",
                "Founding rules",
                "Retire code review",
                "we agreed at the meetup",
                "too soon",
                "Sam",
                "Roberto",
                "bob-b",
                *DEV_NAMES,
                *NAMES.values(),
                *(label for label, _ in PROFILE_PAGES.values()),
            },
        )


@pytest.fixture(scope="module")
def pages(story):
    """The service built here, over the story's index, speaking the pseudo-locale when asked."""
    catalog = pseudo_catalog()
    register(PSEUDO, catalog)
    settings = Settings(
        rpc_url=story.stack.anvil.url,
        deployments_file=story.stack.deployments,
        **{"DATABASE_URL": f"sqlite:///{story.stack.deployments.parent.parent / 'index.sqlite3'}"},
    )
    app = create_app(settings, run_indexer=False)
    client = TestClient(app, cookies={"lang": PSEUDO})
    yield SimpleNamespace(client=client, check=Check(Messages(catalog), story.data))
    app.state.context.sessions.kw["bind"].dispose()


def paths(story) -> list[str]:
    bob, alice = address(BOB), address(ALICE)
    return [
        "/",
        BASE,
        f"{BASE}/indicators",
        f"{BASE}/indicators/1",
        f"{BASE}/indicators/2",
        f"{BASE}/proposals",
        f"{BASE}/proposals/{story.founding}",
        f"{BASE}/proposals/{story.open_vote}",
        f"{BASE}/propose",
        f"{BASE}/claim",
        f"{BASE}/claims",
        f"{BASE}/claims/{story.badge}",
        f"{BASE}/claims/{story.claim}",
        f"{BASE}/awaiting",
        f"{BASE}/awaiting?member={bob}",
        f"{BASE}/awaiting?member={alice}",
        f"{BASE}/hearing",
        f"{BASE}/members",
        f"{BASE}/members/{bob}",
        f"{BASE}/members/{alice}",
        f"{BASE}/admission",
        f"{BASE}/invitations/{story.invitation}",
        f"{BASE}/organisations",
        f"{BASE}/organisations/1",
        f"{BASE}/report",
        f"{BASE}/report?from=2000-01-02&to=2000-01-01",
        f"{BASE}/badges/{story.badge}",
        f"{BASE}/badges/{story.badge}/certificate",
        f"{BASE}/badges/999",
    ]


def test_every_word_of_every_page_goes_through_gettext(story, pages):
    problems, seen = [], 0
    for path in paths(story):
        answer = pages.client.get(path)
        assert answer.status_code in (200, 404), (path, answer.status_code)
        assert answer.headers["content-language"] == PSEUDO
        parsed = PageText()
        parsed.feed(answer.text)
        texts = ["".join(" " + t for t in parsed.text), *parsed.attributes]
        assert OPEN in texts[0], f"{path}: nothing went through the pseudo-locale"
        for text in texts:
            problems += [f"{path}: {p}" for p in pages.check.problems(text)]
        seen += 1
    assert seen == len(paths(story))
    assert not problems, "\n".join(problems)


def test_the_check_catches_a_bare_word(pages):
    """The check itself: bare words fail, data and bracketed messages pass, a message's
    placeholders are checked in turn."""
    check = pages.check
    assert check.problems("⟦Members⟧ · Roberto · 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 · 12 · 3 March 2026") == []
    assert check.problems("⟦to Roberto, ⟦3 March 2026, 14:05 UTC⟧⟧") == []  # a message inside a message
    assert check.problems("Members") != []
    assert check.problems("⟦Signing as Roberto⟧") == []
    assert check.problems("⟦Signing as add indicator⟧") != []  # its placeholder holds bare words
    assert check.problems("⟦no such message of the catalogs⟧") != []
