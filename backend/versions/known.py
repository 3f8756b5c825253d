"""Whether a contract a proposal would move the records to runs code this service knows.

The registry checks only what it can read of the new version: that it names the version in use,
and answers to the same registry and owner. Which code it runs is the voters' choice, and a
contract that merely says the right things could, once the records moved to it, do anything with
them. So the proposal's page tells voters whether the new version's code is one of the badge
contract's versions this service was built with (artifacts/): the service deploys that version's
creation code, in a call that changes nothing (eth_call), with the arguments the candidate says it
was deployed with, and compares the code that would result with the candidate's code on chain.
A contract that lies about its arguments gets different code, so it is not recognised.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

from eth_abi import encode

from backend.chain.addresses import checksum
from backend.chain.deployments import Community
from backend.chain.gateway import ChainGateway
from backend.chain.rpc import RpcError
from backend.errors import DomainError

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
# The versions of the badge contract this service knows: its artifact, and its version number.
KNOWN = (("ContributionBadge", 1), ("ContributionBadgeV2", 2))
# What each version's constructor takes, in order: the badge ABI's view that answers each.
CONSTRUCTOR_VIEWS = (
    ("name", "string"),
    ("symbol", "string"),
    ("membership", "address"),
    ("registry", "address"),
    ("trustedForwarder", "address"),
    ("owner", "address"),
    ("metadata", "address"),
    ("predecessor", "address"),
)


@dataclass(frozen=True)
class CodeCheck:
    """What the page says of a version a proposal would move the records to."""

    address: str
    version: int | None  # the known version whose code it runs; None: code this service does not know
    # Whether the records would move from a version this community used: a first version is named by
    # no one on chain, so a vote could move "from" a look-alike holding made-up records.
    from_ours: bool = True


@functools.cache
def _creation_code(artifact: str) -> bytes:
    record = json.loads((ARTIFACTS / f"{artifact}.json").read_text())
    return bytes.fromhex(record["deploymentBytecode"]["bytecode"].removeprefix("0x"))


def check(gateway: ChainGateway, community: Community, source: str, candidate: str) -> CodeCheck:
    """Whether `candidate` runs one of the known versions' code (the node away is said as unknown),
    and whether `source` is a version of the community's badge contract."""
    ours = checksum(source) in community.badge_versions()
    try:
        return CodeCheck(candidate, _known_version(gateway, candidate), ours)
    except (DomainError, RpcError, ValueError, OSError):
        return CodeCheck(candidate, None, ours)


def _known_version(gateway: ChainGateway, candidate: str) -> int | None:
    code = gateway.rpc.request("eth_getCode", candidate, "latest")
    if code in (None, "0x"):
        return None
    badge = gateway.abi("badge")
    args = []
    for view, _type in CONSTRUCTOR_VIEWS:
        fn = badge.function(view)
        args.append(fn.decode_output(gateway.call(candidate, fn.encode()))[0])
    constructor_args = encode([t for _, t in CONSTRUCTOR_VIEWS], args)
    for artifact, version in KNOWN:
        would_be = gateway.rpc.request(
            "eth_call", {"data": "0x" + (_creation_code(artifact) + constructor_args).hex()}, "latest"
        )
        if would_be.lower() == code.lower():
            return version
    return None
