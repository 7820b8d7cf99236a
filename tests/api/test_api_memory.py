"""Rejected uploads are freed: the server's memory stays flat however many requests it refuses.

Each error path once raised one shared exception object; every raise grew its stored traceback and
kept the frames holding the upload (300 rejected 1 MiB uploads added ~300 MiB)."""

from __future__ import annotations

import os
import time

import httpx
import psutil
from api_server import Server

from api.auth import build_sign

UPLOAD_BYTES = 1 << 20
WARM_UP = 60
REJECTED = 1000
ALLOWED_GROWTH_BYTES = 50 << 20


def _rejections(server: Server) -> list[tuple[str, str]]:
    """(sign, expected error) for paths that refuse an upload: bad digest, unknown key, undecodable image."""
    main = server.keys["main"]
    return [
        (build_sign(main.api_key, "wrong-secret"), "AUTHENTICATION_ERROR"),
        (build_sign("k-disabled", "s-disabled-secret"), "AUTHORIZATION_ERROR:DENIED."),
        (build_sign(main.api_key, main.api_secret), "IMAGE_ERROR_UNSUPPORTED_FORMAT: image"),
    ]


def _send(client: httpx.Client, server: Server, n: int, upload: bytes) -> None:
    cases = _rejections(server)
    for i in range(n):
        sign, error = cases[i % len(cases)]
        response = client.post(
            server.endpoint,
            data={"sign": sign, "sign_version": "hmac_sha1"},
            files={"image": ("junk.jpg", upload, "image/jpeg")},
        )
        assert response.json()["error"] == error


def test_rss_stays_flat_over_1000_rejected_1mib_uploads(server: Server) -> None:
    upload = os.urandom(UPLOAD_BYTES)
    process = psutil.Process(server.pid)
    with httpx.Client(timeout=30) as client:
        _send(client, server, WARM_UP, upload)
        time.sleep(0.5)
        before = process.memory_info().rss
        _send(client, server, REJECTED, upload)
        time.sleep(0.5)
        after = process.memory_info().rss
    growth_mib = (after - before) / (1 << 20)
    assert after - before < ALLOWED_GROWTH_BYTES, f"RSS grew {growth_mib:.0f} MiB over {REJECTED} rejected uploads"
