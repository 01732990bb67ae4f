"""Where a webhook may point, and a POST that goes only to an address that was checked.

A webhook address is typed by an approver, and the server then sends customers' messages to it: without checks
it could reach the loopback interface, the cloud's metadata address or any internal service. An address must be
https (http only by setting), may be limited to listed hosts, and every address its host resolves to must be
public, both when it is saved and when each message is sent; the connection then goes to the address that
was checked, so a DNS answer that changes in between (rebinding) gains nothing. Redirects are not followed.
"""
from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

Resolver = Callable[..., list[tuple[Any, ...]]]


class TargetRefused(RuntimeError):
    """A webhook address that the policy does not allow."""


@dataclass(frozen=True)
class TargetPolicy:
    allow_http: bool = False
    allow_private: bool = False
    allowed_hosts: tuple[str, ...] = ()  # empty: any public host; "*.example.com" allows its subdomains

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> TargetPolicy:
        """Read the NOTIFY_* settings."""
        hosts = tuple(h.strip().lower() for h in str(config.get("NOTIFY_ALLOWED_HOSTS") or "").split(",")
                      if h.strip())
        return cls(allow_http=bool(config.get("NOTIFY_ALLOW_HTTP")),
                   allow_private=bool(config.get("NOTIFY_ALLOW_PRIVATE")), allowed_hosts=hosts)

    def host_allowed(self, host: str) -> bool:
        """Say whether the host is on the allow-list (or there is none)."""
        if not self.allowed_hosts:
            return True
        host = host.lower().rstrip(".")
        return any(host == h or (h.startswith("*.") and host.endswith(h[1:])) for h in self.allowed_hosts)


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]


def _forbidden(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Name the kind of non-public address `ip` is, or None for a public one."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for name, flag in (("loopback", ip.is_loopback), ("unspecified", ip.is_unspecified),
                       ("link-local", ip.is_link_local), ("multicast", ip.is_multicast),
                       ("reserved", ip.is_reserved), ("private", ip.is_private), ("not public", not ip.is_global)):
        if flag:
            return name
    return None


def check_target(url: str, policy: TargetPolicy, resolve: Resolver = socket.getaddrinfo) -> Target:
    """Return the checked webhook address with the IP addresses it may be sent to; raise TargetRefused."""
    url = url.strip()
    if any(ord(ch) <= 0x20 or ord(ch) == 0x7F for ch in url):
        raise TargetRefused("a webhook address cannot contain spaces or control characters")
    parts = urlsplit(url)
    schemes = ("https", "http") if policy.allow_http else ("https",)
    if parts.scheme.lower() not in schemes:
        raise TargetRefused("a webhook needs an https address" if not policy.allow_http
                            else "a webhook needs an http(s) address")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("put no user name or password in a webhook address; the secret signs each message")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise TargetRefused("the webhook address has an invalid port") from None
    if not host:
        raise TargetRefused("the webhook address has no host")
    if not policy.host_allowed(host):
        raise TargetRefused(f"{host} is not on the list of allowed webhook hosts (VETTED_NOTIFY_ALLOWED_HOSTS)")
    scheme = parts.scheme.lower()
    port = port or (443 if scheme == "https" else 80)
    try:
        found = resolve(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise TargetRefused(f"the webhook host {host} cannot be resolved ({exc})") from None
    addresses: list[str] = []
    for _family, _type, _proto, _name, sockaddr in found:
        address = str(sockaddr[0]).split("%")[0]
        if not policy.allow_private:
            kind = _forbidden(ipaddress.ip_address(address))
            if kind:
                raise TargetRefused(f"the webhook host {host} resolves to {address}, a {kind} address; "
                                    "webhooks go to public addresses only")
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise TargetRefused(f"the webhook host {host} has no address")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme, host, port, path, tuple(addresses))


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self._tls)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        # The certificate is checked against the host name, while the socket goes to the checked address.
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)


def post(target: Target, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST `body` to the checked address and return the status; a redirect is an answer, not followed."""
    kind = _PinnedHTTPS if target.scheme == "https" else _PinnedHTTP
    connection = kind(target.host, target.port, address=target.addresses[0], timeout=timeout)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(65536)
        return response.status
    finally:
        connection.close()
