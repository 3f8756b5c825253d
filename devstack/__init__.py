"""A local stack for tests, benchmarks and demos, outside the service: Anvil, `ape run deploy`
and the API under uvicorn as real processes (stack.py), the test-only contract wallets
(wallets.py), and the protocol's lifecycle over ape for contract tests and gas figures
(protocol.py). The end-to-end tests and the benchmarks both build on it; neither imports the
other."""
