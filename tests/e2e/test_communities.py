"""One service, several communities: each deployment is served under its own slug, with its
own members and records; the top level answers only when a single community is served."""

from __future__ import annotations

from backend.client import CommunityClient
from backend.settings import ANVIL_DEV_KEYS
from devstack.stack import local_stack, second_community_params
from tests.e2e.conftest import ALICE, address

ERIN, FRANK = ANVIL_DEV_KEYS[5], ANVIL_DEV_KEYS[6]


def test_two_communities_on_one_chain_are_served_apart(tmp_path):
    wiki_params = second_community_params(tmp_path, [address(ERIN), address(FRANK)])
    with local_stack(tmp_path, more_communities=(wiki_params,)) as stack:
        example, wiki = CommunityClient(stack.server.url, "example"), CommunityClient(stack.server.url, "wiki")

        listed = example.http.get("/communities").json()
        assert sorted(c["slug"] for c in listed) == ["example", "wiki"]
        assert listed[0]["contracts"]["governor"] != listed[1]["contracts"]["governor"]
        assert {m["address"] for m in wiki.get("/members")["items"]} == {address(ERIN), address(FRANK)}
        assert address(ALICE) in {m["address"] for m in example.get("/members")["items"]}

        # A member of one community is nobody in the other.
        refused = wiki.http.post(
            "/communities/wiki/delegations/prepare", json={"signer": address(ALICE), "delegatee": address(ERIN)}
        )
        assert refused.status_code == 403, refused.text
        wiki.act("delegations", ERIN, delegatee=address(FRANK))
        assert wiki.get(f"/members/{address(FRANK)}")["votes"] == 2
        assert example.get(f"/members/{address(ALICE)}")["votes"] == 1

        # With two communities, the top level asks which one.
        top = example.http.get("/members")
        assert top.status_code == 404
        assert "example" in top.json()["detail"] and "wiki" in top.json()["detail"]
