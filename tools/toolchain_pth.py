"""Make `ape run ...` work from any shell after `make setup`, with nothing exported.

ape-solidity (through py-solc-x) finds the project's solc shim only through SOLCX_BINARY_PATH
(else ~/.solcx, where nothing is: solc cannot be downloaded on these machines), and ape-foundry
finds Anvil with shutil.which. A `.pth` line in the virtualenv's site-packages runs whenever the
virtualenv's Python starts: it sets SOLCX_BINARY_PATH to this checkout's .solcx/ unless already
set, and puts the virtualenv's bin/ (where setup links anvil and forge) on PATH. Nothing outside
the checkout is touched. Run by `make setup` with the virtualenv's Python.
"""

from __future__ import annotations

import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PTH_NAME = "contribution_commons_toolchain.pth"


def pth_line(root: Path) -> str:
    solcx, bin_dir = str(root / ".solcx"), str(root / ".venv" / "bin")
    # One line that starts with `import`: site.py executes such lines, and only such lines.
    return (
        f"import os; os.environ.setdefault('SOLCX_BINARY_PATH', {solcx!r}); "
        f"os.environ['PATH'] = os.pathsep.join([{bin_dir!r}] + [p for p in os.environ.get('PATH', '').split("
        f"os.pathsep) if p and p != {bin_dir!r}])\n"
    )


def main() -> None:
    target = Path(sysconfig.get_paths()["purelib"]) / PTH_NAME
    target.write_text(pth_line(ROOT))
    print(f"==> ape finds the solc shim and Anvil from any shell ({target.name} in the virtualenv)")


if __name__ == "__main__":
    main()
