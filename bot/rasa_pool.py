"""Several Rasa instances behind the gateway: RASA_URL may list them comma-separated.

Messages are spread round-robin; the instances share one tracker store and one Redis lock
store, so whichever instance takes a turn sees (and locks) the same conversation. A turn is
tried on the next instance only when the first could not be connected to at all, never after
a timeout (the first instance may have processed it).
"""
from __future__ import annotations

import itertools

import httpx
from prometheus_client import Counter

from bot.rasa_client import RasaClient, RasaUnavailable

REQUESTS = Counter("billbot_rasa_requests", "Messages sent to each Rasa instance", ["instance"])


def rasa_urls(rasa_url: str) -> list[str]:
    """Split RASA_URL (comma-separated) into base URLs without trailing slashes."""
    return [u.strip().rstrip("/") for u in rasa_url.split(",") if u.strip()]


class RasaPool:
    """The RasaClient interface (ask, aclose) over several instances."""

    def __init__(self, urls: list[str], timeout_s: float,
                 transport: httpx.AsyncBaseTransport | None = None):
        if not urls:
            raise ValueError("RasaPool needs at least one Rasa URL")
        self.clients = [RasaClient(u, timeout_s, transport=transport) for u in urls]
        self._turn = itertools.count()

    async def ask(self, sender_key: str, text: str, channel: str, channel_user: str,
                  client_ref: str | None = None, lang: str | None = None) -> list[str]:
        first = next(self._turn) % len(self.clients)
        order = self.clients[first:] + self.clients[:first]
        for i, client in enumerate(order):
            REQUESTS.labels(str((first + i) % len(self.clients))).inc()
            try:
                return await client.ask(sender_key, text, channel, channel_user, client_ref,
                                        lang=lang)
            except RasaUnavailable as exc:
                never_reached = isinstance(exc.__cause__, httpx.ConnectError)
                if not never_reached or i == len(order) - 1:
                    raise
        raise AssertionError("unreachable")  # the loop returns or raises

    async def aclose(self) -> None:
        for client in self.clients:
            await client.aclose()


def make_rasa_client(rasa_url: str, timeout_s: float,
                     transport: httpx.AsyncBaseTransport | None = None):
    """A RasaClient for one URL, a RasaPool for several."""
    urls = rasa_urls(rasa_url)
    if len(urls) == 1:
        return RasaClient(urls[0], timeout_s, transport=transport)
    return RasaPool(urls, timeout_s, transport=transport)
