"""The edge of every request (pure ASGI, around the app): ids, body limits, body timeouts, one log line.

- `X-Request-Id`: a client's (short and printable) is sent back; otherwise our own request id is.
- The body is refused past `max_body_bytes` (from Content-Length, or counted while streaming; never
  buffered here) with the vendor's plain-text 413.
- The body must keep coming: a gap of `body_idle_timeout_s` between chunks, or a body still unread
  after `body_timeout_s`, answers 400 `BAD_ARGUMENTS` and closes the connection. A client that lies
  about Content-Length, or sends a byte a second, holds a connection for that long and no longer.
- One access line per request (ids, status, error code, timings, key id; nothing read from a card).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import MutableMapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import errors
from api.logs import client_request_id, new_request_id
from api.metrics import Metrics
from api.wire import error_body

ENDPOINT = "/faceid/v5/ocr_residence_permit_card"
_LOGGED_PATHS = (ENDPOINT, "/healthz", "/metrics", "/docs", "/openapi.json")
access_log = logging.getLogger("api.access")


class EdgeAbort(Exception):
    """The edge answers this request itself; the app must let it through."""

    vendor: errors.VendorError = errors.BAD_ARGUMENTS


class BodyTooLarge(EdgeAbort):
    """The request body passed `max_body_bytes` while streaming."""

    vendor = errors.TOO_LARGE


class BodyTimeout(EdgeAbort):
    """The client stopped sending its body (or sends it too slowly)."""


class Edge:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        body_idle_timeout_s: float,
        body_timeout_s: float,
        metrics: Metrics,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_idle_timeout_s = body_idle_timeout_s
        self.body_timeout_s = body_timeout_s
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state: MutableMapping[str, Any] = scope.setdefault("state", {})
        state["started"] = started
        state["request_id"] = new_request_id()
        client_id = client_request_id(_header(scope, b"x-request-id"))
        state["client_request_id"] = client_id
        echoed_id = (client_id or state["request_id"]).encode("ascii")
        status_box = [0]

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_box[0] = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), (b"x-request-id", echoed_id)]}
            await send(message)

        length = _content_length(scope)
        if length is not None and length > self.max_body_bytes:
            state["error_code"] = errors.TOO_LARGE.code
            await send_edge_error(send_wrapper, errors.TOO_LARGE, state)
        else:
            try:
                await self.app(scope, self._guarded_receive(receive), send_wrapper)
            except EdgeAbort as abort:
                state["error_code"] = abort.vendor.code
                if status_box[0] == 0:
                    await send_edge_error(send_wrapper, abort.vendor, state)
        self._record(scope, state, status_box[0], time.perf_counter() - started)

    def _guarded_receive(self, receive: Receive) -> Receive:
        """`receive` with the body's size and time limits; once the body is complete it passes through
        untouched (a wait for the client's disconnect may rightly last as long as the response)."""
        received = 0
        body_done = False
        deadline = time.monotonic() + self.body_timeout_s

        async def guarded() -> Message:
            nonlocal received, body_done
            if body_done:
                return await receive()
            timeout_s = min(self.body_idle_timeout_s, deadline - time.monotonic())
            try:
                message = await asyncio.wait_for(receive(), timeout=max(timeout_s, 0.0))
            except TimeoutError:
                raise BodyTimeout from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLarge
                body_done = not message.get("more_body", False)
            else:
                body_done = True
            return message

        return guarded

    def _record(self, scope: Scope, state: MutableMapping[str, Any], status: int, elapsed_s: float) -> None:
        path = scope.get("path", "")
        error = str(state.get("error_code", ""))
        if path == ENDPOINT or error:
            self.metrics.observe_request(status, error, elapsed_s)
        timings = state.get("timings") or ()
        fields = {
            "request_id": state.get("request_id", "-"),
            "client_request_id": state.get("client_request_id") or "-",
            "method": scope.get("method", "-"),
            "path": path if path in _LOGGED_PATHS else "<other>",
            "status": status,
            "error": error or "-",
            "time_ms": round(elapsed_s * 1000),
            "key": state.get("api_key", "-"),
            "stages": ",".join(f"{t.stage}:{t.elapsed_ms:.1f}" for t in timings) or "-",
        }
        level = logging.DEBUG if path in ("/healthz", "/metrics") else logging.INFO
        # Never a name, number, address or image byte: ids, codes and timings only.
        access_log.log(level, " ".join(f"{k}={v}" for k, v in fields.items()), extra={"fields": fields})


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value)
    return None


def _content_length(scope: Scope) -> int | None:
    value = _header(scope, b"content-length")
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


async def send_edge_error(send: Send, err: errors.VendorError, state: MutableMapping[str, Any]) -> None:
    """The vendor's answer for a request the edge stops, and the connection closed behind it (its
    body may still be on the way, and will not be read)."""
    if err.is_plain_text:
        body = errors.TOO_LARGE_TEXT.encode("ascii")
        content_type = b"text/plain; charset=utf-8"
    else:
        time_used_ms = round((time.perf_counter() - float(state["started"])) * 1000)
        request_id = state["request_id"] if err.carries_request_id else None
        body = json.dumps(error_body(err.error, request_id=request_id, time_used_ms=time_used_ms)).encode("utf-8")
        content_type = b"application/json"
    await send(
        {
            "type": "http.response.start",
            "status": err.status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode("ascii")),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})

