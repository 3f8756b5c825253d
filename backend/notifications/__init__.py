"""Being told (issue 24, section 2): members hear that a nomination waits for their answer, a claim
for their endorsement, that they earned a badge, and are reminded of a vote closing and of a
nomination left a week, by email, by a signed outgoing webhook (Standard Webhooks, to a chat
bridge) or in Atom feeds, each message or a daily digest, as each member chooses.

- models.py: the member's preferences and the outbox of deliveries, tables of their own that a
  reindex never drops;
- signing.py: the EIP-712 typed data a member signs to set or read their preferences, checked for
  a key's signature or a contract account's (ERC-1271);
- service.py: preferences set, read and unsubscribed, tokens (unsubscribe links, private feeds);
- events.py: what is told, derived from the index, in a mentor's words;
- channels.py: email through the SMTP server of the settings, webhooks signed as Standard Webhooks
  (no private or loopback address unless a setting allows it);
- worker.py: writes each message to the outbox first, then sends it off the request path, with
  retries, backoff and a dead endpoint turned off;
- feeds.py: the Atom feeds; routes.py and schemas.py: the API.
"""
