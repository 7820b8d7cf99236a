"""The edge under attack, through a real server: redirects, request ids, HTTP the parser refuses,
clients that stall or dribble, and the others still served meanwhile (timeouts: api_server.TEST_TIMEOUTS)."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_server import Server, running_server
from test_api_http import assert_error, post

HEADER_TIMEOUT_S = 2.0
BODY_IDLE_TIMEOUT_S = 2.0
BODY_TIMEOUT_S = 8.0


def _connect(server: Server) -> socket.socket:
    host, port = server.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    return sock


def _read_all(sock: socket.socket, timeout_s: float = 30.0) -> bytes:
    """Everything until the server closes the connection (or `timeout_s` passes: then the test fails)."""
    sock.settimeout(timeout_s)
    chunks = []
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _json_of(raw: bytes) -> tuple[int, dict[str, Any]]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body)


@pytest.mark.parametrize("path", ["/faceid/v5/ocr_residence_permit_card/", "/healthz/", "/metrics/"])
def test_trailing_slash_is_not_found_not_a_redirect(server: Server, path: str) -> None:
    for method in ("POST", "GET"):
        response = httpx.request(method, server.url + path, headers={"Host": "evil.example"})
        assert "location" not in response.headers
        assert_error(response, 404, "API_NOT_FOUND", request_id=False)


def test_request_id_is_returned(server: Server) -> None:
    mine = post(server, drop=("sign",), headers={"X-Request-Id": "client-42.a:b"})
    assert mine.headers["x-request-id"] == "client-42.a:b"
    ours = post(server, drop=("sign",))
    assert ours.headers["x-request-id"] == ours.json()["request_id"]
    for hostile in ("x" * 200, "a b", "é", "id\x01"):
        reply = httpx.get(server.url + "/nowhere", headers={"X-Request-Id": hostile.encode("utf-8")})
        assert reply.headers["x-request-id"] != hostile and "," in reply.headers["x-request-id"]
    assert httpx.get(server.url + "/healthz", headers={"X-Request-Id": "h1"}).headers["x-request-id"] == "h1"


@pytest.mark.parametrize(
    "raw",
    [
        b"GARBAGE\r\n\r\n",
        b"POST /faceid/v5/ocr_residence_permit_card HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
        b"POST /faceid/v5/ocr_residence_permit_card HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 40000,  # never ends
        b"POST /faceid/v5/ocr_residence_permit_card HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
        b"Content-Length: 6\r\n\r\nhello",
    ],
    ids=["request-line", "header-line", "headers-too-long", "two-lengths"],
)
def test_requests_the_parser_refuses_get_vendor_json(server: Server, raw: bytes) -> None:
    with _connect(server) as sock:
        sock.sendall(raw)
        status, body = _json_of(_read_all(sock))
    assert status == 400 and body["error"] == "BAD_ARGUMENTS"
    assert list(body) == ["request_id", "time_used", "error"]


def test_stalled_headers_are_cut_off(server: Server) -> None:
    with _connect(server) as sock:
        sock.sendall(b"POST /faceid/v5/ocr_residence_permit_card HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        assert _read_all(sock) == b""  # closed, nothing to answer
        assert time.monotonic() - started < HEADER_TIMEOUT_S + 3


def _multipart_head(length: int) -> bytes:
    return (
        b"POST /faceid/v5/ocr_residence_permit_card HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: " + str(length).encode() + b"\r\n\r\n"
    )


def test_lying_content_length_is_answered_not_held(server: Server) -> None:
    """A Content-Length larger than the body once held the connection 90 s and more."""
    with _connect(server) as sock:
        sock.sendall(_multipart_head(100_000) + b"--b\r\nContent-Disposition: form-data; name=\"sign\"\r\n\r\nx")
        started = time.monotonic()
        status, body = _json_of(_read_all(sock))
        waited_s = time.monotonic() - started
    assert status == 400 and body["error"] == "BAD_ARGUMENTS"
    assert waited_s < BODY_IDLE_TIMEOUT_S + 3


def _dribble(server: Server, result: dict[str, Any]) -> None:
    """An image part sent a byte a second (each byte well inside the idle timeout), never finishing."""
    with _connect(server) as sock:
        part = b'--b\r\nContent-Disposition: form-data; name="image"; filename="a"\r\n\r\n'
        sock.sendall(_multipart_head(10_000) + part)
        started = time.monotonic()
        sock.setblocking(False)
        raw = b""
        while time.monotonic() - started < 60:
            try:
                sock.sendall(b"x")
                raw = sock.recv(65536)
            except BlockingIOError:
                time.sleep(1.0)
                continue
            except OSError:  # the server closed the connection while we were sending
                pass
            break
        result["raw"] = raw
        result["elapsed_s"] = time.monotonic() - started


def test_slow_body_is_cut_off_and_others_are_served_meanwhile(server: Server) -> None:
    result: dict[str, Any] = {}
    dribbler = threading.Thread(target=_dribble, args=(server, result))
    dribbler.start()
    try:
        time.sleep(1.5)
        for _ in range(3):  # while it dribbles, other clients get prompt answers
            started = time.monotonic()
            assert_error(post(server, drop=("sign",)), 400, "MISSING_ARGUMENTS: sign")
            assert httpx.get(server.url + "/healthz", timeout=5).status_code == 200
            assert time.monotonic() - started < 2.0
    finally:
        dribbler.join(timeout=BODY_TIMEOUT_S + 20)
    assert not dribbler.is_alive()
    assert result["elapsed_s"] < BODY_TIMEOUT_S + 3, result
    status, body = _json_of(result["raw"])
    assert status == 400 and body["error"] == "BAD_ARGUMENTS"


def test_connections_past_the_cap_are_closed_and_the_rest_served(tmp_path: Path) -> None:
    """uvicorn had no cap on open connections (its own answers a plain-text 503 the vendor has no row for)."""
    env = {"HMTOCR_API_KEYS": "k:s", "HMTOCR_STATE_DB": str(tmp_path / "s.sqlite3"), "HMTOCR_MAX_CONNECTIONS": "3"}
    with running_server(tmp_path, env) as (url, _, _):
        host, port = url.removeprefix("http://").split(":")
        idle = [socket.create_connection((host, int(port)), timeout=10) for _ in range(3)]
        try:
            time.sleep(0.3)
            with socket.create_connection((host, int(port)), timeout=10) as extra:
                assert _read_all(extra, timeout_s=5) == b""  # closed at once, nothing read
        finally:
            for sock in idle:
                sock.close()
        time.sleep(0.3)
        assert httpx.get(url + "/healthz", timeout=5).status_code == 200


def test_the_unread_rest_of_an_answered_body_is_not_drained_forever(server: Server) -> None:
    """A form refused at its first bytes is answered at once; uvicorn then read the rest of the declared
    body however slowly it came. The connection is now closed a header timeout after the answer."""
    with _connect(server) as sock:
        sock.sendall(_multipart_head(10_000) + b"xx not a boundary")
        sock.setblocking(False)
        started = time.monotonic()
        answer, closed = b"", False
        while time.monotonic() - started < HEADER_TIMEOUT_S + 10 and not closed:
            try:
                sock.sendall(b"x")
                chunk = sock.recv(65536)
                answer += chunk
                closed = chunk == b""
            except BlockingIOError:
                time.sleep(0.5)
            except OSError:  # reset by the server while we were sending
                closed = True
        assert closed, "still open"
        assert time.monotonic() - started < HEADER_TIMEOUT_S + 4
    status, body = _json_of(answer)
    assert status == 400 and body["error"] == "BAD_ARGUMENTS"
