"""The gateway's client of Rasa's REST channel (POST /webhooks/rest/webhook)."""
from __future__ import annotations

import logging

import httpx

log = logging.getLogger(__name__)


class RasaUnavailable(RuntimeError):
    """Rasa (or the action server behind it) did not answer in time or answered wrongly."""


def neutralise(text: str) -> str:
    """Rasa reads a message starting with '/' as an intent with entities; a patient's text
    must never be taken for one, so leading slashes are removed."""
    stripped = text.lstrip()
    while stripped.startswith("/"):
        stripped = stripped[1:].lstrip()
    return stripped


def _reply_text(item: dict) -> str | None:
    text = item.get("text")
    if not isinstance(text, str) or not text.strip():
        return None
    buttons = item.get("buttons") or []
    titles = [b.get("title") for b in buttons if isinstance(b, dict) and b.get("title")]
    if titles:
        text = f"{text}\n" + "\n".join(f"- {t}" for t in titles)
    return text


class RasaClient:
    def __init__(self, base_url: str, timeout_s: float, transport: httpx.AsyncBaseTransport | None = None):
        self.url = base_url.rstrip("/") + "/webhooks/rest/webhook"
        self.timeout_s = timeout_s
        self._client = httpx.AsyncClient(timeout=timeout_s, transport=transport)

    async def ask(self, sender_key: str, text: str, channel: str, channel_user: str,
                  client_ref: str | None = None, lang: str | None = None) -> list[str]:
        """Rasa's replies (texts, in order) to one message. Raises RasaUnavailable.
        client_ref: a web client's hashed address (bot/client_address.py), for the actions'
        per-address verification limit. lang: the language the actions answer in (the
        gateway's choice, bot/conversation_language.py)."""
        metadata = {"channel": channel, "channel_user": channel_user}
        if client_ref:
            metadata["client_ref"] = client_ref
        if lang:
            metadata["lang"] = lang
        payload = {"sender": sender_key, "message": neutralise(text), "metadata": metadata}
        try:
            resp = await self._client.post(self.url, json=payload)
        except httpx.HTTPError as exc:
            raise RasaUnavailable(type(exc).__name__) from exc
        if resp.status_code != 200:
            raise RasaUnavailable(f"HTTP {resp.status_code}")
        try:
            items = resp.json()
        except ValueError as exc:
            raise RasaUnavailable("reply is not JSON") from exc
        if not isinstance(items, list):
            raise RasaUnavailable("reply is not a list")
        return [t for t in (_reply_text(i) for i in items if isinstance(i, dict)) if t]

    async def aclose(self) -> None:
        await self._client.aclose()
