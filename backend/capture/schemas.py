"""The bodies of capture: a delivery's answer, an import's, the capture rules as read, the drafts
waiting for a member, and what a member signs to dismiss a draft or turn capture off."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from backend.capture.rules import CaptureRules
from backend.i18n import gettext as _
from backend.relay.schemas import DomainIn, TypeField
from backend.schemas import BodyIn, StrictIn
from backend.vocabulary import Address, Site

DraftKind = Literal["claim", "attestation", "invitation"]


class DeliveryOut(BaseModel):
    delivery: str = Field(description="The delivery's id at its source (X-GitHub-Delivery, webhook-id, ...)")
    event: str = Field(description="The source's name for what happened")
    outcome: str = Field(description="What came of it, in words")
    drafts: int = Field(description="Drafts it made (0 for anything no capture rule names)")


class ImportOut(BaseModel):
    items: int = Field(description="Items the file held that are work (merged, created)")
    imported: int = Field(description="Items read through the rules now")
    already: int = Field(description="Items imported before: skipped, so importing twice changes nothing")
    drafts: int = Field(description="Drafts made")
    notes: list[str] = Field(description="Why items made no draft (at most 50)")


class CaptureRulesOut(BaseModel):
    community: str
    set: bool = Field(description="Whether governance ever set capture rules")
    digest: str | None = Field(
        description="keccak256 of the document, as IndicatorRegistry.captureRulesDigest keeps it"
    )
    document: str | None = Field(description="The document as set on chain (canonical JSON; empty: capture off)")
    document_raw: str | None = Field(description="The document's exact bytes, 0x hex, when they are not UTF-8 text")
    rules: CaptureRules | None = Field(description="The rules, when the document holds valid version-1 rules")
    valid: bool = Field(description="Whether the service applies them (false: capture makes nothing)")
    problem: str | None = Field(description="Why the rules are not applied, when they are not")
    set_at: int | None = Field(description="When they were set (unix seconds)")
    tx_hash: str | None


class DraftOut(BaseModel):
    id: int
    kind: DraftKind = Field(
        description="claim: sign it as your own claim; attestation: endorse the author's claim; invitation: invite "
        "the author (no member yet) and credit the invitation, two signatures"
    )
    member: str | None = Field(description="Who signs it; null for an invitation, which any member may send")
    indicator_id: int
    indicator_name: str
    evidence_uri: str = Field(description="The work's link, filled in for the claim")
    title: str
    source: Literal["github", "gitlab", "discourse", "standard"]
    author_site: Site | str
    author_handle: str
    author: str | None = Field(description="The author's member address, when they are a member")
    claim_id: int | None = Field(
        description="For an attestation: the author's claim to endorse; null while they have not signed it yet"
    )
    invitee_name: str | None = Field(description="For an invitation: the name to invite them by (their handle)")
    created_at: int


class DraftsOut(BaseModel):
    member: str
    capture: bool = Field(description="false: the member turned capture off, and nothing is drafted for them")
    items: list[DraftOut]


class DismissalPrepareIn(BodyIn):
    member: Address = Field(description="The member who will sign")
    draft_id: int = Field(ge=1, lt=2**31)


class PreferencePrepareIn(BodyIn):
    member: Address = Field(description="The member who will sign")
    capture: bool = Field(description="false: capture nothing of yours (no drafts); true: capture again")


class TypedDataOut(BaseModel):
    typed_data: dict[str, Any] = Field(description="EIP-712 typed data for eth_signTypedData_v4 (signed off chain)")


class DismissalMessageIn(StrictIn):
    community: str = Field(max_length=64)
    member: Address
    draft: int = Field(ge=1, lt=2**31)
    issuedAt: int = Field(ge=0, lt=2**64)


class PreferenceMessageIn(StrictIn):
    community: str = Field(max_length=64)
    member: Address
    capture: bool
    issuedAt: int = Field(ge=0, lt=2**64)


class _Signature(StrictIn):
    signature: str = Field(
        pattern=r"^0x[0-9a-fA-F]{130,4096}$",
        description="Signature of typed_data: a key's (65 bytes), or a contract account's (ERC-1271, a passkey)",
    )

    @field_validator("signature")
    @classmethod
    def _whole_bytes(cls, value: str) -> str:
        if len(value) % 2:
            raise ValueError(
                _("%(value)s has an odd number of hex digits: a signature is whole bytes", value=repr(value[:80]))
            )
        return value


class DismissalTypedDataIn(StrictIn):
    types: dict[str, list[TypeField]]
    primaryType: str
    domain: DomainIn
    message: DismissalMessageIn


class PreferenceTypedDataIn(StrictIn):
    types: dict[str, list[TypeField]]
    primaryType: str
    domain: DomainIn
    message: PreferenceMessageIn


class SignedDismissalIn(_Signature):
    typed_data: DismissalTypedDataIn


class SignedPreferenceIn(_Signature):
    typed_data: PreferenceTypedDataIn


class DismissalOut(BaseModel):
    draft: int
    member: str
    dismissed: bool


class PreferenceOut(BaseModel):
    member: str
    capture: bool
