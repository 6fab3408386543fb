"""What the gateway's webhooks take, for its OpenAPI schema (app.openapi()): the routes read
their bodies themselves (signatures are checked over the raw form), so the schema is written
here. The test suite fuzzes the gateway against it (tests/bot/test_fuzz_gateway.py); the schema
is not served (openapi_url=None)."""
from __future__ import annotations

from typing import Any


def _form(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {
        "application/x-www-form-urlencoded": {"schema": {
            "type": "object", "properties": properties, "required": required}}}}}


def _signed(header: str, extra: dict[str, Any]) -> dict[str, Any]:
    return {**extra, "parameters": [{"name": header, "in": "header", "required": True,
                                      "schema": {"type": "string"}}]}


_STRING = {"type": "string"}
_E164 = {"type": "string", "pattern": r"^\+[1-9][0-9]{6,14}$"}
_SID = {"type": "string", "minLength": 1, "maxLength": 64}

TWILIO_SMS = _signed("X-Twilio-Signature", _form(
    {"MessageSid": _SID, "SmsSid": _SID, "AccountSid": _STRING, "From": _E164, "To": _STRING,
     "Body": _STRING, "NumMedia": _STRING},
    ["MessageSid", "From"]))

TWILIO_STATUS = _signed("X-Twilio-Signature", _form(
    {"MessageSid": _SID, "MessageStatus": {"type": "string", "minLength": 1},
     "ErrorCode": _STRING, "AccountSid": _STRING},
    ["MessageSid", "MessageStatus"]))

TELEGRAM = _signed("X-Telegram-Bot-Api-Secret-Token", {"requestBody": {
    "required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["update_id"],
        "properties": {
            "update_id": {"type": "integer", "minimum": 0},
            "message": {"type": "object", "required": ["message_id", "date", "chat"],
                        "properties": {
                            "message_id": {"type": "integer"},
                            "date": {"type": "integer", "minimum": 0},
                            "text": _STRING,
                            "chat": {"type": "object", "required": ["id", "type"],
                                     "properties": {"id": {"type": "integer"},
                                                    "type": {"enum": ["private", "group"]}}}}},
        }}}}}})

WEB_CHAT = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["sender", "message"],
    "properties": {
        # Other characters are dropped (the session id is namespaced under web:), so a sender
        # needs one allowed character (the pattern is unanchored) and may have any others.
        "sender": {"type": "string", "pattern": "[A-Za-z0-9_.-]"},
        "message": {"type": "string", "minLength": 1, "maxLength": 2000},
    }}}}}}

WEB_POLL = {"parameters": [
    {"name": "sender", "in": "query", "required": True,
     "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.-]{32,64}$"}},
    {"name": "after", "in": "query", "required": False,
     "schema": {"type": "string", "pattern": "^[0-9]{0,18}$"}},
]}
