"""What a proposal can do: its typed actions, and one table of the calls each action makes.

Each action model says which calls it makes (`calls`), so encoding a proposal is one loop over
the ABI. The table CALLS, keyed by (contract, function), says for each call which action it
belongs to, how its arguments read back as that action's fields (a proposal signed by hand or
read from the chain), and the words a voter reads for it. A new action is one model and its rows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, NamedTuple, Protocol

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from backend.capture import rules as capture_rules
from backend.chain.addresses import checksum
from backend.errors import InvalidRequest, Unprocessable
from backend.i18n import N_, _, ngettext
from backend.vocabulary import (
    MAX_PROPOSAL_ACTIONS,
    MAX_PROPOSAL_CALLDATA_BYTES,
    MAX_PROPOSAL_CALLS,
    MAX_PROPOSAL_TOKEN_IDS,
    MAX_RECIPROCAL_WINDOW,
    MAX_TEXT,
    MAX_URI,
    ORIENTATIONS,
    SCORE_RULES,
    SITE_LABELS,
    SITES,
    UINT16,
    UINT32,
    UINT256,
    Address,
    Name,
    Orientation,
    ScoreRule,
    Site,
    at_most_bytes,
    word_for,
)

DAY = 86_400
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"

# A call an action makes: (contract key, function name, arguments in ABI order).
Call = tuple[str, str, tuple]

# change_settings field -> (governor setter, its bound constants, the custom error it reverts with),
# in the order change_settings makes its calls.
SETTINGS = {
    "voting_delay_seconds": ("setVotingDelay", "MIN_VOTING_DELAY", "MAX_VOTING_DELAY", "GovernorVotingDelayOutOfRange"),
    "voting_period_seconds": (
        "setVotingPeriod",
        "MIN_VOTING_PERIOD",
        "MAX_VOTING_PERIOD",
        "GovernorVotingPeriodOutOfRange",
    ),
    "proposal_threshold": (
        "setProposalThreshold",
        "MIN_PROPOSAL_THRESHOLD",
        "MAX_PROPOSAL_THRESHOLD",
        "GovernorProposalThresholdOutOfRange",
    ),
    "quorum_percent": ("updateQuorumNumerator", "MIN_QUORUM_PERCENT", "MAX_QUORUM_PERCENT", "GovernorQuorumOutOfRange"),
}


class _Action(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IndicatorFields(_Action):
    name: Name
    description_uri: str = Field("", max_length=MAX_URI)
    category: str = Field("", max_length=64, description="The community's own tag, e.g. 'mentoring'")
    orientation: Orientation
    weight: int = Field(ge=1, le=UINT32)
    endorsements_required: int = Field(ge=1, le=UINT16)
    validity_seconds: int = Field(0, ge=0, le=UINT32, description="How long a badge counts; 0 = forever")
    endorser_indicator_id: int = Field(
        0,
        ge=0,
        le=UINT32,
        description="Only holders of a counting badge of this "
        "other indicator may attest (e.g. code review only by maintainers); 0 = any "
        "member",
    )
    earn_cap: int = Field(0, ge=0, le=UINT16, description="Badges one member may earn of it per cap period; 0 = no cap")
    attest_cap: int = Field(
        0, ge=0, le=UINT16, description="Claims one member may attest of it per cap period; 0 = no cap"
    )
    cap_period_seconds: int = Field(
        0,
        ge=0,
        le=UINT32,
        description="The caps' period, in fixed windows from the "
        "Unix epoch (86400: calendar days in UTC); required with a cap, 0 without",
    )

    @model_validator(mode="after")
    def _caps_with_period(self):
        capped = bool(self.earn_cap or self.attest_cap)
        if capped and not self.cap_period_seconds:
            raise ValueError(_("cap_period_seconds is required with earn_cap or attest_cap"))
        if self.cap_period_seconds and not capped:
            raise ValueError(_("cap_period_seconds needs earn_cap or attest_cap (0 without caps)"))
        return self

    def as_input(self) -> tuple:
        return (
            self.name,
            self.description_uri,
            self.category,
            ORIENTATIONS.index(self.orientation),
            self.weight,
            self.endorsements_required,
            self.validity_seconds,
            self.endorser_indicator_id,
            self.earn_cap,
            self.attest_cap,
            self.cap_period_seconds,
        )


class AddIndicator(IndicatorFields):
    type: Literal["add_indicator"]

    def calls(self) -> list[Call]:
        return [("registry", "addIndicator", (self.as_input(),))]


class AmendIndicator(IndicatorFields):
    type: Literal["amend_indicator"]
    indicator_id: int = Field(ge=1, le=UINT32)

    def calls(self) -> list[Call]:
        return [("registry", "amendIndicator", (self.indicator_id, self.as_input()))]


class RetireIndicator(_Action):
    type: Literal["retire_indicator"]
    indicator_id: int = Field(ge=1, le=UINT32)

    def calls(self) -> list[Call]:
        return [("registry", "retireIndicator", (self.indicator_id,))]


class AddOrganisation(_Action):
    type: Literal["add_organisation"]
    name: Name
    identifier: Annotated[str, at_most_bytes("identifier", 256)] = Field(
        "", description="Its address, domain or other identifier; at most 256 bytes"
    )

    def calls(self) -> list[Call]:
        return [("registry", "addOrganisation", (self.name, self.identifier))]


class RetireOrganisation(_Action):
    type: Literal["retire_organisation"]
    organisation_id: int = Field(ge=1, le=UINT32)

    def calls(self) -> list[Call]:
        return [("registry", "retireOrganisation", (self.organisation_id,))]


class SetCommunityRules(_Action):
    type: Literal["set_community_rules"]
    reciprocal_window_seconds: int = Field(
        ge=0,
        le=MAX_RECIPROCAL_WINDOW,
        description="If A attested a claim of "
        "B, B may not attest a claim of A on the same indicator within this "
        "many seconds; 0 turns the rule off; at most 365 days",
    )
    score_rule: ScoreRule = Field(
        description="linear: a member's score sums the weights of "
        "their badges; square_root: n badges of one indicator "
        "weigh their mean weight times the square root of n"
    )

    def calls(self) -> list[Call]:
        rule = SCORE_RULES.index(self.score_rule)
        return [("registry", "setCommunityRules", (self.reciprocal_window_seconds, rule))]


class AdmitMember(_Action):
    type: Literal["admit_member"]
    account: Address

    def calls(self) -> list[Call]:
        return [("membership", "admit", (checksum(self.account),))]


class RemoveMember(_Action):
    type: Literal["remove_member"]
    account: Address

    def calls(self) -> list[Call]:
        return [("membership", "remove", (checksum(self.account),))]


class RevokeBadge(_Action):
    type: Literal["revoke_badge"]
    token_id: int = Field(ge=1, le=UINT256)
    reason: str = Field(min_length=1, max_length=MAX_TEXT)

    def calls(self) -> list[Call]:
        return [("badge", "revoke", (self.token_id, self.reason))]


class ChangeSettings(_Action):
    """Each setting must lie within the governor's bounds (its MIN_/MAX_ constants): as deployed,
    voting delay 0 s-30 days, voting period 60 s-30 days, proposal threshold 0-1 vote, quorum
    1-100 %. Outside them the governor would refuse at execution, so prepare refuses (422)."""

    type: Literal["change_settings"]
    voting_delay_seconds: int | None = Field(None, ge=0, le=2**48 - 1, description="0 s to 30 days")
    voting_period_seconds: int | None = Field(None, ge=1, le=UINT32, description="60 s to 30 days")
    proposal_threshold: int | None = Field(None, ge=0, le=UINT256, description="0 or 1 vote")
    quorum_percent: int | None = Field(None, ge=1, le=100, description="1 to 100 % of members")

    def calls(self) -> list[Call]:
        calls = [
            ("governor", setter, (getattr(self, name),))
            for name, (setter, *_) in SETTINGS.items()
            if getattr(self, name) is not None
        ]
        if not calls:
            raise Unprocessable(_("change_settings names no setting to change"))
        return calls


class SetTimelockDelay(_Action):
    """How long a passed proposal waits in the timelock before it runs: 1 hour to 30 days (0 on a
    local chain only; CommunityTimelock's bounds, checked at prepare). It takes effect for proposals
    queued after it, and itself waits the current delay."""

    type: Literal["set_timelock_delay"]
    delay_seconds: int = Field(ge=0, le=30 * DAY, description="1 hour to 30 days; 0 only on a local chain")

    def calls(self) -> list[Call]:
        return [("timelock", "updateDelay", (self.delay_seconds,))]


class SetGuardian(_Action):
    """Elect the guardian, who may cancel a passed proposal before it runs and do nothing else (a
    member, or a multisig wallet of members); null removes the guardian."""

    type: Literal["set_guardian"]
    account: Address | None = Field(description="The guardian's address; null (or empty): no guardian")

    @field_validator("account", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    def calls(self) -> list[Call]:
        return [("governor", "setProposalGuardian", (checksum(self.account) if self.account else ZERO_ADDRESS,))]


class RecoverMember(_Action):
    type: Literal["recover_member"]
    lost: Address
    replacement: Address
    token_ids: list[Annotated[int, Field(ge=1, le=UINT256)]] = Field(
        default_factory=list, max_length=500, description="Badges to move with the membership"
    )

    def calls(self) -> list[Call]:
        lost, replacement = checksum(self.lost), checksum(self.replacement)
        calls: list[Call] = [("membership", "recover", (lost, replacement))]
        if self.token_ids:
            calls.append(("badge", "recoverBadges", (lost, replacement, self.token_ids)))
        return calls


class SetAdmissionRules(_Action):
    """Admission without a vote per person (Membership's admission rules)."""

    type: Literal["set_admission_rules"]
    vouches_required: int = Field(ge=0, le=16, description="Members' vouches that admit a person; 0 turns it off")
    vouch_cap: int = Field(ge=1, le=100, description="Vouches and invitations each member may give per period")
    vouch_period_days: int = Field(ge=1, le=365)
    invitation_lifetime_days: int = Field(ge=1, le=365, description="How long an invitation stays open")

    def calls(self) -> list[Call]:
        period, lifetime = self.vouch_period_days * DAY, self.invitation_lifetime_days * DAY
        rules = (self.vouches_required, self.vouch_cap, period, lifetime)
        return [("membership", "setAdmissionRules", (rules,))]


class ClearName(_Action):
    """Clear a member's abusive or impersonating name."""

    type: Literal["clear_name"]
    account: Address

    def calls(self) -> list[Call]:
        return [("membership", "clearName", (checksum(self.account),))]


class ClearLinkedAccount(_Action):
    """Unlink an account a member declared but does not hold."""

    type: Literal["clear_linked_account"]
    account: Address
    site: Site

    def calls(self) -> list[Call]:
        return [("membership", "clearLinkedAccount", (checksum(self.account), SITES.index(self.site) + 1))]


class SetCaptureRules(_Action):
    """How work done elsewhere becomes drafts (backend/capture/rules.py): the whole document, which
    replaces the one before; null turns capture off. On chain it is the document's canonical JSON."""

    type: Literal["set_capture_rules"]
    rules: capture_rules.CaptureRules | None = Field(
        description="The capture rules (version 1); null: capture off, nothing becomes a draft"
    )

    @field_validator("rules", mode="before")
    @classmethod
    def _from_document(cls, value: Any) -> Any:
        # Read back from a proposal's calldata: the document as it went on chain.
        if isinstance(value, str):
            return json.loads(value) if value else None
        return value

    def calls(self) -> list[Call]:
        document = "" if self.rules is None else capture_rules.canonical(self.rules)
        return [("registry", "setCaptureRules", (document,))]


class MoveRecords(_Action):
    """Move the community's records to a later version of the badge contract (deployed naming the
    one in use: `ape run deploy_version`). The version in use takes no write from then on, and the
    service carries every record over to the new one, each proven against the old one on chain
    (docs/developers/versions.md). The registry refuses a version that does not name the one in
    use, or that answers to another registry or owner."""

    type: Literal["move_records"]
    from_version: Address = Field(description="The badge contract in use now (the community's contracts.badge)")
    to_version: Address = Field(description="The later version, deployed naming it")

    def calls(self) -> list[Call]:
        return [("registry", "moveRecords", (checksum(self.from_version), checksum(self.to_version)))]


ProposalAction = Annotated[
    AddIndicator
    | AmendIndicator
    | RetireIndicator
    | AddOrganisation
    | RetireOrganisation
    | SetCommunityRules
    | AdmitMember
    | RemoveMember
    | RevokeBadge
    | ChangeSettings
    | SetTimelockDelay
    | SetGuardian
    | RecoverMember
    | SetAdmissionRules
    | ClearName
    | ClearLinkedAccount
    | SetCaptureRules
    | MoveRecords,
    Field(discriminator="type"),
]


def within_token_cap(actions: list) -> list:
    token_ids = sum(len(a.token_ids) for a in actions if isinstance(a, RecoverMember))
    if token_ids > MAX_PROPOSAL_TOKEN_IDS:
        raise ValueError(
            _(
                "a proposal moves at most %(limit)s badges in all; its recover_member actions name %(count)s token ids",
                limit=MAX_PROPOSAL_TOKEN_IDS,
                count=token_ids,
            )
        )
    return actions


ProposalActions = Annotated[
    list[ProposalAction],
    Field(
        min_length=1,
        max_length=MAX_PROPOSAL_ACTIONS,
        description=f"At most {MAX_PROPOSAL_ACTIONS} actions, {MAX_PROPOSAL_CALLS} calls, "
        f"{MAX_PROPOSAL_TOKEN_IDS} token ids and {MAX_PROPOSAL_CALLDATA_BYTES:,} bytes of calldata",
    ),
    AfterValidator(within_token_cap),
]


def encode(abi: Callable[[str], Any], action: ProposalAction) -> list[tuple[str, bytes]]:
    """The (contract key, calldata) pairs an action executes as; no chain reads."""
    return [(key, abi(key).function(function).encode(*args)) for key, function, args in action.calls()]


# ---------------------------------------------------------------- reading calls back


class Words(NamedTuple):
    """A call in a voter's words: a verb, an object (shown emphasised) and details."""

    verb: str
    object: str
    details: str


class Wording(Protocol):
    """How the reader names things: members, indicators, organisations, an indicator's terms, a span."""

    def member(self, address: Any) -> str: ...
    def indicator(self, indicator_id: Any) -> str: ...
    def organisation(self, organisation_id: Any) -> str: ...
    def terms(self, fields: Any) -> tuple[str, str]: ...
    def span(self, seconds: int) -> str: ...


@dataclass(frozen=True)
class ActionCall:
    """One (contract, function) a proposal action makes: the action it belongs to, how its
    arguments read back as that action's fields, and the words a voter reads for it."""

    contract: str
    function: str
    action: str
    fields: Callable[[list], dict[str, Any]]
    words: Callable[[list, Wording], Words]
    # For an action of several calls: whether this call continues the action read from the calls
    # before it (`previous`, its fields so far) rather than starting a new one.
    continues: Callable[[dict[str, Any], list], bool] | None = field(default=None)
    # Whether the call may start an action (recoverBadges only ever follows a recover).
    starts: bool = True


def _orientation(value: int) -> str:
    if not 0 <= value < len(ORIENTATIONS):
        raise Unprocessable(_("orientation %(value)s is neither object (0) nor community (1)", value=value))
    return ORIENTATIONS[value]


def _score_rule(value: int) -> str:
    if not 0 <= value < len(SCORE_RULES):
        raise Unprocessable(_("score rule %(value)s is neither linear (0) nor square root (1)", value=value))
    return SCORE_RULES[value]


def _indicator_fields(raw: Any) -> dict[str, Any]:
    (
        name,
        description_uri,
        category,
        orientation,
        weight,
        endorsements,
        validity,
        endorser,
        earn_cap,
        attest_cap,
        cap_period,
    ) = raw
    return {
        "name": name,
        "description_uri": description_uri,
        "category": category,
        "orientation": _orientation(orientation),
        "weight": weight,
        "endorsements_required": endorsements,
        "validity_seconds": validity,
        "endorser_indicator_id": endorser,
        "earn_cap": earn_cap,
        "attest_cap": attest_cap,
        "cap_period_seconds": cap_period,
    }


def _indicator_words(verb: str, fields: Any, say: Wording) -> Words:
    name, details = say.terms(fields)
    return Words(verb, name, details)


def _rules_words(args: list, say: Wording) -> Words:
    window = (
        _("no reciprocal endorsement within %(span)s", span=say.span(int(args[0])))
        if args[0]
        else _("reciprocal endorsement allowed")
    )
    rule = _("square root scores") if args[1] == 1 else _("linear scores")
    return Words(_("set the fair-play rules to"), rule, window)


def _admission_words(args: list, say: Wording) -> Words:
    required, cap, period, lifetime = args[0]
    admits = (
        ngettext("%(num)s member's vouch admits a person", "%(num)s members' vouches admit a person", int(required))
        if required
        else _("admission by proposal only")
    )
    return Words(
        _("set admission to"),
        admits,
        ngettext(
            "each member vouches or invites at most %(num)s time per %(period)s; invitations stay open %(lifetime)s",
            "each member vouches or invites at most %(num)s times per %(period)s; invitations stay open %(lifetime)s",
            int(cap),
            period=say.span(int(period)),
            lifetime=say.span(int(lifetime)),
        ),
    )


def _setting_continues(name: str) -> Callable[[dict[str, Any], list], bool]:
    """A setter continues the change_settings read so far if its field comes after all of its
    fields: one action's calls come in SETTINGS' order, so one at or before the last starts another."""
    order = list(SETTINGS)

    def continues(previous: dict[str, Any], _args: list) -> bool:
        return previous["type"] == "change_settings" and all(
            order.index(name) > order.index(field) for field in previous if field != "type"
        )

    return continues


def _capture_words(args: list, say: Wording) -> Words:
    try:
        rules = capture_rules.parse(args[0])
    except ValueError as exc:
        return Words(
            _("set the capture rules to"), _("a document the service cannot read"), capture_rules.problem_of(exc)
        )
    what, details = capture_rules.document_words(rules, say.indicator)
    return Words(_("set the capture rules to"), what, details)


# Each setting's verb (translated where it is read) and its new value in words.
_SETTING_WORDS: dict[str, tuple[str, Callable[[int], str]]] = {
    "voting_delay_seconds": (
        N_("set the voting delay to"),
        lambda n: ngettext("%(num)s second", "%(num)s seconds", int(n)),
    ),
    "voting_period_seconds": (
        N_("set the voting period to"),
        lambda n: ngettext("%(num)s second", "%(num)s seconds", int(n)),
    ),
    "proposal_threshold": (
        N_("set the proposal threshold to"),
        lambda n: ngettext("%(num)s vote", "%(num)s votes", int(n)),
    ),
    "quorum_percent": (N_("set the quorum to"), lambda n: _("%(percent)s%% of members", percent=n)),
}


def _setting_row(name: str, setter: str) -> ActionCall:
    verb, value = _SETTING_WORDS[name]
    return ActionCall(
        "governor",
        setter,
        "change_settings",
        lambda args: {name: args[0]},
        lambda args, say: Words(_(verb), value(args[0]), ""),
        _setting_continues(name),
    )


_ROWS = (
    ActionCall(
        "registry",
        "addIndicator",
        "add_indicator",
        lambda a: _indicator_fields(a[0]),
        lambda a, say: _indicator_words(_("add indicator"), a[0], say),
    ),
    ActionCall(
        "registry",
        "amendIndicator",
        "amend_indicator",
        lambda a: {"indicator_id": a[0], **_indicator_fields(a[1])},
        lambda a, say: _indicator_words(_("amend indicator #%(id)s to", id=a[0]), a[1], say),
    ),
    ActionCall(
        "registry",
        "retireIndicator",
        "retire_indicator",
        lambda a: {"indicator_id": a[0]},
        lambda a, say: Words(_("retire indicator"), say.indicator(a[0]), ""),
    ),
    ActionCall(
        "registry",
        "addOrganisation",
        "add_organisation",
        lambda a: {"name": a[0], "identifier": a[1]},
        lambda a, say: Words(
            _("register organisation"), str(a[0]), _("identifier %(identifier)s", identifier=a[1]) if a[1] else ""
        ),
    ),
    ActionCall(
        "registry",
        "retireOrganisation",
        "retire_organisation",
        lambda a: {"organisation_id": a[0]},
        lambda a, say: Words(_("retire organisation"), say.organisation(a[0]), ""),
    ),
    ActionCall(
        "registry",
        "setCommunityRules",
        "set_community_rules",
        lambda a: {"reciprocal_window_seconds": a[0], "score_rule": _score_rule(a[1])},
        _rules_words,
    ),
    ActionCall(
        "membership",
        "admit",
        "admit_member",
        lambda a: {"account": a[0]},
        lambda a, say: Words(_("admit member"), say.member(a[0]), ""),
    ),
    ActionCall(
        "membership",
        "remove",
        "remove_member",
        lambda a: {"account": a[0]},
        lambda a, say: Words(_("remove member"), say.member(a[0]), ""),
    ),
    ActionCall(
        "membership",
        "recover",
        "recover_member",
        lambda a: {"lost": a[0], "replacement": a[1]},
        lambda a, say: Words(
            _("recover the membership of"), say.member(a[0]), _("to %(member)s", member=say.member(a[1]))
        ),
    ),
    # The badges move with the membership: the call right after the recover of the same two accounts.
    ActionCall(
        "badge",
        "recoverBadges",
        "recover_member",
        lambda a: {"token_ids": list(a[2])},
        lambda a, say: Words(
            _("move badges"),
            ", ".join(f"#{t}" for t in a[2]),
            _("from %(lost)s to %(replacement)s", lost=say.member(a[0]), replacement=say.member(a[1])),
        ),
        lambda previous, a: (
            previous["type"] == "recover_member"
            and "token_ids" not in previous
            and (previous["lost"], previous["replacement"]) == (a[0], a[1])
        ),
        starts=False,
    ),
    ActionCall(
        "badge",
        "revoke",
        "revoke_badge",
        lambda a: {"token_id": a[0], "reason": a[1]},
        lambda a, say: Words(_("revoke badge"), f"#{a[0]}", _("reason: %(reason)s", reason=a[1])),
    ),
    *(_setting_row(name, setter) for name, (setter, *_) in SETTINGS.items()),
    ActionCall(
        "membership",
        "setAdmissionRules",
        "set_admission_rules",
        lambda a: {
            "vouches_required": a[0][0],
            "vouch_cap": a[0][1],
            "vouch_period_days": a[0][2] // DAY,
            "invitation_lifetime_days": a[0][3] // DAY,
        },
        _admission_words,
    ),
    ActionCall(
        "membership",
        "clearName",
        "clear_name",
        lambda a: {"account": a[0]},
        lambda a, say: Words(_("clear the name of"), say.member(a[0]), ""),
    ),
    ActionCall(
        "membership",
        "clearLinkedAccount",
        "clear_linked_account",
        lambda a: {"account": a[0], "site": word_for(("", *SITES), a[1])},
        lambda a, say: Words(
            _("unlink the account of"),
            say.member(a[0]),
            _(
                "on %(site)s",
                site=SITE_LABELS.get(word_for(("", *SITES), a[1])) or _("site %(number)s", number=a[1]),
            ),
        ),
    ),
    ActionCall(
        "timelock",
        "updateDelay",
        "set_timelock_delay",
        lambda a: {"delay_seconds": a[0]},
        lambda a, say: Words(
            _("set the timelock's delay to"),
            say.span(int(a[0])) if a[0] else _("none"),
            _("how long a passed proposal waits before it runs"),
        ),
    ),
    ActionCall(
        "governor",
        "setProposalGuardian",
        "set_guardian",
        lambda a: {"account": None if int(a[0], 16) == 0 else a[0]},
        lambda a, say: (
            Words(_("remove the guardian"), "", _("nobody may cancel a passed proposal any more"))
            if int(a[0], 16) == 0
            else Words(_("elect as guardian"), say.member(a[0]), _("who may cancel a passed proposal before it runs"))
        ),
    ),
    ActionCall(
        "registry",
        "setCaptureRules",
        "set_capture_rules",
        lambda a: {"rules": a[0]},
        _capture_words,
    ),
    ActionCall(
        "registry",
        "moveRecords",
        "move_records",
        lambda a: {"from_version": a[0], "to_version": a[1]},
        lambda a, say: Words(
            _("move the community's records to"),
            _("a new version of its badge contract"),
            _(
                "at %(to)s, from %(from)s: the old version takes no write any more, and every claim and badge "
                "is carried over, each checked against the old one",
                to=a[1],
                **{"from": a[0]},
            ),
        ),
    ),
)
CALLS: Mapping[tuple[str, str], ActionCall] = {(row.contract, row.function): row for row in _ROWS}
# The functions' names are unique across the contracts: a call described by its function alone.
_BY_FUNCTION: Mapping[str, ActionCall] = {row.function: row for row in _ROWS}
assert len(_BY_FUNCTION) == len(CALLS)


def _not_an_action(contract: str, function: str) -> str:
    return _("A proposal calling %(call)s is not one the API's proposal actions make", call=f"{contract}.{function}")


def actions_from_calls(calls: list[tuple[str, str, list]]) -> list[dict[str, Any]]:
    """The actions (as fields, to validate as ProposalAction) that make these decoded calls
    (contract key, function, arguments), in order; a call no action makes is refused."""
    actions: list[dict[str, Any]] = []
    for contract, function, args in calls:
        row = CALLS.get((contract, function))
        if row is None:
            raise InvalidRequest(_not_an_action(contract, function))
        previous = actions[-1] if actions else None
        if row.continues is not None and previous is not None and row.continues(previous, args):
            previous.update(row.fields(args))
        elif row.starts:
            actions.append({"type": row.action, **row.fields(args)})
        else:
            raise InvalidRequest(_not_an_action(contract, function))
    return actions


def words_for(contract: str | None, function: str | None, args: list, say: Wording) -> Words | None:
    """A decoded call in a voter's words, or None for a call no action makes."""
    row = CALLS.get((contract or "", function or "")) or _BY_FUNCTION.get(function or "")
    if row is None:
        return None
    try:
        return row.words(args, say)
    except (IndexError, TypeError, ValueError):  # arguments that do not have the call's shape
        return None
