"""The test-only contract wallets of forge-tests/utils/Wallets.sol, compiled for the Python tests (ape
and end-to-end) with the project's solc shim: ERC1271Wallet (one owner key) and HostileWallet
(reverts, answers garbage, burns its gas, or says yes to anything). They are not part of a
community's deployment, so ape's build (contracts/) does not hold them."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import solcx

ROOT = Path(__file__).resolve().parents[1]
SOURCE = "forge-tests/utils/Wallets.sol"
HOSTILE_MODES = {"revert": 0, "garbage": 1, "burn_gas": 2, "yes_to_all": 3}


@functools.cache
def compiled() -> dict[str, dict]:
    """{contract name: {"abi": [...], "bytecode": "0x..."}}, as forge and ape compile the contracts."""
    solc = Path(os.environ.get("SOLCX_BINARY_PATH", ROOT / ".solcx")) / "solc-v0.8.37"
    output = solcx.compile_standard(
        {
            "language": "Solidity",
            "sources": {SOURCE: {"urls": [SOURCE]}},
            "settings": {
                "remappings": ["@openzeppelin/contracts/=node_modules/@openzeppelin/contracts/"],
                "optimizer": {"enabled": True, "runs": 200},
                "evmVersion": "cancun",
                "outputSelection": {SOURCE: {"*": ["abi", "evm.bytecode.object"]}},
            },
        },
        solc_binary=solc,
        base_path=str(ROOT),
        allow_paths=[str(ROOT)],
    )
    return {
        name: {"abi": c["abi"], "bytecode": "0x" + c["evm"]["bytecode"]["object"]}
        for name, c in output["contracts"][SOURCE].items()
    }
