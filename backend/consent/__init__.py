"""Consent: a nominee answers a nomination, a holder disowns a badge, a member hides their profile."""
