"""How the pages say things: times, addresses, proposal actions in plain words, evidence links
and SVG charts. Nothing here reads the index; the pages hand it what the read models return.

Every string that came from a member (names, reasons, URIs, descriptions) reaches HTML only
through Jinja2's autoescape or markupsafe.escape here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from babel.dates import format_date
from babel.numbers import format_decimal
from markupsafe import Markup, escape

from backend.i18n import _, current_locale, date_locale, ngettext
from backend.indicators.schemas import CommunityRulesOut, IndicatorVersionOut
from backend.members.schemas import ScorePointOut
from backend.proposals.actions import words_for
from backend.settings import ANVIL_DEV_KEYS
from backend.web.qrcodegen import QrCode

# The story's people: Anvil accounts 1-4 (the founders of communities/example.json are 1-3).
DEV_NAMES = ("Alice", "Bob", "Carol", "Dana")
DEV_ACCOUNT_INDEXES = (1, 2, 3, 4)


def dev_accounts() -> list[tuple[str, str, str]]:
    """(name, address, key) of the development signers; meaningful only on a local chain."""
    from eth_account import Account

    return [
        (name, Account.from_key(ANVIL_DEV_KEYS[i]).address, ANVIL_DEV_KEYS[i])
        for name, i in zip(DEV_NAMES, DEV_ACCOUNT_INDEXES)
    ]


_DEV_NAME_BY_ADDRESS: dict[str, str] | None = None


def dev_name(address: str | None) -> str | None:
    global _DEV_NAME_BY_ADDRESS
    if _DEV_NAME_BY_ADDRESS is None:
        _DEV_NAME_BY_ADDRESS = {address.lower(): name for name, address, _ in dev_accounts()}
    return _DEV_NAME_BY_ADDRESS.get((address or "").lower())


def short(address: str | None) -> str:
    if not address:
        return ""
    return f"{address[:6]}…{address[-4:]}"


def shorten(value: Any) -> str:
    """A long id as a phone has room for: an address or hash 0x1234…abcd, a 78-digit number
    123456…7890; short ones as they are."""
    text = str(value or "")
    if len(text) <= 16:
        return text
    return f"{text[:6]}…{text[-4:]}"


def number(n: int) -> str:
    """A whole number as the page's language writes it: 1,000 (English), 1000 or 10.000 (Spanish)."""
    return format_decimal(n, locale=date_locale(current_locale()))


def day(timestamp: int | None) -> str:
    """A day in words, in the page's language: 3 March 2026; 3 de marzo de 2026."""
    if not timestamp:
        return ""
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    return format_date(moment.date(), "long", locale=date_locale(current_locale()))


def when(timestamp: int | None) -> str:
    """A moment in words: 3 March 2026, 14:05 UTC."""
    if not timestamp:
        return ""
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    return _("%(date)s, %(time)s UTC", date=day(timestamp), time=moment.strftime("%H:%M"))


# Units people count time in, largest first (a month as 30 days and a year as 365, as the forms' units).
_UNITS = (
    ("year", 365 * 86400),
    ("month", 30 * 86400),
    ("week", 7 * 86400),
    ("day", 86400),
    ("hour", 3600),
    ("minute", 60),
)


def _plural(n: int, unit: str) -> str:
    """n of a unit of time, or of members, in words: 1 day, 1,000 days."""
    shown = number(n)
    if unit == "year":
        return ngettext("%(num)s year", "%(num)s years", n, num=shown)
    if unit == "month":
        return ngettext("%(num)s month", "%(num)s months", n, num=shown)
    if unit == "week":
        return ngettext("%(num)s week", "%(num)s weeks", n, num=shown)
    if unit == "day":
        return ngettext("%(num)s day", "%(num)s days", n, num=shown)
    if unit == "hour":
        return ngettext("%(num)s hour", "%(num)s hours", n, num=shown)
    if unit == "minute":
        return ngettext("%(num)s minute", "%(num)s minutes", n, num=shown)
    if unit == "member":
        return ngettext("%(num)s member", "%(num)s members", n, num=shown)
    return ngettext("%(num)s second", "%(num)s seconds", n, num=shown)


def duration(seconds: int) -> str:
    """A span of time in the largest unit that reads well, rounded down: 45 seconds, 5 minutes,
    3 hours, 20 days, 2 years."""
    seconds = abs(int(seconds))
    for unit, size in _UNITS:
        if unit in ("month", "week") or (unit == "year" and seconds < 2 * size):
            continue  # "in 20 days" says more than "in 2 weeks"
        if seconds >= size:
            return _plural(seconds // size, unit)
    return _plural(seconds, "second")


def span(seconds: int) -> str:
    """A rule's span exactly, in the largest unit that divides it: 1 year, 30 days, 36 hours,
    90 minutes, 45 seconds. Unlike duration, never rounded down: voters read it, and the chain
    applies it to the second."""
    seconds = abs(int(seconds))
    for unit, size in _UNITS:
        if unit in ("month", "week"):
            continue  # "30 days" reads as itself ("1 month" hides that it is not a calendar month)
        if seconds >= size and seconds % size == 0:
            return _plural(seconds // size, unit)
    return _plural(seconds, "second")


def in_days(seconds: int) -> str:
    """Seconds as days for a form field that sends round(days * 86400) (app.js's "days"): six
    decimals, so that the value shown comes back as the same seconds (3,600 s is 0.041667)."""
    return f"{int(seconds) / 86400:.6f}".rstrip("0").rstrip(".")


def relative(timestamp: int, now: int) -> str:
    if timestamp > now:
        return _("in %(duration)s", duration=duration(timestamp - now))
    return _("%(duration)s ago", duration=duration(now - timestamp))


def validity(seconds: int) -> str:
    return _("counts for ever") if not seconds else _("counts for %(span)s", span=span(seconds))


def orientation(value: str | None) -> str:
    """An indicator's orientation in words."""
    return _("community-oriented") if value == "community" else _("object-oriented")


def quorum_rule(members: int, numerator: int) -> str:
    """The quorum as the members' votes it takes: "2 of 3 members" (Governor's quorum is the
    members at the snapshot times the numerator over 100, rounded down; votes for and abstentions
    count towards it)."""
    needed = int(members) * int(numerator) // 100
    return ngettext(
        "%(needed)s of %(num)s member",
        "%(needed)s of %(num)s members",
        int(members),
        needed=number(needed),
        num=number(int(members)),
    )


# Links only for schemes a browser opens as a document; the whole string must be one URL with no
# whitespace or control characters (browsers drop those, so "java\tscript:" must never pass).
_SAFE_URL = re.compile(r"^https?://[^\s\x00-\x1f\x7f\"'<>\\]+$", re.IGNORECASE)


def safe_url(uri: str | None) -> bool:
    return uri is not None and 0 < len(uri) <= 2048 and bool(_SAFE_URL.match(uri))


def evidence(uri: str | None) -> Markup:
    """An evidence URI: a link when it is http(s), otherwise the text itself."""
    if not uri:
        return Markup('<span class="muted">{}</span>').format(_("none"))
    if safe_url(uri):
        return Markup('<a href="{0}" rel="nofollow noopener noreferrer ugc" class="evidence">{0}</a>').format(uri)
    return Markup('<code class="evidence">{}</code>').format(uri)


# ---------------------------------------------------------------------- proposal actions


def _indicator_terms(fields: list[Any], names: dict[int, str] | None = None) -> tuple[str, str]:
    (name, _uri, category, orientation, weight, endorsements, valid, endorser, earn_cap, attest_cap, cap_period) = (
        list(fields) + [None] * 11
    )[:11]
    parts = [
        _("weight %(weight)s", weight=weight),
        ngettext("%(num)s endorsement", "%(num)s endorsements", int(endorsements or 0), num=endorsements),
        _("community-oriented") if orientation == 1 else _("object-oriented"),
    ]
    if category:
        parts.append(_("category “%(category)s”", category=category))
    parts.append(validity(valid or 0))
    parts.extend(fair_play(endorser, earn_cap, attest_cap, cap_period, names))
    return str(name), _(", ").join(parts)


def fair_play(
    endorser: int | None,
    earn_cap: int | None,
    attest_cap: int | None,
    cap_period: int | None,
    names: dict[int, str] | None = None,
) -> list[str]:
    """An indicator's fair-play rules in words (none when they are all off); `names` turns the
    endorser indicator's number into its name."""
    parts = []
    if endorser:
        name = (names or {}).get(int(endorser))
        parts.append(
            _("endorsed only by holders of a “%(name)s” badge", name=name)
            if name
            else _("endorsed only by holders of indicator #%(id)s", id=endorser)
        )
    if earn_cap:
        if cap_period:
            parts.append(
                ngettext(
                    "at most %(num)s badge per member per %(span)s",
                    "at most %(num)s badges per member per %(span)s",
                    int(earn_cap),
                    span=span(cap_period),
                )
            )
        else:
            parts.append(
                ngettext("at most %(num)s badge per member", "at most %(num)s badges per member", int(earn_cap))
            )
    if attest_cap:
        if cap_period:
            parts.append(
                ngettext(
                    "at most %(num)s attestation per member per %(span)s",
                    "at most %(num)s attestations per member per %(span)s",
                    int(attest_cap),
                    span=span(cap_period),
                )
            )
        else:
            parts.append(
                ngettext(
                    "at most %(num)s attestation per member", "at most %(num)s attestations per member", int(attest_cap)
                )
            )
    return parts


def indicator_rules(indicator: IndicatorVersionOut, names: dict[int, str] | None = None) -> list[str]:
    """fair_play for an indicator (or one of its versions) as the read models return it."""
    return fair_play(
        indicator.endorser_indicator_id, indicator.earn_cap, indicator.attest_cap, indicator.cap_period_seconds, names
    )


def score_rule(rule: str | None) -> str:
    """How a community's scores add up, in one sentence."""
    if rule == "square_root":
        return _(
            "Scores add up by the square root rule: n badges of one indicator count their mean weight "
            "times the square root of n, so repeating the same kind of work counts less and less."
        )
    return _("Scores add up linearly: each badge that counts adds its indicator's weight.")


def community_rules(rules: CommunityRulesOut | None) -> str:
    """The community-wide fair-play rules in one sentence, or "" when both are off."""
    parts = []
    window = rules.reciprocal_window_seconds if rules else 0
    if window:
        parts.append(
            _(
                "no returning the favour: a member someone endorsed may not endorse that person's claims on "
                "the same indicator within %(span)s",
                span=span(window),
            )
        )
    if rules and rules.score_rule == "square_root":
        parts.append(_("scores follow the square root rule (repeated badges of one indicator count less and less)"))
    return _("Fair play: %(rules)s.", rules=_("; ").join(parts)) if parts else ""


def admission_rules(rules: Any) -> list[str]:
    """How people join besides a vote, in sentences (the admission read's rules)."""
    required = int(rules.vouches_required)
    period = span(round(float(rules.vouch_period_days) * 86400))
    lifetime = span(round(float(rules.invitation_lifetime_days) * 86400))
    cap = int(rules.vouch_cap)
    if not required:
        return [
            _("Vouching is off here: a person joins when a member proposes admitting them and the members vote for it.")
        ]
    admit = ngettext("%(num)s member's vouch admits a person", "%(num)s members' vouches admit a person", required)
    each = ngettext(
        "each member may vouch or invite %(num)s time per %(period)s",
        "each member may vouch or invite %(num)s times per %(period)s",
        cap,
        period=period,
    )
    return [
        _("%(admit)s; %(each)s.", admit=admit, each=each),
        _("An invitation stays open %(lifetime)s; once accepted, it counts as its inviter's vouch.", lifetime=lifetime),
    ]


# Where a linked account's page is, by site (the community's own Discourse has no address known here).
PROFILE_PAGES = {
    "github": ("GitHub", "https://github.com/{}"),
    "gitlab": ("GitLab", "https://gitlab.com/{}"),
    "drupal": ("drupal.org", "https://www.drupal.org/u/{}"),
    "discourse": ("Discourse", None),
}


def linked_account(site: str, handle: str) -> Markup:
    """A linked account as its site's name and the handle, a link to the profile there when known."""
    label, page = PROFILE_PAGES.get(site, (site, None))
    if page:
        url = page.format(quote(handle, safe=""))
        if safe_url(url):
            return Markup('{} <a href="{}" rel="nofollow noopener noreferrer ugc">{}</a>').format(label, url, handle)
    return Markup("{} {}").format(label, handle)


@dataclass(frozen=True)
class _PageWording:
    """The pages' names for what a proposal's call mentions (backend/proposals/actions.py's Wording)."""

    indicators: dict[int, str]
    organisations: dict[int, str]
    people: Any = None  # backend.web.people.People: the community's names, when the page has them

    def member(self, address: Any) -> str:
        # A proposal decides about an address: its name first, the whole address beside it.
        name = self.people.name(address) if self.people is not None else dev_name(str(address))
        return f"{name} ({address})" if name else str(address)

    def indicator(self, indicator_id: Any) -> str:
        return self.indicators.get(int(indicator_id), f"#{indicator_id}")

    def organisation(self, organisation_id: Any) -> str:
        name = self.organisations.get(int(organisation_id))
        return f"{name} (#{organisation_id})" if name else f"#{organisation_id}"

    def terms(self, fields: Any) -> tuple[str, str]:
        return _indicator_terms(fields, self.indicators)

    def span(self, seconds: int) -> str:
        return span(seconds)


def action_words(
    action: dict[str, Any],
    names: dict[int, str] | None = None,
    organisations: dict[int, str] | None = None,
    people: Any = None,
) -> dict[str, str]:
    """A proposal's call (as the proposal read describes it) in plain words: a verb, an object
    (shown emphasised) and details, from the proposal actions' table; members by the names in
    `people` (backend.web.people.People). The template escapes all three."""
    args = list((action.get("args") or {}).values())
    words = words_for(
        action.get("contract"), action.get("function"), args, _PageWording(names or {}, organisations or {}, people)
    )
    if words is None:
        function = f"{action.get('contract')}.{action.get('function')}" if action.get("function") else None
        return {
            "verb": _("call %(function)s", function=function) if function else _("call an unknown function"),
            "object": "",
            "details": action.get("calldata", ""),
        }
    return words._asdict()


# ---------------------------------------------------------------------- charts (SVG, drawn here)

_BAR_COLOURS = ("#1d5f8a", "#8a3b12", "#2e6b30", "#6b2e6b", "#5a5a1a", "#1a5a5a")


def bar_chart(rows: list[tuple[str, int | float]], *, title: str) -> Markup:
    """Horizontal bars, one per (label, value) in points, with the value written at the end of each bar."""
    width, label_w, bar_h, gap = 560, 170, 24, 10
    height = max(1, len(rows)) * (bar_h + gap) + gap
    top = max([v for _, v in rows] + [1])
    title_id = "chart-" + re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    # A score under the square-root rule is fractional: the plural is chosen from it as it is.
    desc = _("; ").join(
        ngettext("%(label)s: %(num)s point", "%(label)s: %(num)s points", value, label=label)  # type: ignore[arg-type]
        for label, value in rows
    ) or _("nothing yet")
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-labelledby="{title_id}">',
        Markup('<title id="{}">{}: {}</title>').format(title_id, title, desc),
    ]
    if not rows:
        parts.append(Markup('<text x="8" y="{}" fill="#333">{}</text>').format(gap + 16, _("No badges count yet.")))
    for i, (label, value) in enumerate(rows):
        y = gap + i * (bar_h + gap)
        w = 0 if top == 0 else max(2, int((width - label_w - 60) * value / top))
        colour = _BAR_COLOURS[i % len(_BAR_COLOURS)]
        parts.append(
            Markup('<text x="{}" y="{}" text-anchor="end" fill="#222">{}</text>').format(
                label_w - 8, y + 17, label[:24]
            )
        )
        parts.append(f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar_h}" fill="{colour}"/>')
        parts.append(f'<text x="{label_w + w + 6}" y="{y + 17}" fill="#222">{value}</text>')
    parts.append("</svg>")
    return Markup("").join(Markup(p) if not isinstance(p, Markup) else p for p in parts)


def step_chart(points: list[ScorePointOut], *, now: int, title: str) -> Markup:
    """The total score over time as a step line, from the first badge to now."""
    width, height, left, bottom, pad = 560, 200, 44, 28, 12
    title_id = "chart-" + re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    desc = _("; ").join(f"{when(p.at)}: {p.total}" for p in points) or _("no badges yet")
    head = Markup(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-labelledby="{}"><title id="{}">{}: {}</title>'
    ).format(width, height, title_id, title_id, title, desc)
    if not points:
        return head + Markup('<text x="8" y="24" fill="#333">{}</text></svg>').format(_("No badges yet."))
    start, end = points[0].at, max(now, points[-1].at + 1)
    top = max(max(p.total for p in points), 1)

    def x(t: int) -> float:
        return left + (width - left - pad) * (t - start) / max(1, end - start)

    def y(v: float) -> float:
        return height - bottom - (height - bottom - pad) * v / top

    path: list[str] = []
    previous: int | float = 0
    for p in points:
        path.append(f"{x(p.at):.1f},{y(previous):.1f} {x(p.at):.1f},{y(p.total):.1f}")
        previous = p.total
    path.append(f"{x(end):.1f},{y(previous):.1f}")
    now_word = escape(_("now"))  # not in the f-string below: Babel does not extract from f-strings
    body = [
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - pad}" y2="{height - bottom}" stroke="#555"/>',
        f'<line x1="{left}" y1="{pad}" x2="{left}" y2="{height - bottom}" stroke="#555"/>',
        f'<text x="{left - 6}" y="{y(top) + 5:.1f}" text-anchor="end" fill="#222">{top}</text>',
        f'<text x="{left - 6}" y="{height - bottom}" text-anchor="end" fill="#222">0</text>',
        f'<polyline points="{" ".join(path)}" fill="none" stroke="#1d5f8a" stroke-width="3"/>',
        f'<text x="{left}" y="{height - 8}" fill="#222">{escape(when(start))}</text>',
        f'<text x="{width - pad}" y="{height - 8}" text-anchor="end" fill="#222">{now_word}</text>',
    ]
    return head + Markup("".join(body)) + Markup("</svg>")


# ---------------------------------------------------------------------- a badge to share


def qr_svg(text: str, *, title: str) -> Markup:
    """`text` as a QR code (medium error correction, a quiet zone of 4 modules), drawn as SVG
    here: one path of the dark modules, scaled by the page."""
    code = QrCode.encode_text(text, QrCode.Ecc.MEDIUM)
    size, border = code.get_size(), 4
    dark = "".join(
        f"M{x + border},{y + border}h1v1h-1z" for y in range(size) for x in range(size) if code.get_module(x, y)
    )
    side = size + 2 * border
    return Markup(
        '<svg class="qr" viewBox="0 0 {0} {0}" role="img" aria-labelledby="qr-title" shape-rendering="crispEdges">'
        '<title id="qr-title">{1}</title><rect width="{0}" height="{0}" fill="#fff"/><path d="{2}" fill="#000"/></svg>'
    ).format(side, title, dark)


# LinkedIn's documented "Add to profile" link for certifications (addtoprofile.linkedin.com).
LINKEDIN_ADD = "https://www.linkedin.com/profile/add"


def linkedin_url(
    *, name: str, organisation: str, issued_at: int, valid_seconds: int, url: str, credential_id: str
) -> str:
    """The link that opens LinkedIn's "Add licence or certification" form filled in with the badge:
    its name, the community as the issuing organisation, the month it was earned (and, for a badge
    with a limited life, the month it stops counting), its page as the credential URL."""
    issued = datetime.fromtimestamp(issued_at, tz=UTC)
    params = {
        "startTask": "CERTIFICATION_NAME",
        "name": name,
        "organizationName": organisation,
        "issueYear": issued.year,
        "issueMonth": issued.month,
    }
    if valid_seconds:
        ends = datetime.fromtimestamp(issued_at + valid_seconds, tz=UTC)
        params.update(expirationYear=ends.year, expirationMonth=ends.month)
    params.update(certUrl=url, certId=credential_id)
    return f"{LINKEDIN_ADD}?{urlencode(params)}"
