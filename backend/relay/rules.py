"""The rules a relayed call must meet, applied to the call itself: by prepare to the call it
built, and by submit to the call a member signed (perhaps by hand, with any bytes). One place,
so that what prepare refuses, submit refuses too.

The contracts take strings of any length and any bytes; these rules keep what the relayer pays
for bounded (sizes), keep members' links safe to show (URI schemes), and turn a proposal's
calls back into the API's proposal actions, checked exactly as prepare checks them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from pydantic import TypeAdapter, ValidationError

from backend.chain.deployments import Community
from backend.chain.p256 import public_key
from backend.context import Context
from backend.errors import InvalidRequest, Unprocessable
from backend.i18n import gettext as _
from backend.i18n.validation import validation_message
from backend.proposals import plan as proposals
from backend.proposals.actions import ProposalAction, actions_from_calls
from backend.units import number
from backend.vocabulary import (
    MAX_DESCRIPTION,
    MAX_TEXT,
    MAX_URI,
    SITES,
    handle,
    person_name,
)

_ACTION: TypeAdapter = TypeAdapter(ProposalAction)


def uri_scheme_allowed(uri: str, schemes: frozenset[str]) -> bool:
    """Whether a link is one the service shows as a link: a scheme from the allowed list."""
    try:
        scheme = urlsplit(uri.strip()).scheme.lower()
    except ValueError:
        return False
    return scheme in schemes


def _field_error(field: str, message: str, **extra: Any) -> Unprocessable:
    return Unprocessable(f"{field}: {message}", errors=[{"loc": ["body", field], "msg": message}], **extra)


def _too_long(length: int, limit: int) -> str:
    return _("is %(length)s characters; at most %(limit)s are relayed", length=number(length), limit=number(limit))


def check_uri(ctx: Context, field: str, uri: str, *, required: bool) -> None:
    if not uri:
        if required:
            raise _field_error(field, _("must not be empty"))
        return
    if len(uri) > MAX_URI:
        raise _field_error(field, _too_long(len(uri), MAX_URI))
    schemes = ctx.settings.uri_schemes
    if not uri_scheme_allowed(uri, schemes):
        raise _field_error(
            field,
            _(
                "must be a link with one of the schemes %(schemes)s; %(value)s is not",
                schemes=", ".join(sorted(schemes)),
                value=repr(uri[:60]),
            ),
        )


def check_text(field: str, text: str, limit: int) -> None:
    if len(text) > limit:
        raise _field_error(field, _too_long(len(text), limit))


def check_person_text(field: str, text: str, rule: Callable[[str], str], *, empty_clears: bool) -> None:
    """A name or user name exactly as the member's rule reads it: what a person typed would have
    been trimmed and normalised by prepare, so a signed one that differs was built by hand."""
    if not text and empty_clears:
        return
    try:
        normalised = rule(text)
    except ValueError as exc:
        raise _field_error(field, str(exc)) from exc
    if normalised != text:
        raise _field_error(field, _("must be trimmed and in Unicode NFC, as prepare sends it"))


def check_call(ctx: Context, community: Community, *, target: str, function: str, args: dict[str, Any]) -> None:
    """Refuse (422, 404, 409) a call the relayer must not pay for, naming the field."""
    if (target, function) in (
        ("badge", "claim"),
        ("badge", "nominate"),
        ("badge", "claimWithOrganisation"),
        ("badge", "nominateWithOrganisation"),
    ):
        check_uri(ctx, "evidence_uri", args["evidenceURI"], required=True)
    elif (target, function) == ("governor", "castVoteWithReason"):
        check_text("reason", args["reason"], MAX_TEXT)
    elif (target, function) == ("membership", "setName"):
        check_person_text("name", args["name"], person_name, empty_clears=True)
    elif (target, function) == ("membership", "linkAccount"):
        if not 1 <= args["site"] <= len(SITES):
            raise _field_error("site", _("must be one of %(sites)s", sites=", ".join(SITES)))
        check_person_text("handle", args["handle"], handle, empty_clears=True)
    elif (target, function) == ("account", "addKey"):
        # bytes32 arguments decode as 0x hex.
        public_key(args["qx"], args["qy"])
    elif (target, function) == ("membership", "invite"):
        check_person_text("name", args["name"], person_name, empty_clears=False)
    elif (target, function) == ("governor", "propose"):
        check_text("description", args["description"], MAX_DESCRIPTION)
        check_proposal_calls(ctx, community, args["targets"], args["values"], args["calldatas"])


# ---------------------------------------------------------------------- proposals


def check_proposal_calls(
    ctx: Context, community: Community, targets: list[str], values: list[int], calldatas: list[str]
) -> None:
    """A proposal's calls must be what some list of the API's proposal actions becomes, each
    action valid now: so a proposal signed by hand is held to exactly prepare's rules."""
    if not (len(targets) == len(values) == len(calldatas)) or not targets:
        raise Unprocessable(_("A proposal needs as many targets as values and calldatas, and at least one call"))
    # The size caps first, on the raw calls: nothing bigger is even decoded.
    proposals.check_size([("", bytes.fromhex(c[2:])) for c in calldatas])
    if any(values):
        raise InvalidRequest(_("Proposals relayed here move no ether: every value must be 0"))
    actions = actions_of_calls(ctx, community, targets, calldatas)
    validate_actions(ctx, community, actions, signed=(targets, calldatas))


def validate_actions(ctx: Context, community: Community, actions: list, signed: tuple | None = None) -> list:
    """Check the actions against the chain and one another (proposals.proposal_calls, as
    prepare does) and return their calls; with `signed`, the calls must be exactly the signed ones."""
    calls = proposals.proposal_calls(ctx, community, actions)
    if signed is not None:
        targets, calldatas = signed
        mine = [(community.contracts[key].lower(), "0x" + data.hex()) for key, data in calls]
        theirs = [(t.lower(), c.lower()) for t, c in zip(targets, calldatas)]
        if mine != theirs:
            raise InvalidRequest(
                _(
                    "The proposal's calls are not the ones its actions make (order, or extra arguments): prepare it "
                    "through .../proposals/prepare"
                )
            )
    return calls


def actions_of_calls(ctx: Context, community: Community, targets: list[str], calldatas: list[str]) -> list:
    """The inverse of encoding: the API's actions that make these calls (the actions' table)."""
    decoded: list[tuple[str, str, list]] = []
    for target, calldata in zip(targets, calldatas):
        key = community.key_of(target)
        data = bytes.fromhex(calldata[2:])
        fn = ctx.gateway.abi(key).functions_by_selector.get(data[:4]) if key else None
        if key is None or fn is None:
            raise InvalidRequest(
                _("A proposal call to %(target)s is not one the API's proposal actions make", target=target)
            )
        try:
            args = list(fn.decode_input(data).values())
        except Exception as exc:
            raise InvalidRequest(
                _("A proposal call to %(call)s does not decode: %(why)s", call=f"{key}.{fn.name}", why=exc)
            ) from exc
        decoded.append((key, fn.name, args))
    raw = actions_from_calls(decoded)
    try:
        return [_ACTION.validate_python(action) for action in raw]
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise Unprocessable(
            _("A proposal action is invalid: %(where)s: %(why)s", where=where, why=validation_message(first))
        ) from exc
