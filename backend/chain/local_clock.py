"""A local chain restarted from its state file resumes its clock where the chain left it.

Anvil (1.7.1) saves its blocks but not how far evm_increaseTime moved its clock: restarted, it
mines at the wall clock again, and after a skip (as `make demo` does) its next block was older
than the last one (589 s once). A checkpoint of votes then reverts with
CheckpointUnorderedInsertion, and credentials carry an `nbf` after the chain's clock. Anvil's
`--timestamp` sets the clock it starts from, before any block is mined, so even interval mining
(`--block-time`) never mines one in the past; an evm_setTime after the start would come too late.

`make run` (tools/run-local.sh) and the tests' chains (devstack/stack.py) both start Anvil with
these arguments:

    python -m backend.chain.local_clock var/anvil-state.json   # prints `--timestamp N`, or nothing
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def last_timestamp(state: Path) -> int | None:
    """The newest block's timestamp in an Anvil state file; None without a whole, readable one
    (a fresh chain, or a dump cut short: Anvil then says so itself)."""
    try:
        dump = json.loads(state.read_bytes())
        # `block` is the environment of the newest block; `blocks` the blocks kept, in no order.
        stamps = [dump["block"]["timestamp"], *(block["header"]["timestamp"] for block in dump.get("blocks") or ())]
        return max(int(stamp, 16) if isinstance(stamp, str) else int(stamp) for stamp in stamps)
    except (OSError, ValueError, TypeError, KeyError):
        return None


def resume_arguments(state: Path, now: float | None = None) -> list[str]:
    """Anvil's arguments that start its clock one second after the state's newest block, when that
    is ahead of the wall clock; none otherwise (the wall clock is then already past it)."""
    last = last_timestamp(state)
    now = time.time() if now is None else now
    if last is None or last + 1 <= now:
        return []
    return ["--timestamp", str(last + 1)]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m backend.chain.local_clock STATE_FILE", file=sys.stderr)
        return 2
    print(" ".join(resume_arguments(Path(argv[0]))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
