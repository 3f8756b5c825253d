"""One service, several communities: each deployment is served under its own slug, with its
own members and records; the top level answers only when a single community is served."""

from __future__ import annotations

import json
from pathlib import Path

from backend.client import CommunityClient
from backend.settings import ANVIL_DEV_KEYS
from tests.e2e.conftest import ALICE, address
from tests.e2e.harness import ROOT, Anvil, Server, deploy

ERIN, FRANK = ANVIL_DEV_KEYS[5], ANVIL_DEV_KEYS[6]


def _second_community(folder: Path) -> Path:
    params = json.loads((ROOT / "communities" / "example.json").read_text())
    params.update(slug="wiki", name="Wiki Commons", symbol="WIKI", founders=[address(ERIN), address(FRANK)])
    path = folder / "wiki.json"
    path.write_text(json.dumps(params))
    return path


def test_two_communities_on_one_chain_are_served_apart(tmp_path):
    anvil = Anvil(tmp_path)
    anvil.start()
    server = None
    try:
        deployments = deploy(anvil, tmp_path / "deployments")
        deploy(anvil, tmp_path / "deployments", params=_second_community(tmp_path))
        server = Server({"CC_RPC_URL": anvil.url, "CC_DEPLOYMENTS_FILE": str(deployments),
                         "DATABASE_URL": f"sqlite:///{tmp_path / 'index.sqlite3'}", "CC_INDEX_POLL_SECONDS": "0.2"},
                        tmp_path / "api.log")
        server.start()
        example, wiki = CommunityClient(server.url, "example"), CommunityClient(server.url, "wiki")

        listed = example.http.get("/communities").json()
        assert sorted(c["slug"] for c in listed) == ["example", "wiki"]
        assert listed[0]["contracts"]["governor"] != listed[1]["contracts"]["governor"]
        assert {m["address"] for m in wiki.get("/members")["items"]} == {address(ERIN), address(FRANK)}
        assert address(ALICE) in {m["address"] for m in example.get("/members")["items"]}

        # A member of one community is nobody in the other.
        refused = wiki.http.post("/communities/wiki/delegations/prepare",
                                 json={"signer": address(ALICE), "delegatee": address(ERIN)})
        assert refused.status_code == 403, refused.text
        wiki.act("delegations", ERIN, delegatee=address(FRANK))
        assert wiki.get(f"/members/{address(FRANK)}")["votes"] == 2
        assert example.get(f"/members/{address(ALICE)}")["votes"] == 1

        # With two communities, the top level asks which one.
        top = example.http.get("/members")
        assert top.status_code == 404
        assert "example" in top.json()["detail"] and "wiki" in top.json()["detail"]
    finally:
        if server:
            server.stop()
        anvil.stop()
