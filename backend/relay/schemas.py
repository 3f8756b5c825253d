"""The bodies of relaying: a signed request (EIP-712 typed data and its signature), the typed
data to sign, a relayed write's outcome, and the relayer's figures."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from backend.i18n import gettext as _
from backend.schemas import StrictIn
from backend.vocabulary import (
    Address,
    RequestState,
)


class TypeField(StrictIn):
    name: str
    type: str


class DomainIn(StrictIn):
    name: str
    version: str
    chainId: int
    verifyingContract: Address


class ForwardRequestIn(StrictIn):
    from_: Address = Field(alias="from")
    to: Address
    value: int = Field(ge=0)
    gas: int = Field(ge=0, lt=2**256)
    nonce: int = Field(ge=0, lt=2**256)
    deadline: int = Field(ge=0, lt=2**48)
    data: str = Field(pattern=r"^0x([0-9a-fA-F]{2})*$")


class TypedDataIn(StrictIn):
    types: dict[str, list[TypeField]]
    primaryType: str
    domain: DomainIn
    message: ForwardRequestIn

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True)


class SignedRequestIn(StrictIn):
    typed_data: TypedDataIn
    signature: str = Field(
        pattern=r"^0x[0-9a-fA-F]{130,4096}$",
        description="Signature of typed_data: 65 bytes (a key's ECDSA signature), or up to "
        "2,048 for a contract wallet (ERC-1271: a Safe's owners, a passkey)",
    )

    @field_validator("signature")
    @classmethod
    def _whole_bytes(cls, value: str) -> str:
        if len(value) % 2:
            raise ValueError(
                _("%(value)s has an odd number of hex digits: a signature is whole bytes", value=repr(value[:80]))
            )
        return value


class TypedDataOut(BaseModel):
    typed_data: dict[str, Any] = Field(description="EIP-712 typed data for eth_signTypedData_v4")


class TxOut(BaseModel):
    """A write's answer: its request in the relayer's outbox, and its transaction once sent."""

    request_id: int | None = Field(None, description="The request's id in the relayer's outbox (relayed writes)")
    tx_hash: str | None = Field(None, description="The transaction that carries it; null while it waits to be sent")
    status: Literal["pending", "succeeded", "failed"]
    state: RequestState | None = Field(
        None,
        description="The outbox's finer state: queued, sent, succeeded, reverted (its call failed when "
        "executed; its nonce is used) or failed (not executed; its nonce is free)",
    )
    error: str | None = None
    block_number: int | None = None
    created: dict[str, Any] = {}
    indexed: bool = False
    status_url: str | None = Field(None, description="Where to follow it")


class Spent(BaseModel):
    """What the relayer paid, from its outbox."""

    requests: int = Field(description="Requests sent in a transaction")
    succeeded: int
    failed: int = Field(description="Reverted when executed, or not executed")
    gas_used: int = Field(description="Gas of their transactions, shared out by each request's gas limit")
    fees_wei: int = Field(description="That gas times the effective gas price")


class MemberSpentOut(Spent):
    member: str
    strikes: int = Field(
        0,
        description="Requests that passed every check, then failed on chain, within the "
        "cool-off (member_strike_cooloff_seconds)",
    )
    standing: Literal["ok", "slowed", "refused"] = Field(
        "ok", description="slowed: one request in flight at a time; refused: none until strikes age out"
    )


class HiddenSpentOut(Spent):
    """Members who hid their profile, together: counted, never named."""

    members: int
    strikes: int


class BudgetsOut(BaseModel):
    member_max_in_flight: int
    member_requests_per_minute: int
    member_gas_per_hour: int
    client_max_in_flight: int
    client_requests_per_minute: int
    client_gas_per_hour: int
    max_gas_per_request: int
    member_strikes_slow_after: int
    member_strikes_refuse_after: int
    member_strike_cooloff_seconds: int
    min_deadline_headroom_seconds: int


class RelayerOut(BaseModel):
    address: str
    in_flight: int = Field(description="Requests accepted (every community) and not yet settled")
    leading: bool = Field(description="Whether this process is the one that sends (and indexes)")
    paused: str | None = Field(description="Why sending is paused (out of funds, fees over the cap), or null")
    balance_wei: int | None
    spent: Spent = Field(description="This community, over the outbox's history")
    by_member: list[MemberSpentOut] = Field(description="Per member who shows their profile, most gas first")
    hidden_members: HiddenSpentOut = Field(description="The members who hid their profile, together")
    budgets: BudgetsOut
