"""`commons`: the command line for members and stewards, over the HTTP API (backend/client.py),
signing with a local encrypted keystore or an ape account (main.py)."""
