"""Relaying members' signed requests: the rules and checks a request meets (rules.py,
checks.py, simulation.py), the gas it is given (gas.py), the durable outbox it waits in
(outbox.py, book.py, budgets.py, submit.py), and the one worker that owns the relayer key and
sends what waits there, packed into the forwarder's executeBatch (worker.py, with fees.py,
packing.py, settling.py, signing.py and state.py)."""
