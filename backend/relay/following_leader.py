"""A background loop that acts only while this process leads: the relayer worker takes the leader
lock (backend/relay/leader.py), and loops like the service's own executions of passed proposals
(backend/proposals/autoexec.py) and its carrying of moved records (backend/versions/carrier.py)
only follow it, so that one process acts for the whole service."""

from __future__ import annotations

import logging
import threading

from backend.relay.leader import LeaderLock

log = logging.getLogger(__name__)


class FollowingLeader:
    """Calls `step` every `poll_seconds` while the leader lock is held here; `failure` names, in the
    log, what failed when a step raises (it is tried again at the next poll)."""

    thread_name = "follower"
    failure = "a step failed"

    def __init__(self, leader: LeaderLock, *, enabled: bool, poll_seconds: float) -> None:
        self.leader = leader
        self.enabled = enabled
        self.poll_seconds = poll_seconds
        self.leading = False
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def step(self) -> object:
        raise NotImplementedError

    def start(self) -> None:
        if not self.enabled:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.leading = self.leader.held()
                if self.leading:
                    self.step()
                    self.last_error = None
            except Exception as exc:  # the node or the database away: tried again at the next poll
                self.last_error = repr(exc)
                log.exception(self.failure)
            self._stop.wait(self.poll_seconds)
