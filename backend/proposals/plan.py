"""What a proposal can do, as typed actions, and the calls each one becomes.

Proposals run later, when the vote passes, so their inputs are checked against the chain now
(unknown indicator, already a member, ...) and against each other, in order: the actions before
one have run by the time it runs (a member removed twice, an indicator retired then amended, a
badge revoked twice, the last member removed). A proposal that could never execute is refused,
saying which action clashes with what; so is a change_settings outside the governor's bounds
(read from its public constants) and a proposal over the size caps below.
"""

from __future__ import annotations

import threading

from eth_abi import encode as abi_encode
from sqlalchemy import and_, select

from backend.chain.abi import decode_lenient
from backend.chain.addresses import checksum
from backend.chain.deployments import Community
from backend.chain.hashing import keccak
from backend.context import Context
from backend.errors import ChainRefused, Conflict, NotFound, Unprocessable
from backend.i18n import N_, gettext
from backend.indexer.models import Indicator, IndicatorVersion
from backend.proposals import actions
from backend.proposals.actions import (
    SETTINGS,
    AddIndicator,
    AdmitMember,
    AmendIndicator,
    ChangeSettings,
    ProposalAction,
    RecoverMember,
    RemoveMember,
    RetireIndicator,
    RetireOrganisation,
    RevokeBadge,
    SetTimelockDelay,
    within_token_cap,
)
from backend.units import number, span
from backend.vocabulary import (
    MAX_PROPOSAL_ACTIONS,
    MAX_PROPOSAL_CALLDATA_BYTES,
    MAX_PROPOSAL_CALLS,
)

# The governor's bounds never change (constants): read once per governor.
_bounds: dict[tuple[int, str], dict[str, tuple[int, int]]] = {}
_bounds_lock = threading.Lock()


def settings_bounds(ctx: Context, community: Community) -> dict[str, tuple[int, int]]:
    """(min, max) of each change_settings field, as the community's governor declares them."""
    key = (ctx.gateway.chain_id, community.contracts["governor"])
    if key not in _bounds:
        governor = ctx.gateway.abi("governor")
        names = [name for _, low, high, _ in SETTINGS.values() for name in (low, high)]
        results = ctx.gateway.simulate(
            [
                (
                    "eth_call",
                    [
                        {"to": community.contracts["governor"], "data": "0x" + governor.function(n).encode().hex()},
                        "latest",
                    ],
                )
                for n in names
            ]
        )
        for result in results:
            if isinstance(result, Exception):
                raise result
        values = dict(
            zip(names, (governor.function(n).decode_output(bytes.fromhex(r[2:]))[0] for n, r in zip(names, results)))
        )
        with _bounds_lock:
            _bounds[key] = {field: (values[low], values[high]) for field, (_, low, high, _) in SETTINGS.items()}
    return _bounds[key]


def _in_words(seconds: int) -> str:
    return span(seconds)


def encode(ctx: Context, action: ProposalAction) -> list[tuple[str, bytes]]:
    """The (contract key, calldata) pairs an action executes as (the actions' table); no chain reads."""
    return actions.encode(ctx.gateway.abi, action)


def _never(label: str, what: str, error: str) -> Conflict:
    return Conflict(
        gettext("%(label)s %(what)s: the proposal could never execute", label=label, what=what), error=error
    )


class ProposalPlan:
    """The community as a proposal's earlier actions will have left it, to check each next one
    against: what the chain says now (each fact read once), with the earlier actions' effects on
    top. An action that would revert when the proposal executes is refused now, with the reason."""

    def __init__(self, ctx: Context, community: Community) -> None:
        self.ctx, self.community = ctx, community
        self._member: dict[str, bool] = {}
        self._member_count: int | None = None
        self._membership_changed_by: dict[str, str] = {}  # account -> which earlier action did what
        self._checked_indicators: set[int] = set()
        self._retired_by: dict[int, str] = {}
        self._revoked_by: dict[int, str] = {}
        self._moved_by: dict[int, str] = {}
        self._removals: list[str] = []
        self._indicator_count: int | None = None
        self._retired_organisations: dict[int, str] = {}
        # The active indicators' names (trimmed, case folded) -> (the indicator holding it, its name as
        # written), as the earlier actions leave them: a new indicator is -(its action's position).
        self._names: dict[str, tuple[int, str]] | None = None
        self._position = 0  # the action being checked: actions[_position]

    # -------------------------------------------------------------- chain facts

    def _read(self, key: str, function: str, *args):
        return self.ctx.gateway.read(self.community, key, function, *args)

    def is_member(self, account: str) -> bool:
        if account not in self._member:
            self._member[account] = self._read("membership", "isMember", account)[0]
        return self._member[account]

    def _set_member(self, account: str, member: bool, because: str) -> None:
        """`account` is (or stops being) a member from here on, `because` (an earlier action, in words)."""
        if self._member_count is None:
            self._member_count = self._read("membership", "memberCount")[0]
        if member != self.is_member(account):
            self._member_count += 1 if member else -1
        self._member[account] = member
        self._membership_changed_by[account] = because

    # -------------------------------------------------------------- rules

    def check(self, label: str, action) -> None:
        """Refuse `action` (labelled `label` in messages) if it could not run after the earlier ones."""
        if isinstance(action, (AddIndicator, AmendIndicator)):
            self._endorser(label, action)
        if isinstance(action, (AmendIndicator, RetireIndicator)):
            self._indicator(label, action)
        if isinstance(action, (AddIndicator, AmendIndicator, RetireIndicator)):
            self._unique_name(label, action)
        elif isinstance(action, RetireOrganisation):
            self._organisation(label, action.organisation_id)
        elif isinstance(action, AdmitMember):
            self._admit(label, checksum(action.account))
        elif isinstance(action, RemoveMember):
            self._remove(label, checksum(action.account))
        elif isinstance(action, RevokeBadge):
            self._revoke(label, action.token_id)
        elif isinstance(action, ChangeSettings):
            self._settings(label, action)
        elif isinstance(action, SetTimelockDelay):
            self._timelock_delay(label, action.delay_seconds)
        elif isinstance(action, RecoverMember):
            self._recover(label, action)
        self._position += 1

    def _indicator(self, label: str, action) -> None:
        indicator_id = action.indicator_id
        if indicator_id in self._retired_by:
            earlier = self._retired_by[indicator_id]
            what = (
                gettext(
                    "amends indicator %(indicator)s, which %(earlier)s retires", indicator=indicator_id, earlier=earlier
                )
                if isinstance(action, AmendIndicator)
                else gettext(
                    "retires indicator %(indicator)s, which %(earlier)s already retires",
                    indicator=indicator_id,
                    earlier=earlier,
                )
            )
            raise _never(label, what, "RegistryIndicatorRetired")
        if indicator_id not in self._checked_indicators:
            try:
                terms = self._read("registry", "terms", indicator_id)[0]
            except ChainRefused as exc:
                raise NotFound(
                    gettext("No indicator %(indicator)s in this community", indicator=indicator_id), error=exc.error
                ) from exc
            if not terms[5]:
                raise Conflict(
                    gettext("Indicator %(indicator)s is retired", indicator=indicator_id),
                    error="RegistryIndicatorRetired",
                )
            self._checked_indicators.add(indicator_id)
        if isinstance(action, RetireIndicator):
            self._retired_by[indicator_id] = label

    def _active_names(self) -> dict[str, tuple[int, str]]:
        """The names of the community's active indicators, as the index holds them now."""
        if self._names is None:
            with self.ctx.sessions() as session:
                rows = session.execute(
                    select(IndicatorVersion.indicator_id, IndicatorVersion.name)
                    .join(
                        Indicator,
                        and_(
                            Indicator.community == IndicatorVersion.community,
                            Indicator.indicator_id == IndicatorVersion.indicator_id,
                            Indicator.version == IndicatorVersion.version,
                        ),
                    )
                    .where(Indicator.community == self.community.slug, Indicator.active.is_(True))
                ).all()
            self._names = {name_key(name): (indicator_id, name) for indicator_id, name in rows}
        return self._names

    def _unique_name(self, label: str, action) -> None:
        """Two active indicators never share a name (trimmed, upper and lower case alike): members
        pick one by its name, in the claim form and everywhere else."""
        names = self._active_names()
        own = action.indicator_id if isinstance(action, (AmendIndicator, RetireIndicator)) else None
        for key, (holder, _) in list(names.items()):  # the indicator's own name is free again
            if own is not None and holder == own:
                del names[key]
        if isinstance(action, RetireIndicator):
            return
        key = name_key(action.name)
        if key in names:
            holder, written = names[key]
            which = (
                gettext("indicator %(indicator)s", indicator=holder)
                if holder > 0
                else gettext("an indicator %(action)s adds", action=f"actions[{-holder - 1}]")
            )
            message = gettext(
                "an active indicator is already called “%(name)s” (%(which)s): choose another name, or amend or "
                "retire that one",
                name=written,
                which=which,
            )
            raise Conflict(
                f"{label}: {message}",
                error="IndicatorNameTaken",
                errors=[{"loc": ["body", "actions", "name"], "msg": message}],
            )
        names[key] = (own if own is not None else -self._position - 1, action.name)

    def _endorser(self, label: str, action) -> None:
        """The endorser indicator must exist by then, and be another indicator."""
        if self._indicator_count is None:
            self._indicator_count = self._read("registry", "indicatorCount")[0]
        existing = self._indicator_count
        own = action.indicator_id if isinstance(action, AmendIndicator) else existing + 1
        if isinstance(action, AddIndicator):
            self._indicator_count += 1
        endorser = action.endorser_indicator_id
        if endorser and (endorser > existing or endorser == own):
            why = gettext("is the indicator itself") if endorser == own else gettext("does not exist")
            raise Unprocessable(
                gettext(
                    "%(label)s: endorser_indicator_id %(endorser)s %(why)s: attesters must hold a badge of another, "
                    "existing indicator",
                    label=label,
                    endorser=endorser,
                    why=why,
                ),
                error="RegistryInvalidIndicator",
                errors=[{"loc": ["body", "actions", "endorser_indicator_id"], "msg": why}],
            )

    def _organisation(self, label: str, organisation_id: int) -> None:
        if organisation_id in self._retired_organisations:
            raise _never(
                label,
                gettext(
                    "retires organisation %(organisation)s, which %(earlier)s already retires",
                    organisation=organisation_id,
                    earlier=self._retired_organisations[organisation_id],
                ),
                "RegistryOrganisationRetired",
            )
        self._read("registry", "requireActiveOrganisation", organisation_id)  # 404 / 409 in words
        self._retired_organisations[organisation_id] = label

    def _admit(self, label: str, account: str) -> None:
        if self.is_member(account):
            if account in self._membership_changed_by:
                raise _never(
                    label,
                    gettext(
                        "admits %(account)s, who is a member by then (%(because)s)",
                        account=account,
                        because=self._membership_changed_by[account],
                    ),
                    "MembershipAlreadyMember",
                )
            raise Conflict(gettext("%(account)s is already a member", account=account), error="MembershipAlreadyMember")
        self._set_member(account, True, gettext("%(label)s admits them", label=label))

    def _require_member(self, label: str, account: str, verb: str) -> None:
        """`verb` is a catalog message with an %(account)s: "removes %(account)s"."""
        if self.is_member(account):
            return
        if account in self._membership_changed_by:
            raise _never(
                label,
                gettext(
                    "%(does)s, who is no longer a member by then (%(because)s)",
                    does=gettext(verb, account=account),
                    because=self._membership_changed_by[account],
                ),
                "MembershipNotMember",
            )
        raise NotFound(gettext("%(account)s is not a member", account=account), error="MembershipNotMember")

    def _remove(self, label: str, account: str) -> None:
        self._require_member(label, account, N_("removes %(account)s"))
        self._set_member(account, False, gettext("%(label)s removes them", label=label))
        self._removals.append(label)
        if self._member_count == 0:
            earlier = self._removals[:-1]
            after = " " + gettext("after %(actions)s", actions=", ".join(earlier)) if earlier else ""
            raise _never(
                label,
                gettext(
                    "removes %(account)s, the last member left%(after)s: a community keeps at least one member, so "
                    "that it can still propose and vote",
                    account=account,
                    after=after,
                ),
                "MembershipLastMember",
            )

    def _revoke(self, label: str, token_id: int) -> None:
        if token_id in self._revoked_by:
            raise _never(
                label,
                gettext(
                    "revokes badge %(badge)s, which %(earlier)s already revokes",
                    badge=token_id,
                    earlier=self._revoked_by[token_id],
                ),
                "BadgeAlreadyRevoked",
            )
        try:
            _, badge, _ = self._read("badge", "getBadge", token_id)
        except ChainRefused as exc:
            raise NotFound(gettext("No badge %(badge)s in this community", badge=token_id), error=exc.error) from exc
        if badge[3]:  # revokedAt
            raise Conflict(gettext("Badge %(badge)s is already revoked", badge=token_id), error="BadgeAlreadyRevoked")
        if not self._read("badge", "isActive", token_id)[0]:
            raise Conflict(gettext("Badge %(badge)s no longer counts (expired)", badge=token_id))
        self._revoked_by[token_id] = label

    def _settings(self, label: str, action: ChangeSettings) -> None:
        bounds = settings_bounds(self.ctx, self.community)
        for field, (_, _, _, error) in SETTINGS.items():
            value = getattr(action, field)
            if value is None:
                continue
            low, high = bounds[field]
            if not low <= value <= high:
                words = (
                    " (" + gettext("%(low)s to %(high)s", low=_in_words(low), high=_in_words(high)) + ")"
                    if field.endswith("_seconds")
                    else ""
                )
                raise Unprocessable(
                    gettext(
                        "%(label)s: %(field)s must be within the governor's bounds, %(low)s to %(high)s%(words)s, so "
                        "that governance can always act again; %(value)s would be refused when the proposal executes",
                        label=label,
                        field=field,
                        low=number(low),
                        high=number(high),
                        words=words,
                        value=number(value),
                    ),
                    error=error,
                    errors=[
                        {
                            "loc": ["body", "actions", field],
                            "msg": gettext("must be within %(low)s-%(high)s", low=low, high=high),
                        }
                    ],
                )

    def _timelock_delay(self, label: str, delay: int) -> None:
        """CommunityTimelock's bounds: 1 hour to 30 days, 0 allowed on a local chain only."""
        low, high = self._read("timelock", "minDelayAllowed")[0], self._read("timelock", "MAX_DELAY")[0]
        if not low <= delay <= high:
            raise Unprocessable(
                gettext(
                    "%(label)s: the timelock's delay must be within %(low)s and %(high)s, so that members have time "
                    "to see a passed proposal coming and governance can still act; %(delay)s would be refused when "
                    "the proposal executes",
                    label=label,
                    low=_in_words(low),
                    high=_in_words(high),
                    delay=_in_words(delay),
                ),
                error="TimelockDelayOutOfRange",
                errors=[
                    {
                        "loc": ["body", "actions", "delay_seconds"],
                        "msg": gettext("must be within %(low)s-%(high)s", low=low, high=high),
                    }
                ],
            )

    def _recover(self, label: str, action: RecoverMember) -> None:
        lost, replacement = checksum(action.lost), checksum(action.replacement)
        self._require_member(label, lost, N_("moves the membership of %(account)s"))
        if lost != replacement and self.is_member(replacement):
            if replacement in self._membership_changed_by:
                raise _never(
                    label,
                    gettext(
                        "moves a membership to %(account)s, who is a member by then (%(because)s)",
                        account=replacement,
                        because=self._membership_changed_by[replacement],
                    ),
                    "MembershipAlreadyMember",
                )
            raise Conflict(
                gettext("%(account)s is already a member", account=replacement), error="MembershipAlreadyMember"
            )
        self._held_by(label, lost, action.token_ids)
        self._set_member(
            lost,
            False,
            gettext("%(label)s moves their membership to %(account)s", label=label, account=replacement),
        )
        self._set_member(replacement, True, gettext("%(label)s moves a membership to them", label=label))

    def _held_by(self, label: str, lost: str, token_ids: list[int]) -> None:
        """Each badge to move must be held by `lost` now, and moved once."""
        seen: set[int] = set()
        for token_id in token_ids:
            if token_id in seen or token_id in self._moved_by:
                earlier = gettext("the same action") if token_id in seen else self._moved_by[token_id]
                raise _never(
                    label,
                    gettext("moves badge %(badge)s, which %(earlier)s already moves", badge=token_id, earlier=earlier),
                    "BadgeNotHeldBy",
                )
            seen.add(token_id)
        if not token_ids:
            return
        owner_of = self.ctx.gateway.abi("badge").function("ownerOf")
        address = self.community.contracts["badge"]
        results = self.ctx.gateway.simulate(
            [("eth_call", [{"to": address, "data": "0x" + owner_of.encode(t).hex()}, "latest"]) for t in token_ids]
        )
        for token_id, result in zip(token_ids, results):
            if isinstance(result, ChainRefused):
                raise _never(
                    label, gettext("moves badge %(badge)s, which does not exist", badge=token_id), "BadgeNotHeldBy"
                )
            if isinstance(result, Exception):
                raise result
            owner = checksum(owner_of.decode_output(bytes.fromhex(result[2:]))[0])
            if owner != lost:
                raise _never(
                    label,
                    gettext(
                        "moves badge %(badge)s, which %(lost)s does not hold (%(owner)s does)",
                        badge=token_id,
                        lost=lost,
                        owner=owner,
                    ),
                    "BadgeNotHeldBy",
                )
        for token_id in token_ids:
            self._moved_by[token_id] = label


def name_key(name: str) -> str:
    """How two indicator names are compared: trimmed, case folded, inner spaces as one."""
    return " ".join(str(name).split()).casefold()


def _size_error(message: str) -> Unprocessable:
    return Unprocessable(f"actions: {message}", errors=[{"loc": ["body", "actions"], "msg": message}])


def check_size(calls: list[tuple[str, bytes]]) -> None:
    """The size caps on a proposal's calls (the action and token id caps are in ProposalActions)."""
    if len(calls) > MAX_PROPOSAL_CALLS:
        raise _size_error(
            gettext(
                "a proposal makes at most %(limit)s calls (change_settings makes one per setting, recover_member two "
                "with badges); these actions make %(count)s",
                limit=MAX_PROPOSAL_CALLS,
                count=len(calls),
            )
        )
    size = sum(len(data) for _, data in calls)
    if size > MAX_PROPOSAL_CALLDATA_BYTES:
        raise _size_error(
            gettext(
                "a proposal's calls carry at most %(limit)s bytes of calldata (the relayer pays for every byte); "
                "these actions make %(size)s",
                limit=number(MAX_PROPOSAL_CALLDATA_BYTES),
                size=number(size),
            )
        )


def proposal_calls(ctx: Context, community: Community, actions: list) -> list[tuple[str, bytes]]:
    """The (contract key, calldata) pairs a whole proposal executes as, after checking its size,
    and each action against the chain and the actions before it."""
    if len(actions) > MAX_PROPOSAL_ACTIONS:
        raise _size_error(
            gettext(
                "a proposal has at most %(limit)s actions; this one has %(count)s",
                limit=MAX_PROPOSAL_ACTIONS,
                count=len(actions),
            )
        )
    _within_token_cap_or_422(actions)
    encoded = [encode(ctx, action) for action in actions]
    check_size([call for calls in encoded for call in calls])
    plan = ProposalPlan(ctx, community)
    for index, action in enumerate(actions):
        plan.check(f"actions[{index}] ({action.type})", action)
    return [call for calls in encoded for call in calls]


def proposal_id(targets: list[str], values: list[int], calldatas: list[bytes], description: str) -> int:
    """The Governor's hashProposal, computed locally."""
    encoded = abi_encode(
        ["address[]", "uint256[]", "bytes[]", "bytes32"],
        [targets, values, calldatas, keccak(text=description)],
    )
    return int.from_bytes(keccak(encoded), "big")


def _within_token_cap_or_422(actions: list) -> None:
    try:
        within_token_cap(actions)
    except ValueError as exc:
        raise _size_error(str(exc)) from exc


def calls_for(ctx: Context, community: Community, action) -> list[tuple[str, bytes]]:
    """The (contract key, calldata) pairs one action executes as, after checking it can on its
    own; `proposal_calls` checks a whole proposal, each action after the ones before it."""
    calls = encode(ctx, action)
    ProposalPlan(ctx, community).check(f"{action.type}", action)
    return calls


def describe_call(ctx: Context, community: Community, target: str, calldata: str) -> dict:
    """A proposal's call in readable form: contract, function and arguments."""
    key = community.key_of(target)
    data = bytes.fromhex(calldata[2:])
    fn = ctx.gateway.abi(key).functions_by_selector.get(data[:4]) if key else None
    if fn is None:
        return {"contract": key or target, "function": None, "calldata": calldata}
    # A proposal's calls come from the chain, where anyone may have put any bytes: strings are
    # decoded leniently, as events are, so that voters see what a call does (which badge it
    # revokes, which organisation it registers) even when its text is not UTF-8; the exact bytes
    # of any string that had to be altered are in `args_raw`.
    try:
        decoded = decode_lenient(fn.input_types, data[4:])
    except Exception:
        return {"contract": key, "function": fn.name, "args": {}}
    out = {"contract": key, "function": fn.name, "args": {n: shown for n, (shown, _) in zip(fn.input_names, decoded)}}
    raw = {n: raw for n, (_, raw) in zip(fn.input_names, decoded) if raw is not None}
    if raw:
        out["args_raw"] = raw
    return out
