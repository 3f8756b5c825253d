"""The words every domain shares, each with one home: addresses, the bounds of the contracts'
integers, the sizes the API accepts for text, and the enums the contracts store as numbers (vote
support, an indicator's orientation, the score rule, a relayed request's state).

The contracts' own order of each enum is written here once; everything that turns a number from
the chain into a word, or a word into a number for the chain, goes through these tuples.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from backend.chain.addresses import checksummed
from backend.i18n import gettext as _

# ---- integers, as the contracts type them
UINT16 = 2**16 - 1
UINT32 = 2**32 - 1
UINT256 = 2**256 - 1
# Claim and token ids are uint256 on chain, BIGINT in the index: a larger id is in no row.
INDEX_ID_MAX = 2**63 - 1
# The index keeps indicator ids (uint32 on chain) in INTEGER columns, 32-bit signed in
# PostgreSQL: a larger id is in no row, and asking PostgreSQL for it is a DataError.
INDEXED_INDICATOR_MAX = 2**31 - 1

# ---- addresses
ADDRESS_PATTERN = r"^0x[0-9a-fA-F]{40}$"
Address = Annotated[
    str,
    Field(pattern=ADDRESS_PATTERN, description="0x + 40 hex digits: EIP-55 checksummed, or all lowercase"),
    AfterValidator(checksummed),
]

# ---- text the API accepts
# Sizes for text that ends up in calldata and events (the contracts take any length; these keep
# a request's gas and the index's rows bounded).
MAX_URI = 2048
MAX_TEXT = 1024
MAX_DESCRIPTION = 10_000
# A proposal's size, which the relayer pays for when it is proposed (every call's calldata is
# sent, hashed and emitted: about 25 gas a byte) and again when it executes. Before these caps, 20
# recover_member actions of 500 token ids each cost 7.4M gas to propose. Within them, proposing
# costs under 1M gas: 765k for the largest, 16,380 bytes of calldata with a 10,000-character
# description (tests/e2e/test_hostile_governance.py measures it).
MAX_PROPOSAL_ACTIONS = 20
MAX_PROPOSAL_CALLS = 20  # change_settings makes one call per setting, recover_member two with badges
MAX_PROPOSAL_TOKEN_IDS = 500  # badges moved by all the proposal's recover_member actions together
MAX_PROPOSAL_CALLDATA_BYTES = 16_384  # every call's calldata together (500 token ids take 16,000)


def at_most_bytes(field: str, limit: int) -> AfterValidator:
    """The registry's limits are in bytes of UTF-8, not characters."""

    def check(value: str) -> str:
        if len(value.encode()) > limit:
            raise ValueError(_("%(field)s must be at most %(limit)s bytes of UTF-8", field=field, limit=limit))
        return value

    return AfterValidator(check)


# An indicator's or organisation's name, as the registry takes it.
Name = Annotated[str, Field(min_length=1, description="1-64 bytes of UTF-8"), at_most_bytes("name", 64)]

# ---- enums the contracts store as numbers, in the contracts' order
Support = Literal["for", "against", "abstain"]  # as voters read them
SUPPORTS: tuple[Support, ...] = ("against", "for", "abstain")  # GovernorCountingSimple's VoteType order
Orientation = Literal["object", "community"]
ORIENTATIONS: tuple[Orientation, ...] = ("object", "community")  # IIndicatorRegistry.Orientation
ScoreRule = Literal["linear", "square_root"]
SCORE_RULES: tuple[ScoreRule, ...] = ("linear", "square_root")  # IIndicatorRegistry.ScoreRule
MAX_RECIPROCAL_WINDOW = 365 * 86_400  # IndicatorRegistry._MAX_RECIPROCAL_WINDOW


# ---- people: the names members give themselves and their accounts elsewhere (Membership's
# directory). Limits are in characters, as a person counts them; the contract's are in bytes
# (96 for a name, 64 for a handle), which the byte check below keeps within.
MAX_NAME_CHARACTERS = 32
MAX_NAME_BYTES = 96
MAX_HANDLE_BYTES = 64
Site = Literal["github", "gitlab", "drupal", "discourse"]
SITES: tuple[Site, ...] = ("github", "gitlab", "drupal", "discourse")  # IMemberDirectory's sites 1-4
SITE_LABELS: dict[str, str] = {"github": "GitHub", "gitlab": "GitLab", "drupal": "drupal.org", "discourse": "Discourse"}


def _printable(value: str, what: str) -> str:
    """NFC, no surrounding spaces, no control or invisible formatting characters (bidi overrides
    and zero-width joiners make two names look alike)."""
    value = unicodedata.normalize("NFC", value).strip()
    if not value:
        raise ValueError(_("%(what)s must not be empty", what=what))
    for character in value:
        if unicodedata.category(character) in ("Cc", "Cf", "Zl", "Zp"):
            raise ValueError(
                _(
                    "%(what)s must not hold control or invisible characters (%(character)s)",
                    what=what,
                    character=f"U+{ord(character):04X}",
                )
            )
    return value


def person_name(value: str) -> str:
    value = _printable(value, _("a name"))
    if len(value) > MAX_NAME_CHARACTERS or len(value.encode()) > MAX_NAME_BYTES:
        raise ValueError(
            _(
                "a name is at most %(limit)s characters (fewer with emoji); this one is %(length)s",
                limit=MAX_NAME_CHARACTERS,
                length=len(value),
            )
        )
    return value


def handle(value: str) -> str:
    value = _printable(value.removeprefix("@"), _("a user name"))
    if len(value.encode()) > MAX_HANDLE_BYTES:
        raise ValueError(
            _(
                "a user name is at most %(limit)s characters; this one is %(length)s",
                limit=MAX_HANDLE_BYTES,
                length=len(value),
            )
        )
    return value


# A person's display name (a member's, or an invitee's as the inviter typed it).
PersonName = Annotated[str, AfterValidator(person_name), Field(description="1-32 characters")]
# A user name on another site (GitHub login, drupal.org user name, ...), without the @.
Handle = Annotated[str, AfterValidator(handle), Field(description="1-64 characters")]
# The same, where the empty text clears what was set.
NameOrEmpty = Annotated[str, AfterValidator(lambda value: value and person_name(value))]
HandleOrEmpty = Annotated[str, AfterValidator(lambda value: value and handle(value))]


def word_for(words: tuple[str, ...], value: int) -> str:
    """The word for an enum's number as the chain gave it; a number no word has (anyone can put
    any bytes on chain) is shown as the number itself, never an error."""
    return words[value] if 0 <= value < len(words) else str(value)


# ---- a relayed request's life in the outbox: queued (accepted, not yet in a transaction) ->
# sent (in a transaction the node holds) -> succeeded | reverted (its call reverted inside the
# batch: the member's nonce is used) | failed (never executed: the member's nonce is free).
RequestState = Literal["queued", "sent", "succeeded", "reverted", "failed"]
