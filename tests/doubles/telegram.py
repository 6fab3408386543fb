"""A double of Telegram's Bot API (POST /bot<token>/<method>)."""
from __future__ import annotations

import itertools
import json
import time
from collections import deque

from tests.doubles.http import HttpDouble, Recorded, Reply

BOT_USER = {"id": 7000001, "is_bot": True, "first_name": "Billbot", "username": "billbot_test_bot",
            "can_join_groups": False, "can_read_all_group_messages": False,
            "supports_inline_queries": False}


class TelegramDouble(HttpDouble):
    def __init__(self, token: str):
        self.token = token
        self._failures: dict[str, deque[Reply]] = {}
        self._updates: deque[dict] = deque()
        self._message_ids = itertools.count(100)
        super().__init__()

    def fail_next(self, method: str, status: int = 429, retry_after: int = 1,
                  description: str | None = None, times: int = 1):
        """The next calls of a method fail; 429 carries parameters.retry_after."""
        body = {"ok": False, "error_code": status,
                "description": description or f"Too Many Requests: retry after {retry_after}"}
        if status == 429:
            body["parameters"] = {"retry_after": retry_after}
        for _ in range(times):
            self._failures.setdefault(method, deque()).append(Reply(status, body))

    def push_update(self, update: dict) -> None:
        self._updates.append(update)

    def calls(self, method: str) -> list[dict]:
        return [r.params for r in self.requests if r.path.endswith("/" + method)]

    def call_times(self, method: str) -> list[float]:
        return [r.at for r in self.requests if r.path.endswith("/" + method)]

    def respond(self, rec: Recorded) -> Reply:
        prefix = f"/bot{self.token}/"
        if not rec.path.startswith(prefix):
            return Reply(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        method = rec.path[len(prefix):]
        failures = self._failures.get(method)
        if failures:
            return failures.popleft()
        p = rec.params
        if method == "getMe":
            return Reply(200, {"ok": True, "result": BOT_USER})
        if method in ("setWebhook", "deleteWebhook", "close", "logOut"):
            return Reply(200, {"ok": True, "result": True})
        if method == "getUpdates":
            if not self._updates:
                time.sleep(0.2)  # a short long-poll
            offset = int(p.get("offset") or 0)
            result = [u for u in list(self._updates) if u["update_id"] >= offset]
            self._updates = deque(result)
            return Reply(200, {"ok": True, "result": result})
        if method == "sendMessage":
            chat_id = int(p["chat_id"])
            return Reply(200, {"ok": True, "result": {
                "message_id": next(self._message_ids), "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"}, "from": BOT_USER,
                "text": p.get("text", ""),
            }})
        return Reply(400, {"ok": False, "error_code": 400,
                           "description": f"Bad Request: method {json.dumps(method)} not found"})


def text_update(update_id: int, chat_id: int, text: str, chat_type: str = "private") -> dict:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id * 10, "date": int(time.time()), "text": text,
            "chat": {"id": chat_id, "type": chat_type, "first_name": "Pat"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Pat"},
        },
    }
