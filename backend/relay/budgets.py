"""What the relayer may spend for whom: each member (per community) and each client address has
three budgets, requests in flight (accepted, not yet settled), requests accepted in the last
minute, and gas in the last hour. A request counts its share of a transaction's gas limit until
its transaction is mined, then the gas it used, whether it succeeded or not: so the gas a member
can make the relayer burn in any hour is at most their hourly gas budget, however they sign.

A member whose requests keep failing on chain after passing every check here (strikes: a contract
wallet that answers one way when simulated and another when executed) is slowed to one request
in flight, then refused, until the strikes are older than the cool-off.

A member's budgets are read from the outbox, so they hold however many API processes share it.
A client's are kept in each process's memory (a client behind a load balancer meets each
process's budget): cheap enough to check on every request, and a client is only an address.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from sqlalchemy import BigInteger, BindParameter, Connection, Exists, and_, bindparam, case, func, or_, select, true

from backend import units
from backend.errors import TooManyRequests
from backend.i18n import gettext as _
from backend.indexer.db import DriverStatement
from backend.relay.outbox import (
    ACTIVE,
    NOT_EXECUTED,
    OF_MEMBER,
    RelayRequest,
    state_in,
)
from backend.settings import Settings
from backend.units import number

MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0

# What a request costs the member: the gas the relayer spent on it once its transaction was mined,
# whatever became of it (succeeded, reverted, skipped by the forwarder, or in a transaction that
# reverted whole); its share of a transaction's limit while in flight; nothing if it never reached
# the chain (settled without a transaction).
CHARGED_GAS = func.coalesce(RelayRequest.gas_used, case((state_in(ACTIVE), RelayRequest.gas), else_=0))
# A strike: a request that passed every check, then failed on chain at the relayer's cost.
IS_STRIKE = or_(
    RelayRequest.state == "reverted", and_(RelayRequest.state == "failed", RelayRequest.error == NOT_EXECUTED)
)


# Three statements, each bounded by an index (ix_relay_request_member_state, ix_relay_request_signer,
# ix_relay_request_member_strikes), so that a member's whole history is never read: one aggregate
# over all their rows grew with every request they ever made. Built once, run without the ORM.
_MEMBER_IN_FLIGHT = select(func.count(RelayRequest.id)).where(*OF_MEMBER, state_in(ACTIVE))
# Each time range with both ends a parameter (`until`: a day past now), for PostgreSQL's plan made
# for any parameters: `created_at > x` alone it guessed to be a third of the member's rows and read
# them all through another index; a range with both ends it searches through its own index.
_MEMBER_LAST_HOUR = select(
    func.count(RelayRequest.id).filter(RelayRequest.created_at > bindparam("minute_from")),
    func.min(RelayRequest.created_at).filter(RelayRequest.created_at > bindparam("minute_from")),
    func.coalesce(func.sum(CHARGED_GAS), 0),
    func.min(RelayRequest.created_at),
).where(*OF_MEMBER, RelayRequest.created_at > bindparam("hour_from"), RelayRequest.created_at <= bindparam("until"))
_MEMBER_STRIKES = select(func.count(RelayRequest.id), func.min(RelayRequest.settled_at)).where(
    *OF_MEMBER,
    state_in(("failed", "reverted")),
    RelayRequest.settled_at > bindparam("strike_from"),
    RelayRequest.settled_at <= bindparam("until"),
    IS_STRIKE,
)
# Few rows are in flight, and ix_relay_request_client_state finds them without reading the
# client's history.
_CLIENT_IN_FLIGHT = select(func.count(RelayRequest.id)).where(
    state_in(ACTIVE), RelayRequest.client == bindparam("client")
)


@dataclass(frozen=True)
class Strikes:
    """A member's requests that passed every check and then failed on chain, within the cool-off."""

    count: int
    oldest_at: float | None  # when the oldest of them settled

    def standing(self, settings: Settings) -> str:
        """ok, slowed (one request in flight at a time) or refused (none, until strikes age out)."""
        if self.count >= settings.member_strikes_refuse_after:
            return "refused"
        return "slowed" if self.count >= settings.member_strikes_slow_after else "ok"


# What accept reads before writing a member's request: the five figures above in one statement
# (each subquery still bounded by its index), one round trip through SQLAlchemy where there were
# four: its own machinery per statement was most of the budgets' cost per write.
_LAST_HOUR = _MEMBER_LAST_HOUR.subquery()
_STRIKES = _MEMBER_STRIKES.subquery()
_MEMBER_SPENT = select(_STRIKES, _MEMBER_IN_FLIGHT.scalar_subquery(), _LAST_HOUR).select_from(
    _STRIKES.join(_LAST_HOUR, true())
)
_MEMBER_AND_CLIENT_SPENT = _MEMBER_SPENT.add_columns(_CLIENT_IN_FLIGHT.scalar_subquery())
# Run on the driver's own cursor (DriverStatement: counts, sums and times need no conversion).
_SPENT_READS = {False: DriverStatement(_MEMBER_SPENT), True: DriverStatement(_MEMBER_AND_CLIENT_SPENT)}


# The same budgets as a condition of the statement that accepts a member's request
# (book.py, _ACCEPT_WITHIN_BUDGETS): true when member_refusal_of and client_refusal_of would refuse
# nothing, over the same figures. A request within every budget is then written in one statement,
# where reading the budgets and writing it took a transaction of its own (on PostgreSQL four round
# trips: BEGIN, the read, the insert, COMMIT); one refused, or a budget that moved between the
# statement and its refusal, goes the read and the insert, which say why.
# tests/backend/test_relay_budgets_sql.py holds the two to the same answers, case by case.
def _within_budgets() -> Exists:
    spent = _MEMBER_AND_CLIENT_SPENT.subquery()
    strikes, _oldest, in_flight, minute, _first, hour_gas, _earliest, client_in_flight = spent.c

    def limit(name: str) -> BindParameter[int]:
        return bindparam(name, type_=BigInteger)

    return (
        select(strikes)
        .where(
            strikes < limit("refuse_after"),
            in_flight < case((strikes >= limit("slow_after"), 1), else_=limit("max_in_flight")),
            minute < limit("per_minute"),
            hour_gas + limit("gas") <= limit("gas_per_hour"),
            client_in_flight < limit("client_max_in_flight"),
        )
        .exists()
    )


WITHIN_BUDGETS = _within_budgets()


def _windows(settings: Settings, now: float) -> dict[str, float]:
    """Where the figures' time windows start at `now` (`until`: see _MEMBER_LAST_HOUR)."""
    return {
        "strike_from": now - settings.member_strike_cooloff_seconds,
        "minute_from": now - MINUTE,
        "hour_from": now - HOUR,
        "until": now + DAY,
    }


# A limit past this is no limit (no count nor gas here comes near it), and a database's integers
# stop at 2^63 - 1: an operator's "unlimited" (10^12 requests in flight, 10^30 gas) is sent as this.
_NO_LIMIT = 2**62


def budget_params(settings: Settings, *, now: float) -> dict[str, float | int]:
    """The parameters of WITHIN_BUDGETS but for who (community, signer, client) and the gas."""
    limits = {
        "refuse_after": settings.member_strikes_refuse_after,
        "slow_after": settings.member_strikes_slow_after,
        "max_in_flight": settings.member_max_in_flight,
        "per_minute": settings.member_requests_per_minute,
        "gas_per_hour": settings.member_gas_per_hour,
        "client_max_in_flight": settings.client_max_in_flight,
    }
    return {**_windows(settings, now), **{name: min(value, _NO_LIMIT) for name, value in limits.items()}}


@dataclass(frozen=True)
class MemberSpent:
    """What a member has spent of their budgets, read from the outbox."""

    strikes: Strikes
    in_flight: int
    minute: int  # requests accepted in the last minute
    oldest_minute: float | None
    hour_gas: int  # gas charged in the last hour (CHARGED_GAS)
    oldest_hour: float | None


def member_spent(
    connection: Connection, settings: Settings, *, community: str, signer: str, now: float, client: str | None = None
) -> tuple[MemberSpent, int | None]:
    """The member's spending, and with `client` that client's requests in flight, in one statement."""
    [row] = _SPENT_READS[client is not None].rows(
        connection, {"community": community, "signer": signer, "client": client, **_windows(settings, now)}
    )
    strikes, strikes_oldest, in_flight, minute, oldest_minute, hour_gas, oldest_hour, *client_in_flight = row
    spent = MemberSpent(Strikes(strikes, strikes_oldest), in_flight, minute, oldest_minute, hour_gas, oldest_hour)
    return spent, (client_in_flight[0] or 0) if client_in_flight else None


def member_refusal(
    connection: Connection, settings: Settings, *, community: str, signer: str, gas: int, now: float
) -> TooManyRequests | None:
    """The budget this member has spent, if any, for a request of `gas` more."""
    spent, _ = member_spent(connection, settings, community=community, signer=signer, now=now)
    return member_refusal_of(spent, settings, signer=signer, gas=gas, now=now)


def budget_refusal(
    connection: Connection, settings: Settings, *, community: str, signer: str, client: str, gas: int, now: float
) -> TooManyRequests | None:
    """The client's budget, then the member's, for a member's request of `gas` more (what accept
    checks), read in one statement."""
    spent, client_in_flight = member_spent(
        connection, settings, community=community, signer=signer, now=now, client=client
    )
    return client_refusal_of(client_in_flight or 0, settings, client=client) or member_refusal_of(
        spent, settings, signer=signer, gas=gas, now=now
    )


def member_refusal_of(
    spent: MemberSpent, settings: Settings, *, signer: str, gas: int, now: float
) -> TooManyRequests | None:
    """The refusal, if any, of a request of `gas` more by a member who has spent this much."""
    strikes = spent.strikes
    standing = strikes.standing(settings)
    if standing == "refused":
        wait = math.ceil(max(1.0, (strikes.oldest_at or now) + settings.member_strike_cooloff_seconds - now))
        return TooManyRequests(
            _(
                "%(count)s of member %(signer)s's requests passed every check here and then failed on chain, at the "
                "relayer's cost (a contract wallet that answers differently when executed, or deadlines too close): "
                "the relayer takes none of theirs for now. Retry in %(wait)s",
                count=number(strikes.count),
                signer=signer,
                wait=units.wait(wait),
            ),
            budget="strikes",
            retry_after=wait,
        )
    in_flight, minute, hour_gas = spent.in_flight, spent.minute, spent.hour_gas
    max_in_flight = 1 if standing == "slowed" else settings.member_max_in_flight
    if in_flight >= max_in_flight:
        slowed = (
            " "
            + _(
                "(%(count)s of their requests failed on chain lately, so the relayer takes one at a time)",
                count=number(strikes.count),
            )
            if standing == "slowed"
            else ""
        )
        return TooManyRequests(
            _(
                "Member %(signer)s has %(count)s requests in flight (budget: %(budget)s)%(slowed)s: wait until one "
                "is mined",
                signer=signer,
                count=number(in_flight),
                budget=number(max_in_flight),
                slowed=slowed,
            ),
            budget="in_flight",
            retry_after=2,
        )
    if minute >= settings.member_requests_per_minute:
        wait = math.ceil(max(1.0, (spent.oldest_minute or now) + MINUTE - now))
        return TooManyRequests(
            _(
                "Member %(signer)s sent %(count)s requests in the last minute (budget: %(budget)s a minute): retry "
                "in %(wait)s",
                signer=signer,
                count=number(minute),
                budget=number(settings.member_requests_per_minute),
                wait=units.wait(wait),
            ),
            budget="requests_per_minute",
            retry_after=wait,
        )
    if hour_gas + gas > settings.member_gas_per_hour:
        # None when nothing was charged in the hour: this request alone is over the budget.
        wait = math.ceil(max(1.0, (spent.oldest_hour or now) + HOUR - now))
        return TooManyRequests(
            _(
                "Member %(signer)s has used %(used)s gas of relaying in the last hour, and this request may use "
                "%(gas)s more (budget: %(budget)s gas an hour): retry in %(wait)s",
                signer=signer,
                used=number(hour_gas),
                gas=number(gas),
                budget=number(settings.member_gas_per_hour),
                wait=units.wait(wait),
            ),
            budget="gas_per_hour",
            retry_after=wait,
        )
    return None


def client_refusal(connection: Connection, settings: Settings, *, client: str) -> TooManyRequests | None:
    """Requests in flight of one client address, read from the outbox."""
    in_flight = connection.execute(_CLIENT_IN_FLIGHT, {"client": client}).scalar_one() or 0
    return client_refusal_of(in_flight, settings, client=client)


def client_refusal_of(in_flight: int, settings: Settings, *, client: str) -> TooManyRequests | None:
    """The refusal, if any, of one more request from a client with this many in flight."""
    if in_flight >= settings.client_max_in_flight:
        return TooManyRequests(
            _(
                "Client %(client)s has %(count)s requests in flight (budget: %(budget)s): wait until one is mined",
                client=client,
                count=number(in_flight),
                budget=number(settings.client_max_in_flight),
            ),
            budget="in_flight",
            retry_after=2,
        )
    return None


@dataclass
class _Charge:
    at: float
    gas: int


@dataclass
class _Client:
    minute: deque[float] = field(default_factory=deque)
    hour: deque[_Charge] = field(default_factory=deque)
    # The sum of `hour`'s gas, kept as charges come, expire and are refunded: summed afresh at
    # each request, under the lock every request takes, it cost a busy client's requests time
    # in proportion to what it sent in the hour (3,000 claims: service CPU per claim 15.8 -> 23.9 ms).
    hour_gas: int = 0


class ClientBudgets:
    """Per client address, in this process: requests a minute and gas an hour (at the limit
    charged when accepted; a client is not followed to each receipt)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._clients: dict[str, _Client] = {}
        self._lock = threading.Lock()
        self._swept = time.monotonic()

    def charge(self, client: str, gas: int) -> tuple[_Client, float, _Charge]:
        with self._lock:
            return self._charge(client, gas)

    def _charge(self, client: str, gas: int) -> tuple[_Client, float, _Charge]:
        now = time.monotonic()
        if now - self._swept > MINUTE:
            self._sweep(now)
        holder = self._clients.setdefault(client, _Client())
        while holder.minute and holder.minute[0] <= now - MINUTE:
            holder.minute.popleft()
        while holder.hour and holder.hour[0].at <= now - HOUR:
            holder.hour_gas -= holder.hour.popleft().gas
        limits = self.settings
        if len(holder.minute) >= limits.client_requests_per_minute:
            wait = math.ceil(max(1.0, holder.minute[0] + MINUTE - now))
            raise TooManyRequests(
                _(
                    "Client %(client)s sent %(count)s requests in the last minute (budget: %(budget)s a minute): "
                    "retry in %(wait)s",
                    client=client,
                    count=number(len(holder.minute)),
                    budget=number(limits.client_requests_per_minute),
                    wait=units.wait(wait),
                ),
                budget="requests_per_minute",
                retry_after=wait,
            )
        used = holder.hour_gas
        if used + gas > limits.client_gas_per_hour:
            # Nothing charged in the hour: this request alone is over the budget (an hour's wait).
            oldest = holder.hour[0].at if holder.hour else now
            wait = math.ceil(max(1.0, oldest + HOUR - now))
            raise TooManyRequests(
                _(
                    "Client %(client)s has used %(used)s gas of relaying in the last hour (budget: %(budget)s gas an "
                    "hour): retry in %(wait)s",
                    client=client,
                    used=number(used),
                    budget=number(limits.client_gas_per_hour),
                    wait=units.wait(wait),
                ),
                budget="gas_per_hour",
                retry_after=wait,
            )
        charge = _Charge(now, gas)
        holder.minute.append(now)
        holder.hour.append(charge)
        holder.hour_gas += gas
        return holder, now, charge

    def _sweep(self, now: float) -> None:
        """Forget the clients that sent nothing in the last hour. Kept, every address ever seen
        would stay in memory: over IPv6 one client can come from as many as it likes."""
        self._swept = now
        for client in [c for c, holder in self._clients.items() if not holder.hour or holder.hour[-1].at <= now - HOUR]:
            del self._clients[client]

    def refund(self, ticket: tuple[_Client, float, _Charge]) -> None:
        holder, at, charge = ticket
        with self._lock:
            if holder.hour and charge.at >= holder.hour[0].at:  # not expired: still in the sum
                holder.hour_gas -= charge.gas
            charge.gas = 0
            try:
                holder.minute.remove(at)
            except ValueError:
                pass
