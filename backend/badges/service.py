"""Badges as the index holds them, and their on-chain metadata (the tokenURI), read leniently."""

from __future__ import annotations

import base64
import binascii
import functools
import json
from typing import Any

from sqlalchemy import BindParameter, and_, bindparam, or_, select
from sqlalchemy.orm import Session

from backend.badges.schemas import BadgeMetadataOut, BadgeOut
from backend.chain.abi import readable_text
from backend.chain.deployments import Community
from backend.context import Context
from backend.errors import DomainError, NotFound
from backend.i18n import gettext as _
from backend.indexer.models import (
    Badge,
    IndicatorVersion,
)
from backend.indexer.reads import address_of, index_time, listing, read_listing, row_tuple
from backend.members import scores as profiles

# Badges, as claims: Core rows of the whole table as named tuples, statements built once.
_BadgeRow = row_tuple("_BadgeRow", Badge)


_BADGE = select(Badge.__table__).where(
    Badge.community == bindparam("community"), Badge.token_id == bindparam("token_id")
)


_BADGE_NAMES = select(IndicatorVersion.indicator_id, IndicatorVersion.version, IndicatorVersion.name).where(
    IndicatorVersion.community == bindparam("community"),
    IndicatorVersion.indicator_id.in_(bindparam("indicators", expanding=True)),
)


def _badges_out(session: Session, rows: list, now: int) -> list[BadgeOut]:
    """Badges (rows of the whole badges table) as the API shows them, named by the indicator
    version each was earned under: one statement for the names, whatever the number of badges."""
    if not rows:
        return []
    badges = [_BadgeRow._make(row) for row in rows]
    names = {
        (i, v): name
        for i, v, name in session.connection().execute(
            _BADGE_NAMES, {"community": badges[0].community, "indicators": list({b.indicator_id for b in badges})}
        )
    }
    return [_badge_out(b, names.get((b.indicator_id, b.indicator_version)), now) for b in badges]


def _badge_out(b: Badge, name: str | None, now: int) -> BadgeOut:
    return BadgeOut(
        token_id=b.token_id,
        owner=b.owner,
        contributor=b.contributor,
        indicator_id=b.indicator_id,
        indicator_version=b.indicator_version,
        indicator_name=name,
        category=b.category,
        orientation=b.orientation,
        weight=b.weight,
        validity_seconds=b.validity,
        minted_at=b.minted_at,
        revoked_at=b.revoked_at,
        revoke_reason=b.revoke_reason,
        revoke_reason_raw=b.revoke_reason_raw,
        disowned_at=b.disowned_at,
        counts=profiles.counts(_scored(b, name or ""), now),
        tx_hash=b.tx_hash,
    )


def _scored(b: Badge, name: str) -> profiles.ScoredBadge:
    return profiles.ScoredBadge(
        b.token_id,
        b.indicator_id,
        name or "",
        b.category,
        b.orientation,
        b.weight,
        b.minted_at,
        b.validity,
        b.revoked_at,
        b.disowned_at,
    )


def get_badge(ctx: Context, community: Community, token_id: int) -> BadgeOut:
    with ctx.sessions() as session:
        badge = session.connection().execute(_BADGE, {"community": community.slug, "token_id": token_id}).first()
        if badge is None:
            raise NotFound(
                _("No badge %(token_id)s in community '%(community)s'", token_id=token_id, community=community.slug),
                error="ERC721NonexistentToken",
            )
        return _badges_out(session, [badge], index_time(session, community))[0]


def counting(now: int | BindParameter[int]):
    """As the contract's isActive, in SQL: not revoked, not disowned, and within its validity period."""
    return and_(
        Badge.revoked_at.is_(None),
        Badge.disowned_at.is_(None),
        or_(Badge.validity == 0, Badge.minted_at + Badge.validity > now),
    )


def list_badges(
    ctx: Context, community: Community, *, owner: str | None, limit: int, offset: int, after: int | None = None
) -> tuple[list[BadgeOut], int, int | None]:
    """Badges, newest first, optionally of one owner: a page, its total and the next page's cursor."""
    params = {"community": community.slug, "owner": address_of(owner) if owner is not None else None}
    with ctx.sessions() as session:
        rows, total, next_after = read_listing(
            session, _badges_listing(owner is not None), params, limit, offset, after
        )
        now = index_time(session, community)
        return _badges_out(session, rows, now), total, next_after


@functools.cache
def _badges_listing(owner: bool):
    """/badges' page and count, with or without an owner, built once."""
    where = [Badge.community == bindparam("community")]
    if owner:
        where.append(Badge.owner == bindparam("owner"))
    return listing(Badge.__table__, where, Badge.token_id.desc())


def badge_metadata(ctx: Context, community: Community, token_id: int) -> BadgeMetadataOut:
    """The badge's on-chain metadata: its tokenURI (a JSON data URI) read from the contract, decoded."""
    get_badge(ctx, community, token_id)  # 404 for a badge the index does not know
    uri = ctx.gateway.read(community, "badge", "tokenURI", token_id)[0]
    document = token_uri_json(uri, _("Badge %(token_id)s's tokenURI", token_id=token_id))
    return BadgeMetadataOut.model_validate({"token_uri": uri, **document})


# What ContributionBadge.tokenURI answers: a JSON object, base64 encoded in a data URI, with
# these fields (a nested dict is a nested object). The API's answer and the badge page need each.
_JSON_DATA_URI = "data:application/json;base64,"


_METADATA_SHAPE = {
    "name": str,
    "contributor": str,
    "weight": int,
    "evidence_hash": str,
    "minted_at": int,
    "valid_for_seconds": int,
    "active": bool,
    "indicator": {"id": int, "version": int, "name": str, "orientation": str},
}


_EXCERPT = 200


def token_uri_json(uri: str, what: str) -> dict[str, Any]:
    """The JSON object of a tokenURI, read leniently. The contract writes the indicator's name
    into it as a member put it on chain, escaped for JSON (quotes, backslashes, control
    characters) but its other bytes as they are, which need not be UTF-8: they are read as the
    index reads them (readable_text), and the exact bytes stay in the URI. A URI that does not
    hold such an object is refused in words, with what it holds shown as readable text: never a
    500 for what is on chain."""
    if not uri.startswith(_JSON_DATA_URI):
        raise DomainError(_("%(what)s is not a JSON data URI: %(text)s", what=what, text=_excerpt(uri)))
    try:
        raw = base64.b64decode(uri[len(_JSON_DATA_URI) :], validate=True)
    except binascii.Error as exc:
        raise DomainError(
            _("%(what)s is not base64 (%(why)s): %(text)s", what=what, why=exc, text=_excerpt(uri))
        ) from exc
    text = raw.decode("utf-8", errors="replace")
    try:
        document = json.loads(text, strict=False)  # not strict: a control character left unescaped is read too
    except json.JSONDecodeError as exc:
        raise DomainError(
            _(
                "%(what)s does not hold JSON (%(why)s at character %(position)s): %(text)s",
                what=what,
                why=exc.msg,
                position=exc.pos,
                text=_excerpt(text),
            )
        ) from exc
    if not _shaped(document, _METADATA_SHAPE):
        raise DomainError(
            _("%(what)s does not hold the badge metadata this service reads: %(text)s", what=what, text=_excerpt(text))
        )
    return _readable(document)


def _excerpt(text: str) -> str:
    """The start of text from the chain, readable, to show in an error (which the page escapes)."""
    shown = readable_text(text)
    return repr(shown if len(shown) <= _EXCERPT else shown[:_EXCERPT] + "…")


def _shaped(value: Any, shape: Any) -> bool:
    if isinstance(shape, dict):
        return isinstance(value, dict) and all(_shaped(value.get(k), kind) for k, kind in shape.items())
    # bool is an int in Python, not in JSON: a number where a boolean belongs, or the reverse, is neither.
    return isinstance(value, shape) and (shape is bool or not isinstance(value, bool))


def _readable(value: Any) -> Any:
    """A JSON value with every string as readable text, as the index shows the same strings (a
    lone surrogate a \\u escape made, which no JSON answer can encode, too)."""
    if isinstance(value, str):
        return readable_text(value.encode("utf-8", errors="surrogatepass"))
    if isinstance(value, dict):
        return {_readable(k): _readable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_readable(v) for v in value]
    return value
