"""Capture at source (issue 24, section 1): work done on GitHub, GitLab, a Discourse forum or
anywhere that sends Standard Webhooks becomes drafts, through capture rules the community governs;
a draft becomes a claim, attestation or invitation only when a member signs it.

- rules.py: the capture rules, a typed and versioned JSON document set by governance on chain
  (the proposal action set_capture_rules) and read from the index;
- verify.py: each source's signature, checked over the exact bytes received;
- sources.py: what a source's payload (or its API's list, for backfill) says: work, comments;
- models.py: deliveries, captured items, drafts, dismissals, members' preferences: tables of their
  own that a reindex never drops;
- service.py: a delivery received (budget, replay, rules, people matched through their linked
  accounts, drafts), the drafts as each member reads them, dismissals and preferences;
- signing.py: the EIP-712 requests a member signs to dismiss a draft or turn capture off;
- routes.py, schemas.py: the API; web.py: the drafts on the "Waiting for me" page; cli.py: the
  backfill command (`commons capture import`).
"""
