"""The relayer: a durable outbox of accepted requests, and one worker that owns the relayer
key and its nonces and sends what waits there, packed into the forwarder's executeBatch."""
