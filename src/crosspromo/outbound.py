"""Outbound HTTP to addresses that tenants choose (webhooks): the public internet only.

A tenant could otherwise make the worker POST to the cloud metadata service
(169.254.169.254), the database port on 127.0.0.1 or anything on the private network
(server-side request forgery). The rule: https, and every address the host resolves to must
be global in the IANA special-purpose registries (`ipaddress.is_global`), with multicast,
reserved, loopback, link-local and unspecified refused too, and the IPv4 address inside an
IPv4-mapped, 6to4, Teredo or NAT64 IPv6 address checked as well. The check runs at
registration and again at send time, and the request goes to the very address that passed
(Host header and TLS SNI carry the name, so the certificate is still checked against it):
a DNS answer that changes between the check and the connection (rebinding) cannot redirect
the request. `CROSSPROMO_WEBHOOKS_ALLOW_PRIVATE=true` lifts the rule for development.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import socket
from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
DEFAULT_PORTS = {"http": 80, "https": 443}


class UnsafeTarget(ValueError):
    """The URL is not https or reaches an address outside the public internet."""


@dataclasses.dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # ASCII (IDNA) form
    port: int
    path: str
    query: str
    addresses: tuple[IPAddress, ...]

    @property
    def host_header(self) -> str:
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if DEFAULT_PORTS[self.scheme] == self.port else f"{name}:{self.port}"

    def url_for(self, address: IPAddress) -> str:
        netloc = f"[{address}]" if address.version == 6 else str(address)
        return urlunsplit((self.scheme, f"{netloc}:{self.port}", self.path, self.query, ""))


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if any(address in net for net in NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: IPAddress) -> bool:
    """True for an address on the public internet (and, if it embeds IPv4, that one too)."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            return False
        embedded = _embedded_ipv4(address)
        if embedded is not None and not is_public(embedded):
            return False
    return address.is_global and not (
        address.is_multicast
        or address.is_reserved
        or address.is_loopback
        or address.is_link_local
        or address.is_unspecified
        or address.is_private
    )


def resolve(url: str, *, allow_private: bool = False) -> Target:
    """Parse and resolve the URL; refuse it unless every address it resolves to is public."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeTarget(f"not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme != "https" and not (scheme == "http" and allow_private):
        raise UnsafeTarget("webhook URLs must use https")
    if parts.username is not None or parts.password is not None:
        raise UnsafeTarget("webhook URLs cannot carry a user name or password")
    if not parts.hostname:
        raise UnsafeTarget("the URL has no host")
    try:
        host = parts.hostname.encode("idna").decode("ascii")
    except UnicodeError:
        raise UnsafeTarget(f"not a valid host name: {parts.hostname}") from None
    port = port or DEFAULT_PORTS[scheme]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise UnsafeTarget(f"the host {host} does not resolve") from None
    addresses: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]))  # a scoped fe80::1%eth0 stays scoped
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise UnsafeTarget(f"the host {host} does not resolve")
    if not allow_private:
        for address in addresses:
            if not is_public(address):
                raise UnsafeTarget(
                    f"{host} resolves to {address}, which is not a public internet address"
                )
    return Target(scheme, host, port, parts.path or "/", parts.query, tuple(addresses))


def post(
    url: str,
    *,
    content: bytes,
    headers: Mapping[str, str],
    allow_private: bool = False,
    timeout: float = 10.0,
) -> httpx.Response:
    """POST to the URL through an address checked just now; no redirects, no proxies."""
    target = resolve(url, allow_private=allow_private)
    address = target.addresses[0]
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
        return client.post(
            target.url_for(address),
            content=content,
            headers={**headers, "Host": target.host_header},
            extensions=extensions,
        )
