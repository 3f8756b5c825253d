"""Signature abuse, refused twice: by the API before anything is sent (problem+json naming
what is wrong; the relayer's nonce, the head block and the index do not move), and by the
chain when the same request is sent straight to a forwarder in a raw transaction from another
account (it reverts with the forwarder's custom error; the signer's nonce and delegate do not
change).

Two chains with different ids carry the same community at the same addresses (the same
script deployed by the same account); chain A also carries a second community, 'wiki', whose
forwarder is "another contract". The signed action is a delegation: it needs no indicator.
"""

from __future__ import annotations

import concurrent.futures
import copy
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import to_checksum_address

from backend.chain.abi import ErrorDecoder
from backend.chain.deployments import Deployments
from backend.chain.typed_data import SECP256K1_N, forward_request_struct, forward_request_typed_data
from backend.client import CommunityClient
from backend.settings import ANVIL_DEV_KEYS
from devstack.stack import (
    ANVIL_HARDFORK,
    ROOT,
    Anvil,
    Server,
    deploy,
    rpc,
    second_community_params,
    service_env,
    wait_until,
)
from tests.e2e.conftest import ALICE, BOB, CAROL, OUTSIDER, address

ERIN, FRANK = ANVIL_DEV_KEYS[5], ANVIL_DEV_KEYS[6]
SENDER = ANVIL_DEV_KEYS[9]  # sends the raw transactions to the forwarders: not the relayer, not a member
RELAYER = Account.from_key(ANVIL_DEV_KEYS[0]).address
ZERO = "0x0000000000000000000000000000000000000000"


class ChainAnvil(Anvil):
    """The harness's Anvil with a chain id of our choosing."""

    def __init__(self, workdir: Path, chain_id: int) -> None:
        super().__init__(workdir)
        self.chain_id = chain_id

    def start(self) -> None:
        command = [
            str(ROOT / ".venv" / "bin" / "anvil") if (ROOT / ".venv/bin/anvil").exists() else "anvil",
            "--port",
            str(self.port),
            "--hardfork",
            ANVIL_HARDFORK,
            "--chain-id",
            str(self.chain_id),
            "--state",
            str(self.state),
        ]
        self.process = subprocess.Popen(command, stdout=self.log.open("a"), stderr=subprocess.STDOUT)
        wait_until(lambda: rpc(self.url, "eth_chainId"), what="anvil")


@dataclass
class Chain:
    anvil: ChainAnvil
    server: Server
    deployments: Deployments
    errors: ErrorDecoder

    def api(self, slug: str = "example") -> CommunityClient:
        return CommunityClient(self.server.url, slug)

    def contracts(self, slug: str = "example") -> dict[str, str]:
        return self.deployments.communities[slug].contracts

    def call(self, to: str, data: bytes, sender: str | None = None) -> bytes:
        tx = {"to": to, "data": "0x" + data.hex(), **({"from": sender} if sender else {})}
        return bytes.fromhex(rpc(self.anvil.url, "eth_call", tx, "latest")[2:])

    def read(self, key: str, function: str, *args, slug: str = "example"):
        fn = self.deployments.abis[key].function(function)
        values = fn.decode_output(self.call(self.contracts(slug)[key], fn.encode(*args)))
        return tuple(to_checksum_address(v) if isinstance(v, str) and len(v) == 42 else v for v in values)


def delayed(folder: Path) -> Path:
    """The example community's founding file, with the hour's delay a chain other than 31337 needs."""
    params = json.loads((ROOT / "communities" / "example.json").read_text())
    path = folder / "example-delayed.json"
    path.write_text(json.dumps({**params, "timelock_delay_seconds": 3_600}))
    return path


@pytest.fixture(scope="module")
def chains(tmp_path_factory):
    """Chain A (id 31337: 'example' and 'wiki') and chain B (id 1337: 'example' at the same
    addresses), each served by its own API."""
    started: list = []
    built = {}

    def build(name: str, chain_id: int, extra_community: bool) -> Chain:
        workdir = tmp_path_factory.mktemp(f"signatures-{name}")
        anvil = ChainAnvil(workdir, chain_id)
        anvil.start()
        started.append(anvil)
        # Chain B's id is not a local chain's (31337), so its timelock must wait an hour at least; both
        # chains get the same founding file, so that the same deploy gives the same addresses.
        deployments = deploy(anvil, workdir / "deployments", params=delayed(workdir))
        if extra_community:
            deploy(
                anvil, workdir / "deployments", params=second_community_params(workdir, [address(ERIN), address(FRANK)])
            )
        server = Server(service_env(anvil, deployments, f"sqlite:///{workdir / 'index.sqlite3'}"), workdir / "api.log")
        server.start()
        started.append(server)
        loaded = Deployments.load(deployments)
        return Chain(anvil, server, loaded, ErrorDecoder(loaded.abis.values()))

    try:
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            a = pool.submit(build, "a", 31337, True)
            b = pool.submit(build, "b", 1337, False)
            built["a"], built["b"] = a.result(), b.result()
        yield built
    finally:
        for process in reversed(started):
            process.stop()


@pytest.fixture
def a(chains) -> Chain:
    return chains["a"]


@pytest.fixture
def b(chains) -> Chain:
    return chains["b"]


# ---------------------------------------------------------------------------------- helpers


def delegation(chain: Chain, key: str, delegatee: str, slug: str = "example") -> dict:
    """Typed data for `key` to delegate to `delegatee`, as the chain's API prepares it."""
    return chain.api(slug).prepare("delegations", signer=address(key), delegatee=delegatee)["typed_data"]


def sign(key: str, typed: dict) -> str:
    return CommunityClient.sign(key, typed)


def submit(chain: Chain, typed: dict, signature: str, slug: str = "example"):
    """POST the signed request to the chain's API; the raw response."""
    return chain.api(slug).http.post(
        f"/communities/{slug}/delegations", json={"typed_data": typed, "signature": signature}
    )


def snapshot(chain: Chain, signer: str) -> dict:
    """Everything a refused request must leave as it was: the chain's head, the relayer's
    nonce, the signer's forwarder nonce and delegate on chain, and the index's view."""
    url = chain.anvil.url
    member = chain.api().get(f"/members/{signer}") if chain.read("membership", "isMember", signer)[0] else None
    return {
        "head": rpc(url, "eth_blockNumber"),
        "relayer_nonce": rpc(url, "eth_getTransactionCount", RELAYER, "latest"),
        "forwarder_nonce": chain.read("forwarder", "nonces", signer)[0],
        "delegate": chain.read("membership", "delegates", signer)[0],
        "indexed": member,
    }


def refused_by_api(
    chain: Chain, typed: dict, signature: str, status: int, error: str | None, fragment: str, slug: str = "example"
) -> dict:
    """Submits and asserts a problem+json refusal that sent nothing and recorded nothing."""
    signer = typed["message"]["from"]
    before = snapshot(chain, signer)
    response = submit(chain, typed, signature, slug)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    if error is not None:
        assert problem.get("error") == error, problem
    assert fragment in problem["detail"], problem["detail"]
    assert snapshot(chain, signer) == before, "a refused request reached the chain or the index"
    return problem


def refused_on_chain(chain: Chain, typed: dict, signature: str, error: str, forwarder: str | None = None) -> dict:
    """Sends forwarder.execute(request) in a raw transaction from another account: it reverts
    with `error` and changes nothing. Returns the error's arguments."""
    signer = typed["message"]["from"]
    forwarder = forwarder or chain.contracts()["forwarder"]
    data = (
        chain.deployments.abis["forwarder"]
        .function("execute")
        .encode(forward_request_struct(typed, bytes.fromhex(signature[2:])))
    )
    sender = Account.from_key(SENDER)
    # What the forwarder says, by name (eth_call), then the transaction itself, mined and reverted.
    with pytest.raises(RuntimeError) as reverted:
        rpc(chain.anvil.url, "eth_call", {"from": sender.address, "to": forwarder, "data": "0x" + data.hex()}, "latest")
    name, args = chain.errors.decode(bytes.fromhex(reverted.value.args[0]["data"][2:]))
    assert name == error, (name, args)
    before = snapshot(chain, signer)
    gas_price = int(rpc(chain.anvil.url, "eth_gasPrice"), 16)
    raw = sender.sign_transaction(
        {
            "type": 2,
            "chainId": chain.anvil.chain_id,
            "to": forwarder,
            "data": data,
            "value": 0,
            "gas": 1_000_000,
            "nonce": int(rpc(chain.anvil.url, "eth_getTransactionCount", sender.address, "pending"), 16),
            "maxFeePerGas": 2 * gas_price + 10**9,
            "maxPriorityFeePerGas": 10**9,
        }
    ).raw_transaction
    tx_hash = rpc(chain.anvil.url, "eth_sendRawTransaction", "0x" + raw.hex())
    receipt = rpc(chain.anvil.url, "eth_getTransactionReceipt", tx_hash)
    assert int(receipt["status"], 16) == 0, "the forwarder executed a request it should refuse"
    after = snapshot(chain, signer)
    assert int(after["head"], 16) == int(before["head"], 16) + 1  # only the reverted transaction was mined
    assert {k: v for k, v in after.items() if k != "head"} == {k: v for k, v in before.items() if k != "head"}
    return args


def accepted_by_chain(chain: Chain, typed: dict, signature: str, forwarder: str | None = None) -> None:
    """Control: the request as signed would execute on the chain it was signed for."""
    data = (
        chain.deployments.abis["forwarder"]
        .function("execute")
        .encode(forward_request_struct(typed, bytes.fromhex(signature[2:])))
    )
    chain.call(forwarder or chain.contracts()["forwarder"], data, Account.from_key(SENDER).address)


# ---------------------------------------------------------------------------------- cases


def test_replayed_request(a):
    typed = delegation(a, ALICE, address(BOB))
    signature = sign(ALICE, typed)
    first = submit(a, typed, signature).json()
    assert first["status"] == "succeeded"
    assert a.read("membership", "delegates", address(ALICE))[0] == address(BOB)
    # The same signed request again is the one accepted before (submitting is idempotent):
    # answered with it, and nothing sent or recorded.
    before = snapshot(a, address(ALICE))
    again = submit(a, typed, signature)
    assert again.status_code == 200 and (again.json()["request_id"], again.json()["tx_hash"]) == (
        first["request_id"],
        first["tx_hash"],
    )
    assert snapshot(a, address(ALICE)) == before
    # On chain the nonce has moved on, so the signature no longer recovers to the signer.
    args = refused_on_chain(a, typed, signature, "ERC2771ForwarderInvalidSigner")
    assert args["from"] == address(ALICE) and args["signer"] != address(ALICE)


def test_expired_deadline(a):
    typed = delegation(a, CAROL, address(BOB))
    head_time = int(rpc(a.anvil.url, "eth_getBlockByNumber", "latest", False)["timestamp"], 16)
    typed["message"]["deadline"] = head_time - 10
    signature = sign(CAROL, typed)
    refused_by_api(a, typed, signature, 422, "ERC2771ForwarderExpiredRequest", "expired")
    args = refused_on_chain(a, typed, signature, "ERC2771ForwarderExpiredRequest")
    assert args["deadline"] == head_time - 10


def test_signed_for_chain_b_submitted_to_chain_a(a, b):
    assert a.contracts() == b.contracts(), "the same script and deployer gave the same addresses"
    typed = delegation(b, CAROL, address(ALICE))
    signature = sign(CAROL, typed)
    accepted_by_chain(b, typed, signature)  # valid where it was signed
    refused_by_api(a, typed, signature, 400, None, "signed for chain 1337; this is chain 31337")
    args = refused_on_chain(a, typed, signature, "ERC2771ForwarderInvalidSigner")
    assert args["signer"] != address(CAROL)


def test_signed_for_chain_a_submitted_to_chain_b(a, b):
    typed = delegation(a, CAROL, address(ALICE))
    signature = sign(CAROL, typed)
    accepted_by_chain(a, typed, signature)
    refused_by_api(b, typed, signature, 400, None, "signed for chain 31337; this is chain 1337")
    args = refused_on_chain(b, typed, signature, "ERC2771ForwarderInvalidSigner")
    assert args["signer"] != address(CAROL)


def test_signed_for_another_communitys_forwarder(a):
    wiki = a.contracts("wiki")
    assert wiki["forwarder"] != a.contracts()["forwarder"]
    # Erin's request to wiki, valid there, submitted to 'example'.
    typed = delegation(a, ERIN, address(FRANK), slug="wiki")
    signature = sign(ERIN, typed)
    accepted_by_chain(a, typed, signature, wiki["forwarder"])
    refused_by_api(a, typed, signature, 400, None, f"not this community's ({a.contracts()['forwarder']})")
    # example's forwarder: wiki's membership does not trust it.
    refused_on_chain(a, typed, signature, "ERC2771UntrustfulTarget")
    # Alice's request to example's membership, but signed for wiki's forwarder (verifyingContract).
    typed = delegation(a, ALICE, address(CAROL))
    typed["domain"]["verifyingContract"] = wiki["forwarder"]
    signature = sign(ALICE, typed)
    refused_by_api(a, typed, signature, 400, None, f"signed for forwarder {wiki['forwarder']}")
    refused_on_chain(a, typed, signature, "ERC2771ForwarderInvalidSigner")  # example's forwarder: other domain
    refused_on_chain(a, typed, signature, "ERC2771UntrustfulTarget", wiki["forwarder"])  # wiki's: untrusted target


def test_non_member(a):
    outsider = address(OUTSIDER)
    # The API will not prepare it; the outsider builds the typed data alone, with a valid nonce and deadline.
    prepared = a.api().http.post(
        "/communities/example/delegations/prepare", json={"signer": outsider, "delegatee": address(ALICE)}
    )
    assert (prepared.status_code, prepared.json()["error"]) == (403, "MembershipNotMember")
    head_time = int(rpc(a.anvil.url, "eth_getBlockByNumber", "latest", False)["timestamp"], 16)
    contracts = a.contracts()
    typed = forward_request_typed_data(
        chain_id=31337,
        forwarder=contracts["forwarder"],
        sender=outsider,
        target=contracts["membership"],
        data=a.deployments.abis["membership"].function("delegate").encode(address(ALICE)),
        nonce=a.read("forwarder", "nonces", outsider)[0],
        deadline=head_time + 600,
        gas=200_000,
    )
    signature = sign(OUTSIDER, typed)
    refused_by_api(a, typed, signature, 403, "MembershipNotMember", "is not a member of this community")
    # The signature is valid, so the forwarder makes the call; the membership reverts it, and so
    # does execute (FailedCall): the outsider's nonce is not even used.
    refused_on_chain(a, typed, signature, "FailedCall")


@pytest.mark.parametrize("field", ["data", "gas", "deadline", "to"])
def test_tampered_field(a, field):
    typed = delegation(a, BOB, address(CAROL))
    signature = sign(BOB, typed)
    tampered = copy.deepcopy(typed)
    message = tampered["message"]
    if field == "data":  # delegate to the outsider instead
        message["data"] = "0x" + a.deployments.abis["membership"].function("delegate").encode(address(OUTSIDER)).hex()
    elif field == "to":  # same call, another of the community's contracts
        message["to"] = a.contracts()["badge"]
    else:
        message[field] += 1
    accepted_by_chain(a, typed, signature)
    if field == "to":
        problem = refused_by_api(a, tampered, signature, 400, None, "calls an unknown function of badge")
    else:
        problem = refused_by_api(
            a, tampered, signature, 403, "ERC2771ForwarderInvalidSigner", "not by the request's signer"
        )
    assert problem["type"] in ("/problems/invalid-signature", "/problems/invalid-request")
    args = refused_on_chain(a, tampered, signature, "ERC2771ForwarderInvalidSigner")
    assert args["from"] == address(BOB) and args["signer"] != address(BOB)


def _malleable(signature: str) -> str:
    """The same signature's other half: s' = n - s, v flipped. Recovers the same signer off-chain."""
    raw = bytes.fromhex(signature[2:])
    s = int.from_bytes(raw[32:64], "big")
    return "0x" + (raw[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - raw[64]])).hex()


def test_malleable_high_s_signature(a):
    typed = delegation(a, BOB, address(ALICE))
    signature = sign(BOB, typed)
    high_s = _malleable(signature)
    recovered = Account.recover_message(encode_typed_data(full_message=typed), signature=bytes.fromhex(high_s[2:]))
    assert recovered == address(BOB), "eth-account accepts it: only the API's own check stops it"
    refused_by_api(a, typed, high_s, 403, "ECDSAInvalidSignatureS", "in the upper half of the curve order")
    # OpenZeppelin's ECDSA refuses to recover from it: the forwarder reports signer 0.
    args = refused_on_chain(a, typed, high_s, "ERC2771ForwarderInvalidSigner")
    assert (args["signer"], args["from"]) == (ZERO, address(BOB))
    # v as 0/1 (some wallets' convention) is refused the same way, before sending.
    raw = bytes.fromhex(signature[2:])
    v01 = "0x" + (raw[:64] + bytes([raw[64] - 27])).hex()
    refused_by_api(a, typed, v01, 403, "ECDSAInvalidSignature", "27 or 28")
    args = refused_on_chain(a, typed, v01, "ERC2771ForwarderInvalidSigner")
    assert args["signer"] == ZERO
    # The low-s original still works: nothing was consumed by the refusals.
    assert submit(a, typed, signature).json()["status"] == "succeeded"
