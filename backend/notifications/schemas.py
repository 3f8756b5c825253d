"""The bodies of being told: what a member prepares and signs, and their preferences as answered to
their own signed request (and to no one else)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from backend.i18n import gettext as _
from backend.relay.schemas import DomainIn, TypeField
from backend.schemas import BodyIn, StrictIn
from backend.vocabulary import Address

Mode = Literal["each", "daily"]
_MODE = "each: a message for each thing; daily: one digest a day"


class PreferencesPrepareIn(BodyIn):
    member: Address = Field(description="The member who will sign: preferences are theirs alone")
    email: str = Field("", max_length=254, description="An email address; empty: no email")
    email_mode: Mode = Field("each", description=_MODE)
    webhook_url: str = Field(
        "", max_length=2048, description="A chat bridge's incoming webhook (https, a public address); empty: none"
    )
    webhook_mode: Mode = Field("each", description=_MODE)
    new_webhook_secret: bool = Field(
        False, description="true: a new signing secret for the same webhook (one is made anyway for a new URL)"
    )
    language: str | None = Field(
        None,
        max_length=16,
        description="The language messages are written in: en or es. Default: the request's (its lang cookie or "
        "Accept-Language)",
    )


class ReadingPrepareIn(BodyIn):
    member: Address = Field(description="The member who will sign, to read their own preferences")


class PreferencesMessageIn(StrictIn):
    community: str = Field(max_length=64)
    member: Address
    email: str = Field(max_length=254)
    emailMode: Mode
    webhookUrl: str = Field(max_length=2048)
    webhookMode: Mode
    newWebhookSecret: bool
    # Absent from preferences signed before members chose a language (their types lack it).
    language: str | None = Field(None, max_length=16)
    issuedAt: int = Field(ge=0, lt=2**64)


class PreferencesTypedDataIn(StrictIn):
    types: dict[str, list[TypeField]]
    primaryType: str
    domain: DomainIn
    message: PreferencesMessageIn

    def as_dict(self) -> dict[str, Any]:
        typed = self.model_dump()
        if typed["message"]["language"] is None:  # signed without it: as it was signed
            del typed["message"]["language"]
        return typed


class SignedPreferencesIn(StrictIn):
    typed_data: PreferencesTypedDataIn
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


class PreferencesTypedDataOut(BaseModel):
    typed_data: dict[str, Any] = Field(description="EIP-712 typed data for eth_signTypedData_v4 (signed off chain)")


class ChannelOut(BaseModel):
    target: str = Field(description="The email address or the webhook's URL: answered only to the member")
    mode: Mode
    active: bool = Field(description="false: ended (see ended_because)")
    ended_because: Literal["unsubscribed", "replaced", "removed", "failing"] | None = Field(
        description="unsubscribed (the link in a message), replaced or removed (new preferences), failing "
        "(turned off after repeated failures)"
    )
    failures: int = Field(description="Failures in a row of the endpoint, toward turning it off")
    last_error: str | None = Field(description="The last failure, in words (never the address)")


class FeedsOut(BaseModel):
    member: str = Field(
        description="The member's own Atom feed, with its private link (works if the profile is hidden)"
    )
    community: str = Field(description="The community's Atom feed: proposals and badges")


class PreferencesOut(BaseModel):
    community: str
    member: str
    email: ChannelOut | None
    webhook: ChannelOut | None
    webhook_secret: str | None = Field(
        None,
        description="The webhook's signing secret (whsec_...), shown this once: the bridge checks each "
        "message's webhook-signature with it (Standard Webhooks)",
    )
    email_offered: bool = Field(description="Whether this service sends email (its steward set an SMTP server)")
    language: str = Field(description="The language the member is told in (en, es)")
    feeds: FeedsOut
