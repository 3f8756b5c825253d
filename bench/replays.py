"""What a relay check's simulation costs the node, by how the member's requests in flight are
replayed ahead of the new one (backend/relay/simulation.py).

Run: `python -m bench.replays [--in-flight 8] [--runs 300]`. Starts its own Anvil, deploys, admits
the members of bench/api.py, signs a member's claims, and simulates the last of them (as the
relayer sends it: forwarder.execute) behind the others, on one kept-alive connection, each way:

- through the forwarder: each request in flight in its own executeBatch, as the relayer sends it;
- alone: each as the forwarder's call to its target (the signer appended), in a second block
  whose state override sets the member's nonce past them (what the service does for requests
  signed by the member's key);
- none: the request alone, its nonce set by the override (the floor, not a check: it would miss
  what the requests in flight change);
- the nonce read alone, and a head read (eth_getBlockByNumber): the fixed costs of a check;
- the request alone in one block (no nonce read before it): what the nonce read's block adds;
- state carried instead of replays: the requests in flight traced once each
  (`debug_traceCall`, prestateTracer in diff mode) and their writes set by a state override, then
  the request simulated, and its call traced for the next check to carry its writes too: what a
  check of a member with `relay_carry_from` or more in flight did before its trace was paid
  (backend/relay/carried.py), flat however many are in flight; it prints what each part costs;
- state carried, the request traced as the relayer sends it, its gas paid: what such a check does
  once every request held is carried, its trace answering it instead of a simulation (with no
  nonce read: simulation._as_simulated).

Prints Anvil's CPU (from /proc) per simulation and per replayed request, each way, beside the floor.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from backend.chain.deployments import Deployments
from backend.chain.typed_data import execute_batch_calldata, execute_calldata, forward_request_struct
from backend.client import CommunityClient
from backend.relay import carried as carrying
from backend.relay.simulation import nonce_slot
from bench.api import KEYS, addr, cpu_seconds, setup_community
from bench.writes import evidence, member_nonce, signed_claims
from devstack.stack import UNTHROTTLED, Anvil, Server, deploy, service_env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--in-flight", type=int, default=8, help="the member's requests in flight, replayed")
    parser.add_argument("--runs", type=int, default=300, help="simulations timed each way")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-replays-"))
    anvil = Anvil(work)
    anvil.start()
    try:
        deployments_path = deploy(anvil, work / "deployments")
        deployments = Deployments.load(deployments_path)
        server = Server(
            {**service_env(anvil, deployments_path, f"sqlite:///{work / 'index.sqlite3'}"), **UNTHROTTLED},
            work / "api.log",
        )
        server.start()
        try:
            api = CommunityClient(server.url)
            indicator = setup_community(api, anvil)
            key, member = KEYS[0], addr(KEYS[0])
            template = api.prepare("claims", signer=member, indicator_id=indicator, evidence_uri=evidence(0, 0))
        finally:
            server.stop()
        community = next(iter(deployments.communities.values()))
        forwarder = community.contracts["forwarder"]
        relayer = "0x" + "ee" * 20  # any sender: eth_simulateV1 without validation pays nothing
        nonce = member_nonce(anvil.url, deployments, member)
        uris = [evidence(0, i) for i in range(args.in_flight + 1)]
        signed = [
            forward_request_struct(t, s)
            for t, s in signed_claims(deployments, template["typed_data"], key, nonce, indicator, uris)
        ]
        flying, new = signed[:-1], signed[-1]
        target = urlsplit(anvil.url)
        connection = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port)

        def call(method: str, *params: object) -> object:
            body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
            connection.request("POST", "/", body, {"Content-Type": "application/json"})
            answer = json.loads(connection.getresponse().read())
            assert "result" in answer, answer
            return answer["result"]

        head = call("eth_getBlockByNumber", "latest", False)
        number, clock = int(head["number"], 16), int(head["timestamp"], 16)
        nonces = deployments.abis["forwarder"].function("nonces").encode(member)
        nonce_read = {"to": forwarder, "data": "0x" + nonces.hex(), "gas": hex(50_000)}
        past = {forwarder: {"stateDiff": {nonce_slot(member): "0x" + (nonce + len(flying)).to_bytes(32, "big").hex()}}}
        relayed = {"from": relayer, "to": forwarder, "data": "0x" + execute_calldata(new).hex(), "gas": hex(3_000_000)}

        def through(struct: tuple) -> dict:
            data = execute_batch_calldata([struct], relayer)
            return {"from": relayer, "to": forwarder, "data": "0x" + data.hex(), "gas": hex(3_000_000)}

        def alone(struct: tuple) -> dict:
            return {
                "from": forwarder,
                "to": struct[1],
                "data": "0x" + (struct[5] + bytes.fromhex(member[2:])).hex(),
                "gas": hex(struct[3]),
            }

        def block(offset: int, calls: list, overrides: dict | None = None) -> dict:
            out = {
                "blockOverrides": {"number": hex(number + offset), "time": hex(clock + offset), "gasLimit": hex(10**9)},
                "calls": calls,
            }
            return {**out, "stateOverrides": overrides} if overrides else out

        def simulate(*blocks: dict) -> list:
            return call("eth_simulateV1", {"blockStateCalls": list(blocks), "validation": False}, hex(number))  # type: ignore[return-value]

        ways = {
            "through the forwarder (as before)": lambda: simulate(
                block(1, [nonce_read, *map(through, flying), relayed])
            ),
            "alone, nonce set past them (now)": lambda: simulate(
                block(1, [nonce_read]), block(2, [*map(alone, flying), relayed], past)
            ),
            "none: the request alone (the floor)": lambda: simulate(block(1, [nonce_read]), block(2, [relayed], past)),
            "the nonce read alone": lambda: simulate(block(1, [nonce_read])),
            "a head read (eth_getBlockByNumber)": lambda: [call("eth_getBlockByNumber", "latest", False)],
        }

        # State carried: each request in flight traced once, on the writes of those before it.
        def traced(tx: dict, overrides: dict) -> dict:
            options = {
                "tracer": "prestateTracer",
                "tracerConfig": {"diffMode": True, "disableCode": True},
                "blockOverrides": {"number": hex(number + 1), "time": hex(clock + 1), "gasLimit": hex(10**9)},
            }
            return call(
                "debug_traceCall", tx, hex(number), {**options, "stateOverrides": overrides} if overrides else options
            )  # type: ignore[return-value]

        carried: dict[str, dict] = {}
        for struct in flying:
            trace = traced(through(struct), carried)
            for account, after in trace["post"].items():
                written = carried.setdefault(account, {"stateDiff": {}})["stateDiff"]
                before = (trace["pre"].get(account) or {}).get("storage") or {}
                # A slot written back to zero is in `pre` and left out of `post`.
                written.update({slot: "0x" + "00" * 32 for slot in before if slot not in (after.get("storage") or {})})
                written.update(after.get("storage") or {})
        judged_on_carried = simulate(block(1, [relayed], carried))[-1]["calls"][-1]
        assert int(judged_on_carried["status"], 16) == 1, judged_on_carried  # the state carried holds its nonce
        ways["the request alone, in one block (no nonce read)"] = lambda: simulate(block(1, [relayed], past))
        # As a check did before its trace was paid: the nonce read, the request on the state carried,
        # and the request's own call traced (the forwarder's call to its target) to carry its writes.
        ways["state carried: the request simulated on it"] = lambda: simulate(
            block(1, [nonce_read]), block(2, [relayed], carried)
        )
        ways["state carried: the request traced, to carry its own"] = lambda: [traced(alone(new), carried)]
        paid = {**relayed, "gasPrice": hex(carrying.TRACE_GAS_PRICE)}
        paying = {**carried, relayer: {"balance": hex(carrying.TRACE_BALANCE)}}

        def paid_trace() -> dict:
            options = {
                "tracer": "prestateTracer",
                "tracerConfig": {"diffMode": True, "disableCode": True},
                "blockOverrides": {"number": hex(number + 1), "time": hex(clock + 1), "baseFeePerGas": hex(1)},
                "stateOverrides": paying,
            }
            return call("debug_traceCall", paid, hex(number), options)  # type: ignore[return-value]

        answer = paid_trace()
        judged = simulate(block(1, [relayed], carried))[-1]["calls"][-1]
        spent = int(answer["pre"][relayer]["balance"], 16) - int(answer["post"][relayer]["balance"], 16)
        assert spent == int(judged["gasUsed"], 16), (spent, judged)  # the gas paid is the gas simulated
        ways["state carried: the request traced, its gas paid"] = lambda: [paid_trace()]
        for name, way in list(ways.items())[:3]:
            last = way()[-1]["calls"][-1]
            assert int(last["status"], 16) == 1 and last["returnData"] in ("0x", ""), (name, last)
        cpu: dict[str, float] = {}
        for _ in range(2):  # alternated, the lower of two rounds
            for name, way in ways.items():
                before = cpu_seconds(anvil.process.pid)  # type: ignore[union-attr]
                for _ in range(args.runs):
                    way()
                spent = (cpu_seconds(anvil.process.pid) - before) * 1000 / args.runs  # type: ignore[union-attr]
                cpu[name] = min(cpu.get(name, spent), spent)
        connection.close()
    finally:
        anvil.stop()
    floor = cpu["none: the request alone (the floor)"]
    carried = (
        cpu["state carried: the request simulated on it"] + cpu["state carried: the request traced, to carry its own"]
    )
    print(
        f"\n== Anvil's CPU per relay check's simulation, {args.in_flight} requests in flight "
        f"({args.runs} each, the lower of two rounds) =="
    )
    for name, spent in cpu.items():
        per = (
            f"{(spent - floor) / args.in_flight:6.3f} ms a replayed request"
            if name.startswith(("through", "alone"))
            else ""
        )
        print(f"{name:52} {spent:6.3f} ms  {per}")
    alone = cpu["alone, nonce set past them (now)"]
    print(
        f"A check with state carried (simulated, then traced): {carried:.3f} ms, against {alone:.3f} ms replaying "
        f"the {args.in_flight} in flight alone: {carried / alone:.2f}x"
    )
    paid = cpu["state carried: the request traced, its gas paid"]
    print(
        f"With every request held carried, its trace paid answering it: {paid:.3f} ms, against {carried:.3f} ms "
        f"simulated, then traced: {paid / carried:.2f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
