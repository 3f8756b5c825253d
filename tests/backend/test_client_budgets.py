"""A client address's budgets, kept in each process's memory (relay/budgets.py): the gas of
its last hour is kept as a running sum (summed afresh at each request, it cost a busy client
time in proportion to its history), and clients that sent nothing for an hour are forgotten."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.errors import TooManyRequests
from backend.relay import budgets
from backend.relay.budgets import HOUR, MINUTE, ClientBudgets
from backend.settings import Settings

GAS_PER_HOUR = 1_000_000


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = _Clock()
    monkeypatch.setattr(budgets.time, "monotonic", clock)
    return clock


def _budgets() -> ClientBudgets:
    return ClientBudgets(Settings(client_gas_per_hour=GAS_PER_HOUR, client_requests_per_minute=10**9))


# Each step: wait some seconds, then charge some gas (and maybe refund that charge at once, as the
# book does when the check after charging fails).
STEPS = st.lists(
    st.tuples(st.floats(0, 2 * HOUR / 3), st.integers(1, GAS_PER_HOUR // 3), st.booleans()), min_size=1, max_size=40
)


@settings(max_examples=200, deadline=None)
@given(steps=STEPS)
def test_the_running_sum_is_the_gas_of_the_last_hour_and_refuses_as_the_sum_would(steps):
    """Against the plain sum over the charges of the last hour: the same total after every step,
    and a request refused exactly when that sum and its gas would pass the budget."""
    clock = _Clock()
    budgets.time.monotonic, original = clock, budgets.time.monotonic
    try:
        book, charged = _budgets(), []  # charged: (at, gas) the plain sum counts
        for wait, gas, refunded in steps:
            clock.now += wait
            expected = sum(g for at, g in charged if at > clock.now - HOUR)
            if expected + gas > GAS_PER_HOUR:
                with pytest.raises(TooManyRequests):
                    book.charge("203.0.113.7", gas)
                continue
            ticket = book.charge("203.0.113.7", gas)
            if refunded:
                book.refund(ticket)
            else:
                charged.append((clock.now, gas))
            holder = ticket[0]
            assert (
                holder.hour_gas
                == sum(c.gas for c in holder.hour)
                == sum(g for at, g in charged if at > clock.now - HOUR)
            )
    finally:
        budgets.time.monotonic = original


def test_a_refund_after_its_charge_expired_does_not_count_it_twice(clock):
    book = _budgets()
    old = book.charge("198.51.100.1", 400_000)
    clock.now += HOUR + 1
    recent = book.charge("198.51.100.1", 300_000)  # expires the old charge: the sum is 300,000
    book.refund(old)
    assert recent[0].hour_gas == 300_000
    book.refund(recent)
    assert recent[0].hour_gas == 0


def test_a_first_request_over_the_hours_budget_alone_is_refused_for_an_hour(clock):
    """Nothing charged in the hour, and a request whose gas alone is over the budget: refused, to
    retry in an hour (the oldest charge's expiry read from an empty hour was a 500)."""
    book = _budgets()
    with pytest.raises(TooManyRequests) as refused:
        book.charge("198.51.100.1", GAS_PER_HOUR + 1)
    assert refused.value.extra["budget"] == "gas_per_hour"
    assert refused.value.extra["retry_after"] == HOUR
    book.charge("198.51.100.1", GAS_PER_HOUR)  # the budget itself is within it


def test_clients_that_sent_nothing_for_an_hour_are_forgotten(clock):
    """Kept forever, every address ever seen would stay in memory: over IPv6 a client can come
    from as many as it likes. An address active within the hour keeps its budget."""
    book = _budgets()
    for i in range(1_000):
        book.charge(f"2001:db8::{i:x}", 1)
    clock.now += HOUR - MINUTE
    book.charge("2001:db8::1", GAS_PER_HOUR - 2)  # active again: its hour now holds 1 + this
    clock.now += 2 * MINUTE  # the first charges are over an hour old; a sweep is due
    book.charge("2001:db8::ffff", 1)
    assert set(book._clients) == {"2001:db8::1", "2001:db8::ffff"}
    with pytest.raises(TooManyRequests):  # its budget was kept: the first charge of 1 has expired, 2 more pass it
        book.charge("2001:db8::1", 3)
