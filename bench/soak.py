"""Soak: concurrent clients against a local Anvil (1 s interval mining) and the service, for a
bounded time, watching errors, latency and the service's memory.

Run: `make soak` (10 minutes) or `SOAK_SECONDS=60 make soak`; `python -m bench.soak --help`.
Starts its own Anvil, deploys, starts the API, governs a community (one indicator needing one
attestation, five members admitted), switches Anvil to interval mining and runs:
  - writers (SOAK_WRITERS, default 6), one per member: claim a contribution (wait=true: mined
    and indexed before the answer), then attest one claim of the next member if one is open;
  - readers (SOAK_READERS, default 4): claim lists, one claim, profiles, health, in turn.
Every thread stops at the deadline; requests time out after 60 s. Prints errors and p50/p99 per
operation, and the service's resident memory (RSS, from /proc) at start, every tenth of the run
and at the end.

Memory is judged bounded when the RSS grows, over the second half of the run, by less than 10%
of the RSS at half time and less than 20 MB. A leak proportional to the work done grows about
as much in the second half as in the first; caches and pools fill in the first minutes and
then stay flat. Exit status 1 on any error or on growth past that bound.
"""

from __future__ import annotations

import argparse
import os
import queue
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.client import ApiError, CommunityClient
from bench.api import KEYS, addr, interval_mining, pct, setup_community
from devstack.stack import UNTHROTTLED, local_stack, rpc


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


class Stats:
    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = {}
        self.errors: dict[str, list[str]] = {}
        self._lock = threading.Lock()

    def timed(self, operation: str, call):
        start = time.perf_counter()
        try:
            result = call()
        except (ApiError, httpx.HTTPError) as exc:
            with self._lock:
                self.errors.setdefault(operation, []).append(str(exc)[:200])
            return None
        with self._lock:
            self.latencies.setdefault(operation, []).append((time.perf_counter() - start) * 1000)
        return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("SOAK_SECONDS", 600)))
    parser.add_argument("--writers", type=int, default=int(os.environ.get("SOAK_WRITERS", 6)))
    parser.add_argument("--readers", type=int, default=int(os.environ.get("SOAK_READERS", 4)))
    args = parser.parse_args()
    writers = KEYS[: max(2, min(args.writers, len(KEYS)))]
    work = Path(tempfile.mkdtemp(prefix="soak-"))
    print("Starting Anvil, deploying and governing a community ...", flush=True)
    with local_stack(work, settings=UNTHROTTLED) as stack:
        anvil, server = stack.anvil, stack.server
        indicator = setup_community(CommunityClient(server.url), anvil)
        interval_mining(anvil)
        pid = server.process.pid

        stats, stop = Stats(), threading.Event()
        to_attest = [queue.Queue() for _ in writers]  # claims writer i attests (made by writer i + 1)
        last_claim = [0]  # the highest claim id a writer saw confirmed: readers ask only for those

        def writer(i: int) -> None:
            api, key, n = CommunityClient(server.url, timeout=60), writers[i], 0
            while not stop.is_set():
                n += 1
                claim = stats.timed(
                    "claim (wait)",
                    lambda: api.act(
                        "claims", key, indicator_id=indicator, evidence_uri=f"https://soak.example/{i}/{n}"
                    ),
                )
                if claim:
                    to_attest[(i - 1) % len(writers)].put(claim["created"]["claim_id"])
                    last_claim[0] = max(last_claim[0], claim["created"]["claim_id"])
                try:
                    claim_id = to_attest[i].get_nowait()
                except queue.Empty:
                    continue
                if not stop.is_set():
                    stats.timed("attest (wait)", lambda: api.act("attestations", key, claim_id=claim_id))

        def reader(i: int) -> None:
            api, n = CommunityClient(server.url, timeout=60), 0
            members = [addr(k) for k in writers]
            while not stop.is_set():
                n += 1
                kind = n % 4
                if kind == 0:
                    stats.timed("GET /claims", lambda: api.get("/claims", limit=20, offset=0))
                elif kind == 1:
                    stats.timed(
                        "GET /members/{a}/profile", lambda: api.get(f"/members/{members[n % len(members)]}/profile")
                    )
                elif kind == 2:
                    stats.timed("GET /health", lambda: api.get("/health"))
                elif last_claim[0]:
                    stats.timed("GET /claims/{id}", lambda: api.get(f"/claims/{1 + n % last_claim[0]}"))
                time.sleep(0.01)

        threads = [threading.Thread(target=writer, args=(i,)) for i in range(len(writers))]
        threads += [threading.Thread(target=reader, args=(i,)) for i in range(args.readers)]
        print(f"Soaking for {args.seconds:.0f} s: {len(writers)} writers, {args.readers} readers ...", flush=True)
        memory = [(0.0, rss_mb(pid))]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        step = args.seconds / 10
        for k in range(1, 11):
            time.sleep(max(0.0, started + k * step - time.monotonic()))
            memory.append((time.monotonic() - started, rss_mb(pid)))
            done = sum(len(v) for v in stats.latencies.values())
            print(
                f"  {memory[-1][0]:6.0f} s  RSS {memory[-1][1]:7.1f} MB  {done} requests  "
                f"{sum(len(v) for v in stats.errors.values())} errors",
                flush=True,
            )
        stop.set()
        for thread in threads:
            thread.join(timeout=90)
        elapsed = time.monotonic() - started
        memory.append((elapsed, rss_mb(pid)))
        head = int(rpc(anvil.url, "eth_blockNumber"), 16)

        print(f"\n== soak: {elapsed:.0f} s, {len(writers)} writers + {args.readers} readers, chain at block {head} ==")
        print(f"{'operation':28} {'count':>7} {'errors':>6} {'p50 ms':>8} {'p99 ms':>8}")
        error_count = 0
        for operation in sorted(set(stats.latencies) | set(stats.errors)):
            values = stats.latencies.get(operation, [])
            errors = stats.errors.get(operation, [])
            error_count += len(errors)
            p50 = f"{statistics.median(values):8.1f}" if values else "       -"
            p99 = f"{pct(values, 0.99):8.1f}" if values else "       -"
            print(f"{operation:28} {len(values):7} {len(errors):6} {p50} {p99}")
            for message in errors[:3]:
                print(f"    e.g. {message}")
        print(f"errors: {error_count}")
        start_rss, half_rss, end_rss = memory[0][1], memory[5][1], memory[-1][1]
        growth = end_rss - half_rss
        bounded = growth < 0.1 * half_rss and growth < 20
        print("service RSS (MB): " + ", ".join(f"{t:.0f}s {m:.1f}" for t, m in memory))
        print(
            f"memory: start {start_rss:.1f} MB, half time {half_rss:.1f} MB, end {end_rss:.1f} MB; "
            f"second-half growth {growth:+.1f} MB -> {'bounded' if bounded else 'GROWING'} "
            "(bound: < 10% of the half-time RSS and < 20 MB)"
        )
        return 0 if error_count == 0 and bounded else 1


if __name__ == "__main__":
    sys.exit(main())
