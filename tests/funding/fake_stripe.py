"""A tiny local stand-in for Stripe's API, and events signed the way Stripe signs them.

``FakeStripe`` is an ``http.server`` on 127.0.0.1 answering the calls the site makes
(``POST /v1/checkout/sessions``, ``POST /v1/refunds``, ``DELETE /v1/subscriptions/<id>``)
with the JSON Stripe would, so the real ``stripe`` client code runs against it
(``STRIPE_API_BASE``). Its checkout URL is a page of its own (``/pay/<session>``) with a
"Pay" button: paying posts a correctly signed ``checkout.session.completed`` to the
site's webhook and sends the browser back to the session's success URL, as Stripe does.

``signature_header`` computes ``Stripe-Signature: t=<ts>,v1=<hex HMAC-SHA256 of
"<ts>.<body>">`` with the endpoint secret, independently of the library.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import itertools
import json
import re
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

API_KEY = "sk_test_medexchange_fake"
WEBHOOK_SECRET = "whsec_medexchange_test_secret"
_ids = itertools.count(1)


def next_id(prefix: str) -> str:
    return f"{prefix}_test_{next(_ids):06d}"


def signature_header(
    payload: str, secret: str = WEBHOOK_SECRET, timestamp: int | None = None
) -> str:
    """The ``Stripe-Signature`` header Stripe would send for ``payload``."""
    stamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(
        secret.encode("utf-8"), f"{stamp}.{payload}".encode(), hashlib.sha256
    ).hexdigest()
    return f"t={stamp},v1={digest}"


def event(event_type: str, obj: dict[str, Any], *, event_id: str | None = None) -> str:
    """A Stripe event's JSON body (a snapshot event of API version 2026-10-28)."""
    return json.dumps(
        {
            "id": event_id or next_id("evt"),
            "object": "event",
            "api_version": "2026-10-28.endive",
            "created": int(time.time()),
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": event_type,
            "data": {"object": obj},
        }
    )


def completed_session(
    session: dict[str, Any], *, payment_intent: str | None = None, paid: bool = True
) -> dict[str, Any]:
    """A Checkout Session as ``checkout.session.completed`` carries it."""
    subscription = next_id("sub") if session.get("mode") == "subscription" else None
    return {
        **session,
        "status": "complete",
        "payment_status": "paid" if paid else "unpaid",
        "payment_intent": None if subscription else (payment_intent or next_id("pi")),
        "subscription": subscription,
        # In subscription mode the session names the subscription's first invoice.
        "invoice": next_id("in") if subscription else None,
    }


def unflatten(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding (``a[b][0][c]=1``) back to nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node: Any = root
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return _lists(root)


def _lists(node: Any) -> Any:
    if isinstance(node, dict):
        if node and all(key.isdigit() for key in node):
            return [_lists(node[key]) for key in sorted(node, key=int)]
        return {key: _lists(value) for key, value in node.items()}
    return node


class FakeStripe:
    """Run with ``with FakeStripe() as fake:``; ``fake.base_url`` is STRIPE_API_BASE."""

    def __init__(self, *, webhook_url: str = "", secret: str = WEBHOOK_SECRET) -> None:
        self.webhook_url = webhook_url
        self.secret = secret
        self.sessions: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        self.refunds: dict[str, dict[str, Any]] = {}
        # Refunds made whose answer is lost (the connection drops), as many times as this.
        self.drop_refund_answers = 0
        self.webhook_answers: list[int] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FakeStripe:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    # ----------------------------------------------------------------- behaviour

    def create_session(self, params: dict[str, Any]) -> dict[str, Any]:
        session_id = next_id("cs")
        item = params["line_items"][0]
        price = item["price_data"]
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": params.get("mode", "payment"),
            "status": "open",
            "payment_status": "unpaid",
            "amount_total": int(price["unit_amount"]) * int(item.get("quantity", 1)),
            "currency": price["currency"],
            "client_reference_id": params.get("client_reference_id"),
            "customer_email": params.get("customer_email"),
            "metadata": params.get("metadata", {}),
            "success_url": params["success_url"],
            "cancel_url": params["cancel_url"],
            "url": f"{self.base_url}/pay/{session_id}",
            "payment_intent": None,
            "subscription": None,
            "livemode": False,
        }
        self.sessions[session_id] = session
        return session

    def pay(self, session_id: str) -> str:
        """Complete the session: post the signed event to the site; return success URL."""
        session = completed_session(self.sessions[session_id])
        self.sessions[session_id] = session
        body = event("checkout.session.completed", session)
        request = urllib.request.Request(  # noqa: S310 - the live server on loopback
            self.webhook_url,
            data=body.encode("utf-8"),
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": signature_header(body, self.secret),
            },
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            self.webhook_answers.append(response.status)
        return str(session["success_url"]).replace("{CHECKOUT_SESSION_ID}", session_id)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return  # quiet

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                body = json.dumps(payload).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Request-Id", next_id("req"))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _params(self) -> dict[str, Any]:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8") if length else ""
                return unflatten(parse_qsl(raw, keep_blank_values=True))

            def _authorised(self) -> bool:
                if self.headers.get("Authorization") == f"Bearer {API_KEY}":
                    return True
                self._json(401, {"error": {"type": "invalid_request_error", "message": "key"}})
                return False

            def do_POST(self) -> None:
                if self.path.startswith("/pay/"):
                    self.send_response(303)
                    self.send_header("Location", fake.pay(self.path.split("/")[2]))
                    self.end_headers()
                    return
                params = self._params()
                fake.requests.append(("POST", self.path, params))
                if not self._authorised():
                    return
                if self.path == "/v1/checkout/sessions":
                    self._json(200, fake.create_session(params))
                elif self.path == "/v1/refunds":
                    # As Stripe: the same Idempotency-Key again answers the first refund.
                    key = self.headers.get("Idempotency-Key") or next_id("key")
                    refund = fake.refunds.setdefault(
                        key,
                        {
                            "id": next_id("re"),
                            "object": "refund",
                            "amount": int(params["amount"]),
                            "payment_intent": params.get("payment_intent"),
                            "status": "succeeded",
                        },
                    )
                    if fake.drop_refund_answers > 0:
                        fake.drop_refund_answers -= 1
                        self.close_connection = True  # made, but no answer ever comes
                        return
                    self._json(200, refund)
                else:
                    self._json(404, {"error": {"type": "invalid_request_error", "message": "?"}})

            def do_DELETE(self) -> None:
                fake.requests.append(("DELETE", self.path, {}))
                if not self._authorised():
                    return
                match = re.fullmatch(r"/v1/subscriptions/([\w]+)", self.path)
                if match:
                    self._json(
                        200,
                        {"id": match.group(1), "object": "subscription", "status": "canceled"},
                    )
                else:
                    self._json(404, {"error": {"type": "invalid_request_error", "message": "?"}})

            def do_GET(self) -> None:
                session_id = self.path.split("/")[2] if self.path.startswith("/pay/") else ""
                session = fake.sessions.get(session_id)
                if session is None:
                    self.send_error(404)
                    return
                amount = int(session["amount_total"])
                page = (
                    "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
                    "<title>Test checkout</title></head><body><main>"
                    "<h1>Test checkout</h1>"
                    f"<p>Amount: {amount} {html.escape(str(session['currency']))} "
                    "(smallest units)</p>"
                    f"<form method='post' action='/pay/{html.escape(session_id)}'>"
                    "<button type='submit'>Pay</button></form>"
                    f"<p><a href='{html.escape(str(session['cancel_url']))}'>Cancel</a></p>"
                    "</main></body></html>"
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

        return Handler
