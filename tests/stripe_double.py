"""A local double of the parts of Stripe's API billbot uses, for the real `stripe` SDK
(STRIPE_API_BASE points at it): Checkout Sessions, customers, setup intents, off-session
PaymentIntents (succeeding, declined or needing authentication, as a test asks), refunds, and
the charge and refund lists. Idempotency keys are honoured as Stripe does: a request with a
key it has seen gets the first answer again and changes nothing.

It also plays Stripe's side of the webhook: complete() pays a session and posts the
checkout.session.completed event, signed the way Stripe signs (Stripe-Signature:
t=<unix time>,v1=<HMAC-SHA256 of "<t>.<body>" with the endpoint secret>), to a poster the test
gives (the gateway's TestClient)."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from urllib.parse import parse_qs

from tests.doubles.http import HttpDouble, Recorded, Reply

SECRET_KEY = "sk_test_billbot_double_0001"
WEBHOOK_SECRET = "whsec_billbot_double_0001"

Poster = Callable[[bytes, dict], object]  # (body, headers) -> the webhook's response


def _id(prefix: str) -> str:
    return f"{prefix}_test_{uuid.uuid4().hex[:24]}"


def nested(flat: dict) -> dict:
    """Stripe's form encoding ('metadata[account]=A1', 'line_items[0][quantity]=1') back
    into dicts and lists."""
    out: dict = {}
    for key, value in flat.items():
        parts = key.replace("]", "").split("[")
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _lists(out)


def _lists(node):
    if isinstance(node, dict):
        if node and all(k.isdigit() for k in node):
            return [_lists(node[k]) for k in sorted(node, key=int)]
        return {k: _lists(v) for k, v in node.items()}
    return node


def signature(payload: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """The Stripe-Signature header for a payload."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


class StripeDouble(HttpDouble):
    def __init__(self, secret_key: str = SECRET_KEY, webhook_secret: str = WEBHOOK_SECRET):
        self.secret_key, self.webhook_secret = secret_key, webhook_secret
        self.sessions: dict[str, dict] = {}
        self.customers: dict[str, dict] = {}
        self.setup_intents: dict[str, dict] = {}
        self.payment_intents: dict[str, dict] = {}
        self.charges: dict[str, dict] = {}
        self.refunds: dict[str, dict] = {}
        self.events: list[dict] = []
        self.off_session: deque[str] = deque()  # next outcomes: succeed, decline, authenticate
        self.charge_delay_s = 0.0
        self.fee_percent, self.fee_fixed = 29, 30  # 2.9% + 30c, in tenths of a percent
        self._idempotent: dict[str, Reply] = {}
        self._state = threading.Lock()
        super().__init__()

    # -- the API -----------------------------------------------------------------------
    def respond(self, rec: Recorded) -> Reply:
        if rec.headers.get("Authorization") != f"Bearer {self.secret_key}":
            return Reply(401, {"error": {"type": "invalid_request_error",
                                         "message": "Invalid API Key provided"}})
        key = rec.headers.get("Idempotency-Key")
        with self._state:
            if rec.method == "POST" and key and key in self._idempotent:
                return self._idempotent[key]
            reply = self._route(rec)
            if rec.method == "POST" and key and reply.status < 500:
                self._idempotent[key] = Reply(reply.status, reply.body)
        return reply

    def _route(self, rec: Recorded) -> Reply:
        params = nested(rec.params) if rec.method == "POST" else nested(
            {k: v[0] for k, v in parse_qs(rec.query).items()})
        path = rec.path
        if path == "/v1/checkout/sessions" and rec.method == "POST":
            return Reply(200, self._create_session(params))
        if path == "/v1/customers" and rec.method == "POST":
            customer = {"id": _id("cus"), "object": "customer",
                        "metadata": params.get("metadata", {})}
            self.customers[customer["id"]] = customer
            return Reply(200, customer)
        if path.startswith("/v1/setup_intents/") and rec.method == "GET":
            found = self.setup_intents.get(path.rsplit("/", 1)[1])
            return Reply(200, found) if found else self._missing("setup_intent")
        if path == "/v1/payment_intents" and rec.method == "POST":
            return self._off_session(params)
        if path == "/v1/refunds" and rec.method == "POST":
            return self._create_refund(params)
        if path == "/v1/charges" and rec.method == "GET":
            return Reply(200, self._list(self.charges.values(), params, "/v1/charges",
                                         expand_fees=True))
        if path == "/v1/refunds" and rec.method == "GET":
            return Reply(200, self._list(self.refunds.values(), params, "/v1/refunds"))
        return self._missing(path)

    @staticmethod
    def _missing(what: str) -> Reply:
        return Reply(404, {"error": {"type": "invalid_request_error", "code": "resource_missing",
                                     "message": f"No such {what}"}})

    def _create_session(self, p: dict) -> dict:
        mode = p.get("mode")
        items = p.get("line_items") or []
        amount = sum(int(i["price_data"]["unit_amount"]) * int(i.get("quantity", 1))
                     for i in items) if mode == "payment" else None
        session = {
            "id": _id("cs"), "object": "checkout.session", "mode": mode,
            "url": f"{self.url}/c/pay/{uuid.uuid4().hex}", "status": "open",
            "payment_status": "unpaid", "amount_total": amount,
            "currency": p.get("currency") or (items[0]["price_data"]["currency"] if items else "usd"),
            "expires_at": int(p["expires_at"]), "metadata": p.get("metadata", {}),
            "client_reference_id": p.get("client_reference_id"),
            "customer": p.get("customer"), "payment_intent": None, "setup_intent": None,
            "success_url": p.get("success_url"), "cancel_url": p.get("cancel_url"),
            "payment_intent_data": p.get("payment_intent_data", {}),
        }
        self.sessions[session["id"]] = session
        return session

    def _intent(self, amount: int, customer: str | None, method: str | None, metadata: dict,
                status: str = "succeeded") -> dict:
        intent = {"id": _id("pi"), "object": "payment_intent", "amount": amount,
                  "amount_received": amount if status == "succeeded" else 0,
                  "currency": "usd", "customer": customer, "payment_method": method,
                  "metadata": metadata, "status": status, "created": int(time.time())}
        self.payment_intents[intent["id"]] = intent
        if status == "succeeded":
            fee = amount * self.fee_percent // 1000 + self.fee_fixed
            charge = {"id": _id("ch"), "object": "charge", "amount": amount, "paid": True,
                      "status": "succeeded", "payment_intent": intent["id"],
                      "created": intent["created"],
                      "balance_transaction": {"id": _id("txn"), "object": "balance_transaction",
                                              "amount": amount, "fee": fee}}
            self.charges[charge["id"]] = charge
        return intent

    def _off_session(self, p: dict) -> Reply:
        outcome = self.off_session.popleft() if self.off_session else "succeed"
        amount = int(p["amount"])
        metadata = p.get("metadata", {})
        delay = self.charge_delay_s
        if outcome == "succeed":
            return Reply(200, self._intent(amount, p.get("customer"), p.get("payment_method"),
                                           metadata), delay_s=delay)
        intent = self._intent(amount, p.get("customer"), p.get("payment_method"), metadata,
                              status="requires_payment_method" if outcome == "decline"
                              else "requires_action")
        code = "card_declined" if outcome == "decline" else "authentication_required"
        error = {"type": "card_error", "code": code, "message": "Your card was declined.",
                 "payment_intent": intent}
        if outcome == "decline":
            error["decline_code"] = "insufficient_funds"
        return Reply(402, {"error": error}, delay_s=delay)

    def _create_refund(self, p: dict) -> Reply:
        intent = self.payment_intents.get(p.get("payment_intent", ""))
        if intent is None or intent["status"] != "succeeded":
            return self._missing("payment_intent")
        refund = {"id": _id("re"), "object": "refund", "amount": int(p["amount"]),
                  "payment_intent": intent["id"], "status": "pending",
                  "metadata": p.get("metadata", {}), "created": int(time.time())}
        self.refunds[refund["id"]] = refund
        return Reply(200, refund)

    def _list(self, rows, params: dict, url: str, expand_fees: bool = False) -> dict:
        created = params.get("created", {})
        gte, lt = int(created.get("gte", 0)), int(created.get("lt", 2**40))
        data = []
        for row in rows:
            if gte <= row["created"] < lt:
                item = dict(row)
                if not expand_fees and "balance_transaction" in item:
                    item["balance_transaction"] = item["balance_transaction"]["id"]
                data.append(item)
        return {"object": "list", "data": data, "has_more": False, "url": url}

    # -- Stripe's side: the patient pays, Stripe posts events ---------------------------
    def event(self, kind: str, obj: dict) -> dict:
        event = {"id": _id("evt"), "object": "event", "api_version": "2025-01-01",
                 "created": int(time.time()), "livemode": False, "type": kind,
                 "data": {"object": obj}, "pending_webhooks": 1}
        self.events.append(event)
        return event

    def post(self, event: dict, poster: Poster, *, secret: str | None = None,
             timestamp: int | None = None, header: str | None = "auto"):
        """Post an event as Stripe does; header=None leaves the signature out."""
        body = json.dumps(event).encode()
        headers = {"Content-Type": "application/json"}
        if header == "auto":
            headers["Stripe-Signature"] = signature(body, secret or self.webhook_secret,
                                                    timestamp)
        elif header is not None:
            headers["Stripe-Signature"] = header
        return poster(body, headers)

    def pay(self, session_id: str, *, amount: int | None = None,
            metadata: dict | None = None) -> dict:
        """The patient pays on the hosted page: the completed event, not yet posted.
        amount/metadata override what was asked (a tampered or odd payment)."""
        with self._state:
            session = self.sessions[session_id]
            paid = session["amount_total"] if amount is None else amount
            intent = self._intent(paid, session.get("customer"), _id("pm"),
                                  session["payment_intent_data"].get("metadata", {}))
            session.update(status="complete", payment_status="paid", amount_total=paid,
                           payment_intent=intent["id"])
            if metadata is not None:
                session["metadata"] = metadata
            return self.event("checkout.session.completed", dict(session))

    def complete(self, session_id: str, poster: Poster, **kwargs):
        """Pay the session and post its signed event; the webhook's response."""
        return self.post(self.pay(session_id, **kwargs), poster)

    def save_card(self, session_id: str) -> dict:
        """The patient saves a card on a setup page: the completed event."""
        with self._state:
            session = self.sessions[session_id]
            setup = {"id": _id("seti"), "object": "setup_intent", "status": "succeeded",
                     "customer": session["customer"], "payment_method": _id("pm"),
                     "metadata": session["metadata"]}
            self.setup_intents[setup["id"]] = setup
            session.update(status="complete", payment_status="no_payment_required",
                           setup_intent=setup["id"])
            return self.event("checkout.session.completed", dict(session))

    def settle_refund(self, refund_id: str, status: str = "succeeded") -> dict:
        """The bank returns the money (or not): the refund.updated event."""
        with self._state:
            refund = self.refunds[refund_id]
            refund["status"] = status
            return self.event("refund.updated", dict(refund))

    def expire(self, session_id: str) -> dict:
        with self._state:
            session = self.sessions[session_id]
            session["status"] = "expired"
            return self.event("checkout.session.expired", dict(session))

    def charges_for(self, installment_id: int) -> list[dict]:
        """Successful off-session payments made for one installment."""
        return [pi for pi in self.payment_intents.values()
                if pi["status"] == "succeeded"
                and pi["metadata"].get("installment") == str(installment_id)
                and pi["metadata"].get("purpose") == "autopay"]

    def session_for_url(self, url: str) -> dict:
        return next(s for s in self.sessions.values() if s["url"] == url)
