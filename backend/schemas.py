"""What every domain's request and response bodies share: strict bodies for anything signed,
pages of results, and how a text altered from its bytes on chain is described."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from backend.vocabulary import (
    Address,
)

HEX32 = r"^0x[0-9a-fA-F]{64}$"


T = TypeVar("T")


class BodyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StrictIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class SignerIn(BodyIn):
    signer: Address = Field(description="The member who will sign")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class CursorPage(Page[T], Generic[T]):
    after: int | None = Field(description="The cursor this page was asked after, if any")
    next_after: int | None = Field(description="The cursor of the next page (?after=): null on the last page")


_RAW = (
    "Null when the text shown is exactly the bytes on chain. Otherwise the text had invalid UTF-8 "
    "or control characters (shown as U+FFFD), and this is the exact bytes, as 0x hex"
)


def raw_field(what: str):
    return Field(None, description=f"{what}: {_RAW}")
