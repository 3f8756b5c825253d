"""CC_TRUSTED_PROXIES: the proxies whose X-Forwarded-For names the client (issue 20, item 6).
The service over real HTTP is tests/e2e/test_forwarded_headers.py; here, the setting as read
from the environment and the uvicorn options `serve` derives from it."""

from __future__ import annotations

import logging

import pytest
from pydantic import ValidationError

from backend.__main__ import forwarded_headers
from backend.settings import Settings


def test_none_trusted_by_default_and_no_header_middleware(monkeypatch):
    monkeypatch.delenv("CC_TRUSTED_PROXIES", raising=False)
    settings = Settings(_env_file=None)
    assert settings.trusted_proxies == ()
    assert forwarded_headers(settings) == {"proxy_headers": False, "forwarded_allow_ips": []}


def test_addresses_and_networks_comma_separated(monkeypatch):
    monkeypatch.setenv("CC_TRUSTED_PROXIES", " 10.0.0.5, 10.1.0.0/16 ,::1,, 192.168.1.7/24")
    settings = Settings(_env_file=None)
    assert settings.trusted_proxies == ("10.0.0.5/32", "10.1.0.0/16", "::1/128", "192.168.1.0/24")
    assert forwarded_headers(settings) == {"proxy_headers": True, "forwarded_allow_ips": list(settings.trusted_proxies)}


@pytest.mark.parametrize("value", ["*", "localhost", "10.0.0.300", "10.0.0.0/33", "unix:/run/proxy.sock"])
def test_anything_but_an_address_or_network_is_refused(monkeypatch, value):
    """uvicorn would take it as a literal no peer matches: the proxy silently untrusted, or "*" everyone."""
    monkeypatch.setenv("CC_TRUSTED_PROXIES", f"10.0.0.1,{value}")
    with pytest.raises(ValidationError, match="CC_TRUSTED_PROXIES"):
        Settings(_env_file=None)


def test_uvicorns_own_variable_is_ignored_and_said_so(monkeypatch, caplog):
    """FORWARDED_ALLOW_IPS would otherwise decide, unseen by the service's settings."""
    monkeypatch.delenv("CC_TRUSTED_PROXIES", raising=False)
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "*")
    with caplog.at_level(logging.WARNING):
        options = forwarded_headers(Settings(_env_file=None))
    assert options == {"proxy_headers": False, "forwarded_allow_ips": []}
    assert "CC_TRUSTED_PROXIES" in caplog.text
