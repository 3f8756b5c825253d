"""Who an address is, as the pages name people: the name a member gave themselves, the name an
inviter typed for an invitation ("Sam (invited)") or for the account that accepted it, the local
chain's practice names (Alice, Bob, Carol, Dana), or else a short address. The full address stays
one click away: the pages put it in the link's title and link to the profile.

A page loads the community's names once, in one query, the first time it names someone (pages that
name nobody never query), whatever the number of rows it shows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import literal, select, union_all

from backend.chain.deployments import Community
from backend.context import Context
from backend.i18n import _
from backend.indexer.models import Invitation, Member
from backend.web import present

# The kinds of row the one query answers, in the order a later one yields to an earlier one.
_MEMBER, _ACCEPTED, _INVITATION = 0, 1, 2


def _names_query(slug: str):
    return union_all(
        select(Member.address, Member.name, literal(_MEMBER)).where(
            Member.community == slug, Member.name.is_not(None), Member.name != ""
        ),
        select(Invitation.account, Invitation.name, literal(_ACCEPTED)).where(
            Invitation.community == slug, Invitation.account.is_not(None)
        ),
        select(Invitation.address, Invitation.name, literal(_INVITATION)).where(Invitation.community == slug),
    )


class People:
    """The names of one community's people, for one page."""

    def __init__(self, ctx: Context | None, community: Community, *, local: bool) -> None:
        self._ctx = ctx
        self.community = community
        self.local = local
        self._names: dict[str, str] | None = None
        self._invitations: set[str] = set()
        self._invited_as: dict[str, str] = {}

    @classmethod
    def of(cls, rows: list[tuple[str, str, int]], community: Community, *, local: bool) -> People:
        """From rows as the query answers them (address, name, kind): for tests and callers that read them."""
        people = cls(None, community, local=local)
        people._take(rows)
        return people

    def _load(self) -> dict[str, str]:
        if self._names is None:
            rows: list[Any] = []
            if self._ctx is not None:
                with self._ctx.sessions() as session:
                    rows = list(session.execute(_names_query(self.community.slug)).all())
            self._take(rows)
        assert self._names is not None
        return self._names

    def _take(self, rows: list[Any]) -> None:
        names: dict[str, str] = {}
        taken = {str(name).casefold() for _, name, kind in rows if kind == _MEMBER}
        for address, name, kind in sorted(rows, key=lambda row: row[2]):
            key = str(address).lower()
            if key in names:
                continue  # a member's own name first, then an accepted invitation's
            if kind == _ACCEPTED:
                self._invited_as.setdefault(key, name)
                # The name an inviter typed names the account that accepted it until the member sets
                # their own, unless a member holds it already: then it says where it came from.
                names[key] = name if str(name).casefold() not in taken else _("%(name)s (invited)", name=name)
            elif kind == _INVITATION:
                names[key] = _("%(name)s (invited)", name=name)
                self._invitations.add(key)
            else:
                names[key] = name
        self._names = names

    def name(self, address: Any) -> str | None:
        """Their name, or None when the index knows none (and this is not a local practice account)."""
        if not address:
            return None
        found = self._load().get(str(address).lower())
        if found:
            return found
        return present.dev_name(str(address)) if self.local else None

    def label(self, address: Any) -> str:
        """What a page shows for them: their name, or a short address."""
        return self.name(address) or present.short(str(address or ""))

    def invited_as(self, address: Any) -> str | None:
        """The name an inviter typed for the invitation this account accepted, if any."""
        self._load()
        return self._invited_as.get(str(address or "").lower())

    def invitation(self, address: Any) -> bool:
        """Whether the address is an invitation's (its page is the invitation's, not a profile)."""
        self._load()
        return str(address or "").lower() in self._invitations

    def href(self, address: Any) -> str:
        base = f"/c/{self.community.slug}"
        kind = "invitations" if self.invitation(address) else "members"
        return f"{base}/{kind}/{address}"
