"""Raw JSON-RPC over web3.py's HTTP provider, without its middleware (about 5x faster per call),
with one place that turns a node that cannot be reached into `NodeUnavailable`."""

from __future__ import annotations

from typing import Any

import requests
from web3 import HTTPProvider

from backend.errors import NodeUnavailable


class RpcError(Exception):
    """The node answered with a JSON-RPC error (a revert among them)."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error.get("message", str(error)))
        self.code = error.get("code")
        self.message = error.get("message", "")
        data = error.get("data")
        # Anvil puts revert data in `data` as hex; some nodes nest it in an object.
        if isinstance(data, dict):
            data = data.get("data")
        self.data = bytes.fromhex(data[2:]) if isinstance(data, str) and data.startswith("0x") else None


class Rpc:
    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url
        # No retries: a node that is down must answer 503 now, not after a backoff.
        self.provider = HTTPProvider(url, request_kwargs={"timeout": timeout}, exception_retry_configuration=None)

    def request(self, method: str, *params: Any) -> Any:
        try:
            response = self.provider.make_request(method, list(params))
        except (requests.exceptions.RequestException, OSError) as exc:
            raise NodeUnavailable(
                f"The chain node at {self.url} cannot be reached ({type(exc).__name__}); "
                "retry when it is back"
            ) from exc
        if "error" in response:
            raise RpcError(response["error"])
        return response["result"]

    def batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        if not calls:
            return []
        try:
            responses = self.provider.make_batch_request(calls)
        except (requests.exceptions.RequestException, OSError) as exc:
            raise NodeUnavailable(f"The chain node at {self.url} cannot be reached ({type(exc).__name__})") from exc
        if isinstance(responses, dict):  # the whole batch failed
            raise RpcError(responses.get("error", {"message": str(responses)}))
        by_id = sorted(responses, key=lambda r: r["id"])
        results = []
        for response in by_id:
            if "error" in response:
                raise RpcError(response["error"])
            results.append(response["result"])
        return results
