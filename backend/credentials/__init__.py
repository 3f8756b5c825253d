"""Open Badges 3.0 credentials for badges: the issuer's key and DIDs (issuer.py), the JSON-LD
contexts served from the package itself (contexts.py and contexts/), the revocation status list
(statuslist.py), the credential documents (openbadges.py) and the reads that build them from the
index (service.py)."""
