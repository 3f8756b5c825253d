"""A small client for the HTTP API that signs with eth-account, as a wallet would.

Used by the demo, the end-to-end tests and the benchmark; it holds no keys beyond those given.
"""

from __future__ import annotations

from typing import Any

import httpx
from eth_account import Account


class ApiError(Exception):
    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.status = response.status_code
        try:
            self.problem = response.json()
        except ValueError:
            self.problem = {"detail": response.text}
        super().__init__(f"{self.status} {self.problem.get('title')}: {self.problem.get('detail')}")


class CommunityClient:
    def __init__(
        self, base_url: str, community: str | None = None, timeout: float = 60.0, http: httpx.Client | None = None
    ) -> None:
        self.http = http or httpx.Client(base_url=base_url, timeout=timeout)
        self.prefix = f"/communities/{community}" if community else ""

    def _check(self, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            raise ApiError(response)
        return response.json()

    def get(self, path: str, **params: Any) -> Any:
        return self._check(self.http.get(self.prefix + path, params=params))

    def post(self, path: str, body: Any = None, **params: Any) -> Any:
        return self._check(self.http.post(self.prefix + path, json=body, params=params))

    def prepare(self, action: str, **fields: Any) -> dict[str, Any]:
        return self.post(f"/{action}/prepare", fields)

    @staticmethod
    def sign(key: str, typed_data: dict[str, Any]) -> str:
        return "0x" + Account.sign_typed_data(key, full_message=typed_data).signature.hex().removeprefix("0x")

    def act(self, action: str, key: str, wait: bool = True, **fields: Any) -> dict[str, Any]:
        """prepare, sign, submit: one member action end to end."""
        signer = Account.from_key(key).address
        typed = self.prepare(action, signer=signer, **fields)["typed_data"]
        return self.post(
            f"/{action}",
            {"typed_data": typed, "signature": self.sign(key, typed)},
            **({} if wait else {"wait": "false"}),
        )

    def execute(self, proposal_id: str, wait: bool = True) -> dict[str, Any]:
        return self.post(f"/proposals/{proposal_id}/execute", **({} if wait else {"wait": "false"}))
