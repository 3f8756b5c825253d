"""The requests accepted since the relayer last read its queue (backend/relay/arrivals.py), with
real threads: idle, the worker wakes at each request; gathering, only once the requests fill a
transaction (by count or by gas), when its time is up, or when it stops."""

from __future__ import annotations

import threading
import time

import pytest

from backend.relay.arrivals import Arrivals

SHARE = 360_000  # a claim's gas share, about


def _gathering(arrivals: Arrivals, seconds: float) -> tuple[threading.Thread, list[float]]:
    """A worker thread gathering for `seconds`; how long it gathered, once it returns."""
    took: list[float] = []

    def gather() -> None:
        started = time.monotonic()
        arrivals.gather(seconds)
        took.append(time.monotonic() - started)

    thread = threading.Thread(target=gather)
    thread.start()
    deadline = time.monotonic() + 5
    while not arrivals._gathering and time.monotonic() < deadline:  # until it waits
        time.sleep(0.001)
    return thread, took


def test_an_idle_worker_wakes_at_each_request():
    arrivals = Arrivals(batch_gas=8_000_000, batch_max=64)
    assert arrivals.wait(0.01) is False  # nothing arrived: the poll's time passes
    threading.Timer(0.05, arrivals.arrived, [SHARE]).start()
    started = time.monotonic()
    assert arrivals.wait(10) is True
    assert time.monotonic() - started < 5
    assert arrivals.wait(0.01) is False  # told once


@pytest.mark.parametrize(
    "batch_gas, batch_max, full_after",
    [
        (8_000_000, 64, 22),  # by gas: 22 shares, and a 23rd would not fit
        (100_000_000, 10, 10),  # by count
    ],
)
def test_gathering_ends_once_the_requests_fill_a_transaction(batch_gas, batch_max, full_after):
    arrivals = Arrivals(batch_gas=batch_gas, batch_max=batch_max)
    thread, took = _gathering(arrivals, 30)
    for _ in range(full_after - 1):
        arrivals.arrived(SHARE)
    thread.join(0.2)
    assert thread.is_alive()  # one short of full: still gathering
    arrivals.arrived(SHARE)
    thread.join(5)
    assert not thread.is_alive() and took[0] < 5


def test_gathering_ends_when_its_time_is_up_and_requests_go_whatever_their_number():
    arrivals = Arrivals(batch_gas=8_000_000, batch_max=64)
    arrivals.arrived(SHARE)
    started = time.monotonic()
    arrivals.gather(0.1)
    assert 0.1 <= time.monotonic() - started < 5


def test_requests_taken_count_no_more_towards_the_next_transaction():
    arrivals = Arrivals(batch_gas=8_000_000, batch_max=4)
    for _ in range(3):
        arrivals.arrived(SHARE)
    arrivals.taken()  # the worker read the queue and sent those
    thread, _ = _gathering(arrivals, 30)
    for _ in range(3):
        arrivals.arrived(SHARE)
    thread.join(0.2)
    assert thread.is_alive()  # 3 since the last read, of 4
    arrivals.arrived(SHARE)
    thread.join(5)
    assert not thread.is_alive()


def test_a_full_transaction_already_waiting_is_sent_at_once():
    arrivals = Arrivals(batch_gas=8_000_000, batch_max=2)
    arrivals.arrived(SHARE)
    arrivals.arrived(SHARE)
    started = time.monotonic()
    arrivals.gather(30)
    assert time.monotonic() - started < 5


def test_a_stopping_worker_waits_no_more():
    arrivals = Arrivals(batch_gas=8_000_000, batch_max=64)
    thread, _ = _gathering(arrivals, 30)
    arrivals.interrupt()
    thread.join(5)
    assert not thread.is_alive()
    started = time.monotonic()
    arrivals.wait(30)
    arrivals.gather(30)
    assert time.monotonic() - started < 5
