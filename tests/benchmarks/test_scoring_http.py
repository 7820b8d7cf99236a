"""Server answers through the HTTP runner: junk counts as a wrong answer, never as a crash."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from api.wire import card_result_to_wire, error_body
from benchmarks.runners import HttpRunner, endpoint_url, prediction_from_http
from benchmarks.scoring import Truth, score
from engine.types import CardResult, FieldResult, ResultCode, Side

QUAD = ((10.0, 10.0), (900.0, 12.0), (898.0, 560.0), (8.0, 558.0))


def good_body() -> dict[str, object]:
    card = CardResult(
        side=Side.FRONT,
        fields=(FieldResult("name", "陈美玲", 0.98, QUAD, 0), FieldResult("idcard_number", "830000199706020042", 0.99)),
        card_quad_xy=QUAD, completeness=0, result_code=ResultCode.OK,
    )
    return card_result_to_wire(card, request_id="1,abc", time_used_ms=5, return_portrait=False)


JUNK: list[tuple[int, bytes]] = [
    (200, b"<html>oops</html>"),
    (200, b"\xff\xfe not utf-8"),
    (200, b"[1, 2, 3]"),
    (200, b"{}"),
    (200, json.dumps({"result": "abc", "side": 0}).encode()),
    (200, json.dumps({"result": 1001, "side": 7}).encode()),
    (200, json.dumps({**good_body(), "name": "not a field"}).encode()),
    (200, json.dumps({**good_body(), "card_rect": {"lt": {"x": 1}}}).encode()),
    (500, json.dumps(good_body()).encode()),
    (500, json.dumps(error_body("INTERNAL_ERROR", request_id="1,a", time_used_ms=1)).encode()),
    (403, json.dumps(error_body("AUTHENTICATION_ERROR", request_id="1,a", time_used_ms=1)).encode()),
    (502, b"Bad Gateway"),
]


@pytest.mark.parametrize(("status", "content"), JUNK)
def test_junk_answers_are_failures(status: int, content: bytes) -> None:
    p = prediction_from_http(status, content, 3.0)
    assert p.failure is not None
    assert not p.answered_card
    truth = Truth.from_json({"tier": "t", "side": 0, "fields": {"name": "陈美玲"}, "expected_error": None})
    s = score([(truth, p)])
    assert s["failures"] == 1 and s["fields"]["name"]["hits"] == 0


def test_good_answers_parse() -> None:
    p = prediction_from_http(200, json.dumps(good_body()).encode(), 3.0)
    assert p.failure is None and p.side == 0
    assert p.fields["name"].text == "陈美玲"
    assert p.card_quad_xy == QUAD
    not_found = error_body("ID_CARD_NOT_FOUND", request_id="1,a", time_used_ms=1)
    assert prediction_from_http(400, json.dumps(not_found).encode(), 1.0).error == "ID_CARD_NOT_FOUND"
    size = error_body("INVALID_IMAGE_SIZE: image", request_id="1,a", time_used_ms=1)
    assert prediction_from_http(400, json.dumps(size).encode(), 1.0).error == "INVALID_IMAGE_SIZE"


class _Handler(BaseHTTPRequestHandler):
    answers: ClassVar[list[tuple[int, bytes]]] = []
    seen: ClassVar[list[dict[str, str]]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        has_sign = str(b'name="sign"' in body)
        self.seen.append({"path": self.path, "has_sign": has_sign, "ctype": self.headers["Content-Type"]})
        status, content = self.answers.pop(0)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def junk_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_http_runner_against_a_junk_server(junk_server: str) -> None:
    _Handler.seen.clear()
    _Handler.answers[:] = [(200, b"not json at all"), (500, b'{"error": "INTERNAL_ERROR"}'),
                        (200, b'{"result": 1001}'), (200, json.dumps(good_body()).encode())]
    runner = HttpRunner(junk_server, "key", "secret", timeout_s=10)
    try:
        preds = [runner.predict(b"\xff\xd8 image") for _ in range(4)]
    finally:
        runner.close()
    assert [p.failure is not None for p in preds] == [True, True, True, False]
    assert preds[3].fields["idcard_number"].text == "830000199706020042"
    assert all(s["path"] == "/faceid/v5/ocr_residence_permit_card" for s in _Handler.seen)
    assert all(s["has_sign"] == "True" and s["ctype"].startswith("multipart/form-data") for s in _Handler.seen)


def test_http_runner_unreachable_server_is_a_failure() -> None:
    runner = HttpRunner("http://127.0.0.1:9", "k", "s", timeout_s=2)
    try:
        p = runner.predict(b"x")
    finally:
        runner.close()
    assert p.failure is not None and p.failure.startswith("transport")


def test_endpoint_url() -> None:
    assert endpoint_url("http://h:1") == "http://h:1/faceid/v5/ocr_residence_permit_card"
    assert endpoint_url("http://h:1/faceid/v5/ocr_residence_permit_card") == (
        "http://h:1/faceid/v5/ocr_residence_permit_card"
    )
