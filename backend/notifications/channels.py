"""How a message leaves: email through the SMTP server of the settings, and webhooks signed as
Standard Webhooks (https://www.standardwebhooks.com: `webhook-id`, `webhook-timestamp` and
`webhook-signature`, v1 = HMAC-SHA256 over "id.timestamp.body" with the subscription's secret).

A webhook's address is a member's to choose, so it is checked before it is accepted and again each
time it is called: https only, and every address its host resolves to public (no loopback, private,
link-local, multicast or reserved address, IPv4 inside IPv6 included), unless the steward allows
private webhooks (tests, a bridge on the same machine). The connection goes to the address that was
checked (not resolved again by the HTTP client, which a DNS answer changing in between could turn
into a private one), without following redirects.

Errors never carry the address or URL: a failure is described by its kind and status alone, so
nothing private reaches the log or the database's error columns.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
import smtplib
import socket
import ssl
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formataddr, formatdate, parseaddr
from urllib.parse import urlsplit

import urllib3

from backend.i18n import gettext
from backend.settings import Settings

MAX_EMAIL = 254
MAX_WEBHOOK_URL = 2048
MAX_SUBJECT = 150
_EMAIL_LOCAL = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.!#$%&'*+/=?^_`{|}~-")


class SendFailed(Exception):
    """A message not delivered. `endpoint` when the fault is the member's endpoint (a webhook that
    fails, an address the mail server refuses): those count toward turning it off; a fault of the
    service's own (its SMTP server away) is only tried again. `gone`: the endpoint asked to be
    turned off (HTTP 410)."""

    def __init__(self, reason: str, *, endpoint: bool, gone: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.endpoint = endpoint
        self.gone = gone


# ---------------------------------------------------------------------- text in headers


def one_line(text: str, limit: int = MAX_SUBJECT) -> str:
    """Text fit for a header (a subject, a display name): no control or invisible characters, no
    line breaks of any kind (so nothing a member wrote can start a header of its own), spaces
    collapsed, and at most `limit` characters."""
    cleaned = "".join(
        " " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else "" if unicodedata.category(c) == "Cf" else c
        for c in text
    )
    cleaned = " ".join(cleaned.split())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1].rstrip() + "…"


# ---------------------------------------------------------------------- email


def email_address(value: str) -> str:
    """An email address as a member typed it, checked: one address (no display name, no list, no
    line break), a plain local part, a domain of letters, digits, dots and hyphens with a dot in
    it. The domain is lowered; the local part kept as typed."""
    value = value.strip()
    if not value:
        raise ValueError(gettext("an email address must not be empty"))
    if len(value) > MAX_EMAIL:
        raise ValueError(
            gettext(
                "an email address is at most %(limit)s characters; this one is %(length)s",
                limit=MAX_EMAIL,
                length=len(value),
            )
        )
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain:
        raise ValueError(gettext("%(value)s is not an email address (name@example.org)", value=repr(value)))
    if not set(local) <= _EMAIL_LOCAL or local.startswith(".") or local.endswith(".") or ".." in local:
        raise ValueError(
            gettext(
                "%(value)s is not an email address: its part before @ holds characters mail cannot carry",
                value=repr(value),
            )
        )
    labels = domain.lower().split(".")
    if len(labels) < 2 or not all(
        label and len(label) <= 63 and label[0] != "-" and label[-1] != "-" and label.replace("-", "").isalnum()
        for label in labels
    ):
        raise ValueError(
            gettext(
                "%(value)s is not an email address: %(domain)s is not a domain name",
                value=repr(value),
                domain=repr(domain),
            )
        )
    if not all(c.isascii() for c in domain):
        raise ValueError(
            gettext("%(value)s is not an email address: write its domain in ASCII (punycode)", value=repr(value))
        )
    return f"{local}@{domain.lower()}"


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    text: str
    message_id: str
    unsubscribe_url: str
    language: str = "en"  # the member's, said in Content-Language (RFC 3282)


class Mailer:
    """Email through the SMTP server of the settings, one connection per message (a few a minute)."""

    def __init__(self, settings: Settings) -> None:
        if not settings.notify_smtp_host:
            raise ValueError("no SMTP server is set (CC_NOTIFY_SMTP_HOST)")
        self.settings = settings
        name, address = parseaddr(settings.notify_from)
        if "@" not in address:
            raise ValueError(f"CC_NOTIFY_FROM is not an address: {settings.notify_from!r}")
        self.sender = address
        self.sender_name = one_line(name or "Contribution Commons", 78)
        self.domain = address.rpartition("@")[2]

    def message(self, email: Email) -> EmailMessage:
        message = EmailMessage(policy=SMTP)
        message["From"] = formataddr((self.sender_name, self.sender))
        message["To"] = email.to
        message["Subject"] = one_line(email.subject)
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = f"<{email.message_id}@{self.domain}>"
        message["Auto-Submitted"] = "auto-generated"
        # One click, in the mail program's own menu too (RFC 2369 and RFC 8058).
        message["List-Unsubscribe"] = f"<{email.unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message.set_content(email.text)
        message["Content-Language"] = email.language  # after the content: set_content clears Content-*
        return message

    def send(self, email: Email) -> None:
        settings = self.settings
        message = self.message(email)
        timeout = settings.notify_send_timeout_seconds
        host, port = settings.notify_smtp_host or "", settings.notify_smtp_port
        try:
            if settings.notify_smtp_security == "tls":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(host, port, timeout=timeout)
            with smtp:
                if settings.notify_smtp_security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
                if settings.notify_smtp_username:
                    password = settings.notify_smtp_password.get_secret_value() if settings.notify_smtp_password else ""
                    smtp.login(settings.notify_smtp_username, password)
                # The recipient is given to the server here, not read from the headers.
                smtp.send_message(message, from_addr=self.sender, to_addrs=[email.to])
        except smtplib.SMTPRecipientsRefused as exc:
            codes = sorted({code for code, _ in exc.recipients.values()})
            permanent = all(code >= 500 for code in codes)
            raise SendFailed(
                gettext("the mail server refused the address (SMTP %(codes)s)", codes=codes), endpoint=permanent
            ) from None
        except smtplib.SMTPResponseException as exc:
            raise SendFailed(
                gettext("the mail server answered SMTP %(code)s", code=exc.smtp_code), endpoint=False
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise SendFailed(
                gettext("the mail server could not be reached (%(kind)s)", kind=type(exc).__name__), endpoint=False
            ) from None


# ---------------------------------------------------------------------- webhooks


def new_webhook_secret() -> str:
    """A subscription's signing secret, as Standard Webhooks writes one: whsec_ and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def webhook_signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


Resolver = Callable[[str, int], list[str]]


def resolve(host: str, port: int) -> list[str]:
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


@dataclass(frozen=True)
class WebhookTarget:
    scheme: str
    host: str
    port: int
    path: str
    addresses: list[str]  # what the host resolved to, each checked


def check_webhook_url(url: str, *, allow_private: bool, resolver: Resolver = resolve) -> WebhookTarget:
    """A webhook's URL, refused in a sentence unless it is https (or http where private webhooks are
    allowed), has a host, no user name or password, and resolves only to public addresses (where
    private ones are not allowed)."""
    url = url.strip()
    if len(url) > MAX_WEBHOOK_URL:
        raise ValueError(gettext("a webhook's URL is at most %(limit)s characters", limit=MAX_WEBHOOK_URL))
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp", "Zs") for c in url):
        raise ValueError(gettext("a webhook's URL must not hold spaces, line breaks or invisible characters"))
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValueError(gettext("%(value)s is not a URL", value=repr(url[:100]))) from None
    schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in schemes:
        raise ValueError(
            gettext(
                "a webhook's URL must start with %(schemes)s",
                schemes=gettext(" or ").join(s + "://" for s in schemes),
            )
        )
    if not parts.hostname:
        raise ValueError(gettext("a webhook's URL must name a host"))
    if parts.username is not None or parts.password is not None:
        raise ValueError(gettext("a webhook's URL must not hold a user name or password: put its secret in its path"))
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = resolver(parts.hostname, port)
    except (OSError, UnicodeError):
        raise ValueError(
            gettext("the webhook's host %(host)s cannot be found (DNS)", host=repr(parts.hostname))
        ) from None
    if not addresses:
        raise ValueError(gettext("the webhook's host %(host)s cannot be found (DNS)", host=repr(parts.hostname)))
    if not allow_private:
        for address in addresses:
            if not _public(address):
                raise ValueError(
                    gettext(
                        "the webhook's host %(host)s is a private, loopback or reserved address (%(address)s): this "
                        "service calls only public addresses, so no one can make it call inside its own network",
                        host=repr(parts.hostname),
                        address=address,
                    )
                )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return WebhookTarget(parts.scheme, parts.hostname, port, path, addresses)


class WebhookSender:
    def __init__(self, settings: Settings, resolver: Resolver = resolve) -> None:
        self.settings = settings
        self.resolver = resolver

    def send(self, url: str, secret: str, message_id: str, timestamp: int, body: bytes) -> None:
        try:
            target = check_webhook_url(
                url, allow_private=self.settings.notify_allow_private_webhooks, resolver=self.resolver
            )
        except ValueError:
            raise SendFailed(
                gettext("the webhook's address is no longer allowed or cannot be found"), endpoint=True
            ) from None
        host_header = target.host if ":" not in target.host else f"[{target.host}]"
        if target.port != (443 if target.scheme == "https" else 80):
            host_header += f":{target.port}"
        headers = {
            "Host": host_header,
            "Content-Type": "application/json",
            "User-Agent": "ContributionCommons-Webhooks/1",
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": webhook_signature(secret, message_id, timestamp, body),
        }
        timeout = urllib3.Timeout(total=self.settings.notify_send_timeout_seconds)
        address = target.addresses[0]
        pool: urllib3.HTTPConnectionPool
        if target.scheme == "https":
            pool = urllib3.HTTPSConnectionPool(
                address,
                target.port,
                server_hostname=target.host,
                assert_hostname=target.host,
                ssl_context=ssl.create_default_context(),
                timeout=timeout,
                retries=False,
                maxsize=1,
            )
        else:
            pool = urllib3.HTTPConnectionPool(address, target.port, timeout=timeout, retries=False, maxsize=1)
        try:
            response = pool.urlopen(
                "POST",
                target.path,
                body=body,
                headers=headers,
                redirect=False,
                retries=False,
                preload_content=False,
                assert_same_host=False,
            )
            status = response.status
            response.read(4096, decode_content=False)
            response.release_conn()
        except urllib3.exceptions.HTTPError as exc:
            raise SendFailed(
                gettext("the webhook could not be reached (%(kind)s)", kind=type(exc).__name__), endpoint=True
            ) from None
        finally:
            pool.close()
        if status == 410:
            raise SendFailed(
                gettext("the webhook answered 410 Gone: it asks to be turned off"), endpoint=True, gone=True
            )
        if not 200 <= status < 300:
            raise SendFailed(gettext("the webhook answered HTTP %(status)s", status=status), endpoint=True)
