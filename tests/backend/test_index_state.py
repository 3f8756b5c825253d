"""A community's indexing state, as /health reports it: the current error is cleared by the next
success, the newest one is kept; a community failing again and again rests between tries in the
background loop (so its failures cost the other communities little), at most a minute."""

from __future__ import annotations

from sqlalchemy.exc import DataError

from backend.indexer.follower import IndexState, describe


def test_the_current_error_clears_and_the_newest_stays():
    state = IndexState()
    state.failed("RpcError: boom")
    assert (state.error, state.last_error, state.failures) == ("RpcError: boom", "RpcError: boom", 1)
    state.succeeded()
    assert (state.error, state.error_at, state.last_error, state.failures) == (None, None, "RpcError: boom", 0)
    assert state.synced_at is not None


def test_a_community_failing_again_and_again_rests_longer_each_time(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr("backend.indexer.follower.time.time", lambda: now[0])
    state = IndexState()
    assert not state.resting(0.5)
    for failures, rest in ((1, 0.5), (2, 1.0), (3, 2.0), (10, 60.0)):
        while state.failures < failures:
            state.failed("boom")
        now[0] += rest - 0.01
        assert state.resting(0.5), failures
        now[0] += 0.02
        assert not state.resting(0.5), failures
    state.succeeded()
    assert not state.resting(0.5)


def test_errors_are_described_without_the_bytes_that_failed():
    class Refused(Exception):
        pass

    assert describe(Refused("NUL \x00 and \x85 C1")) == "Refused: NUL \ufffd and \ufffd C1"
    assert len(describe(Refused("x" * 5000))) == 1000
    # A database error names the driver's complaint, not the statement and its parameters.
    error = DataError("INSERT INTO claims ...", {"evidence_uri": "a\x00b"}, Refused("cannot contain NUL bytes"))
    assert describe(error) == "Refused: cannot contain NUL bytes"
