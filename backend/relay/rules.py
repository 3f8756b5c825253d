"""The rules a relayed call must meet, applied to the call itself: by prepare to the call it
built, and by submit to the call a member signed (perhaps by hand, with any bytes). One place,
so that what prepare refuses, submit refuses too.

The contracts take strings of any length and any bytes; these rules keep what the relayer pays
for bounded (sizes), keep members' links safe to show (URI schemes), and turn a proposal's
calls back into the API's proposal actions, checked exactly as prepare checks them.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from pydantic import TypeAdapter, ValidationError

from backend.chain.deployments import Community
from backend.context import Context
from backend.errors import InvalidRequest, Unprocessable
from backend.services import proposals
from backend.vocabulary import (
    MAX_DESCRIPTION,
    MAX_TEXT,
    MAX_URI,
    ORIENTATIONS,
    SCORE_RULES,
)

_ACTION: TypeAdapter = TypeAdapter(proposals.ProposalAction)


def uri_scheme_allowed(uri: str, schemes: frozenset[str]) -> bool:
    """Whether a link is one the service shows as a link: a scheme from the allowed list."""
    try:
        scheme = urlsplit(uri.strip()).scheme.lower()
    except ValueError:
        return False
    return scheme in schemes


def _field_error(field: str, message: str, **extra: Any) -> Unprocessable:
    return Unprocessable(f"{field}: {message}", errors=[{"loc": ["body", field], "msg": message}], **extra)


def check_uri(ctx: Context, field: str, uri: str, *, required: bool) -> None:
    if not uri:
        if required:
            raise _field_error(field, "must not be empty")
        return
    if len(uri) > MAX_URI:
        raise _field_error(field, f"is {len(uri):,} characters; at most {MAX_URI:,} are relayed")
    schemes = ctx.settings.uri_schemes
    if not uri_scheme_allowed(uri, schemes):
        raise _field_error(field, f"must be a link with one of the schemes {', '.join(sorted(schemes))}; "
                                  f"{uri[:60]!r} is not")


def check_text(field: str, text: str, limit: int) -> None:
    if len(text) > limit:
        raise _field_error(field, f"is {len(text):,} characters; at most {limit:,} are relayed")


def check_call(ctx: Context, community: Community, *, target: str, function: str, args: dict[str, Any]) -> None:
    """Refuse (422, 404, 409) a call the relayer must not pay for, naming the field."""
    if (target, function) in (("badge", "claim"), ("badge", "nominate"), ("badge", "claimWithOrganisation"),
                              ("badge", "nominateWithOrganisation")):
        check_uri(ctx, "evidence_uri", args["evidenceURI"], required=True)
    elif (target, function) == ("governor", "castVoteWithReason"):
        check_text("reason", args["reason"], MAX_TEXT)
    elif (target, function) == ("governor", "propose"):
        check_text("description", args["description"], MAX_DESCRIPTION)
        check_proposal_calls(ctx, community, args["targets"], args["values"], args["calldatas"])


# ---------------------------------------------------------------------- proposals


def check_proposal_calls(ctx: Context, community: Community, targets: list[str], values: list[int],
                         calldatas: list[str]) -> None:
    """A proposal's calls must be what some list of the API's proposal actions becomes, each
    action valid now: so a proposal signed by hand is held to exactly prepare's rules."""
    if not (len(targets) == len(values) == len(calldatas)) or not targets:
        raise Unprocessable("A proposal needs as many targets as values and calldatas, and at least one call")
    # The size caps first, on the raw calls: nothing bigger is even decoded.
    proposals.check_size([("", bytes.fromhex(c[2:])) for c in calldatas])
    if any(values):
        raise InvalidRequest("Proposals relayed here move no ether: every value must be 0")
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
            raise InvalidRequest("The proposal's calls are not the ones its actions make (order, or extra "
                                 "arguments): prepare it through .../proposals/prepare")
    return calls


def _orientation(value: int) -> str:
    if not 0 <= value < len(ORIENTATIONS):
        raise Unprocessable(f"orientation {value} is neither object (0) nor community (1)")
    return ORIENTATIONS[value]


def _indicator_fields(raw: list) -> dict[str, Any]:
    (name, description_uri, category, orientation, weight, endorsements, validity, endorser, earn_cap, attest_cap,
     cap_period) = raw
    return {"name": name, "description_uri": description_uri, "category": category,
            "orientation": _orientation(orientation), "weight": weight, "endorsements_required": endorsements,
            "validity_seconds": validity, "endorser_indicator_id": endorser, "earn_cap": earn_cap,
            "attest_cap": attest_cap, "cap_period_seconds": cap_period}


# change_settings makes these calls, in this order (proposals.calls_for).
_SETTINGS = {"setVotingDelay": "voting_delay_seconds", "setVotingPeriod": "voting_period_seconds",
             "setProposalThreshold": "proposal_threshold", "updateQuorumNumerator": "quorum_percent"}
_SETTINGS_ORDER = list(_SETTINGS.values())


def actions_of_calls(ctx: Context, community: Community, targets: list[str], calldatas: list[str]) -> list:
    """The inverse of proposals.calls_for: the API's actions that make these calls."""
    raw: list[dict[str, Any]] = []
    for target, calldata in zip(targets, calldatas):
        key = community.key_of(target)
        data = bytes.fromhex(calldata[2:])
        fn = ctx.gateway.abi(key).functions_by_selector.get(data[:4]) if key else None
        if fn is None:
            raise InvalidRequest(f"A proposal call to {target} is not one the API's proposal actions make")
        try:
            args = list(fn.decode_input(data).values())
        except Exception as exc:
            raise InvalidRequest(f"A proposal call to {key}.{fn.name} does not decode: {exc}") from exc
        name = (key, fn.name)
        if name == ("registry", "addIndicator"):
            raw.append({"type": "add_indicator", **_indicator_fields(args[0])})
        elif name == ("registry", "amendIndicator"):
            raw.append({"type": "amend_indicator", "indicator_id": args[0], **_indicator_fields(args[1])})
        elif name == ("registry", "retireIndicator"):
            raw.append({"type": "retire_indicator", "indicator_id": args[0]})
        elif name == ("registry", "addOrganisation"):
            raw.append({"type": "add_organisation", "name": args[0], "identifier": args[1]})
        elif name == ("registry", "retireOrganisation"):
            raw.append({"type": "retire_organisation", "organisation_id": args[0]})
        elif name == ("registry", "setCommunityRules"):
            if args[1] >= len(SCORE_RULES):
                raise Unprocessable(f"score rule {args[1]} is neither linear (0) nor square root (1)")
            raw.append({"type": "set_community_rules", "reciprocal_window_seconds": args[0],
                        "score_rule": SCORE_RULES[args[1]]})
        elif name == ("membership", "admit"):
            raw.append({"type": "admit_member", "account": args[0]})
        elif name == ("membership", "remove"):
            raw.append({"type": "remove_member", "account": args[0]})
        elif name == ("membership", "recover"):
            raw.append({"type": "recover_member", "lost": args[0], "replacement": args[1]})
        elif name == ("badge", "recoverBadges") and raw and raw[-1]["type"] == "recover_member" \
                and (raw[-1]["lost"], raw[-1]["replacement"]) == (args[0], args[1]) and "token_ids" not in raw[-1]:
            raw[-1]["token_ids"] = list(args[2])
        elif name == ("badge", "revoke"):
            raw.append({"type": "revoke_badge", "token_id": args[0], "reason": args[1]})
        elif key == "governor" and fn.name in _SETTINGS:
            field = _SETTINGS[fn.name]
            previous = raw[-1] if raw and raw[-1]["type"] == "change_settings" else None
            # One action's calls come in _SETTINGS_ORDER; a field at or before the last one starts another.
            if previous is None or _SETTINGS_ORDER.index(field) <= max(
                    _SETTINGS_ORDER.index(f) for f in previous if f != "type"):
                previous = {"type": "change_settings"}
                raw.append(previous)
            previous[field] = args[0]
        else:
            raise InvalidRequest(f"A proposal calling {key}.{fn.name} is not one the API's proposal actions make")
    try:
        return [_ACTION.validate_python(action) for action in raw]
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise Unprocessable(f"A proposal action is invalid: {where}: {first['msg']}") from exc

