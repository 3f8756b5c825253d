"""What a proposal can do, as typed actions, and the calls each one becomes.

Proposals run later, when the vote passes, so their inputs are checked against the chain now
(unknown indicator, already a member, ...): a proposal that could never execute is refused.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from eth_utils import is_checksum_address, to_checksum_address
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from backend.chain.deployments import Community
from backend.context import Context
from backend.errors import ChainRefused, Conflict, NotFound, Unprocessable

UINT16 = 2**16 - 1
UINT32 = 2**32 - 1
UINT256 = 2**256 - 1
ADDRESS_PATTERN = r"^0x[0-9a-fA-F]{40}$"
# Sizes the API accepts for text that ends up in calldata and events (the contracts take any
# length; these keep a request's gas and the index's rows bounded).
MAX_URI = 2048
MAX_TEXT = 1024
MAX_DESCRIPTION = 10_000


def checksummed(value: str) -> str:
    """An address in its EIP-55 form. All-lowercase (or all-uppercase) hex carries no checksum
    and is accepted; mixed case is a checksum, and a wrong one is refused (likely a typo)."""
    digits = value[2:]
    if digits != digits.lower() and digits != digits.upper() and not is_checksum_address(value):
        raise ValueError(f"{value} is mixed-case but not a valid EIP-55 checksum (a typo?); "
                         "write it checksummed or all lowercase")
    return to_checksum_address(value)


Address = Annotated[str, Field(pattern=ADDRESS_PATTERN, description="0x + 40 hex digits: EIP-55 checksummed, "
                                                                     "or all lowercase"), AfterValidator(checksummed)]


class _Action(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IndicatorFields(_Action):
    name: str = Field(min_length=1, description="1-64 bytes of UTF-8")
    description_uri: str = Field("", max_length=MAX_URI)
    category: str = Field("", max_length=64, description="The community's own tag, e.g. 'mentoring'")
    orientation: Literal["object", "community"]
    weight: int = Field(ge=1, le=UINT32)
    endorsements_required: int = Field(ge=1, le=UINT16)
    validity_seconds: int = Field(0, ge=0, le=UINT32, description="How long a badge counts; 0 = forever")

    @field_validator("name")
    @classmethod
    def _name_bytes(cls, value: str) -> str:
        if len(value.encode()) > 64:
            raise ValueError("name must be at most 64 bytes of UTF-8")
        return value

    def as_input(self) -> tuple:
        return (self.name, self.description_uri, self.category, ["object", "community"].index(self.orientation),
                self.weight, self.endorsements_required, self.validity_seconds)


class AddIndicator(IndicatorFields):
    type: Literal["add_indicator"]


class AmendIndicator(IndicatorFields):
    type: Literal["amend_indicator"]
    indicator_id: int = Field(ge=1, le=UINT32)


class RetireIndicator(_Action):
    type: Literal["retire_indicator"]
    indicator_id: int = Field(ge=1, le=UINT32)


class AdmitMember(_Action):
    type: Literal["admit_member"]
    account: Address


class RemoveMember(_Action):
    type: Literal["remove_member"]
    account: Address


class RevokeBadge(_Action):
    type: Literal["revoke_badge"]
    token_id: int = Field(ge=1, le=UINT256)
    reason: str = Field(min_length=1, max_length=MAX_TEXT)


class ChangeSettings(_Action):
    type: Literal["change_settings"]
    voting_delay_seconds: int | None = Field(None, ge=0, le=2**48 - 1)
    voting_period_seconds: int | None = Field(None, ge=1, le=UINT32)
    proposal_threshold: int | None = Field(None, ge=0, le=UINT256)
    quorum_percent: int | None = Field(None, ge=1, le=100)


class RecoverMember(_Action):
    type: Literal["recover_member"]
    lost: Address
    replacement: Address
    token_ids: list[Annotated[int, Field(ge=1, le=UINT256)]] = Field(
        default_factory=list, max_length=500, description="Badges to move with the membership")


ProposalAction = Annotated[
    Union[AddIndicator, AmendIndicator, RetireIndicator, AdmitMember, RemoveMember, RevokeBadge, ChangeSettings,
          RecoverMember],
    Field(discriminator="type"),
]


def _is_member(ctx: Context, community: Community, account: str) -> bool:
    return ctx.gateway.read(community, "membership", "isMember", account)[0]


def _require_active_indicator(ctx: Context, community: Community, indicator_id: int) -> None:
    try:
        terms = ctx.gateway.read(community, "registry", "terms", indicator_id)[0]
    except ChainRefused as exc:
        raise NotFound(f"No indicator {indicator_id} in this community", error=exc.error) from exc
    if not terms[5]:
        raise Conflict(f"Indicator {indicator_id} is retired", error="RegistryIndicatorRetired")


def calls_for(ctx: Context, community: Community, action) -> list[tuple[str, bytes]]:
    """The (contract key, calldata) pairs an action executes as, after checking it can."""
    abi = ctx.gateway.abi
    if isinstance(action, AddIndicator):
        return [("registry", abi("registry").function("addIndicator").encode(action.as_input()))]
    if isinstance(action, AmendIndicator):
        _require_active_indicator(ctx, community, action.indicator_id)
        return [("registry", abi("registry").function("amendIndicator").encode(action.indicator_id, action.as_input()))]
    if isinstance(action, RetireIndicator):
        _require_active_indicator(ctx, community, action.indicator_id)
        return [("registry", abi("registry").function("retireIndicator").encode(action.indicator_id))]
    if isinstance(action, AdmitMember):
        account = to_checksum_address(action.account)
        if _is_member(ctx, community, account):
            raise Conflict(f"{account} is already a member", error="MembershipAlreadyMember")
        return [("membership", abi("membership").function("admit").encode(account))]
    if isinstance(action, RemoveMember):
        account = to_checksum_address(action.account)
        if not _is_member(ctx, community, account):
            raise NotFound(f"{account} is not a member", error="MembershipNotMember")
        return [("membership", abi("membership").function("remove").encode(account))]
    if isinstance(action, RevokeBadge):
        try:
            ctx.gateway.read(community, "badge", "getBadge", action.token_id)
        except ChainRefused as exc:
            raise NotFound(f"No badge {action.token_id} in this community", error=exc.error) from exc
        if not ctx.gateway.read(community, "badge", "isActive", action.token_id)[0]:
            raise Conflict(f"Badge {action.token_id} no longer counts (revoked or expired)")
        return [("badge", abi("badge").function("revoke").encode(action.token_id, action.reason))]
    if isinstance(action, ChangeSettings):
        governor = abi("governor")
        calls = []
        if action.voting_delay_seconds is not None:
            calls.append(("governor", governor.function("setVotingDelay").encode(action.voting_delay_seconds)))
        if action.voting_period_seconds is not None:
            calls.append(("governor", governor.function("setVotingPeriod").encode(action.voting_period_seconds)))
        if action.proposal_threshold is not None:
            calls.append(("governor", governor.function("setProposalThreshold").encode(action.proposal_threshold)))
        if action.quorum_percent is not None:
            calls.append(("governor", governor.function("updateQuorumNumerator").encode(action.quorum_percent)))
        if not calls:
            raise Unprocessable("change_settings names no setting to change")
        return calls
    if isinstance(action, RecoverMember):
        lost, replacement = to_checksum_address(action.lost), to_checksum_address(action.replacement)
        if not _is_member(ctx, community, lost):
            raise NotFound(f"{lost} is not a member", error="MembershipNotMember")
        if _is_member(ctx, community, replacement):
            raise Conflict(f"{replacement} is already a member", error="MembershipAlreadyMember")
        calls = [("membership", abi("membership").function("recover").encode(lost, replacement))]
        if action.token_ids:
            calls.append(("badge", abi("badge").function("recoverBadges").encode(lost, replacement, action.token_ids)))
        return calls
    raise Unprocessable(f"Unknown proposal action {action!r}")


def describe_call(ctx: Context, community: Community, target: str, calldata: str) -> dict:
    """A proposal's call in readable form: contract, function and arguments."""
    key = community.key_of(target)
    data = bytes.fromhex(calldata[2:])
    fn = ctx.gateway.abi(key).functions_by_selector.get(data[:4]) if key else None
    if fn is None:
        return {"contract": key or target, "function": None, "calldata": calldata}
    try:
        args = fn.decode_input(data)
    except Exception:
        args = {}
    return {"contract": key, "function": fn.name, "args": args}
