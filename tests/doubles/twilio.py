"""A double of Twilio's Messages API (POST /2010-04-01/Accounts/{sid}/Messages.json)."""
from __future__ import annotations

import re
import uuid
from collections import deque

from tests.doubles.http import HttpDouble, Recorded, Reply

_MESSAGES = re.compile(r"^/2010-04-01/Accounts/(?P<sid>AC\w+)/Messages\.json$")


class TwilioDouble(HttpDouble):
    def __init__(self, account_sid: str, auth_token: str):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self._failures: deque[Reply] = deque()
        super().__init__()

    def fail_next(self, code: int, status: int = 400, message: str = "refused", times: int = 1):
        """The next `times` sends get a Twilio error (e.g. 21610, or 20429 with status 429)."""
        for _ in range(times):
            self._failures.append(Reply(status, {
                "code": code, "message": message, "status": status,
                "more_info": f"https://www.twilio.com/docs/errors/{code}",
            }))

    @property
    def sent(self) -> list[dict]:
        """The form of every send request the double received (failed ones included)."""
        return [r.params for r in self.requests if _MESSAGES.match(r.path)]

    def respond(self, rec: Recorded) -> Reply:
        m = _MESSAGES.match(rec.path)
        if rec.method != "POST" or not m:
            return Reply(404, {"code": 20404, "message": "not found", "status": 404})
        if m.group("sid") != self.account_sid:
            return Reply(401, {"code": 20003, "message": "Authenticate", "status": 401})
        if self._failures:
            return self._failures.popleft()
        p = rec.params
        return Reply(201, {
            "sid": "SM" + uuid.uuid4().hex, "account_sid": self.account_sid,
            "to": p.get("To"), "from": p.get("From"), "body": p.get("Body"),
            "status": "queued", "num_segments": "1", "direction": "outbound-api",
            "api_version": "2010-04-01", "uri": rec.path,
        })
