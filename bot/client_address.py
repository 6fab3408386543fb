"""Who is at the other end of an HTTP request, for the per-address limits: the TCP peer, or,
only when that peer is one of TRUSTED_PROXIES, the nearest untrusted address its
X-Forwarded-For names. Addresses are personal data: what is stored or passed on is a keyed
hash (client_ref), never the address."""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
from functools import lru_cache
from urllib.parse import urlsplit

from starlette.requests import Request

from clinic.settings import Settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class BadTrustedProxies(ValueError):
    """TRUSTED_PROXIES names something that is not an IP address or network."""


@lru_cache(maxsize=8)
def trusted_networks(spec: str) -> tuple[Network, ...]:
    """Parse TRUSTED_PROXIES (comma-separated IPs or CIDR ranges)
    into networks; raise BadTrustedProxies on a bad entry."""
    out = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        try:
            out.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise BadTrustedProxies(f"TRUSTED_PROXIES: {part!r} is not an IP address") from None
    return tuple(out)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def proxy_warning(settings: Settings) -> str | None:
    """Why the per-address limits would be wrong, when the settings say so: a public URL
    elsewhere than a gateway listening on loopback means a proxy on this host forwards every
    request, and without TRUSTED_PROXIES every client would share its address."""
    public_host = urlsplit(settings.public_base_url).hostname or ""
    if settings.trusted_proxies.strip() or _is_loopback(public_host):
        return None
    if not _is_loopback(settings.gateway_host):
        return None
    return (f"PUBLIC_BASE_URL is {public_host} but the gateway listens on "
            f"{settings.gateway_host}: a proxy forwards every request, so set TRUSTED_PROXIES "
            "to its address or all web clients share one rate limit")


def _is_trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_address(settings: Settings, peer: str | None, forwarded_for: str | None) -> str:
    """The client's address: X-Forwarded-For is read right to left (each proxy appends the
    address it saw), skipping trusted proxies, and only when the peer itself is trusted."""
    networks = trusted_networks(settings.trusted_proxies)
    address = peer or "unknown"
    if not networks or not _is_trusted(address, networks) or not forwarded_for:
        return address
    for hop in reversed([h.strip() for h in forwarded_for.split(",")]):
        if not hop:
            continue
        if not _is_trusted(hop, networks):
            return hop
        address = hop
    return address


def request_address(settings: Settings, request: Request) -> str:
    """The client's IP address for this request, believing
    X-Forwarded-For only from trusted proxies."""
    peer = request.client.host if request.client else None
    return client_address(settings, peer, request.headers.get("x-forwarded-for"))


def client_ref(settings: Settings, address: str) -> str:
    """A keyed hash of the address (32 hex digits): the same address gives the same ref on
    every worker, and the ref does not give the address back."""
    key = (settings.session_secret or "billbot-client-address").encode()
    return hmac.new(key, address.encode(), hashlib.sha256).hexdigest()[:32]


def request_ref(settings: Settings, request: Request) -> str:
    """A keyed hash of the request's client address,
    for throttling and logs without storing the IP."""
    return client_ref(settings, request_address(settings, request))
