"""The API docs work on a machine without internet: Swagger UI comes from the service."""

from __future__ import annotations

import re


def test_docs_load_nothing_from_another_host(env):
    page = env.api.http.get("/docs")
    assert page.status_code == 200 and "swagger-ui-bundle.js" in page.text
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text) + re.findall(r"url: '([^']+)'", page.text)
    assert sources and all(s.startswith("/") for s in sources), sources
    for source in sources:
        assert env.api.http.get(source).status_code == 200, source
