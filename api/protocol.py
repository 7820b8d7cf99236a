"""uvicorn's h11 protocol with the limits uvicorn lacks, and the vendor's JSON where uvicorn writes text.

- Headers must arrive within `header_timeout_s` of the connection opening or of the last response:
  uvicorn waits for them forever (its keep-alive timer is cancelled by the first byte received). The
  same bound holds for the unread rest of a body already answered, which uvicorn would drain forever.
- Past `limit_concurrency` open connections a new one is closed at once. uvicorn would answer 503 in
  plain text; the vendor's protocol has no 503, and a request not yet read cannot be answered anyway.
- A request h11 cannot parse (a bad request line, headers too long, a broken chunked body) gets
  400 `{"request_id", "time_used", "error": "BAD_ARGUMENTS"}` instead of uvicorn's plain text.

`hmtocr serve` selects it (`http=VendorH11Protocol`); the timeouts come from `Settings`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, ClassVar

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from api import errors
from api.logs import new_request_id
from api.wire import error_body

log = logging.getLogger(__name__)


def _header_timeout_s() -> float:
    from api.settings import Settings

    return Settings().header_timeout_s


class VendorH11Protocol(H11Protocol):
    header_timeout_s: ClassVar[float | None] = None  # read from Settings on the first connection

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connection_cap = self.limit_concurrency
        self.limit_concurrency = None  # our cap closes instead of uvicorn's plain-text 503
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if self.connection_cap is not None and len(self.connections) > self.connection_cap:
            log.warning("open connections over the limit (%d): closing a new one", self.connection_cap)
            transport.close()
            return
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_header_timer()

    def _arm_header_timer(self) -> None:
        cls = type(self)
        if cls.header_timeout_s is None:
            cls.header_timeout_s = _header_timeout_s()
        self._cancel_header_timer()
        self._header_timer = self.loop.call_later(cls.header_timeout_s, self._header_timeout)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _header_timeout(self) -> None:
        self._header_timer = None
        # No request in hand: still waiting for (the rest of) its headers, or draining the unread body of
        # one already answered (uvicorn reads it to the end, however slowly it comes). Nothing to answer.
        if (self.cycle is None or self.cycle.response_complete) and not self.transport.is_closing():
            self.transport.close()

    def send_400_response(self, msg: str) -> None:
        body = json.dumps(
            error_body(errors.BAD_ARGUMENTS.error, request_id=new_request_id(), time_used_ms=0)
        ).encode("utf-8")
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode("ascii")),
            (b"connection", b"close"),
        ]
        try:
            self.transport.write(self.conn.send(h11.Response(status_code=400, headers=headers, reason=b"Bad Request")))
            self.transport.write(self.conn.send(h11.Data(data=body)))
            self.transport.write(self.conn.send(h11.EndOfMessage()))
        except h11.LocalProtocolError:  # a response was already under way: nothing more can be said
            pass
        self.transport.close()
